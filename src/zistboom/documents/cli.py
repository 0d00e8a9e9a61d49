"""``zistboom documents …``: the issuer service (``issuer``), issuing a document through the
exchange (``issue``), verifying one (``verify``) online at a hub or offline from a cache, and
refreshing that cache (``cache refresh``)."""

from __future__ import annotations

import typer

from zistboom.documents.issuer.cli import app as issuer_app

app = typer.Typer(help="Verifiable documents: issuers, the hub, verification.")
app.add_typer(issuer_app, name="issuer")
