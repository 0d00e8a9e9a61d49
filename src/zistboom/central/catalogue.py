"""The service catalogue: what each provider publishes about its services, signed by the
provider member's signing key, and the public, read-only view of it.

A publication is a compact JWS whose protected header carries the signer's certificate (``x5c``)
and whose payload describes one service. Central accepts it only if the certificate is a signing
certificate of the instance CA, not revoked, issued to the member that owns the service, and the
signature and its ``iat`` hold. The catalogue is not part of the global configuration.

Accreditation (ZB-STD-007): a service of a kind that a scheme regulates in its ecosystem is
listed only while its provider holds a current accreditation covering it (directly or by
recognition, by the scope rule), as the current trust list says; a publication without one is
refused, naming the missing accreditation. A listing whose accreditation lapses later (suspended,
revoked, withdrawn, expired, or its recognition ended) stays in the table, untouched: it is marked
lapsed for operators and the member itself and hidden from the public view, both worked out at
read time from the trust list (no job), until it is accredited again.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography import x509 as cx509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central import audit
from zistboom.central.ca import InstanceKeys, revoked_serials, serial_hex
from zistboom.central.models import CatalogueService, Certificate, Ecosystem, Member, find_member
from zistboom.central.operators import Operator
from zistboom.central.settings import CentralSettings
from zistboom.core import identifiers
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto import jws, x509
from zistboom.core.database import utc_now
from zistboom.core.errors import (
    AuthenticationError,
    CryptoError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.core.persian import normalize_text
from zistboom.core.trustlist import NATIONAL

MAX_STATEMENT_BYTES: Final = 8 * 1024 * 1024
MAX_CLOCK_SKEW_SECONDS: Final = 300
MAX_DESCRIPTION: Final = 10_000
MAX_ENDPOINTS: Final = 5_000
METHODS: Final = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "*")


# Who sees listings whose accreditation has lapsed (besides the provider member itself).
LAPSED_VIEWERS: Final = ("admin", "registrar", "auditor")


@dataclass(frozen=True, slots=True)
class ListingAccreditation:
    """The accreditation a listing of a regulated kind needs, and whether it holds now."""

    resource: str
    scheme: str
    current: bool
    message: str
    """The trust list's answer: the accreditation it rests on, or what is missing."""


@dataclass(frozen=True, slots=True)
class Listing:
    """A catalogue entry as a reader sees it: the row, its member, its accreditation."""

    service: CatalogueService
    member: Member
    accreditation: ListingAccreditation | None
    """``None`` when the service's kind is not regulated in its ecosystem."""

    @property
    def lapsed(self) -> bool:
        return self.accreditation is not None and not self.accreditation.current


def listing_accreditation(
    trust_index: TrustIndex,
    service_id: str,
    ecosystem: str | None,
    service_kind: str | None,
    at: datetime,
) -> ListingAccreditation | None:
    """Whether the service needs an accreditation at ``at`` and holds one covering it.

    A service of no single ecosystem (kept as ``None``) is of the national platforms: a scheme of
    ecosystem ``national`` regulates it as any ecosystem's scheme regulates that ecosystem's.
    """
    if service_kind is None:
        return None
    ecosystem = ecosystem or NATIONAL
    scheme = trust_index.regulated(ecosystem, service_kind, at)
    if scheme is None:
        return None
    action = "provide" if "provide" in scheme.actions else scheme.actions[0]
    answer = trust_index.authorize(
        service_id, Requirement(ecosystem, service_kind, "basic", action), at
    )
    return ListingAccreditation(scheme.resource, scheme.code, answer.holds, answer.message)


def _may_see_lapsed(viewer: Operator | None, member_id: int) -> bool:
    if viewer is None:
        return False
    return viewer.role in LAPSED_VIEWERS or (
        viewer.role == "member" and viewer.member_id == member_id
    )


def _signer(statement: str) -> cx509.Certificate:
    """The certificate the statement says it is signed with (not yet trusted)."""
    try:
        header = jws.unverified_header(statement)
        chain = header["x5c"]
        if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
            raise TypeError("x5c must be a list of base64 strings")
        return x509.load_certificate(base64.b64decode(chain[0], validate=True))
    except (KeyError, TypeError, binascii.Error, ValidationError, CryptoError) as error:
        raise ValidationError(
            "a catalogue publication must be a compact JWS whose protected header carries x5c "
            "with the provider member's signing certificate",
            field="statement",
        ) from error


async def _verified_payload(
    session: AsyncSession, instance_keys: InstanceKeys, statement: str, now: datetime
) -> tuple[cx509.Certificate, dict[str, Any]]:
    """Check the signer's certificate and the signature; return the certificate and payload."""
    cert = _signer(statement)
    row = await session.get(Certificate, serial_hex(cert.serial_number))
    if row is None or row.fingerprint != x509.certificate_fingerprint(cert):
        raise AuthenticationError(
            "the signing certificate was not issued by this instance CA", field="statement"
        )
    try:
        x509.verify_certificate(
            cert,
            instance_keys.ca_cert,
            at=now,
            revoked_serials=await revoked_serials(session),
            kind="sign",
        )
    except CryptoError as error:
        raise CryptoError(
            f"the signing certificate is refused: {error.detail}", field="statement"
        ) from error
    try:
        _, payload_bytes = jws.verify_jws(statement, cert.public_key())  # type: ignore[arg-type]
    except CryptoError as error:
        raise CryptoError(
            f"the publication's signature is refused: {error.detail}", field="statement"
        ) from error
    try:
        payload = orjson.loads(payload_bytes)
    except orjson.JSONDecodeError as error:
        raise ValidationError("the publication's payload is not JSON", field="statement") from error
    if not isinstance(payload, dict):
        raise ValidationError("the publication's payload must be a JSON object", field="statement")
    return cert, payload


def _text(payload: dict[str, Any], key: str, *, limit: int, required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{key} is missing", field=key)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string", field=key)
    if len(value) > limit:
        raise ValidationError(f"{key} is longer than {limit} characters", field=key)
    return value


def _endpoints(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ENDPOINTS:
        raise ValidationError(
            f"endpoints must be a list of at most {MAX_ENDPOINTS} objects", field="endpoints"
        )
    endpoints: list[dict[str, Any]] = []
    for position, item in enumerate(value):
        field = f"endpoints.{position}"
        if not isinstance(item, dict):
            raise ValidationError("each endpoint must be an object", field=field)
        method, path = item.get("method"), item.get("path")
        if method not in METHODS:
            raise ValidationError(f"unknown method {method!r}", field=f"{field}.method")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 1000:
            raise ValidationError(
                "path must be a string of at most 1000 characters starting with '/'",
                field=f"{field}.path",
            )
        entry: dict[str, Any] = {"method": method, "path": path}
        for key, limit in (("operation_id", 255), ("summary", 2000)):
            text = item.get(key)
            if text is not None and (not isinstance(text, str) or len(text) > limit):
                raise ValidationError(
                    f"{key} must be a string of at most {limit} characters", field=f"{field}.{key}"
                )
            entry[key] = text
        endpoints.append(entry)
    return endpoints


def _search_text(service_id: str, service_kind: str | None, description: str) -> str:
    return normalize_text(" ".join((service_id, service_kind or "", description))).lower()


async def publish(
    session: AsyncSession,
    settings: CentralSettings,
    instance_keys: InstanceKeys,
    *,
    statement: str,
    trust_index: TrustIndex,
) -> Listing:
    """Verify a signed publication and add or replace its service in the catalogue; a service
    of a regulated kind only if its provider holds a current accreditation covering it."""
    now = utc_now()
    cert, payload = await _verified_payload(session, instance_keys, statement, now)

    raw_id = payload.get("service_id")
    if not isinstance(raw_id, str):
        raise ValidationError("service_id must be a string", field="service_id")
    service_id = identifiers.ServiceId.parse(raw_id, field="service_id")
    owner = str(service_id.member)
    signer = x509.certificate_identity(cert)
    if signer != owner:
        raise PermissionDeniedError(
            f"the publication is signed by {signer or 'an unnamed holder'}, but service "
            f"{service_id} belongs to member {owner}: only its own member may publish it",
            field="service_id",
        )
    if service_id.member.instance != settings.instance:
        raise ValidationError(
            f"service {service_id} is not of instance {settings.instance}", field="service_id"
        )
    member: Member | None = await find_member(
        session,
        service_id.member.instance,
        service_id.member.member_class,
        service_id.member.member_code,
    )
    if member is None:
        raise ValidationError(f"member {owner} is not registered", field="service_id")
    subsystem_code = service_id.subsystem.subsystem_code
    if not any(s.code == subsystem_code for s in member.subsystems):
        raise ValidationError(
            f"member {owner} has no subsystem {subsystem_code!r} at central; register it first",
            field="service_id",
        )

    iat = payload.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise ValidationError("iat (issued at, in Unix seconds) is missing", field="iat")
    skew = abs(now.timestamp() - float(iat))
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise ValidationError(
            f"the publication was signed {skew:.0f} seconds away from central's clock; "
            f"at most {MAX_CLOCK_SKEW_SECONDS} are accepted (sign it again, check the clock)",
            field="iat",
        )

    ecosystem = _text(payload, "ecosystem", limit=64)
    known = ecosystem in (None, NATIONAL) or await session.get(Ecosystem, ecosystem) is not None
    if not known:
        raise ValidationError(
            f"there is no ecosystem {ecosystem!r}; see GET /api/v1/ecosystems for the keys, "
            f"or use {NATIONAL!r} for a base registry that belongs to no single ecosystem",
            field="ecosystem",
        )
    service_kind = _text(payload, "service_kind", limit=64)
    if service_kind is not None:
        identifiers.validate_code(service_kind, field="service_kind", label="service kind")
    description = _text(payload, "description", limit=MAX_DESCRIPTION) or ""
    personal_data = payload.get("personal_data", False)
    if not isinstance(personal_data, bool):
        raise ValidationError("personal_data must be true or false", field="personal_data")
    openapi = payload.get("openapi")
    if openapi is not None and (
        not isinstance(openapi, dict)
        or not isinstance(openapi.get("openapi"), str)
        or not openapi["openapi"].startswith("3.")
    ):
        raise ValidationError("openapi must be an OpenAPI 3.x document or null", field="openapi")
    endpoints = _endpoints(payload.get("endpoints"))

    text_id = str(service_id)
    accreditation = listing_accreditation(trust_index, text_id, ecosystem, service_kind, now)
    if accreditation is not None and not accreditation.current:
        raise PermissionDeniedError(
            f"{service_kind} in {ecosystem} is regulated by scheme {accreditation.scheme}: "
            f"central lists such a service only while its provider holds a current "
            f"accreditation covering it, and {accreditation.message}",
            field="service_kind",
            required_accreditation=accreditation.resource,
        )
    row = (
        await session.execute(
            select(CatalogueService).where(CatalogueService.service_id == text_id)
        )
    ).scalar_one_or_none()
    if row is None:
        row = CatalogueService(service_id=text_id, published_at=now)
        session.add(row)
    row.member_id = member.id
    row.subsystem_code = subsystem_code
    row.service_code = service_id.service_code
    row.description = description
    # National services belong to no single ecosystem: no ecosystem row, kept as NULL.
    row.ecosystem = None if ecosystem == NATIONAL else ecosystem
    row.service_kind = service_kind
    row.personal_data = personal_data
    row.openapi = openapi
    row.endpoints = endpoints
    row.search_text = _search_text(text_id, service_kind, description)
    row.statement = statement
    row.signer_serial = serial_hex(cert.serial_number)
    row.updated_at = now
    await session.flush()
    await audit.append(
        session,
        actor=f"cert:{row.signer_serial}",
        action="catalogue.publish",
        target=text_id,
        details={
            "ecosystem": ecosystem,
            "service_kind": service_kind,
            "personal_data": personal_data,
            "endpoints": len(endpoints),
            "iat": datetime.fromtimestamp(float(iat), tz=UTC).isoformat(),
            **({"accreditation": accreditation.message} if accreditation else {}),
        },
    )
    return Listing(row, member, accreditation)


def _listing(
    trust_index: TrustIndex, row: CatalogueService, member: Member, at: datetime
) -> Listing:
    accreditation = listing_accreditation(
        trust_index, row.service_id, row.ecosystem, row.service_kind, at
    )
    return Listing(row, member, accreditation)


async def list_entries(
    session: AsyncSession,
    *,
    trust_index: TrustIndex,
    viewer: Operator | None = None,
    ecosystem: str | None = None,
    member_id: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Listing]:
    """The catalogue, filtered by ecosystem, provider member and free text (any case, Persian
    letters and digits normalised). Lapsed listings only for ``viewer`` an operator (or the
    provider member's own key); ``limit`` and ``offset`` count the listings shown."""
    query = (
        select(CatalogueService, Member)
        .join(Member, CatalogueService.member_id == Member.id)
        .order_by(CatalogueService.service_id)
    )
    if ecosystem:
        if ecosystem == NATIONAL:
            query = query.where(CatalogueService.ecosystem.is_(None))
        else:
            query = query.where(CatalogueService.ecosystem == ecosystem)
    if member_id:
        parsed = identifiers.MemberId.parse(member_id, field="member_id")
        query = query.where(
            Member.instance == parsed.instance,
            Member.member_class == parsed.member_class,
            Member.code == parsed.member_code,
        )
    if q:
        words = normalize_text(q).lower().split()
        for word in words[:10]:
            query = query.where(CatalogueService.search_text.contains(word, autoescape=True))
    limit, offset = min(max(limit, 1), 1000), max(offset, 0)
    now = utc_now()
    if viewer is not None and viewer.role in LAPSED_VIEWERS:
        rows = (await session.execute(query.limit(limit).offset(offset))).all()
        return [_listing(trust_index, row, member, now) for row, member in rows]
    # Hidden listings are known only once read: read on in batches until the page is full.
    shown: list[Listing] = []
    skipped, position, batch = 0, 0, max(limit, 100)
    while True:
        rows = (await session.execute(query.limit(batch).offset(position))).all()
        for row, member in rows:
            listing = _listing(trust_index, row, member, now)
            if listing.lapsed and not _may_see_lapsed(viewer, row.member_id):
                continue
            if skipped < offset:
                skipped += 1
                continue
            shown.append(listing)
            if len(shown) == limit:
                return shown
        if len(rows) < batch:
            return shown
        position += batch


async def get_entry(
    session: AsyncSession,
    service_id: str,
    *,
    trust_index: TrustIndex,
    viewer: Operator | None = None,
) -> Listing:
    text_id = str(identifiers.ServiceId.parse(service_id, field="service_id"))
    found = (
        await session.execute(
            select(CatalogueService, Member)
            .join(Member, CatalogueService.member_id == Member.id)
            .where(CatalogueService.service_id == text_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"the catalogue has no service {text_id}", field="service_id")
    entry, member = found
    listing = _listing(trust_index, entry, member, utc_now())
    if listing.lapsed and not _may_see_lapsed(viewer, entry.member_id):
        assert listing.accreditation is not None
        raise NotFoundError(
            f"{text_id} is not listed while its accreditation has lapsed: "
            f"{listing.accreditation.message}",
            field="service_id",
        )
    return listing
