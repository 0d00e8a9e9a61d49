"""``zistboom gateway …``: set a gateway up, run it, and manage it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvloop
from rich.console import Console

from zistboom.core.errors import ZistboomError
from zistboom.core.logs import configure_logging
from zistboom.gateway import enrolment
from zistboom.gateway.app import serve as serve_gateway
from zistboom.gateway.management_cli import app as management_app
from zistboom.gateway.settings import GatewaySettings

app = typer.Typer(help="A member's gateway: carries X-Road REST calls, signed and logged.")
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="the gateway's data directory")]


@app.command()
def init(
    data_dir: DataDir,
    central: Annotated[str, typer.Option(help="central's URL, e.g. https://central.example.ir")],
    anchor: Annotated[str, typer.Option(help="SHA-256 fingerprint of the configuration key")],
    member: Annotated[str, typer.Option(help="the owner member, INSTANCE/CLASS/CODE")],
    token: Annotated[str, typer.Option(help="one-time enrolment token of kind 'gateway'")],
    client_port: Annotated[int, typer.Option(help="port for information systems")] = 8080,
    peer_port: Annotated[int, typer.Option(help="TLS port for peer gateways")] = 8443,
    admin_port: Annotated[int, typer.Option(help="management API port (loopback)")] = 8081,
    peer_host: Annotated[str, typer.Option(help="address peers connect to")] = "0.0.0.0",  # noqa: S104
) -> None:
    """Create keys, enrol with central for TLS and signing certificates, write settings."""
    listen = enrolment.Listen(
        client_port=client_port, peer_port=peer_port, admin_port=admin_port, peer_host=peer_host
    )
    try:
        gateway_id = asyncio.run(
            enrolment.init(
                data_dir,
                central_url=central,
                anchor_fingerprint=anchor,
                member_id=member,
                token=token,
                listen=listen,
            )
        )
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from error
    console.print(f"gateway [bold]{gateway_id}[/bold] set up in {data_dir}")


member_app = typer.Typer(help="Members this gateway hosts besides its own.")
app.add_typer(member_app, name="member")


@member_app.command("add")
def member_add(
    data_dir: DataDir,
    member: Annotated[str, typer.Option(help="the hosted member, INSTANCE/CLASS/CODE")],
    token: Annotated[str, typer.Option(help="one-time enrolment token of kind 'sign'")],
) -> None:
    """Enrol a signing certificate for a member this gateway hosts (registered at central)."""
    try:
        settings = GatewaySettings.load(data_dir)
        hosted = asyncio.run(
            enrolment.add_hosted_member(
                data_dir, central_url=settings.central_url, member_id=member, token=token
            )
        )
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from error
    console.print(
        f"{data_dir} now also serves [bold]{hosted}[/bold] (a running gateway picks the key up "
        "within its configuration refresh interval)"
    )


@app.command()
def serve(data_dir: DataDir) -> None:
    """Run the gateway until interrupted."""
    try:
        settings = GatewaySettings.load(data_dir)
        configure_logging(settings.log_level)
        uvloop.run(serve_gateway(settings))
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from error


app.registered_commands.extend(management_app.registered_commands)
app.registered_groups.extend(management_app.registered_groups)
