"""``zistboom gateway messages …``: an operator's view of the asynchronous messages on the
gateway's database (list, show with transitions and receipt, retry, cancel)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from zistboom.core.database import create_engine, migrate
from zistboom.core.errors import NotFoundError, ZistboomError
from zistboom.gateway.messaging.service import inbox_json, outbox_json, transitions_json
from zistboom.gateway.messaging.store import MessageStore
from zistboom.gateway.settings import GatewaySettings

T = TypeVar("T")
app = typer.Typer(help="Asynchronous messages: list, show, retry, cancel.")
console = Console()
DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir", envvar="ZB_DATA_DIR", help="the gateway's data directory (gateway.toml)"
    ),
]
IdArg = Annotated[str, typer.Argument(help="the message id")]


def _run(data_dir: Path, work: Callable[[MessageStore], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = GatewaySettings.load(data_dir)
        engine = create_engine(settings.resolved_database_url("gateway"))
        try:
            await migrate(engine, "zistboom.gateway:migrations")
            store = MessageStore(engine)
            try:
                return await work(store)
            finally:
                await store.close()
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ZistboomError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(2) from error


@app.command("list")
def messages_list(
    data_dir: DataDir,
    box: Annotated[str, typer.Option(help="outbox or inbox")] = "outbox",
    status: Annotated[str | None, typer.Option(help="only messages with this status")] = None,
    subsystem: Annotated[str | None, typer.Option(help="only this local subsystem's")] = None,
    after: Annotated[int, typer.Option(help="the cursor to start after")] = 0,
    limit: Annotated[int, typer.Option(help="at most this many (up to 500)")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
) -> None:
    """Messages of the outbox (sent) or the inbox (received), oldest first."""
    if box not in ("outbox", "inbox"):
        typer.echo("error: --box is outbox or inbox", err=True)
        raise typer.Exit(2)

    async def work(store: MessageStore) -> list[dict[str, object]]:
        if box == "outbox":
            rows = await store.list_outbox(subsystem, after=after, limit=limit, status=status)
            return [outbox_json(r) for r in rows]
        kinds = ("message", "answer", "event", "status", "subscribe", "unsubscribe")
        found = await store.list_inbox(
            subsystem, after=after, limit=limit, status=status, kinds=kinds
        )
        return [inbox_json(r, body=False) for r in found]

    items = _run(data_dir, work)
    if as_json:
        for item in items:
            typer.echo(orjson.dumps(item).decode())
        return
    party = "service" if box == "outbox" else "sender"
    table = Table("cursor", "id", "kind", "status", party, "attempts" if box == "outbox" else "")
    for item in items:
        table.add_row(
            str(item["cursor"]),
            str(item["id"]),
            str(item["kind"]),
            str(item["status"]),
            str(item[party]),
            str(item.get("attempts", "")),
        )
    console.print(table)


@app.command("show")
def messages_show(message_id: IdArg, data_dir: DataDir) -> None:
    """One message as JSON: its status, every transition, its receipt (and its answer)."""

    async def work(store: MessageStore) -> dict[str, object]:
        try:
            row = await store.outbox_message(message_id)
        except NotFoundError:
            received = await store.inbox_message(None, message_id)
            view = inbox_json(received)
            view["box"] = "inbox"
            view["receipt"] = received.receipt
            view["duplicates"] = received.duplicates
            view["transitions"] = transitions_json(await store.transitions("inbox", message_id))
            return view
        view = outbox_json(row)
        view["box"] = "outbox"
        view["transitions"] = transitions_json(await store.transitions("outbox", message_id))
        return view

    typer.echo(orjson.dumps(_run(data_dir, work), option=orjson.OPT_INDENT_2).decode())


@app.command("retry")
def messages_retry(message_id: IdArg, data_dir: DataDir) -> None:
    """Try a failed (or waiting) message again now, with a fresh lifetime if it ran out."""

    async def work(store: MessageStore) -> str:
        return (await store.retry(message_id)).status

    status = _run(data_dir, work)
    console.print(f"message {message_id} is {status} and due now")


@app.command("cancel")
def messages_cancel(message_id: IdArg, data_dir: DataDir) -> None:
    """Stop delivering a message the receiver has not received yet."""

    async def work(store: MessageStore) -> str:
        return (await store.cancel(message_id)).status

    _run(data_dir, work)
    console.print(f"message {message_id} is cancelled")
