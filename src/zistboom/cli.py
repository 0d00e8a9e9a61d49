"""The ``zistboom`` command: every component's commands, and the demo."""

from __future__ import annotations

import typer

from zistboom import __version__
from zistboom.accreditation.cli import app as accreditation_app
from zistboom.central.cli import app as central_app
from zistboom.demo.command import app as demo_app
from zistboom.documents.cli import app as documents_app
from zistboom.evidence_cli import app as evidence_app
from zistboom.gateway.cli import app as gateway_app
from zistboom.idp.cli import app as idp_app
from zistboom.registries.cli import app as registry_app
from zistboom.window.cli import app as window_app

app = typer.Typer(
    help="Zistboom (زیست‌بوم): the government digital ecosystems platform.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(central_app, name="central")
app.add_typer(gateway_app, name="gateway")
app.add_typer(registry_app, name="registry")
app.add_typer(evidence_app, name="evidence")
app.add_typer(accreditation_app, name="accreditation")
app.add_typer(documents_app, name="documents")
app.add_typer(window_app, name="window")
app.add_typer(idp_app, name="idp")
app.add_typer(demo_app, name="demo")


@app.command()
def version() -> None:
    """Print Zistboom's version."""
    typer.echo(__version__)
