"""``zistboom documents hub …``: set up the documents hub (settings, its document-signing key
and ``doc`` certificate from central, the anchor, its database with the seeded document types,
its services on its gateway) and run it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from zistboom.core import backend
from zistboom.core import globalconf as gc
from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ConfigurationError, ZistboomError
from zistboom.core.identifiers import MemberId, SubsystemId
from zistboom.core.logs import configure_logging
from zistboom.core.tokens import ensure_token_file
from zistboom.documents.hub import document_types, identity, publishing
from zistboom.documents.hub.app import create_app, open_database
from zistboom.documents.hub.settings import ADMIN_TOKEN_FILE, ANCHOR_FILE, HubSettings
from zistboom.documents.types import load_seed_types

app = typer.Typer(help="The documents hub: types, lockers, status lists, shares, verification.")
console = Console()
err_console = Console(stderr=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="the hub's data directory")]


def _fail(error: ZistboomError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error.detail}")
    return typer.Exit(2)


async def _seed(settings: HubSettings) -> list[str]:
    opened = await open_database(settings)
    try:
        async with transaction(opened.sessions) as session:
            return await document_types.seed(session, load_seed_types(), utc_now)
    finally:
        await opened.engine.dispose()


@app.command()
def init(
    data_dir: DataDir,
    member: Annotated[str, typer.Option(help="the member running the hub, INSTANCE/CLASS/CODE")],
    central_url: Annotated[str, typer.Option(help="central's URL, e.g. http://127.0.0.1:8070")],
    anchor: Annotated[Path, typer.Option(help="central's anchor file (anchor.json)")],
    window: Annotated[
        str, typer.Option(help="the single window's subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM")
    ],
    token: Annotated[
        str | None, typer.Option(help="a doc enrolment token from central (once)")
    ] = None,
    subsystem: Annotated[str, typer.Option(help="the hub's subsystem")] = "documents",
    port: Annotated[int, typer.Option(help="port the hub listens on")] = 8095,
    public_url: Annotated[str, typer.Option(help="the hub's public address")] = "",
    gateway_admin_url: Annotated[
        str, typer.Option(help="the hub gateway's management API, to register its services")
    ] = "",
    gateway_admin_token_file: Annotated[
        str, typer.Option(help="the gateway's admin-token file")
    ] = "",
) -> None:
    """Write the hub's settings, enrol its document-signing key, create its database with the
    seeded document types, its admin token and gateway secret, and register its services on
    its gateway (when one is given)."""
    try:
        MemberId.parse(member, field="member")
        SubsystemId.parse(window, field="window")
        parsed_anchor = gc.Anchor.from_json(anchor.read_text())
    except OSError as error:
        raise _fail(ConfigurationError(f"cannot read {anchor}: {error}")) from error
    except ZistboomError as error:
        raise _fail(error) from error
    settings = HubSettings.load(
        data_dir,
        member_id=member,
        subsystem=subsystem,
        port=port,
        public_url=public_url,
        central_url=central_url.rstrip("/"),
        window_subsystem=window,
        gateway_admin_url=gateway_admin_url,
        gateway_admin_token_file=gateway_admin_token_file,
    )
    settings.write()
    if anchor.resolve() != (data_dir / ANCHOR_FILE).resolve():
        shutil.copyfile(anchor, data_dir / ANCHOR_FILE)

    async def work() -> list[str]:
        if token is not None:
            await identity.enrol(
                data_dir, central_url=settings.central_url, token=token, member_id=member
            )
        identity.HubIdentity.load(data_dir, member)
        backend.gateway_secret(data_dir)
        ensure_token_file(data_dir / ADMIN_TOKEN_FILE, field="admin")
        seeded = await _seed(settings)
        await publishing.register_services(settings, create_app(settings))
        return seeded

    try:
        seeded = asyncio.run(work())
    except ZistboomError as error:
        raise _fail(error) from error
    console.print(
        f"documents hub for [bold]{member}[/bold] (instance {parsed_anchor.instance}) set up in "
        f"{data_dir}; document types seeded: {', '.join(seeded) or 'none new'}"
    )


@app.command()
def serve(data_dir: DataDir) -> None:
    """Run the hub until interrupted."""
    settings = HubSettings.load(data_dir)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
