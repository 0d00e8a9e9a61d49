"""``zistboom gateway …`` management commands: local clients, services, endpoints, access rights
and local groups, on the gateway's database directly (the running gateway picks the changes up
through the configuration version).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.accreditation import Requirement
from zistboom.core.database import create_engine, migrate, session_factory, transaction
from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.core.trustlist import Level
from zistboom.gateway import service
from zistboom.gateway.catalogue import publisher_for
from zistboom.gateway.messaging.cli import app as messages_app
from zistboom.gateway.schemas import AccessRightOut, ClientOut, LocalGroupOut, ServiceOut
from zistboom.gateway.settings import GatewaySettings

MIGRATIONS = "zistboom.gateway:migrations"
T = TypeVar("T")

app = typer.Typer(help="Manage the gateway: clients, services, access rights, local groups.")
client_app = typer.Typer(help="Local clients: the subsystems this gateway serves.")
service_app = typer.Typer(help="Services: service codes mapped to backends.")
endpoint_app = typer.Typer(help="Endpoints of a service: method and path pattern.")
access_app = typer.Typer(help="Access rights: who may call a service or an endpoint.")
group_app = typer.Typer(help="Local groups of client subsystems, for access rights.")
app.add_typer(client_app, name="client")
app.add_typer(service_app, name="service")
app.add_typer(endpoint_app, name="endpoint")
app.add_typer(access_app, name="access")
app.add_typer(group_app, name="group")
app.add_typer(messages_app, name="messages")
console = Console()

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir", envvar="ZB_DATA_DIR", help="the gateway's data directory (gateway.toml)"
    ),
]
SubsystemArg = Annotated[str, typer.Argument(help="INSTANCE/CLASS/CODE/SUBSYSTEM")]
CodeArg = Annotated[str, typer.Argument(help="service code")]
MethodOption = Annotated[
    str | None, typer.Option("--method", help="with --path: one endpoint only (GET, POST …, *)")
]
PathOption = Annotated[str | None, typer.Option("--path", help="the endpoint's path pattern")]


def _fail(error: ZistboomError) -> typer.Exit:
    typer.echo(f"error: {error.detail}", err=True)
    return typer.Exit(2)


def _run(data_dir: Path, work: Callable[[AsyncSession, GatewaySettings], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the gateway's database (migrated first)."""

    async def run() -> T:
        settings = GatewaySettings.load(data_dir)
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url("gateway"))
        try:
            await migrate(engine, MIGRATIONS)
            async with transaction(session_factory(engine)) as session:
                return await work(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ZistboomError as error:
        raise _fail(error) from error


def _endpoint(method: str | None, path: str | None) -> tuple[str, str] | None:
    if method is None and path is None:
        return None
    if method is None or path is None:
        raise _fail(ValidationError("name an endpoint with both --method and --path", field="path"))
    return method, path


BackendSecretFile = Annotated[
    Path | None,
    typer.Option(
        "--backend-secret-file",
        help="a file holding the secret sent to the backend (X-Zistboom-Gateway-Secret)",
    ),
]


def _read_backend_secret(path: Path | None) -> str | None:
    """The secret from its file (never from the command line, where other users see it)."""
    if path is None:
        return None
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(
            ValidationError(f"cannot read {path}: {error}", field="backend_secret")
        ) from error


def _read_openapi(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(ValidationError(f"cannot read {path}: {error}", field="openapi")) from error
    if path.suffix.lower() == ".json":
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise _fail(
                ValidationError(f"{path} is not valid JSON: {error}", field="openapi")
            ) from error
        if not isinstance(document, dict):
            raise _fail(ValidationError(f"{path} is not a JSON object", field="openapi"))
        return document
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return service.openapi_from_yaml(text, field="openapi")
        except ZistboomError as error:
            raise _fail(error) from error
    raise _fail(ValidationError(f"{path} must end in .json, .yaml or .yml", field="openapi"))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# --- clients ---------------------------------------------------------------------------------


def _print_clients(clients: list[ClientOut]) -> None:
    table = Table("subsystem", "body logging", "TLS certificates", "added")
    for c in clients:
        table.add_row(
            c.subsystem_id,
            _yes(c.body_logging),
            "\n".join(cert.fingerprint for cert in c.certificates) or "-",
            c.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@client_app.command("add")
def client_add(
    subsystem_id: SubsystemArg,
    data_dir: DataDir,
    no_body_logging: Annotated[
        bool, typer.Option("--no-body-logging", help="keep no message bodies in the message log")
    ] = False,
) -> None:
    """Serve a subsystem of a member this gateway hosts."""

    async def work(session: AsyncSession, settings: GatewaySettings) -> ClientOut:
        client = await service.add_client(
            session,
            subsystem_id,
            hosted_members=service.hosted_members(settings),
            body_logging=not no_body_logging,
        )
        return ClientOut.of(await service.client_entry(session, client.subsystem_id))

    _print_clients([_run(data_dir, work)])


@client_app.command("list")
def client_list(data_dir: DataDir) -> None:
    """The subsystems this gateway serves."""

    async def work(session: AsyncSession, _: GatewaySettings) -> list[ClientOut]:
        return [ClientOut.of(e) for e in await service.list_clients(session)]

    _print_clients(_run(data_dir, work))


@client_app.command("remove")
def client_remove(subsystem_id: SubsystemArg, data_dir: DataDir) -> None:
    """Stop serving a subsystem; its services, groups and access rights go with it."""

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.remove_client(session, subsystem_id)

    _run(data_dir, work)
    console.print(f"removed {subsystem_id}")


@client_app.command("body-logging")
def client_body_logging(
    subsystem_id: SubsystemArg,
    data_dir: DataDir,
    on: Annotated[bool, typer.Option("--on/--off", help="keep message bodies or not")] = True,
) -> None:
    """Turn body logging on or off for a subsystem."""

    async def work(session: AsyncSession, _: GatewaySettings) -> ClientOut:
        await service.set_body_logging(session, subsystem_id, on)
        return ClientOut.of(await service.client_entry(session, subsystem_id))

    _print_clients([_run(data_dir, work)])


@client_app.command("push-endpoint")
def client_push_endpoint(
    subsystem_id: SubsystemArg,
    data_dir: DataDir,
    url: Annotated[
        str | None, typer.Option(help="where to POST the subsystem's incoming messages")
    ] = None,
    secret_file: BackendSecretFile = None,
    remove: Annotated[bool, typer.Option("--remove", help="stop pushing; messages wait")] = False,
) -> None:
    """Push a subsystem's incoming asynchronous messages to its system (or stop)."""
    if (url is None) != remove:
        typer.echo("error: give --url URL, or --remove", err=True)
        raise typer.Exit(2)
    secret = _read_backend_secret(secret_file)

    async def work(session: AsyncSession, _: GatewaySettings) -> ClientOut:
        await service.set_push_endpoint(session, subsystem_id, url, secret)
        return ClientOut.of(await service.client_entry(session, subsystem_id))

    client = _run(data_dir, work)
    console.print(f"{subsystem_id}: push endpoint {client.push_url or 'none (pull)'}")


@client_app.command("add-certificate")
def client_add_certificate(
    subsystem_id: SubsystemArg,
    certificate: Annotated[Path, typer.Argument(help="PEM file of the TLS client certificate")],
    data_dir: DataDir,
) -> None:
    """Let an information system with this TLS client certificate act as the subsystem."""
    try:
        pem = certificate.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(
            ValidationError(f"cannot read {certificate}: {error}", field="certificate")
        ) from error

    async def work(session: AsyncSession, _: GatewaySettings) -> str:
        row = await service.add_client_certificate(session, subsystem_id, pem)
        return row.fingerprint

    console.print(f"added certificate {_run(data_dir, work)} for {subsystem_id}")


@client_app.command("remove-certificate")
def client_remove_certificate(
    subsystem_id: SubsystemArg,
    fingerprint: Annotated[str, typer.Argument(help="SHA-256 fingerprint (hex)")],
    data_dir: DataDir,
) -> None:
    """Forget a TLS client certificate of a subsystem."""

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.remove_client_certificate(session, subsystem_id, fingerprint)

    _run(data_dir, work)
    console.print(f"removed certificate {fingerprint} of {subsystem_id}")


# --- services --------------------------------------------------------------------------------


def _print_services(services: list[ServiceOut], *, endpoints: bool = False) -> None:
    table = Table("service", "backend", "ecosystem", "kind", "personal data", "endpoints")
    table.add_column("published")
    for s in services:
        listed = (
            "\n".join(f"{e.method} {e.path}" for e in s.endpoints)
            if endpoints
            else str(len(s.endpoints))
        )
        table.add_row(
            s.service_id,
            s.backend_url,
            s.ecosystem or "-",
            s.service_kind or "-",
            _yes(s.personal_data),
            listed or "-",
            s.published_at.isoformat(timespec="seconds") if s.published_at else "never",
        )
    console.print(table)


@service_app.command("add")
def service_add(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    backend_url: Annotated[str, typer.Argument(help="absolute http(s) URL of the backend")],
    data_dir: DataDir,
    openapi: Annotated[
        Path | None, typer.Option("--openapi", help="OpenAPI 3 document (.json, .yaml)")
    ] = None,
    description: Annotated[str, typer.Option(help="what the service does")] = "",
    ecosystem: Annotated[str | None, typer.Option(help="ecosystem key, as at central")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="kind of service")] = None,
    personal_data: Annotated[
        bool, typer.Option("--personal-data", help="the service returns personal data")
    ] = False,
    timeout: Annotated[float | None, typer.Option(help="backend timeout, seconds")] = None,
    max_body_bytes: Annotated[int | None, typer.Option(help="largest request body")] = None,
    backend_secret_file: BackendSecretFile = None,
    topic: Annotated[
        bool, typer.Option("--topic", help="a topic of publish/subscribe, not called")
    ] = False,
    ordered: Annotated[
        bool, typer.Option("--ordered", help="deliver asynchronous messages in order per sender")
    ] = False,
) -> None:
    """Map a service code of a local subsystem to a backend."""
    document = _read_openapi(openapi) if openapi is not None else None
    secret = _read_backend_secret(backend_secret_file)

    async def work(session: AsyncSession, _: GatewaySettings) -> ServiceOut:
        entry = await service.add_service(
            session,
            subsystem_id,
            code,
            backend_url,
            description=description,
            ecosystem=ecosystem,
            service_kind=kind,
            openapi=document,
            personal_data=personal_data,
            timeout=timeout,
            max_body_bytes=max_body_bytes,
            backend_secret=secret,
            topic=topic,
            ordered=ordered,
        )
        return ServiceOut.of(entry)

    _print_services([_run(data_dir, work)], endpoints=True)


@service_app.command("update")
def service_update(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    data_dir: DataDir,
    backend_url: Annotated[str | None, typer.Option(help="new backend URL")] = None,
    openapi: Annotated[
        Path | None,
        typer.Option("--openapi", help="new OpenAPI document: endpoints are reconciled"),
    ] = None,
    description: Annotated[str | None, typer.Option(help="new description")] = None,
    ecosystem: Annotated[str | None, typer.Option(help="new ecosystem key")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="new kind of service")] = None,
    personal_data: Annotated[
        bool | None, typer.Option("--personal-data/--no-personal-data")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="backend timeout, seconds")] = None,
    max_body_bytes: Annotated[int | None, typer.Option(help="largest request body")] = None,
    backend_secret_file: BackendSecretFile = None,
) -> None:
    """Change what is given of a service."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("backend_url", backend_url),
            ("description", description),
            ("ecosystem", ecosystem),
            ("service_kind", kind),
            ("personal_data", personal_data),
            ("timeout", timeout),
            ("max_body_bytes", max_body_bytes),
        )
        if value is not None
    }
    if openapi is not None:
        changes["openapi"] = _read_openapi(openapi)
    if backend_secret_file is not None:
        changes["backend_secret"] = _read_backend_secret(backend_secret_file)

    async def work(session: AsyncSession, _: GatewaySettings) -> ServiceOut:
        return ServiceOut.of(await service.update_service(session, subsystem_id, code, **changes))

    _print_services([_run(data_dir, work)], endpoints=True)


@service_app.command("list")
def service_list(
    data_dir: DataDir,
    subsystem: Annotated[str | None, typer.Option(help="only this subsystem's services")] = None,
    endpoints: Annotated[bool, typer.Option("--endpoints", help="list the endpoints")] = False,
) -> None:
    """The services this gateway provides."""

    async def work(session: AsyncSession, _: GatewaySettings) -> list[ServiceOut]:
        return [ServiceOut.of(e) for e in await service.list_services(session, subsystem)]

    _print_services(_run(data_dir, work), endpoints=endpoints)


@service_app.command("remove")
def service_remove(subsystem_id: SubsystemArg, code: CodeArg, data_dir: DataDir) -> None:
    """Remove a service with its endpoints and access rights."""

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.remove_service(session, subsystem_id, code)

    _run(data_dir, work)
    console.print(f"removed {subsystem_id}/{code}")


@service_app.command("publish")
def service_publish(subsystem_id: SubsystemArg, code: CodeArg, data_dir: DataDir) -> None:
    """Publish a service to central's catalogue, signed by its member's signing key."""

    async def load(session: AsyncSession, _: GatewaySettings) -> service.ServiceEntry:
        return await service.service_entry(session, subsystem_id, code)

    entry = _run(data_dir, load)

    async def send() -> None:
        await publisher_for(GatewaySettings.load(data_dir)).publish(entry)

    try:
        asyncio.run(send())
    except ZistboomError as error:
        raise _fail(error) from error
    published_at = entry.service.published_at
    assert published_at is not None

    async def record(session: AsyncSession, _: GatewaySettings) -> ServiceOut:
        await service.mark_published(session, subsystem_id, code, published_at)
        return ServiceOut.of(await service.service_entry(session, subsystem_id, code))

    _print_services([_run(data_dir, record)])


# --- endpoints -------------------------------------------------------------------------------


@endpoint_app.command("add")
def endpoint_add(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    method: Annotated[str, typer.Argument(help="GET, POST, … or * for every method")],
    path: Annotated[str, typer.Argument(help="path pattern: /a/{param}/*, final /** any rest")],
    data_dir: DataDir,
    summary: Annotated[str | None, typer.Option(help="what the endpoint does")] = None,
) -> None:
    """Add an endpoint to a service by hand."""

    async def work(session: AsyncSession, _: GatewaySettings) -> str:
        endpoint = await service.add_endpoint(
            session, subsystem_id, code, method, path, summary=summary
        )
        return f"{endpoint.method} {endpoint.path}"

    console.print(f"added endpoint {_run(data_dir, work)} to {subsystem_id}/{code}")


@endpoint_app.command("remove")
def endpoint_remove(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    method: Annotated[str, typer.Argument(help="the endpoint's method")],
    path: Annotated[str, typer.Argument(help="the endpoint's path pattern")],
    data_dir: DataDir,
) -> None:
    """Remove an endpoint and the access rights given to it."""

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.remove_endpoint(session, subsystem_id, code, method, path)

    _run(data_dir, work)
    console.print(f"removed endpoint {method.upper()} {path} of {subsystem_id}/{code}")


# --- access rights ---------------------------------------------------------------------------

KindOption = Annotated[
    str,
    typer.Option("--kind", help="what the subject is: subsystem, local-group or global-group"),
]
SubjectArg = Annotated[
    str, typer.Argument(help="subsystem id, or the code of a local or global group")
]


RequireOption = Annotated[
    str | None,
    typer.Option(
        "--require-accreditation",
        help="ECOSYSTEM:KIND[:LEVEL]: the right holds only while the client is accredited "
        "for it (level basic, substantial or high; basic if left out)",
    ),
]


def _requirement(value: str | None) -> Requirement | None:
    if value is None:
        return None
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise typer.BadParameter(
            f"{value!r}: write ECOSYSTEM:KIND or ECOSYSTEM:KIND:LEVEL, "
            "e.g. tax:e-invoice-provider:substantial",
            param_hint="--require-accreditation",
        )
    return Requirement(parts[0], parts[1], cast(Level, parts[2] if len(parts) == 3 else "basic"))


def _print_rights(rights: list[AccessRightOut]) -> None:
    table = Table("subject kind", "subject", "endpoint", "accreditation required", "granted")
    for r in rights:
        required = r.accreditation
        table.add_row(
            r.subject_kind,
            r.subject,
            f"{r.method} {r.path}" if r.method else "whole service",
            f"{required.ecosystem}:{required.kind} ({required.level})" if required else "-",
            r.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@access_app.command("grant")
def access_grant(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    subject: SubjectArg,
    data_dir: DataDir,
    kind: KindOption = "subsystem",
    method: MethodOption = None,
    path: PathOption = None,
    require_accreditation: RequireOption = None,
) -> None:
    """Allow a subject to call a service (or one endpoint of it)."""
    endpoint = _endpoint(method, path)
    requirement = _requirement(require_accreditation)

    async def work(session: AsyncSession, _: GatewaySettings) -> AccessRightOut:
        entry = await service.grant(
            session, subsystem_id, code, kind, subject, endpoint, requirement
        )
        return AccessRightOut.of(entry)

    _print_rights([_run(data_dir, work)])


@access_app.command("revoke")
def access_revoke(
    subsystem_id: SubsystemArg,
    code: CodeArg,
    subject: SubjectArg,
    data_dir: DataDir,
    kind: KindOption = "subsystem",
    method: MethodOption = None,
    path: PathOption = None,
) -> None:
    """Take an access right back."""
    endpoint = _endpoint(method, path)

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.revoke(session, subsystem_id, code, kind, subject, endpoint)

    _run(data_dir, work)
    console.print(f"revoked {kind} {subject} on {subsystem_id}/{code}")


@access_app.command("list")
def access_list(subsystem_id: SubsystemArg, code: CodeArg, data_dir: DataDir) -> None:
    """Who may call a service."""

    async def work(session: AsyncSession, _: GatewaySettings) -> list[AccessRightOut]:
        rights = await service.list_access_rights(session, subsystem_id, code)
        return [AccessRightOut.of(r) for r in rights]

    _print_rights(_run(data_dir, work))


# --- local groups ----------------------------------------------------------------------------


def _print_groups(groups: list[LocalGroupOut]) -> None:
    table = Table("subsystem", "group", "description", "members")
    for g in groups:
        table.add_row(g.subsystem_id, g.code, g.description or "-", "\n".join(g.members) or "-")
    console.print(table)


@group_app.command("add")
def group_add(
    subsystem_id: SubsystemArg,
    code: Annotated[str, typer.Argument(help="group code")],
    data_dir: DataDir,
    description: Annotated[str, typer.Option(help="what the group is for")] = "",
) -> None:
    """Create a local group of a subsystem."""

    async def work(session: AsyncSession, _: GatewaySettings) -> LocalGroupOut:
        await service.add_local_group(session, subsystem_id, code, description)
        return LocalGroupOut.of(await service.local_group_entry(session, subsystem_id, code))

    _print_groups([_run(data_dir, work)])


@group_app.command("add-member")
def group_add_member(
    subsystem_id: SubsystemArg,
    code: Annotated[str, typer.Argument(help="group code")],
    member_id: Annotated[str, typer.Argument(help="the subsystem to add")],
    data_dir: DataDir,
) -> None:
    """Add a client subsystem to a local group."""

    async def work(session: AsyncSession, _: GatewaySettings) -> LocalGroupOut:
        entry = await service.add_local_group_member(session, subsystem_id, code, member_id)
        return LocalGroupOut.of(entry)

    _print_groups([_run(data_dir, work)])


@group_app.command("remove-member")
def group_remove_member(
    subsystem_id: SubsystemArg,
    code: Annotated[str, typer.Argument(help="group code")],
    member_id: Annotated[str, typer.Argument(help="the subsystem to remove")],
    data_dir: DataDir,
) -> None:
    """Remove a subsystem from a local group."""

    async def work(session: AsyncSession, _: GatewaySettings) -> LocalGroupOut:
        entry = await service.remove_local_group_member(session, subsystem_id, code, member_id)
        return LocalGroupOut.of(entry)

    _print_groups([_run(data_dir, work)])


@group_app.command("list")
def group_list(
    data_dir: DataDir,
    subsystem: Annotated[str | None, typer.Option(help="only this subsystem's groups")] = None,
) -> None:
    """The local groups."""

    async def work(session: AsyncSession, _: GatewaySettings) -> list[LocalGroupOut]:
        return [LocalGroupOut.of(g) for g in await service.list_local_groups(session, subsystem)]

    _print_groups(_run(data_dir, work))


@group_app.command("remove")
def group_remove(
    subsystem_id: SubsystemArg,
    code: Annotated[str, typer.Argument(help="group code")],
    data_dir: DataDir,
) -> None:
    """Remove a local group and the access rights granted to it."""

    async def work(session: AsyncSession, _: GatewaySettings) -> None:
        await service.remove_local_group(session, subsystem_id, code)

    _run(data_dir, work)
    console.print(f"removed local group {code} of {subsystem_id}")
