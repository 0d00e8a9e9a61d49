"""``zistboom documents …``: the verifiable documents' commands (the hub's, ``documents hub``)."""

from __future__ import annotations

import typer

from zistboom.documents.hub.cli import app as hub_app

app = typer.Typer(help="Verifiable documents: the documents hub.", no_args_is_help=True)
app.add_typer(hub_app, name="hub")
