"""``zistboom central …``: run central and do an operator's chores on its data directory."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from zistboom.central import audit, ca, operators, service
from zistboom.central.app import ANCHOR_FILE, create_app, prepare
from zistboom.central.publisher import Publisher
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError

app = typer.Typer(help="The central authority: members, instance CA, TSA, global configuration.")
audit_app = typer.Typer(help="The hash-chained audit log.")
app.add_typer(audit_app, name="audit")
token_app = typer.Typer(help="One-time enrolment tokens (ZB-STD-002 §11.1).")
app.add_typer(token_app, name="token")
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="central's data directory (keys, SQLite database)"),
]


def settings_for(data_dir: Path | None, **overrides: object) -> CentralSettings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return CentralSettings(**values)  # type: ignore[arg-type]


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="URL gateways use to reach central")
    ] = None,
) -> None:
    """Serve central (creating the data directory, keys and database on first start)."""
    settings = settings_for(data_dir, host=host, port=port, public_url=public_url)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )


@app.command()
def anchor(
    data_dir: DataDir = None,
    public_url: Annotated[
        str | None, typer.Option(help="URL gateways use to reach central (default: as served)")
    ] = None,
) -> None:
    """Print the configuration anchor (JSON) that gateways are configured with."""
    settings = settings_for(data_dir, public_url=public_url)
    served = settings.data_dir / ANCHOR_FILE
    if public_url is None and served.exists():
        typer.echo(served.read_text().strip())
        return

    async def run() -> str:
        prepared = await prepare(settings, bootstrap_admin=False)
        await prepared.engine.dispose()
        publisher = Publisher(settings, prepared.keys, prepared.sessions)
        return publisher.anchor.to_json()

    typer.echo(asyncio.run(run()))


@app.command("api-key")
def api_key(
    role: Annotated[str, typer.Option(help=f"one of {', '.join(operators.ROLES)}")],
    name: Annotated[str, typer.Option(help="who or what the key is for")],
    member: Annotated[
        str | None, typer.Option(help="INSTANCE/CLASS/CODE, for keys with role 'member'")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an operator API key and print its secret once."""

    async def run() -> str:
        prepared = await prepare(settings_for(data_dir), bootstrap_admin=False)
        try:
            async with transaction(prepared.sessions) as session:
                scoped = (
                    await service.member_by_id(session, member, field="member") if member else None
                )
                row, secret = await operators.create_api_key(
                    session, name=name, role=role, member=scoped, actor=operators.SYSTEM
                )
                return json.dumps({"key_id": row.key_id, "role": row.role, "secret": secret})
        finally:
            await prepared.engine.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from error


@token_app.command("create")
def token_create(
    kind: Annotated[
        str,
        typer.Option(
            help="'auth' (gateway TLS), 'sign' (member signatures), 'doc' (document signing) "
            "or 'gateway' (auth and sign)"
        ),
    ],
    member: Annotated[str, typer.Option(help="the member, INSTANCE/CLASS/CODE")],
    gateway: Annotated[
        str | None, typer.Option(help="the member's gateway code, for 'auth' and 'gateway'")
    ] = None,
    expires_in_minutes: Annotated[
        int | None, typer.Option(help="1 to 10080; default from central's settings")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an enrolment token and print it (JSON, shown once; central keeps its hash)."""
    settings = settings_for(data_dir)

    async def run() -> str:
        prepared = await prepare(settings, bootstrap_admin=False)
        try:
            async with transaction(prepared.sessions) as session:
                holder = await service.member_by_id(session, member, field="member")
                gateway_code = gateway if "auth" in ca.TOKEN_GRANTS.get(kind, ()) else None
                row, token = await ca.create_enrolment_token(
                    session,
                    settings,
                    member=holder,
                    kind=kind,
                    gateway_code=gateway_code,
                    expires_in_minutes=expires_in_minutes,
                    actor=operators.SYSTEM,
                )
                return json.dumps(
                    {
                        "token": token,
                        "member_id": holder.identifier,
                        "kind": row.kind,
                        "gateway_code": gateway_code,
                        "expires_at": row.expires_at.isoformat(),
                    }
                )
        finally:
            await prepared.engine.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from error


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Check the audit log's hash chain; exit 1 naming the first record that does not hold."""

    async def run() -> audit.AuditVerification:
        prepared = await prepare(settings_for(data_dir), bootstrap_admin=False)
        try:
            async with transaction(prepared.sessions) as session:
                return await audit.verify(session, actor=operators.SYSTEM)
        finally:
            await prepared.engine.dispose()

    result = asyncio.run(run())
    if result.ok:
        console.print(f"[green]audit log intact[/green]: {result.records} records verified")
        return
    console.print(f"[red]audit log broken[/red] at record {result.first_bad_seq}: {result.problem}")
    raise typer.Exit(1)
