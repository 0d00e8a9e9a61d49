"""``zistboom window …``: set up the single service window (its settings, secrets and database)
and run it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from zistboom.core.errors import ZistboomError
from zistboom.core.identifiers import ServiceId, SubsystemId
from zistboom.core.logs import configure_logging
from zistboom.core.tokens import ensure_token_file
from zistboom.window.app import create_app
from zistboom.window.catalogue import cli as catalogue_cli
from zistboom.window.database import open_database
from zistboom.window.settings import ADMIN_TOKEN_FILE, WindowSettings

app = typer.Typer(help="The single service window: sign-in, people, officials, the catalogue.")
app.add_typer(catalogue_cli.agency, name="agency")
app.add_typer(catalogue_cli.services, name="services")
console = Console()
err_console = Console(stderr=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="the window's data directory")]


def _fail(error: ZistboomError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error.detail}")
    return typer.Exit(2)


@app.command()
def init(
    data_dir: DataDir,
    subsystem: Annotated[
        str, typer.Option(help="the window operator's subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM")
    ],
    gateway_url: Annotated[
        str, typer.Option(help="the client interface of the operator's gateway")
    ],
    central_url: Annotated[str, typer.Option(help="central's URL (its public catalogue)")],
    oidc_issuer: Annotated[str, typer.Option(help="the identity provider's issuer URL")],
    oidc_client_secret_file: Annotated[
        Path, typer.Option(help="the file (0600) holding the window's client secret")
    ],
    oidc_client_id: Annotated[str, typer.Option(help="the window's client id")] = "window",
    persons_registry: Annotated[
        str, typer.Option(help="the civil registry's persons service, INSTANCE/…/SERVICE")
    ] = "",
    foreign_nationals_registry: Annotated[
        str, typer.Option(help="the foreign nationals registry's service")
    ] = "",
    hub_lockers_service: Annotated[
        str, typer.Option(help="the documents hub's lockers service, INSTANCE/…/lockers")
    ] = "",
    port: Annotated[int, typer.Option(help="port the window listens on")] = 8098,
    public_url: Annotated[str, typer.Option(help="the window's public address")] = "",
) -> None:
    """Write the window's settings and create its database and operator token."""
    try:
        SubsystemId.parse(subsystem, field="subsystem")
        for name, value in (
            ("persons_registry", persons_registry),
            ("foreign_nationals_registry", foreign_nationals_registry),
            ("hub_lockers_service", hub_lockers_service),
        ):
            if value:
                ServiceId.parse(value, field=name)
    except ZistboomError as error:
        raise _fail(error) from error
    settings = WindowSettings.load(
        data_dir,
        subsystem_id=subsystem,
        gateway_url=gateway_url.rstrip("/"),
        central_url=central_url.rstrip("/"),
        oidc_issuer=oidc_issuer.rstrip("/"),
        oidc_client_id=oidc_client_id,
        oidc_client_secret_file=str(oidc_client_secret_file.resolve()),
        persons_registry_service=persons_registry,
        foreign_nationals_registry_service=foreign_nationals_registry,
        port=port,
        public_url=public_url,
        # Given or not, ZB_HUB_LOCKERS_SERVICE still counts (it may be set for the window).
        **({"hub_lockers_service": hub_lockers_service} if hub_lockers_service else {}),
    )
    settings.write()
    ensure_token_file(data_dir / ADMIN_TOKEN_FILE, field="admin")

    async def work() -> None:
        opened = await open_database(settings.resolved_database_url("window"))
        await opened.engine.dispose()

    try:
        asyncio.run(work())
    except ZistboomError as error:
        raise _fail(error) from error
    console.print(f"window for [bold]{subsystem}[/bold] set up in {data_dir}")


@app.command()
def serve(data_dir: DataDir) -> None:
    """Run the window until interrupted."""
    settings = WindowSettings.load(data_dir)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
