"""``zistboom evidence``: export evidence bundles from a gateway's message log and verify them
offline (ZB-STD-005).

``export`` reads the gateway's database as the gateway's settings name it (``ZB_DATABASE_URL``,
else ``database_url`` in ``DATA_DIR/gateway.toml``, else ``DATA_DIR/gateway.db``) and puts every
certificate found in ``DATA_DIR/certs/*.pem`` into the bundle (the instance CA is expected at
``DATA_DIR/certs/ca.pem``), besides the signer and TSA certificates the records and tokens name.
``verify`` needs nothing but the bundle and, preferably, the CA certificate the verifier trusts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from cryptography import x509
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from zistboom.core.crypto.x509 import load_certificate
from zistboom.core.database import create_engine
from zistboom.core.errors import ZistboomError
from zistboom.core.evidence import CHECKS, EvidenceReport, verify_bundle
from zistboom.gateway.messagelog import export_bundle
from zistboom.gateway.settings import GatewaySettings

app = typer.Typer(
    help="Evidence bundles of the message log: export and verify (ZB-STD-005).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

_MARKS = {"ok": "[green]ok[/]", "failed": "[bold red]FAILED[/]", "not applicable": "[dim]n/a[/]"}


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} {text!r} is not an ISO 8601 time") from None
    # A time without an offset is taken as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _gateway_certificates(data_dir: Path) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    folder = data_dir / "certs"
    paths = sorted(folder.glob("*.pem")) if folder.is_dir() else []
    # The CA first, so that a reader finds the trust anchor at the top.
    paths.sort(key=lambda path: path.name != "ca.pem")
    for path in paths:
        try:
            certificates.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except ValueError as exc:
            raise _fail(f"{path} does not hold PEM certificates: {exc}") from None
    return certificates


@app.command()
def export(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The gateway's data directory.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle.")],
    message_id: Annotated[
        str | None, typer.Option("--message-id", help="Export this message's records.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start of a time range (ISO 8601, UTC default).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="End of the range (exclusive).")] = None,
    without_bodies: Annotated[
        bool, typer.Option("--without-bodies", help="Leave the message bodies out.")
    ] = False,
) -> None:
    """Export the records of one message, or of a time range, as an evidence bundle."""
    if (message_id is None) == (start is None and end is None):
        raise _fail("give either --message-id or --from/--to")
    settings = GatewaySettings.load(data_dir)
    certificates = _gateway_certificates(data_dir)
    start_at, end_at = _time(start, "--from"), _time(end, "--to")

    async def run() -> bytes:
        engine = create_engine(settings.resolved_database_url("gateway"))
        try:
            return await export_bundle(
                engine,
                message_id=message_id,
                start=start_at,
                end=end_at,
                certificates=certificates,
                gateway_id=settings.gateway_id or None,
                include_bodies=not without_bodies,
            )
        finally:
            await engine.dispose()

    try:
        bundle = asyncio.run(run())
    except ZistboomError as exc:
        raise _fail(exc.detail) from None
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise _fail(f"cannot read the gateway's message log: {cause}") from None
    out.write_bytes(bundle)
    count = len(orjson.loads(bundle)["records"])
    typer.echo(f"wrote {count} records to {out}")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="The evidence bundle (JSON).")],
    ca: Annotated[
        Path | None,
        typer.Option("--ca", help="The instance CA certificate you trust (PEM)."),
    ] = None,
) -> None:
    """Check every record of a bundle offline; exit 1 naming each failing record and check."""
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {bundle}: {exc.strerror}") from None
    anchor = None
    if ca is not None:
        try:
            anchor = load_certificate(ca.read_bytes())
        except (OSError, ZistboomError) as exc:
            raise _fail(f"cannot use {ca} as the trust anchor: {exc}") from None
    report = verify_bundle(data, trust_anchor=anchor)
    _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: EvidenceReport) -> None:
    console = Console(width=160, highlight=False)
    table = Table(title="Evidence bundle", show_lines=False)
    for column in ("#", "instance", "seq", "message id", "kind", "side", *CHECKS):
        table.add_column(column)
    for record in report.records:
        marks = {check.name: _MARKS[check.status] for check in record.checks}
        table.add_row(
            str(record.position),
            record.instance or "?",
            "?" if record.seq is None else str(record.seq),
            record.message_id or "?",
            record.kind or "?",
            record.side or "?",
            *(marks.get(name, "[dim]-[/]") for name in CHECKS),
        )
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if report.ok:
        console.print(f"[green]all checks hold for {len(report.records)} records[/]")
        return
    # Plain lines, one per failure, so that they survive any terminal width.
    for line in report.failures():
        typer.echo(f"FAILED {line}")
