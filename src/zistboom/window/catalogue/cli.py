"""``zistboom window agency …`` and ``zistboom window services …``: the operator's catalogue
commands, working directly on the window's database (registering an agency, issuing its key,
importing an agency's definitions from YAML all or nothing, loading the seed)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import yaml
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ZistboomError
from zistboom.core.identifiers import MemberId
from zistboom.window.catalogue import seed, service
from zistboom.window.catalogue.definitions import check_definitions
from zistboom.window.database import open_database
from zistboom.window.settings import WindowSettings

agency = typer.Typer(help="The agencies whose services the window lists, and their API keys.")
services = typer.Typer(help="The agencies' service definitions (ZB-STD-010).")
console = Console()
err_console = Console(stderr=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="the window's data directory")]
Member = Annotated[
    str, typer.Option("--member", help="the agency's member id, INSTANCE/CLASS/CODE")
]
OPERATOR = "operator (cli)"
T = TypeVar("T")


def _run(data_dir: Path, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one transaction on the window's database; a refusal exits with status 2."""
    settings = WindowSettings.load(data_dir)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def run() -> T:
        opened = await open_database(settings.resolved_database_url("window"))
        try:
            async with transaction(opened.sessions) as session:
                return await work(session)
        finally:
            await opened.engine.dispose()

    try:
        return asyncio.run(run())
    except ZistboomError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        for problem in error.extra.get("errors", []):
            err_console.print(f"  {problem['field']}: {problem['message']}")
        raise typer.Exit(2) from error


@agency.command("add")
def add_agency(
    data_dir: DataDir,
    member: Member,
    name_fa: Annotated[str, typer.Option("--name-fa", help="its name in Persian")],
    name_en: Annotated[str, typer.Option("--name-en", help="its name in English")],
) -> None:
    """Register an agency at the window (audited)."""

    async def work(session: AsyncSession) -> str:
        row = await service.register_agency(
            session,
            member_id=member,
            name_fa=name_fa,
            name_en=name_en,
            actor=OPERATOR,
            now=utc_now(),
        )
        return row.member_id

    console.print(f"agency [bold]{_run(data_dir, work)}[/bold] registered")


@agency.command("inbox")
def set_inbox(
    data_dir: DataDir,
    member: Member,
    subsystem: Annotated[
        str,
        typer.Option("--subsystem", help="the agency's subsystem that receives the window's tasks"),
    ],
) -> None:
    """Name the agency's subsystem that receives its tasks as asynchronous messages (audited);
    its gateway must let the window's subsystem send to the task service there."""

    async def work(session: AsyncSession) -> str:
        row = await service.set_inbox(
            session, member_id=member, subsystem=subsystem, actor=OPERATOR, now=utc_now()
        )
        return f"{row.member_id}/{row.inbox_subsystem}"

    console.print(f"tasks go to [bold]{_run(data_dir, work)}[/bold]")


@agency.command("key")
def issue_key(
    data_dir: DataDir,
    member: Member,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="write the key to this file (0600)")
    ] = None,
) -> None:
    """Issue the agency an API key for the management API; it is shown (or written) once."""

    async def work(session: AsyncSession) -> service.IssuedKey:
        return await service.issue_key(session, member_id=member, actor=OPERATOR, now=utc_now())

    issued = _run(data_dir, work)
    if key_file is None:
        console.print(f"key {issued.id} for {issued.agency}: {issued.key}")
        return
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(issued.key + "\n")
    console.print(f"key {issued.id} for {issued.agency} written to {key_file}")


@services.command("import")
def import_services(
    data_dir: DataDir,
    agency_id: Annotated[str, typer.Option("--agency", help="the agency, INSTANCE/CLASS/CODE")],
    file: Annotated[Path, typer.Option("--file", help="a YAML list of definitions")],
) -> None:
    """Import an agency's definitions: every one valid, or nothing is written."""
    try:
        raws = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        err_console.print(f"[red]error:[/red] {file} is not readable YAML: {error}")
        raise typer.Exit(2) from error

    async def work(session: AsyncSession) -> int:
        definitions = check_definitions(raws)
        member = str(MemberId.parse(agency_id, field="agency"))
        written = await service.import_definitions(session, member, definitions, now=utc_now())
        return len(written)

    console.print(f"{_run(data_dir, work)} definitions imported for {agency_id}")


@services.command("seed")
def seed_services(data_dir: DataDir) -> None:
    """Register the demo's agencies and load their services (seed_services.yaml)."""

    async def work(session: AsyncSession) -> int:
        return await seed.install_seed(session, now=utc_now())

    console.print(f"{_run(data_dir, work)} seed services loaded")
