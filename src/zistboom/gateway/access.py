"""The hot path's view of the gateway's configuration: local clients, services, endpoints,
groups and access rights, held in memory and reloaded when the management layer changes them
(``configuration_state.version``), so that no request waits on a configuration query.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core import globalconf as gc
from zistboom.core.accreditation import Requirement
from zistboom.core.trustlist import Level
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


def path_pattern(pattern: str) -> re.Pattern[str]:
    """An endpoint path as a regular expression: ``{name}`` and ``*`` match one segment, ``**``
    any rest (including nothing); a trailing slash is optional."""
    regex = ""
    for segment in pattern.strip("/").split("/"):
        if not segment:
            continue
        if segment == "**":
            regex += "(?:/.*)?"
        elif segment == "*" or (segment.startswith("{") and segment.endswith("}")):
            regex += "/[^/]+"
        else:
            regex += "/" + re.escape(segment)
    return re.compile("^" + regex + "/?$")


@dataclass(frozen=True, slots=True)
class EndpointEntry:
    id: int
    method: str
    path: str
    operation_id: str | None
    summary: str | None
    regex: re.Pattern[str]

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and self.regex.match(path) is not None


@dataclass(frozen=True, slots=True)
class RightEntry:
    endpoint_id: int | None
    subject_kind: str
    subject: str
    requirement: Requirement | None = None
    """An accreditation the client must hold for this right to count (ZB-STD-007)."""


@dataclass(frozen=True, slots=True)
class Access:
    """What a client's rights give it for one call: ``allowed`` outright by a right without
    conditions; otherwise the accreditations, any one of which would allow it (``required``;
    empty: no right matches at all)."""

    allowed: bool
    required: tuple[Requirement, ...] = ()


ALLOWED = Access(True)
DENIED = Access(False)


@dataclass(slots=True)
class ServiceEntry:
    id: int
    subsystem_id: str
    code: str
    backend_url: str
    description: str
    timeout: float | None
    max_body_bytes: int | None
    personal_data: bool
    openapi: dict[str, Any] | None
    backend_secret: str | None = None
    topic: bool = False
    ordered: bool = False
    endpoints: list[EndpointEntry] = field(default_factory=list)
    rights: list[RightEntry] = field(default_factory=list)
    endpoint_by_id: dict[int, EndpointEntry] = field(default_factory=dict)

    @property
    def service_id(self) -> str:
        return f"{self.subsystem_id}/{self.code}"


@dataclass(slots=True)
class ClientEntry:
    subsystem_id: str
    body_logging: bool
    push_url: str | None = None
    push_secret: str | None = None
    certificate_fingerprints: set[str] = field(default_factory=set)
    certificate_pems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Snapshot:
    version: int = -1
    clients: dict[str, ClientEntry] = field(default_factory=dict)
    services: dict[tuple[str, str], ServiceEntry] = field(default_factory=dict)
    local_groups: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class Registry:
    """Configuration snapshot plus the access decision."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, poll_seconds: float = 2.0
    ) -> None:
        self._sessions = sessions
        self._poll = poll_seconds
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self.snapshot = Snapshot()
        self.on_reload: list[Callable[[Snapshot], None]] = []

    async def current(self) -> Snapshot:
        """The snapshot, reloaded first if the stored version moved (checked every few s)."""
        if time.monotonic() - self._checked >= self._poll:
            await self.reload()
        return self.snapshot

    async def reload(self, *, force: bool = False) -> None:
        async with self._lock:
            self._checked = time.monotonic()
            async with self._sessions() as session:
                version = (
                    await session.execute(select(ConfigurationState.version).limit(1))
                ).scalar_one_or_none() or 0
                if version == self.snapshot.version and not force:
                    return
                self.snapshot = await _load(session, version)
            for callback in self.on_reload:
                callback(self.snapshot)

    def client_certificates(self) -> list[str]:
        """Every information system certificate registered for any local client (PEM)."""
        return [pem for c in self.snapshot.clients.values() for pem in c.certificate_pems]

    def client(self, subsystem_id: str) -> ClientEntry | None:
        return self.snapshot.clients.get(subsystem_id)

    def service(self, subsystem_id: str, code: str) -> ServiceEntry | None:
        return self.snapshot.services.get((subsystem_id, code))

    def services_of(self, subsystem_id: str) -> list[ServiceEntry]:
        return [s for (sub, _), s in self.snapshot.services.items() if sub == subsystem_id]

    def subject_matches(
        self, right: RightEntry, service: ServiceEntry, client_id: str, conf: gc.GlobalConf
    ) -> bool:
        if right.subject_kind == "subsystem":
            return right.subject == client_id
        if right.subject_kind == "local-group":
            members = self.snapshot.local_groups.get((service.subsystem_id, right.subject), set())
            return client_id in members
        if right.subject_kind == "global-group":
            return any(
                group.code == right.subject and client_id in group.members
                for group in conf.global_groups
            )
        return False

    def access(
        self,
        service: ServiceEntry,
        client_id: str,
        method: str,
        path: str,
        conf: gc.GlobalConf,
    ) -> Access:
        """The rights that cover this call: on the whole service, or on an endpoint that
        matches method and path; one without an accreditation requirement allows it outright."""
        required: list[Requirement] = []
        for right in service.rights:
            if not self.subject_matches(right, service, client_id, conf):
                continue
            if right.endpoint_id is not None:
                endpoint = service.endpoint_by_id.get(right.endpoint_id)
                if endpoint is None or not endpoint.matches(method, path):
                    continue
            if right.requirement is None:
                return ALLOWED
            required.append(right.requirement)
        return Access(False, tuple(required)) if required else DENIED

    def is_allowed(
        self,
        service: ServiceEntry,
        client_id: str,
        method: str,
        path: str,
        conf: gc.GlobalConf,
    ) -> bool:
        """Whether a right covers this call (with or without an accreditation requirement)."""
        access = self.access(service, client_id, method, path, conf)
        return access.allowed or bool(access.required)

    def allowed_endpoints(
        self, service: ServiceEntry, client_id: str, conf: gc.GlobalConf
    ) -> list[EndpointEntry]:
        """The endpoints the client may call (all of them for a whole-service right)."""
        allowed: dict[int, EndpointEntry] = {}
        endpoints = {e.id: e for e in service.endpoints}
        for right in service.rights:
            if not self.subject_matches(right, service, client_id, conf):
                continue
            if right.endpoint_id is None:
                return list(service.endpoints)
            if right.endpoint_id in endpoints:
                allowed[right.endpoint_id] = endpoints[right.endpoint_id]
        return list(allowed.values())

    def allowed_services(
        self, subsystem_id: str, client_id: str, conf: gc.GlobalConf
    ) -> list[ServiceEntry]:
        return [
            s
            for s in self.services_of(subsystem_id)
            if any(self.subject_matches(r, s, client_id, conf) for r in s.rights)
        ]


async def _load(session: AsyncSession, version: int) -> Snapshot:
    snapshot = Snapshot(version=version)
    clients = {c.id: c for c in (await session.execute(select(LocalClient))).scalars()}
    for client in clients.values():
        snapshot.clients[client.subsystem_id] = ClientEntry(
            client.subsystem_id,
            client.body_logging,
            push_url=client.push_url,
            push_secret=client.push_secret,
        )
    for cert in (await session.execute(select(ClientCertificate))).scalars():
        owner = clients.get(cert.client_id)
        if owner is not None:
            holder = snapshot.clients[owner.subsystem_id]
            holder.certificate_fingerprints.add(cert.fingerprint)
            holder.certificate_pems.append(cert.pem)
    services: dict[int, ServiceEntry] = {}
    for row in (await session.execute(select(Service))).scalars():
        owner = clients.get(row.client_id)
        if owner is None:
            continue
        entry = ServiceEntry(
            id=row.id,
            subsystem_id=owner.subsystem_id,
            code=row.code,
            backend_url=row.backend_url,
            description=row.description,
            timeout=row.timeout,
            max_body_bytes=row.max_body_bytes,
            personal_data=row.personal_data,
            openapi=row.openapi,
            backend_secret=row.backend_secret,
            topic=row.topic,
            ordered=row.ordered,
        )
        services[row.id] = entry
        snapshot.services[(owner.subsystem_id, row.code)] = entry
    for endpoint in (await session.execute(select(Endpoint).order_by(Endpoint.id))).scalars():
        if endpoint.service_id in services:
            endpoint_entry = EndpointEntry(
                endpoint.id,
                endpoint.method,
                endpoint.path,
                endpoint.operation_id,
                endpoint.summary,
                path_pattern(endpoint.path),
            )
            services[endpoint.service_id].endpoints.append(endpoint_entry)
            services[endpoint.service_id].endpoint_by_id[endpoint.id] = endpoint_entry
    for right in (await session.execute(select(AccessRight))).scalars():
        if right.service_id in services:
            services[right.service_id].rights.append(
                RightEntry(
                    right.endpoint_id,
                    right.subject_kind,
                    right.subject,
                    Requirement(
                        right.required_ecosystem,
                        right.required_kind,
                        cast(Level, right.required_level or "basic"),
                    )
                    if right.required_ecosystem and right.required_kind
                    else None,
                )
            )
    groups = {g.id: g for g in (await session.execute(select(LocalGroup))).scalars()}
    for group in groups.values():
        owner = clients.get(group.client_id)
        if owner is not None:
            snapshot.local_groups[(owner.subsystem_id, group.code)] = set()
    for member in (await session.execute(select(LocalGroupMember))).scalars():
        parent = groups.get(member.group_id)
        if parent is None or parent.client_id not in clients:
            continue
        snapshot.local_groups[(clients[parent.client_id].subsystem_id, parent.code)].add(
            member.member_id
        )
    return snapshot
