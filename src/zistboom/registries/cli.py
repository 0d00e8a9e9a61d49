"""``zistboom registry …``: set up and run an agency's registry service, and define, publish,
list, export, import and seed its registries; verify the change log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import transaction
from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.core.identifiers import MemberId
from zistboom.core.logs import configure_logging
from zistboom.registries import history, publishing, repository, service
from zistboom.registries.app import create_app, open_database
from zistboom.registries.schema import dump_schema, load_schema_text
from zistboom.registries.settings import RegistrySettings

app = typer.Typer(help="An agency's registry service: schema-driven base registries.")
history_app = typer.Typer(help="The hash-chained change log.")
app.add_typer(history_app, name="history")
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="the registry service's data directory")]
Code = Annotated[str, typer.Argument(help="the registry's short code, e.g. persons")]
T = TypeVar("T")


def _fail(error: ZistboomError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error.detail}")
    for item in error.extra.get("errors", [])[1:]:
        err_console.print(f"  {item['field']}: {item['message']}")
    return typer.Exit(2)


def _run(data_dir: Path, work: Callable[[AsyncSession, RegistrySettings], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction of the registry's database."""

    async def main() -> T:
        settings = RegistrySettings.load(data_dir)
        opened = await open_database(settings)
        try:
            async with transaction(opened.sessions) as session:
                return await work(session, settings)
        finally:
            await opened.engine.dispose()

    try:
        return asyncio.run(main())
    except ZistboomError as error:
        raise _fail(error) from error


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(ValidationError(f"cannot read {path}: {error}", field="schema")) from error
    kind: Literal["json", "yaml"] = "json" if path.suffix.lower() == ".json" else "yaml"
    try:
        return load_schema_text(text, format=kind)
    except ZistboomError as error:
        raise _fail(error) from error


@app.command()
def init(
    data_dir: DataDir,
    member: Annotated[str, typer.Option(help="the agency, INSTANCE/CLASS/CODE")],
    subsystem: Annotated[str, typer.Option(help="its registry subsystem")] = "registry",
    port: Annotated[int, typer.Option(help="port (loopback) the gateway calls")] = 8090,
    gateway_admin_url: Annotated[
        str, typer.Option(help="the gateway's management API, e.g. http://127.0.0.1:8081")
    ] = "",
    gateway_admin_token_file: Annotated[
        str, typer.Option(help="the gateway's admin-token file")
    ] = "",
) -> None:
    """Write the registry service's settings and create its database, admin token and
    gateway secret."""
    try:
        MemberId.parse(member, field="member")
    except ZistboomError as error:
        raise _fail(error) from error
    RegistrySettings.load(
        data_dir,
        member_id=member,
        subsystem=subsystem,
        port=port,
        gateway_admin_url=gateway_admin_url,
        gateway_admin_token_file=gateway_admin_token_file,
    ).write()

    async def work(_session: AsyncSession, settings: RegistrySettings) -> None:
        publishing.gateway_secret(settings)

    _run(data_dir, work)
    console.print(f"registry service for [bold]{member}[/bold] set up in {data_dir}")


@app.command()
def serve(data_dir: DataDir) -> None:
    """Run the registry service until interrupted."""
    settings = RegistrySettings.load(data_dir)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def create(
    data_dir: DataDir,
    code: Code,
    schema: Annotated[Path, typer.Option(help="the first version's schema (.json or .yaml)")],
    name_fa: Annotated[str, typer.Option(help="name in Persian")],
    name_en: Annotated[str, typer.Option(help="name in English")],
    description_fa: Annotated[str, typer.Option(help="description in Persian")] = "",
    description_en: Annotated[str, typer.Option(help="description in English")] = "",
    ecosystem: Annotated[str, typer.Option(help="ecosystem key, or national")] = "national",
    owner: Annotated[str | None, typer.Option(help="owning member (default: the agency)")] = None,
) -> None:
    """Define a registry with its first version (1.0) as a draft."""
    document = _read_schema(schema)

    async def work(session: AsyncSession, settings: RegistrySettings) -> str:
        definition = service.Definition(
            code=code, name_fa=name_fa, name_en=name_en, owner=owner or settings.member_id,
            ecosystem=ecosystem, description_fa=description_fa, description_en=description_en,
        )  # fmt: skip
        _, version = await service.define_registry(session, definition, document)
        return version.version

    version = _run(data_dir, work)
    console.print(f"registry [bold]{code}[/bold] defined; draft {version} (publish it to serve)")


@app.command("import")
def import_schema(
    data_dir: DataDir,
    code: Code,
    schema: Annotated[Path, typer.Option(help="the new version's schema (.json or .yaml)")],
) -> None:
    """A new draft version from a schema; a change that would break stored records is refused,
    naming each field and the reason."""
    document = _read_schema(schema)

    async def work(session: AsyncSession, _: RegistrySettings) -> str:
        row = await service.propose_version(session, service.Schemas(), code, document)
        return row.version

    console.print(f"registry [bold]{code}[/bold]: draft {_run(data_dir, work)}")


@app.command()
def publish(
    data_dir: DataDir,
    code: Code,
    catalogue: Annotated[
        bool, typer.Option("--catalogue/--no-catalogue", help="publish to central's catalogue")
    ] = True,
) -> None:
    """Publish the draft: the Data API serves it, and the registry's services are registered on
    the agency's gateway (with the backend secret) and in central's catalogue."""

    async def main() -> str:
        settings = RegistrySettings.load(data_dir)
        opened = await open_database(settings)
        schemas = service.Schemas()
        try:
            async with transaction(opened.sessions) as session:
                row = await service.publish(session, schemas, code)
            await publishing.publish(settings, opened.sessions, schemas, code, catalogue=catalogue)
            return row.version
        finally:
            await opened.engine.dispose()

    try:
        version = asyncio.run(main())
    except ZistboomError as error:
        raise _fail(error) from error
    console.print(f"registry [bold]{code}[/bold] version {version} published")


@app.command("list")
def list_registries(data_dir: DataDir) -> None:
    """The registries, their versions and record counts."""

    async def work(session: AsyncSession, _: RegistrySettings) -> list[list[str]]:
        rows = []
        for registry in await repository.list_registries(session):
            versions = await repository.versions_of(session, registry)
            shown = ", ".join(v.version + ("" if v.published_at else " (draft)") for v in versions)
            count = await repository.count_records(session, registry.id)
            rows.append([registry.code, registry.name_en, registry.name_fa, registry.ecosystem,
                         shown, str(count)])  # fmt: skip
        return rows

    table = Table("code", "name", "نام", "ecosystem", "versions", "records")
    for row in _run(data_dir, work):
        table.add_row(*row)
    console.print(table)


@app.command()
def export(
    data_dir: DataDir,
    code: Code,
    version: Annotated[str | None, typer.Option(help="default: the newest")] = None,
    format: Annotated[str, typer.Option(help="json or yaml")] = "yaml",
    output: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
) -> None:
    """Print (or write) a version's schema as JSON or YAML."""
    if format not in ("json", "yaml"):
        raise _fail(ValidationError("format must be json or yaml", field="format"))

    async def work(session: AsyncSession, _: RegistrySettings) -> dict[str, Any]:
        return (await service.version_row(session, code, version)).schema

    text = dump_schema(_run(data_dir, work), format=format)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def seed(
    data_dir: DataDir,
    size: Annotated[str, typer.Option(help="small (10,000 persons) or large (1,000,000)")],
    seed_value: Annotated[int, typer.Option("--seed", help="generator seed")] = 1404,
    publish_all: Annotated[
        bool, typer.Option("--publish/--no-publish", help="register on the gateway too")
    ] = False,
    registry: Annotated[
        list[str] | None, typer.Option("--registry", help="only this registry (repeatable)")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="all seven, whoever owns them (tests, benchmarks)")
    ] = False,
) -> None:
    """Load the national base registries from the deterministic synthetic-data generator: by
    default those the service's agency owns."""
    from zistboom.registries.seeding import seed_registries

    if size not in ("small", "large"):
        raise _fail(ValidationError("size must be small or large", field="size"))
    started = time.monotonic()
    try:
        loaded = asyncio.run(
            seed_registries(
                RegistrySettings.load(data_dir), size=size, seed=seed_value,  # type: ignore[arg-type]
                publish=publish_all, codes=registry, every=every,
                report=lambda line: console.print(line),
            )
        )  # fmt: skip
    except ZistboomError as error:
        raise _fail(error) from error
    console.print(
        f"seeded {sum(loaded.values()):,} records in {len(loaded)} registries "
        f"in {time.monotonic() - started:.1f} s"
    )


@history_app.command("verify")
def history_verify(data_dir: DataDir) -> None:
    """Walk the change log; name the first change that was edited, removed or inserted."""

    async def work(
        session: AsyncSession, _: RegistrySettings
    ) -> tuple[history.Verification, dict[int, str]]:
        codes = {r.id: r.code for r in await repository.list_registries(session)}
        return await history.verify(session), codes

    result, codes = _run(data_dir, work)
    if result.intact:
        console.print(f"change log intact: {result.checked} changes verified")
        return
    where = ""
    if result.record_key is not None:
        registry = codes.get(result.registry_id or 0, f"#{result.registry_id}")
        where = f" (registry {registry}, record {result.record_key})"
    err_console.print(
        f"[red]change log broken[/red] at change {result.seq}{where}: {result.problem}; "
        f"{result.checked} changes before it verified"
    )
    raise typer.Exit(1)
