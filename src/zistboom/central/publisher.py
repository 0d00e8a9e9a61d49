"""Publishing the global configuration: build the document from central's tables, give it a new
version when (and only when) its content changed, sign it with the configuration key, and keep
the signed copy that ``GET /global-conf`` serves. The document names the current trust list
(ZB-STD-007) as the callable it is given says; a new list is therefore a new version.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.central.ca import InstanceKeys
from zistboom.central.models import (
    Certificate,
    Ecosystem,
    GlobalConfVersion,
    GlobalGroup,
    HostedMember,
    Member,
)
from zistboom.central.settings import CentralSettings
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys, x509
from zistboom.core.database import transaction, utc_now


def _whole_second(moment: datetime) -> datetime:
    # ZB-STD-003 §2: whole seconds. Rounding down moves a revocation earlier, never later, so
    # no signature made after it can count as made before it.
    return moment.replace(microsecond=0)


async def build_content(
    session: AsyncSession,
    settings: CentralSettings,
    instance_keys: InstanceKeys,
    now: datetime,
    trust_list: gc.TrustListPointer | None = None,
) -> gc.GlobalConf:
    """The document as central's tables describe it now, naming ``trust_list``, with version 1
    (the version is assigned afterwards)."""
    members = list(
        (await session.execute(select(Member).order_by(Member.member_class, Member.code))).scalars()
    )
    certificates = list(
        (await session.execute(select(Certificate).order_by(Certificate.serial))).scalars()
    )
    revoked = sorted((c for c in certificates if c.revoked_at is not None), key=lambda c: c.serial)
    live_auth: dict[int, list[str]] = {}
    for cert in certificates:
        if (
            cert.kind == "auth"
            and cert.gateway_id is not None
            and cert.revoked_at is None
            and cert.not_after > now
        ):
            live_auth.setdefault(cert.gateway_id, []).append(cert.fingerprint)
    groups = list((await session.execute(select(GlobalGroup).order_by(GlobalGroup.code))).scalars())
    ecosystems = list(
        (await session.execute(select(Ecosystem).order_by(Ecosystem.position))).scalars()
    )
    by_id = {m.id: m for m in members}
    hosting: dict[int, list[str]] = {}
    for row in (await session.execute(select(HostedMember).order_by(HostedMember.id))).scalars():
        if row.member_id in by_id:
            hosting.setdefault(row.gateway_id, []).append(by_id[row.member_id].identifier)
    return gc.GlobalConf(
        format="zistboom-global-conf/1",
        instance=settings.instance,
        version=1,
        generated_at=now,
        expires_at=now + timedelta(seconds=settings.conf_validity_seconds),
        central=gc.CentralInfo(url=settings.base_url, tsa_url=f"{settings.base_url}/tsa"),
        members=[
            gc.MemberEntry(
                id=m.identifier,
                member_class=m.member_class,
                code=m.code,
                name_fa=m.name_fa,
                name_en=m.name_en,
                kind=m.kind,
                subsystems=[s.code for s in m.subsystems],
            )
            for m in members
        ],
        gateways=[
            gc.GatewayEntry(
                id=f"{m.identifier}/{g.code}",
                member=m.identifier,
                address=g.address,
                auth_certificates=sorted(live_auth.get(g.id, [])),
                hosted_members=sorted(hosting.get(g.id, [])),
            )
            for m in members
            for g in m.gateways
        ],
        ca_certificates=[x509.certificate_pem(instance_keys.ca_cert)],
        tsa_certificates=[x509.certificate_pem(instance_keys.tsa_cert)],
        revoked_serials=[c.serial for c in revoked],
        revoked_certificates=[
            gc.RevokedCertificate(serial=c.serial, revoked_at=_whole_second(c.revoked_at))
            for c in revoked
            if c.revoked_at is not None
        ],
        global_groups=[
            gc.GlobalGroupEntry(
                code=g.code, description=g.description, members=[e.client_id for e in g.members]
            )
            for g in groups
        ],
        ecosystems=[
            gc.EcosystemEntry(
                key=e.key,
                name_fa=e.name_fa,
                name_en=e.name_en,
                phase=e.phase,
                deadline=e.deadline,
                operator=by_id[e.operator_member_id].identifier
                if e.operator_member_id in by_id
                else None,
            )
            for e in ecosystems
        ],
        trust_list=trust_list,
    )


async def assign_version(session: AsyncSession, content_digest: str, now: datetime) -> int:
    """The current version if the content is unchanged, else the next one (recorded)."""
    last = (
        await session.execute(
            select(GlobalConfVersion).order_by(GlobalConfVersion.version.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if last is not None and last.content_digest == content_digest:
        return last.version
    version = 1 if last is None else last.version + 1
    session.add(GlobalConfVersion(version=version, content_digest=content_digest, created_at=now))
    await session.flush()
    return version


@dataclass(frozen=True, slots=True)
class SignedGlobalConf:
    document: gc.GlobalConf
    token: str

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(self.token.encode()).hexdigest()[:16]
        return f'"{self.document.version}-{digest}"'


def no_trust_list() -> gc.TrustListPointer | None:
    return None


class Publisher:
    """Holds the current signed global configuration and re-issues it."""

    def __init__(
        self,
        settings: CentralSettings,
        instance_keys: InstanceKeys,
        sessions: async_sessionmaker[AsyncSession],
        trust_list: Callable[[], gc.TrustListPointer | None] = no_trust_list,
        on_issue: Callable[[gc.GlobalConf], None] | None = None,
    ) -> None:
        """``trust_list`` gives the pointer to put in the document; ``on_issue`` is told of each
        document as it becomes the one served (in the same step, with nothing in between)."""
        self._settings = settings
        self._keys = instance_keys
        self._sessions = sessions
        self._trust_list = trust_list
        self._on_issue = on_issue
        self._lock = asyncio.Lock()
        self._current: SignedGlobalConf | None = None

    @property
    def anchor(self) -> gc.Anchor:
        return gc.anchor_for(
            self._keys.conf_key.public_key(),
            instance=self._settings.instance,
            url=f"{self._settings.base_url}/global-conf",
        )

    async def refresh(self) -> SignedGlobalConf:
        """Re-issue now: fresh expiry, and a new version if the content changed."""
        async with self._lock:
            now = utc_now()
            async with transaction(self._sessions) as session:
                content = await build_content(
                    session, self._settings, self._keys, now, self._trust_list()
                )
                version = await assign_version(session, content.content_digest(), now)
            document = content.model_copy(update={"version": version})
            token = gc.sign_global_conf(document, self._keys.conf_key)
            self._current = SignedGlobalConf(document, token)
            if self._on_issue is not None:
                self._on_issue(document)
            return self._current

    async def current(self) -> SignedGlobalConf:
        """The signed document, re-issued first if it is older than the refresh interval."""
        current = self._current
        if current is None or utc_now() - current.document.generated_at >= timedelta(
            seconds=self._settings.conf_refresh_seconds
        ):
            return await self.refresh()
        return current

    async def run(self) -> None:
        """Re-issue every refresh interval until cancelled."""
        while True:
            await asyncio.sleep(self._settings.conf_refresh_seconds)
            await self.refresh()


def configuration_key_fingerprint(instance_keys: InstanceKeys) -> str:
    return keys.public_key_fingerprint(instance_keys.conf_key.public_key())
