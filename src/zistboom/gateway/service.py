"""The gateway's management rules: local clients (subsystems), their TLS client certificates,
services and their endpoints, local groups and access rights.

Functions take their database session, validate their input (naming the offending field in every
error), change the tables, and bump the configuration version in the same transaction, so the
message path's cache (which polls that version) reloads exactly when something changed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, cast
from urllib.parse import urlsplit

import orjson
import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core import identifiers
from zistboom.core.accreditation import Requirement
from zistboom.core.crypto import x509
from zistboom.core.database import utc_now
from zistboom.core.errors import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from zistboom.core.messaging import RESERVED_SERVICES
from zistboom.core.trustlist import LEVELS, Level
from zistboom.gateway import enrolment
from zistboom.gateway.models import (
    AccessRight,
    ClientCertificate,
    ConfigurationState,
    Endpoint,
    LocalClient,
    LocalGroup,
    LocalGroupMember,
    Service,
)
from zistboom.gateway.settings import GatewaySettings

HTTP_METHODS: Final = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE")
ANY_METHOD: Final = "*"
SUBJECT_KINDS: Final = ("subsystem", "local-group", "global-group")
MAX_DESCRIPTION: Final = 10_000
MAX_OPENAPI_BYTES: Final = 5 * 1024 * 1024
MAX_TIMEOUT_SECONDS: Final = 3600.0
MAX_PATH_LENGTH: Final = 1000
MAX_URL_LENGTH: Final = 1000
_ECOSYSTEM_KEY: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# One path segment: literal characters (RFC 3986 pchar, percent-encoded octets) and {param}
# templates; whole-segment "*" (one segment) and "**" (any rest) are handled apart.
_SEGMENT: Final = re.compile(
    r"(?:[A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2}|\{[A-Za-z0-9_.\-]{1,64}\})*"
)


# --- configuration version -------------------------------------------------------------------


async def configuration_version(session: AsyncSession) -> int:
    """The version of the management configuration; 0 before the first change."""
    version = (
        await session.execute(select(ConfigurationState.version).where(ConfigurationState.id == 1))
    ).scalar_one_or_none()
    return version or 0


async def _changed(session: AsyncSession) -> None:
    """Bump the configuration version in the caller's transaction (atomic on both backends)."""
    await session.flush()
    result = await session.execute(
        update(ConfigurationState)
        .where(ConfigurationState.id == 1)
        .values(version=ConfigurationState.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        # The migration creates the row; this covers a database whose row was deleted.
        session.add(ConfigurationState(id=1, version=1))
        await session.flush()


# --- hosted members and local clients --------------------------------------------------------


def hosted_members(settings: GatewaySettings) -> list[str]:
    """The members whose subsystems this gateway serves: its own member, then the members it
    hosts (those it holds a signing certificate for)."""
    if not settings.gateway_id:
        raise ConfigurationError(
            "this gateway has no gateway_id yet; run 'zistboom gateway init' first",
            field="gateway_id",
        )
    gateway = identifiers.GatewayId.parse(settings.gateway_id, field="gateway_id")
    own = str(gateway.member)
    hosted = [m for m in enrolment.hosted_members(settings.data_dir) if m != own]
    return [own, *hosted]


@dataclass(frozen=True, slots=True)
class ClientEntry:
    """A local client with the fingerprints of its TLS client certificates."""

    client: LocalClient
    certificates: list[ClientCertificate]


def _subsystem(subsystem_id: str, field: str = "subsystem_id") -> identifiers.SubsystemId:
    return identifiers.SubsystemId.parse(subsystem_id, field=field)


async def find_client(session: AsyncSession, subsystem_id: str) -> LocalClient | None:
    result = await session.execute(
        select(LocalClient).where(LocalClient.subsystem_id == subsystem_id)
    )
    return result.scalar_one_or_none()


async def get_client(
    session: AsyncSession, subsystem_id: str, *, field: str = "subsystem_id"
) -> LocalClient:
    text = str(_subsystem(subsystem_id, field))
    client = await find_client(session, text)
    if client is None:
        raise NotFoundError(
            f"{text} is not a client of this gateway; add it first with 'client add'", field=field
        )
    return client


async def add_client(
    session: AsyncSession,
    subsystem_id: str,
    *,
    hosted_members: Collection[str],
    body_logging: bool = True,
) -> LocalClient:
    """Add a subsystem of a hosted member as a local client."""
    parsed = _subsystem(subsystem_id)
    if str(parsed.member) not in hosted_members:
        hosted = ", ".join(sorted(hosted_members)) or "none"
        raise ValidationError(
            f"{parsed} belongs to member {parsed.member}, which this gateway does not host "
            f"(hosted: {hosted})",
            field="subsystem_id",
        )
    if await find_client(session, str(parsed)) is not None:
        raise ConflictError(f"{parsed} is already a client of this gateway", field="subsystem_id")
    client = LocalClient(subsystem_id=str(parsed), body_logging=body_logging, created_at=utc_now())
    session.add(client)
    await _changed(session)
    return client


async def list_clients(session: AsyncSession) -> list[ClientEntry]:
    clients = list(
        (await session.execute(select(LocalClient).order_by(LocalClient.subsystem_id))).scalars()
    )
    certificates = list(
        (
            await session.execute(select(ClientCertificate).order_by(ClientCertificate.created_at))
        ).scalars()
    )
    return [
        ClientEntry(c, [cert for cert in certificates if cert.client_id == c.id]) for c in clients
    ]


async def client_entry(session: AsyncSession, subsystem_id: str) -> ClientEntry:
    client = await get_client(session, subsystem_id)
    return ClientEntry(client, await _certificates_of(session, client))


async def _certificates_of(session: AsyncSession, client: LocalClient) -> list[ClientCertificate]:
    result = await session.execute(
        select(ClientCertificate)
        .where(ClientCertificate.client_id == client.id)
        .order_by(ClientCertificate.created_at)
    )
    return list(result.scalars())


async def set_body_logging(session: AsyncSession, subsystem_id: str, on: bool) -> LocalClient:
    """Whether the message log keeps the bodies of this subsystem's messages."""
    client = await get_client(session, subsystem_id)
    if client.body_logging != on:
        client.body_logging = on
        await _changed(session)
    return client


async def set_push_endpoint(
    session: AsyncSession, subsystem_id: str, url: str | None, secret: str | None = None
) -> LocalClient:
    """Where the subsystem's incoming asynchronous messages are pushed (ZB-STD-009 §3.4);
    ``None`` removes the endpoint, and its messages wait in its inbox to be pulled."""
    client = await get_client(session, subsystem_id)
    client.push_url = validate_backend_url(url) if url is not None else None
    client.push_secret = _validate_backend_secret(secret) if url is not None else None
    await _changed(session)
    return client


async def remove_client(session: AsyncSession, subsystem_id: str) -> None:
    """Remove a client with its certificates, services, endpoints, groups and access rights."""
    client = await get_client(session, subsystem_id)
    service_ids = select(Service.id).where(Service.client_id == client.id)
    group_ids = select(LocalGroup.id).where(LocalGroup.client_id == client.id)
    # Explicit deletes in dependency order rather than relying on ON DELETE CASCADE alone.
    await session.execute(delete(AccessRight).where(AccessRight.service_id.in_(service_ids)))
    await session.execute(delete(Endpoint).where(Endpoint.service_id.in_(service_ids)))
    await session.execute(delete(Service).where(Service.client_id == client.id))
    await session.execute(delete(LocalGroupMember).where(LocalGroupMember.group_id.in_(group_ids)))
    await session.execute(delete(LocalGroup).where(LocalGroup.client_id == client.id))
    await session.execute(delete(ClientCertificate).where(ClientCertificate.client_id == client.id))
    await session.delete(client)
    await _changed(session)


async def add_client_certificate(
    session: AsyncSession, subsystem_id: str, certificate_pem: str
) -> ClientCertificate:
    """Let an information system holding this TLS client certificate act as the client."""
    client = await get_client(session, subsystem_id)
    cert = x509.load_certificate(certificate_pem)
    if cert.not_valid_after_utc <= utc_now():
        raise ValidationError(
            f"the certificate expired at {cert.not_valid_after_utc.isoformat()}",
            field="certificate",
        )
    fingerprint = x509.certificate_fingerprint(cert)
    if any(c.fingerprint == fingerprint for c in await _certificates_of(session, client)):
        raise ConflictError(
            f"certificate {fingerprint} is already registered for {client.subsystem_id}",
            field="certificate",
        )
    row = ClientCertificate(
        client_id=client.id,
        fingerprint=fingerprint,
        pem=x509.certificate_pem(cert),
        created_at=utc_now(),
    )
    session.add(row)
    await _changed(session)
    return row


async def remove_client_certificate(
    session: AsyncSession, subsystem_id: str, fingerprint: str
) -> None:
    client = await get_client(session, subsystem_id)
    wanted = fingerprint.strip().lower().replace(":", "")
    for row in await _certificates_of(session, client):
        if row.fingerprint == wanted:
            await session.delete(row)
            await _changed(session)
            return
    raise NotFoundError(
        f"{client.subsystem_id} has no certificate with fingerprint {fingerprint!r}",
        field="fingerprint",
    )


# --- services and endpoints ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """A service with its provider subsystem and its endpoints."""

    subsystem_id: str
    service: Service
    endpoints: list[Endpoint]

    @property
    def service_id(self) -> str:
        return f"{self.subsystem_id}/{self.service.code}"


def validate_backend_url(url: str, *, field: str = "backend_url") -> str:
    """An absolute http(s) URL without credentials: the gateway will connect to nothing else."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            f"the backend URL must be 1 to {MAX_URL_LENGTH} characters long", field=field
        )
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise ValidationError(
            "the backend URL must not contain spaces or control characters", field=field
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"{url!r} is not a URL: {error}", field=field) from error
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ValidationError(
            f"the backend URL must start with http:// or https://, {url!r} has {shown}",
            field=field,
        )
    if "@" in parts.netloc:
        raise ValidationError(
            "the backend URL must not carry a user name or password (user@host)", field=field
        )
    if not parts.hostname:
        raise ValidationError(f"the backend URL {url!r} names no host", field=field)
    if port == 0:
        raise ValidationError("the backend URL's port must be 1 to 65535", field=field)
    if parts.fragment or url.endswith("#"):
        raise ValidationError("the backend URL must not have a #fragment", field=field)
    return url


def validate_method(method: str, *, field: str = "method") -> str:
    """An HTTP method (any case, stored upper-case) or ``*`` for every method."""
    upper = method.strip().upper()
    if upper != ANY_METHOD and upper not in HTTP_METHODS:
        raise ValidationError(
            f"unknown method {method!r}: use one of {', '.join(HTTP_METHODS)} or '*'",
            field=field,
        )
    return upper


def validate_path(path: str, *, field: str = "path") -> str:
    """A path pattern: starts with '/'; segments are literal text with ``{param}`` templates,
    ``*`` (exactly one segment) or a final ``**`` (any rest, including nothing)."""
    if not path.startswith("/"):
        raise ValidationError(f"path {path!r} must start with '/'", field=field)
    if len(path) > MAX_PATH_LENGTH:
        raise ValidationError(f"path is longer than {MAX_PATH_LENGTH} characters", field=field)
    if path == "/":
        return path
    segments = path[1:].split("/")
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment in ("*",):
            continue
        if segment == "**":
            if not last:
                raise ValidationError(
                    f"'**' matches the rest of the path: it must be the last segment of {path!r}",
                    field=field,
                )
            continue
        if segment == "" and not last:
            raise ValidationError(f"path {path!r} has an empty segment ('//')", field=field)
        if segment in (".", ".."):
            raise ValidationError(
                f"path {path!r} has a {segment!r} segment; paths are matched as written",
                field=field,
            )
        if not _SEGMENT.fullmatch(segment):
            raise ValidationError(
                f"path segment {segment!r} of {path!r} is not allowed: use URL path characters, "
                "{name} templates, '*' or a final '**'",
                field=field,
            )
    return path


def _validate_code(value: str, field: str, label: str) -> str:
    return identifiers.validate_code(value, field=field, label=label)


def _validate_ecosystem(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not _ECOSYSTEM_KEY.fullmatch(key):
        raise ValidationError(
            f"{key!r} is not an ecosystem key (lower-case letters, digits and '-', as in 'tax')",
            field="ecosystem",
        )
    return key


def _validate_description(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(
            f"the description has {len(text)} characters; at most {MAX_DESCRIPTION} are allowed",
            field="description",
        )
    return text


def _validate_timeout(timeout: float | None) -> float | None:
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise ValidationError(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds",
            field="timeout",
        )
    return timeout


_BACKEND_SECRET = re.compile(r"[!-~]{32,256}")


def _validate_backend_secret(secret: str | None) -> str | None:
    if secret is not None and not _BACKEND_SECRET.fullmatch(secret):
        raise ValidationError(
            "backend_secret must be 32 to 256 visible ASCII characters (no spaces)",
            field="backend_secret",
        )
    return secret


def _validate_max_body(max_body_bytes: int | None) -> int | None:
    if max_body_bytes is not None and max_body_bytes <= 0:
        raise ValidationError("max_body_bytes must be a positive number", field="max_body_bytes")
    return max_body_bytes


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a few aliases can expand to gigabytes of JSON."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise ValidationError(
                "YAML aliases (*name) are not accepted in an OpenAPI document; write it out",
                field="openapi_yaml",
            )
        return super().compose_node(parent, index)


def openapi_from_yaml(text: str, *, field: str = "openapi_yaml") -> dict[str, Any]:
    """Parse an OpenAPI document written in YAML (or JSON, which is YAML)."""
    if len(text.encode()) > MAX_OPENAPI_BYTES:
        raise ValidationError(
            f"the OpenAPI document is larger than {MAX_OPENAPI_BYTES // (1024 * 1024)} MiB",
            field=field,
        )
    try:
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader)
    except yaml.YAMLError as error:
        raise ValidationError(
            f"the OpenAPI document is not valid YAML: {error}", field=field
        ) from error
    if not isinstance(document, dict):
        raise ValidationError("the OpenAPI document must be a YAML mapping", field=field)
    return document


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of an OpenAPI document: what becomes an endpoint."""

    method: str
    path: str
    operation_id: str | None
    summary: str | None


def openapi_operations(document: Mapping[str, Any], *, field: str = "openapi") -> list[Operation]:
    """Check an OpenAPI 3 document's shape and list its operations (paths × methods)."""
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise ValidationError(
            f"only OpenAPI 3.x documents are accepted; 'openapi' is {version!r}", field=field
        )
    paths = document.get("paths", {})
    if paths is None:
        paths = {}
    if not isinstance(paths, dict):
        raise ValidationError("'paths' of the OpenAPI document must be an object", field=field)
    operations: list[Operation] = []
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            raise ValidationError(
                f"path item {path!r} of the OpenAPI document must be an object under a string key",
                field=field,
            )
        try:
            validate_path(path, field=field)
        except ValidationError as error:
            raise ValidationError(
                f"OpenAPI path {path!r} cannot be an endpoint: {error.detail}", field=field
            ) from error
        for key, operation in item.items():
            method = str(key).upper()
            if method not in HTTP_METHODS:
                continue  # parameters, servers, summary, $ref, x-…
            if not isinstance(operation, dict):
                raise ValidationError(
                    f"operation {key} {path} of the OpenAPI document must be an object",
                    field=field,
                )
            operation_id = operation.get("operationId")
            summary = operation.get("summary")
            operations.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=str(operation_id)[:255] if operation_id is not None else None,
                    summary=str(summary) if summary is not None else None,
                )
            )
    return operations


def _json_document(document: Mapping[str, Any], *, field: str = "openapi") -> dict[str, Any]:
    """The document as plain JSON values (YAML dates, integer keys …), within the size limit."""
    try:
        encoded = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as error:
        raise ValidationError(
            f"the OpenAPI document holds a value JSON cannot represent: {error}", field=field
        ) from error
    if len(encoded) > MAX_OPENAPI_BYTES:
        raise ValidationError(
            f"the OpenAPI document is larger than {MAX_OPENAPI_BYTES // (1024 * 1024)} MiB",
            field=field,
        )
    plain: dict[str, Any] = orjson.loads(encoded)
    return plain


async def find_service(session: AsyncSession, client: LocalClient, code: str) -> Service | None:
    result = await session.execute(
        select(Service).where(Service.client_id == client.id, Service.code == code)
    )
    return result.scalar_one_or_none()


async def get_service(session: AsyncSession, subsystem_id: str, code: str) -> Service:
    client = await get_client(session, subsystem_id)
    service = await find_service(session, client, code)
    if service is None:
        raise NotFoundError(f"{client.subsystem_id} has no service {code!r}", field="code")
    return service


async def _endpoints_of(session: AsyncSession, service: Service) -> list[Endpoint]:
    result = await session.execute(
        select(Endpoint)
        .where(Endpoint.service_id == service.id)
        .order_by(Endpoint.path, Endpoint.method)
    )
    return list(result.scalars())


async def service_entry(session: AsyncSession, subsystem_id: str, code: str) -> ServiceEntry:
    service = await get_service(session, subsystem_id, code)
    client = await session.get(LocalClient, service.client_id)
    assert client is not None
    return ServiceEntry(client.subsystem_id, service, await _endpoints_of(session, service))


async def list_services(
    session: AsyncSession, subsystem_id: str | None = None
) -> list[ServiceEntry]:
    """Services with their endpoints, of one subsystem or of all."""
    query = (
        select(Service, LocalClient.subsystem_id)
        .join(LocalClient, Service.client_id == LocalClient.id)
        .order_by(LocalClient.subsystem_id, Service.code)
    )
    if subsystem_id is not None:
        client = await get_client(session, subsystem_id)
        query = query.where(Service.client_id == client.id)
    rows = (await session.execute(query)).all()
    endpoints = list(
        (
            await session.execute(
                select(Endpoint)
                .where(Endpoint.service_id.in_([s.id for s, _ in rows]))
                .order_by(Endpoint.path, Endpoint.method)
            )
        ).scalars()
    )
    return [
        ServiceEntry(owner, service, [e for e in endpoints if e.service_id == service.id])
        for service, owner in rows
    ]


async def _reconcile_endpoints(
    session: AsyncSession,
    service: Service,
    previous: Iterable[Operation],
    current: Iterable[Operation],
) -> None:
    """Add the operations new to the document, drop those that vanished from it (with their
    access rights), and refresh the names of the others. Endpoints added by hand stay."""
    wanted = {(o.method, o.path): o for o in current}
    vanished = {(o.method, o.path) for o in previous} - wanted.keys()
    existing = {(e.method, e.path): e for e in await _endpoints_of(session, service)}
    for key in vanished:
        endpoint = existing.pop(key, None)
        if endpoint is not None:
            await session.execute(delete(AccessRight).where(AccessRight.endpoint_id == endpoint.id))
            await session.delete(endpoint)
    for key, operation in wanted.items():
        endpoint = existing.get(key)
        if endpoint is None:
            session.add(
                Endpoint(
                    service_id=service.id,
                    method=operation.method,
                    path=operation.path,
                    operation_id=operation.operation_id,
                    summary=operation.summary,
                )
            )
        else:
            endpoint.operation_id = operation.operation_id
            endpoint.summary = operation.summary
    await session.flush()


async def add_service(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    backend_url: str,
    *,
    description: str = "",
    ecosystem: str | None = None,
    service_kind: str | None = None,
    openapi: Mapping[str, Any] | None = None,
    personal_data: bool = False,
    timeout: float | None = None,  # noqa: ASYNC109  (the backend's, stored, not awaited)
    max_body_bytes: int | None = None,
    backend_secret: str | None = None,
    topic: bool = False,
    ordered: bool = False,
) -> ServiceEntry:
    """Map a service code of a local client to a backend; its OpenAPI operations become
    endpoints. A ``topic`` is subscribed to and published on, not called; messages to an
    ``ordered`` service are delivered in order per sender (ZB-STD-009)."""
    client = await get_client(session, subsystem_id)
    code = _validate_code(code, "code", "service code")
    if code in RESERVED_SERVICES:
        raise ValidationError(
            f"{code} is reserved for the gateways' own deliveries (ZB-STD-009)", field="code"
        )
    backend_url = validate_backend_url(backend_url)
    document = _json_document(openapi) if openapi is not None else None
    operations = openapi_operations(document) if document is not None else []
    service = Service(
        client_id=client.id,
        code=code,
        backend_url=backend_url,
        description=_validate_description(description),
        ecosystem=_validate_ecosystem(ecosystem),
        service_kind=(
            _validate_code(service_kind, "service_kind", "service kind") if service_kind else None
        ),
        openapi=document,
        personal_data=personal_data,
        timeout=_validate_timeout(timeout),
        max_body_bytes=_validate_max_body(max_body_bytes),
        backend_secret=_validate_backend_secret(backend_secret),
        topic=topic,
        ordered=ordered,
        created_at=utc_now(),
    )
    if await find_service(session, client, code) is not None:
        raise ConflictError(f"{client.subsystem_id} already has service {code}", field="code")
    session.add(service)
    await session.flush()
    await _reconcile_endpoints(session, service, [], operations)
    await _changed(session)
    return ServiceEntry(client.subsystem_id, service, await _endpoints_of(session, service))


class Unchanged(Enum):
    """Marks an argument of :func:`update_service` that keeps its current value."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


async def update_service(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    *,
    backend_url: str | Unchanged = UNCHANGED,
    description: str | Unchanged = UNCHANGED,
    ecosystem: str | Unchanged | None = UNCHANGED,
    service_kind: str | Unchanged | None = UNCHANGED,
    openapi: Mapping[str, Any] | Unchanged | None = UNCHANGED,
    personal_data: bool | Unchanged = UNCHANGED,
    timeout: float | Unchanged | None = UNCHANGED,  # noqa: ASYNC109  (stored, not awaited)
    max_body_bytes: int | Unchanged | None = UNCHANGED,
    backend_secret: str | Unchanged | None = UNCHANGED,
) -> ServiceEntry:
    """Change what is given. A new OpenAPI document reconciles the endpoints: operations new
    to it are added, those that vanished from the previous one are removed with their access
    rights."""
    service = await get_service(session, subsystem_id, code)
    if not isinstance(backend_url, Unchanged):
        service.backend_url = validate_backend_url(backend_url)
    if not isinstance(description, Unchanged):
        service.description = _validate_description(description)
    if not isinstance(ecosystem, Unchanged):
        service.ecosystem = _validate_ecosystem(ecosystem)
    if not isinstance(service_kind, Unchanged):
        service.service_kind = (
            _validate_code(service_kind, "service_kind", "service kind") if service_kind else None
        )
    if not isinstance(personal_data, Unchanged):
        service.personal_data = personal_data
    if not isinstance(timeout, Unchanged):
        service.timeout = _validate_timeout(timeout)
    if not isinstance(max_body_bytes, Unchanged):
        service.max_body_bytes = _validate_max_body(max_body_bytes)
    if not isinstance(backend_secret, Unchanged):
        service.backend_secret = _validate_backend_secret(backend_secret)
    if not isinstance(openapi, Unchanged):
        document = _json_document(openapi) if openapi is not None else None
        current = openapi_operations(document) if document is not None else []
        previous = openapi_operations(service.openapi) if service.openapi else []
        service.openapi = document
        await _reconcile_endpoints(session, service, previous, current)
    await _changed(session)
    return await service_entry(session, subsystem_id, code)


async def mark_published(
    session: AsyncSession, subsystem_id: str, code: str, at: datetime
) -> Service:
    """Record when the service was last published to central's catalogue (not a configuration
    change: the message path does not read it)."""
    service = await get_service(session, subsystem_id, code)
    service.published_at = at
    await session.flush()
    return service


async def remove_service(session: AsyncSession, subsystem_id: str, code: str) -> None:
    service = await get_service(session, subsystem_id, code)
    await session.execute(delete(AccessRight).where(AccessRight.service_id == service.id))
    await session.execute(delete(Endpoint).where(Endpoint.service_id == service.id))
    await session.delete(service)
    await _changed(session)


async def _find_endpoint(
    session: AsyncSession, service: Service, method: str, path: str
) -> Endpoint | None:
    result = await session.execute(
        select(Endpoint).where(
            Endpoint.service_id == service.id, Endpoint.method == method, Endpoint.path == path
        )
    )
    return result.scalar_one_or_none()


async def add_endpoint(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    method: str,
    path: str,
    *,
    summary: str | None = None,
) -> Endpoint:
    """Add an endpoint by hand: a method (or ``*``) and a path pattern."""
    service = await get_service(session, subsystem_id, code)
    method = validate_method(method)
    path = validate_path(path)
    if await _find_endpoint(session, service, method, path) is not None:
        raise ConflictError(f"service {code} already has endpoint {method} {path}", field="path")
    endpoint = Endpoint(
        service_id=service.id,
        method=method,
        path=path,
        summary=summary.strip() if summary else None,
    )
    session.add(endpoint)
    await _changed(session)
    return endpoint


async def get_endpoint(session: AsyncSession, service: Service, method: str, path: str) -> Endpoint:
    method = validate_method(method)
    path = validate_path(path)
    endpoint = await _find_endpoint(session, service, method, path)
    if endpoint is None:
        raise NotFoundError(
            f"service {service.code} has no endpoint {method} {path}; add it first", field="path"
        )
    return endpoint


async def remove_endpoint(
    session: AsyncSession, subsystem_id: str, code: str, method: str, path: str
) -> None:
    service = await get_service(session, subsystem_id, code)
    endpoint = await get_endpoint(session, service, method, path)
    await session.execute(delete(AccessRight).where(AccessRight.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await _changed(session)


# --- local groups --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalGroupEntry:
    subsystem_id: str
    group: LocalGroup
    members: list[str]


async def _find_group(session: AsyncSession, client: LocalClient, code: str) -> LocalGroup | None:
    result = await session.execute(
        select(LocalGroup).where(LocalGroup.client_id == client.id, LocalGroup.code == code)
    )
    return result.scalar_one_or_none()


async def _get_group(
    session: AsyncSession, client: LocalClient, code: str, *, field: str = "code"
) -> LocalGroup:
    group = await _find_group(session, client, code)
    if group is None:
        raise NotFoundError(
            f"{client.subsystem_id} has no local group {code!r}; create it first", field=field
        )
    return group


async def _members_of(session: AsyncSession, group: LocalGroup) -> list[str]:
    result = await session.execute(
        select(LocalGroupMember.member_id)
        .where(LocalGroupMember.group_id == group.id)
        .order_by(LocalGroupMember.member_id)
    )
    return list(result.scalars())


async def add_local_group(
    session: AsyncSession, subsystem_id: str, code: str, description: str = ""
) -> LocalGroup:
    """A group of client subsystems, defined by one local subsystem for its access rights."""
    client = await get_client(session, subsystem_id)
    code = _validate_code(code, "code", "local group code")
    description = description.strip()
    if len(description) > 255:
        raise ValidationError("description is longer than 255 characters", field="description")
    if await _find_group(session, client, code) is not None:
        raise ConflictError(f"{client.subsystem_id} already has local group {code}", field="code")
    group = LocalGroup(
        client_id=client.id, code=code, description=description, created_at=utc_now()
    )
    session.add(group)
    await _changed(session)
    return group


async def list_local_groups(
    session: AsyncSession, subsystem_id: str | None = None
) -> list[LocalGroupEntry]:
    query = (
        select(LocalGroup, LocalClient.subsystem_id)
        .join(LocalClient, LocalGroup.client_id == LocalClient.id)
        .order_by(LocalClient.subsystem_id, LocalGroup.code)
    )
    if subsystem_id is not None:
        client = await get_client(session, subsystem_id)
        query = query.where(LocalGroup.client_id == client.id)
    rows = (await session.execute(query)).all()
    return [LocalGroupEntry(owner, g, await _members_of(session, g)) for g, owner in rows]


async def local_group_entry(session: AsyncSession, subsystem_id: str, code: str) -> LocalGroupEntry:
    client = await get_client(session, subsystem_id)
    group = await _get_group(session, client, code)
    return LocalGroupEntry(client.subsystem_id, group, await _members_of(session, group))


async def add_local_group_member(
    session: AsyncSession, subsystem_id: str, group_code: str, member_subsystem_id: str
) -> LocalGroupEntry:
    client = await get_client(session, subsystem_id)
    group = await _get_group(session, client, group_code, field="group")
    member = str(_subsystem(member_subsystem_id, "member_id"))
    if member in await _members_of(session, group):
        raise ConflictError(f"{member} is already in local group {group.code}", field="member_id")
    session.add(LocalGroupMember(group_id=group.id, member_id=member))
    await _changed(session)
    return LocalGroupEntry(client.subsystem_id, group, await _members_of(session, group))


async def remove_local_group_member(
    session: AsyncSession, subsystem_id: str, group_code: str, member_subsystem_id: str
) -> LocalGroupEntry:
    client = await get_client(session, subsystem_id)
    group = await _get_group(session, client, group_code, field="group")
    member = str(_subsystem(member_subsystem_id, "member_id"))
    result = await session.execute(
        delete(LocalGroupMember).where(
            LocalGroupMember.group_id == group.id, LocalGroupMember.member_id == member
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # CursorResult of a DELETE
        raise NotFoundError(f"{member} is not in local group {group.code}", field="member_id")
    await _changed(session)
    return LocalGroupEntry(client.subsystem_id, group, await _members_of(session, group))


async def remove_local_group(session: AsyncSession, subsystem_id: str, code: str) -> None:
    """Remove a local group, its members and the access rights granted to it."""
    client = await get_client(session, subsystem_id)
    group = await _get_group(session, client, code)
    service_ids = select(Service.id).where(Service.client_id == client.id)
    await session.execute(
        delete(AccessRight).where(
            AccessRight.service_id.in_(service_ids),
            AccessRight.subject_kind == "local-group",
            AccessRight.subject == group.code,
        )
    )
    await session.execute(delete(LocalGroupMember).where(LocalGroupMember.group_id == group.id))
    await session.delete(group)
    await _changed(session)


# --- access rights -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessRightEntry:
    """An access right with the endpoint it is limited to (``None``: the whole service)."""

    right: AccessRight
    method: str | None
    path: str | None

    @property
    def requirement(self) -> Requirement | None:
        return requirement_of(self.right)


def requirement_of(right: AccessRight) -> Requirement | None:
    """The accreditation a right requires of its client, if any."""
    if right.required_ecosystem is None or right.required_kind is None:
        return None
    return Requirement(
        right.required_ecosystem,
        right.required_kind,
        cast(Level, right.required_level or "basic"),
    )


async def _subject(
    session: AsyncSession, client: LocalClient, subject_kind: str, subject: str
) -> str:
    """Validate a subject; returns it as stored."""
    if subject_kind == "subsystem":
        return str(_subsystem(subject, "subject"))
    if subject_kind == "local-group":
        code = _validate_code(subject, "subject", "local group code")
        if await _find_group(session, client, code) is None:
            raise NotFoundError(
                f"{client.subsystem_id} has no local group {code!r}; create it first",
                field="subject",
            )
        return code
    if subject_kind == "global-group":
        return _validate_code(subject, "subject", "global group code")
    raise ValidationError(
        f"unknown subject kind {subject_kind!r}: use one of {', '.join(SUBJECT_KINDS)}",
        field="subject_kind",
    )


async def _matching_right(
    session: AsyncSession,
    service: Service,
    endpoint: Endpoint | None,
    subject_kind: str,
    subject: str,
) -> AccessRight | None:
    # Compared explicitly: a unique constraint does not catch two rows whose endpoint is NULL.
    query = select(AccessRight).where(
        AccessRight.service_id == service.id,
        AccessRight.subject_kind == subject_kind,
        AccessRight.subject == subject,
    )
    query = query.where(
        AccessRight.endpoint_id.is_(None)
        if endpoint is None
        else AccessRight.endpoint_id == endpoint.id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _resolve(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    subject_kind: str,
    subject: str,
    endpoint: tuple[str, str] | None,
) -> tuple[Service, Endpoint | None, str]:
    service = await get_service(session, subsystem_id, code)
    client = await session.get(LocalClient, service.client_id)
    assert client is not None
    stored = await _subject(session, client, subject_kind, subject)
    target = await get_endpoint(session, service, *endpoint) if endpoint is not None else None
    return service, target, stored


def _requirement(requirement: Requirement | None) -> Requirement | None:
    if requirement is None:
        return None
    for name, value in (("ecosystem", requirement.ecosystem), ("kind", requirement.kind)):
        if not _ECOSYSTEM_KEY.fullmatch(value):
            raise ValidationError(
                f"accreditation {name} {value!r} is not a key of the trust list (lower-case "
                "letters, digits and '-', as in 'tax' or 'e-invoice-provider')",
                field=f"accreditation.{name}",
            )
    if requirement.level not in LEVELS:
        raise ValidationError(
            f"unknown accreditation level {requirement.level!r}: use one of {', '.join(LEVELS)}",
            field="accreditation.level",
        )
    return requirement


async def grant(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    subject_kind: str,
    subject: str,
    endpoint: tuple[str, str] | None = None,
    requirement: Requirement | None = None,
) -> AccessRightEntry:
    """Allow a subsystem, local group or global group to call a service, or one endpoint of
    it (``endpoint`` = (method, path) of an existing endpoint); with ``requirement``, only
    while the calling client holds that accreditation (checked at call time, ZB-STD-007)."""
    requirement = _requirement(requirement)
    service, target, stored = await _resolve(
        session, subsystem_id, code, subject_kind, subject, endpoint
    )
    if await _matching_right(session, service, target, subject_kind, stored) is not None:
        scope = f"endpoint {target.method} {target.path}" if target else "the whole service"
        raise ConflictError(
            f"{subject_kind} {stored} already has access to {scope} of {code}", field="subject"
        )
    right = AccessRight(
        service_id=service.id,
        endpoint_id=target.id if target else None,
        subject_kind=subject_kind,
        subject=stored,
        created_at=utc_now(),
        required_ecosystem=requirement.ecosystem if requirement else None,
        required_kind=requirement.kind if requirement else None,
        required_level=requirement.level if requirement else None,
    )
    session.add(right)
    await _changed(session)
    return AccessRightEntry(
        right, target.method if target else None, target.path if target else None
    )


async def revoke(
    session: AsyncSession,
    subsystem_id: str,
    code: str,
    subject_kind: str,
    subject: str,
    endpoint: tuple[str, str] | None = None,
) -> None:
    service, target, stored = await _resolve(
        session, subsystem_id, code, subject_kind, subject, endpoint
    )
    right = await _matching_right(session, service, target, subject_kind, stored)
    if right is None:
        scope = f"endpoint {target.method} {target.path}" if target else "the whole service"
        raise NotFoundError(
            f"{subject_kind} {stored} has no access right to {scope} of {code}", field="subject"
        )
    await session.delete(right)
    await _changed(session)


async def list_access_rights(
    session: AsyncSession, subsystem_id: str, code: str
) -> list[AccessRightEntry]:
    service = await get_service(session, subsystem_id, code)
    endpoints = {e.id: e for e in await _endpoints_of(session, service)}
    result = await session.execute(
        select(AccessRight)
        .where(AccessRight.service_id == service.id)
        .order_by(AccessRight.subject_kind, AccessRight.subject, AccessRight.id)
    )
    entries = []
    for right in result.scalars():
        endpoint = endpoints.get(right.endpoint_id) if right.endpoint_id is not None else None
        entries.append(
            AccessRightEntry(
                right, endpoint.method if endpoint else None, endpoint.path if endpoint else None
            )
        )
    return entries
