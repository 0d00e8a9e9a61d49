"""``zistboom documents issuer …``: set up and run an agency's issuer service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from zistboom.core.backend import SECRET_FILE
from zistboom.core.errors import ZistboomError
from zistboom.core.logs import configure_logging
from zistboom.documents.issuer import setup
from zistboom.documents.issuer.settings import IssuerSettings

app = typer.Typer(help="An agency's issuer service: signs documents with the agency's own key.")
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="the issuer's data directory")]


def _fail(error: ZistboomError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error.detail}")
    return typer.Exit(2)


@app.command()
def init(
    data_dir: DataDir,
    central_url: Annotated[str, typer.Option("--central-url", help="central's URL")],
    anchor: Annotated[
        Path, typer.Option(help="the instance's anchor (JSON, as central's /anchor serves it)")
    ],
    token: Annotated[str, typer.Option(help="a one-time enrolment token of kind doc")],
    member: Annotated[str, typer.Option(help="the agency, INSTANCE/CLASS/CODE")],
    gateway_url: Annotated[
        str, typer.Option("--gateway-url", help="the agency gateway's client port URL")
    ],
    hub_service: Annotated[
        str,
        typer.Option(
            "--hub-service",
            help="the hub's documents service, INSTANCE/CLASS/CODE/SUBSYSTEM/documents",
        ),
    ],
    hub_url: Annotated[str, typer.Option("--hub-url", help="the hub's public URL")],
    registry_subsystem: Annotated[
        str,
        typer.Option(
            "--registry-subsystem", help="the agency's registry subsystem, to pull subjects from"
        ),
    ] = "",
    subsystem: Annotated[str, typer.Option(help="the issuer's subsystem")] = "issuer",
    port: Annotated[int, typer.Option(help="port (loopback) the gateway calls")] = 8095,
    gateway_admin_url: Annotated[
        str,
        typer.Option(help="the gateway's management API, to register the issuer's service"),
    ] = "",
    gateway_admin_token_file: Annotated[
        str, typer.Option(help="the gateway's admin-token file")
    ] = "",
) -> None:
    """Generate the document-signing key, enrol its certificate with central and write the
    issuer's settings."""
    given = setup.SetupInput(
        data_dir=data_dir,
        central_url=central_url,
        anchor_file=anchor,
        token=token,
        member_id=member,
        gateway_url=gateway_url,
        hub_service=hub_service,
        hub_url=hub_url,
        registry_subsystem=registry_subsystem,
        subsystem=subsystem,
        port=port,
        gateway_admin_url=gateway_admin_url,
        gateway_admin_token_file=gateway_admin_token_file,
    )
    try:
        settings = asyncio.run(setup.init(given))
    except ZistboomError as error:
        raise _fail(error) from error
    where = (
        "its service is registered on the gateway"
        if gateway_admin_url
        else f"register its service on the gateway at http://{settings.host}:{settings.port}"
        f"/credentials with the secret in {data_dir / SECRET_FILE}"
    )
    console.print(f"issuer for [bold]{settings.member_id}[/bold] set up in {data_dir}; {where}")


@app.command()
def serve(data_dir: DataDir) -> None:
    """Run the issuer service until interrupted."""
    # Imported here: the service's formats (PDF rendering among them) load slowly, and the
    # other commands do not need them.
    from zistboom.documents.issuer.app import create_app

    settings = IssuerSettings.load(data_dir)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )
