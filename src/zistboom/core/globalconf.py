"""The global configuration: the contract between central and every gateway (ZB-STD-003).

Central publishes one JSON document, signed as a compact JWS by its configuration key, that
lists the instance's members, subsystems, gateways, CA and TSA certificates, revoked
certificates (serials, and since ZB-STD-003 1.2 the time of each revocation), global groups and
ecosystems. This module owns:

- the document model (:class:`GlobalConf`) and its canonical JSON;
- the anchor (:class:`Anchor`), the small piece of configuration a gateway trusts: the
  document's URL, the instance and the SHA-256 fingerprint of the configuration key;
- signing (:func:`sign_global_conf`, used by central) and verification
  (:func:`verify_global_conf`, used by everybody);
- :class:`GlobalConfClient`, which fetches the document with conditional GETs, refuses tampered,
  untrusted, older and expired documents, and keeps the last good copy on disk.

Identifiers are kept as strings here and only their shape is checked, so that the contract
depends on nothing but pydantic, the crypto helpers and httpx; the rules of each identifier live
with the component that issues them. Nothing here imports ``central``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Literal, Self

import httpx
import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.crypto.jws import (
    jwk_to_public_key,
    public_key_to_jwk,
    sign_jws,
    unverified_header,
    verify_jws,
)
from zistboom.core.crypto.keys import PrivateKey, PublicKey, public_key_fingerprint
from zistboom.core.errors import ConfigurationError, CryptoError, GlobalConfError, ValidationError

__all__ = [
    "FORMAT",
    "JWS_TYPE",
    "Anchor",
    "CentralInfo",
    "EcosystemEntry",
    "GatewayEntry",
    "GlobalConf",
    "GlobalConfClient",
    "GlobalConfRefused",
    "GlobalGroupEntry",
    "MemberEntry",
    "RefusalReason",
    "RevokedCertificate",
    "TrustListPointer",
    "anchor_for",
    "sign_global_conf",
    "utc_now",
    "verify_global_conf",
]

FORMAT = "zistboom-global-conf/1"
JWS_TYPE = "zb-global-conf+jws"
CACHE_FILE = "global-conf.jws"
ETAG_FILE = "global-conf.etag"

# Fields that change on every re-issue and therefore do not count as content.
_ISSUE_FIELDS = frozenset({"version", "generated_at", "expires_at"})

RefusalReason = Literal[
    "malformed",  # not a JWS, wrong typ, or a payload that is not a valid document
    "untrusted-key",  # signed by a key other than the anchor's
    "tampered",  # the signature does not verify
    "wrong-instance",  # a document of another instance
    "older-version",  # a lower version than one already accepted (rollback)
    "version-conflict",  # the accepted version number with different content
    "expired",  # expires_at has passed
    "missing",  # no document yet
    "unreachable",  # central could not be reached and no valid copy is held
]


class GlobalConfRefused(GlobalConfError):
    """A global configuration that cannot be used, with a machine-readable :attr:`reason`.

    The reason also appears in ``extra`` and hence in the problem-details document; a gateway
    maps ``"expired"`` (and ``"missing"``) to the X-Road error ``OutdatedGlobalConf``.
    """

    def __init__(self, detail: str, *, reason: RefusalReason, field: str | None = None) -> None:
        super().__init__(detail, field=field, reason=reason)
        self.reason: RefusalReason = reason


def utc_now() -> datetime:
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UTCDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
IdPart = Annotated[str, Field(pattern=r"^[^/\s]+$")]
MemberId = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+$")]
GatewayId = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$")]
MemberOrSubsystemId = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+(/[^/\s]+)?$")]
Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Canonical lowercase hex without leading zeros, so that a serial has exactly one spelling.
SerialHex = Annotated[str, Field(pattern=r"^(0|[1-9a-f][0-9a-f]*)$")]
_PEM_CERTIFICATE = (
    r"^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$"
)
CertificatePem = Annotated[str, Field(pattern=_PEM_CERTIFICATE)]
WebUrl = Annotated[str, Field(pattern=r"^https?://[^\s/?#]+[^\s]*$")]
Address = Annotated[str, Field(pattern=r"^[^\s/]+:[0-9]{1,5}$")]


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CentralInfo(_Contract):
    """Where central's public services are."""

    url: WebUrl
    tsa_url: WebUrl


class MemberEntry(_Contract):
    id: MemberId
    member_class: IdPart
    code: IdPart
    name_fa: str = Field(min_length=1)
    name_en: str
    kind: Literal["agency", "public-body", "company", "ecosystem-operator"]
    subsystems: list[IdPart]


class GatewayEntry(_Contract):
    id: GatewayId
    member: MemberId
    address: Address
    """``host:port`` of the gateway's peer (gateway-to-gateway) port."""
    auth_certificates: list[Fingerprint]
    """SHA-256 fingerprints (lowercase hex) of the DER authentication certificates it may use."""
    hosted_members: list[MemberId] = Field(default_factory=list)
    """Other members whose subsystems this gateway also serves (multi-tenant hosting); left
    out of the document when empty, so documents without hosting keep their exact bytes."""

    @model_serializer(mode="wrap")
    def _without_empty_hosting(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not data.get("hosted_members"):
            data.pop("hosted_members", None)
        return data


class GlobalGroupEntry(_Contract):
    code: IdPart
    description: str
    members: list[MemberOrSubsystemId]


class EcosystemEntry(_Contract):
    key: IdPart
    name_fa: str = Field(min_length=1)
    name_en: str
    phase: int = Field(ge=0)
    deadline: date | None
    operator: MemberId | None


class TrustListPointer(_Contract):
    """Where the current trust list (ZB-STD-007) is and how to know it: a gateway fetches it
    when ``sequence`` is newer than the list it holds, and takes it only if it is signed by the
    key ``key_fingerprint`` names and its SHA-256 is ``digest``."""

    url: WebUrl
    sequence: int = Field(ge=1)
    digest: Fingerprint
    """Lowercase hex SHA-256 of the signed list (the compact JWS, ASCII) as served."""
    key_fingerprint: Fingerprint
    """Lowercase hex SHA-256 of the trust-list key's DER SubjectPublicKeyInfo."""


class RevokedCertificate(_Contract):
    """A revoked certificate of the instance CA and when it was revoked (ZB-STD-003 §5.11): a
    signature timestamped before that moment was made while the certificate was good."""

    serial: SerialHex
    revoked_at: UTCDateTime


def _duplicates(values: list[str]) -> list[str]:
    counts = Counter(values)
    return sorted(value for value, count in counts.items() if count > 1)


class GlobalConf(_Contract):
    """The global configuration document (payload of the signed JWS)."""

    format: Literal["zistboom-global-conf/1"]
    instance: IdPart
    version: int = Field(ge=1)
    generated_at: UTCDateTime
    expires_at: UTCDateTime
    central: CentralInfo
    members: list[MemberEntry]
    gateways: list[GatewayEntry]
    ca_certificates: list[CertificatePem]
    tsa_certificates: list[CertificatePem]
    revoked_serials: list[SerialHex]
    revoked_certificates: list[RevokedCertificate]
    """The same certificates as ``revoked_serials``, each with its revocation time."""
    global_groups: list[GlobalGroupEntry]
    ecosystems: list[EcosystemEntry]
    trust_list: TrustListPointer | None

    _members: dict[str, MemberEntry] = PrivateAttr(default_factory=dict)
    _revoked: frozenset[str] = PrivateAttr(default_factory=frozenset)
    _revoked_at: dict[str, datetime] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Cross-references are checked so that a faulty document fails at central, where it is
        # built with this same model, instead of confusing every gateway.
        problems: list[str] = []
        if self.expires_at <= self.generated_at:
            problems.append("expires_at must be later than generated_at")
        member_ids = [member.id for member in self.members]
        if duplicates := _duplicates(member_ids):
            problems.append(f"members: duplicate ids {', '.join(duplicates)}")
        subsystems = {member.id: set(member.subsystems) for member in self.members}
        for index, member in enumerate(self.members):
            expected = f"{self.instance}/{member.member_class}/{member.code}"
            if member.id != expected:
                problems.append(f"members[{index}].id: {member.id} should be {expected}")
            if duplicates := _duplicates(member.subsystems):
                problems.append(f"members[{index}].subsystems: duplicates {', '.join(duplicates)}")
        timed = [entry.serial for entry in self.revoked_certificates]
        if duplicates := _duplicates(timed):
            problems.append(f"revoked_certificates: duplicate serials {', '.join(duplicates)}")
        if missing := sorted(set(self.revoked_serials) - set(timed)):
            problems.append(
                f"revoked_certificates: no revocation time for {', '.join(missing)} of "
                "revoked_serials"
            )
        if extra := sorted(set(timed) - set(self.revoked_serials)):
            problems.append(f"revoked_certificates: {', '.join(extra)} not in revoked_serials")
        if duplicates := _duplicates([gateway.id for gateway in self.gateways]):
            problems.append(f"gateways: duplicate ids {', '.join(duplicates)}")
        for index, gateway in enumerate(self.gateways):
            if gateway.member not in subsystems:
                problems.append(f"gateways[{index}].member: {gateway.member} is not a member")
            elif gateway.id.rpartition("/")[0] != gateway.member:
                problems.append(f"gateways[{index}].id: {gateway.id} is not under {gateway.member}")
            for hosted in gateway.hosted_members:
                if hosted not in subsystems or hosted == gateway.member:
                    problems.append(
                        f"gateways[{index}].hosted_members: {hosted} is not another listed member"
                    )
        if duplicates := _duplicates([group.code for group in self.global_groups]):
            problems.append(f"global_groups: duplicate codes {', '.join(duplicates)}")
        for index, group in enumerate(self.global_groups):
            for entry in group.members:
                parts = entry.split("/")
                owner = "/".join(parts[:3])
                listed = owner in subsystems and (len(parts) == 3 or parts[3] in subsystems[owner])
                if not listed:
                    problems.append(
                        f"global_groups[{index}].members: {entry} is not a listed member or "
                        "subsystem"
                    )
        if duplicates := _duplicates([ecosystem.key for ecosystem in self.ecosystems]):
            problems.append(f"ecosystems: duplicate keys {', '.join(duplicates)}")
        for index, ecosystem in enumerate(self.ecosystems):
            if ecosystem.operator is not None and ecosystem.operator not in subsystems:
                problems.append(
                    f"ecosystems[{index}].operator: {ecosystem.operator} is not a member"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._members = {member.id: member for member in self.members}
        self._revoked = frozenset(self.revoked_serials)
        self._revoked_at = {entry.serial: entry.revoked_at for entry in self.revoked_certificates}

    def canonical_json(self) -> bytes:
        """The canonical JSON (ZB-STD-003 §5): UTF-8, keys sorted, no spaces, times in UTC ``Z``."""
        return _canonical(self.model_dump(mode="python"))

    def content_digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON without ``version``, ``generated_at`` and
        ``expires_at``: central raises the version exactly when this changes."""
        content = self.model_dump(mode="python", exclude=set(_ISSUE_FIELDS))
        return hashlib.sha256(_canonical(content)).hexdigest()

    def member(self, member_id: str) -> MemberEntry | None:
        """The member with id ``INSTANCE/CLASS/CODE``, or ``None`` if it is not listed."""
        return self._members.get(member_id)

    def gateway_for_member(self, member_id: str) -> list[GatewayEntry]:
        """The gateways that serve ``member_id``: its own, then those hosting it (empty if none)."""
        own = [gateway for gateway in self.gateways if gateway.member == member_id]
        return own + [g for g in self.gateways if member_id in g.hosted_members]

    def is_revoked(self, serial: int) -> bool:
        """Whether the certificate serial number ``serial`` is on the revocation list."""
        return format(serial, "x") in self._revoked

    def revoked_at(self, serial: int) -> datetime | None:
        """When the certificate with serial number ``serial`` was revoked; ``None`` if it is not.

        A signature whose trusted time (a timestamp's ``genTime``) is earlier than this was made
        while the certificate was good (ZB-STD-002 §7 item 5).
        """
        return self._revoked_at.get(format(serial, "x"))


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


class Anchor(_Contract):
    """What a gateway trusts: the configuration key (by fingerprint), its URL and instance."""

    instance: IdPart
    url: WebUrl
    """The URL a gateway GETs the signed document from (central's ``/global-conf``)."""
    key_fingerprint: Fingerprint
    """Lowercase hex SHA-256 of the configuration key's DER SubjectPublicKeyInfo."""

    def to_json(self) -> str:
        return orjson.dumps(self.model_dump(), option=orjson.OPT_INDENT_2).decode() + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Anchor:
        """Parse an anchor; :class:`ConfigurationError` naming the field if it is not valid."""
        try:
            return cls.model_validate_json(text, strict=True)
        except PydanticValidationError as err:
            field, message = _first_error(err)
            raise ConfigurationError(f"invalid anchor: {message}", field=field) from None


def anchor_for(key: PublicKey, *, instance: str, url: str) -> Anchor:
    """The anchor that trusts ``key`` as the configuration key of ``instance``."""
    return Anchor(instance=instance, url=url, key_fingerprint=public_key_fingerprint(key))


def _first_error(err: PydanticValidationError) -> tuple[str | None, str]:
    first = err.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"] if field is None else f"{field}: {first['msg']}"
    if len(err.errors()) > 1:
        message += f" (and {len(err.errors()) - 1} more problems)"
    return field, message


def sign_global_conf(conf: GlobalConf, key: PrivateKey) -> str:
    """Sign ``conf`` with the configuration key; compact JWS over its canonical JSON."""
    public = key.public_key()
    headers = {
        "typ": JWS_TYPE,
        "jwk": public_key_to_jwk(public),
        "kid": public_key_fingerprint(public),
    }
    return sign_jws(conf.canonical_json(), key, headers=headers)


def _authentic_document(token: str, anchor: Anchor) -> GlobalConf:
    """Steps 1-6 of ZB-STD-003 §8: a document signed by the anchor's key, of its instance."""
    try:
        header = unverified_header(token)
    except CryptoError as err:
        raise GlobalConfRefused(err.detail, reason="malformed") from None
    if header.get("typ") != JWS_TYPE:
        raise GlobalConfRefused(
            f"JWS typ is {header.get('typ')!r}, expected {JWS_TYPE!r}", reason="malformed"
        )
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise GlobalConfRefused("JWS header carries no 'jwk' object", reason="malformed")
    try:
        signer = jwk_to_public_key(jwk)
    except CryptoError as err:
        raise GlobalConfRefused(f"JWS header jwk: {err.detail}", reason="malformed") from None
    fingerprint = public_key_fingerprint(signer)
    if fingerprint != anchor.key_fingerprint:
        raise GlobalConfRefused(
            f"global configuration signed by key {fingerprint}, the anchor trusts "
            f"{anchor.key_fingerprint}",
            reason="untrusted-key",
        )
    if header.get("kid", fingerprint) != fingerprint:
        raise GlobalConfRefused(
            f"JWS kid {header.get('kid')!r} does not name the key in jwk ({fingerprint})",
            reason="malformed",
        )
    try:
        _, payload = verify_jws(token, signer)
    except CryptoError as err:
        raise GlobalConfRefused(
            f"global configuration refused: {err.detail}", reason="tampered"
        ) from None
    try:
        conf = GlobalConf.model_validate_json(payload, strict=True)
    except PydanticValidationError as err:
        field, message = _first_error(err)
        raise GlobalConfRefused(
            f"global configuration payload is invalid: {message}", reason="malformed", field=field
        ) from None
    if conf.instance != anchor.instance:
        raise GlobalConfRefused(
            f"global configuration is for instance {conf.instance}, the anchor is for "
            f"{anchor.instance}",
            reason="wrong-instance",
        )
    return conf


def _check_fresh(conf: GlobalConf, now: datetime) -> None:
    if now.tzinfo is None:
        raise ValidationError("now must be a timezone-aware datetime", field="now")
    if conf.expires_at <= now:
        raise GlobalConfRefused(
            f"global configuration version {conf.version} expired at "
            f"{_iso(conf.expires_at)} (now {_iso(now)})",
            reason="expired",
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def verify_global_conf(
    token: str, anchor: Anchor, *, now: datetime, min_version: int | None = None
) -> GlobalConf:
    """Verify a signed global configuration against ``anchor`` (ZB-STD-003 §8).

    :class:`GlobalConfRefused` with the reason ``malformed``, ``untrusted-key``, ``tampered``,
    ``wrong-instance``, ``older-version`` (below ``min_version``) or ``expired``.
    """
    conf = _authentic_document(token, anchor)
    if min_version is not None and conf.version < min_version:
        raise GlobalConfRefused(
            f"global configuration version {conf.version} is older than version {min_version}, "
            "which was already accepted",
            reason="older-version",
        )
    _check_fresh(conf, now)
    return conf


class GlobalConfClient:
    """A gateway's view of the global configuration: fetched, verified, cached on disk.

    Call :meth:`load_cached` once on start and :meth:`refresh` every minute; read
    :attr:`current` whenever the configuration is needed. A refused or unreachable document
    never replaces the current one.
    """

    def __init__(
        self,
        anchor: Anchor,
        cache_dir: Path,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.anchor = anchor
        self.cache_dir = Path(cache_dir)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=10.0)
        self._clock = clock
        self._current: GlobalConf | None = None
        self._etag: str | None = None
        self._last_error: GlobalConfError | None = None
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def last_error(self) -> GlobalConfError | None:
        """Why the last refresh did not bring a new document; ``None`` after a good one."""
        return self._last_error

    @property
    def current(self) -> GlobalConf:
        """The verified, unexpired document; :class:`GlobalConfRefused` (``missing`` or
        ``expired``) otherwise."""
        conf = self._current
        if conf is None:
            detail = "no global configuration has been obtained yet"
            if self._last_error is not None:
                detail += f" (last error: {self._last_error.detail})"
            raise GlobalConfRefused(detail, reason="missing")
        try:
            _check_fresh(conf, self._clock())
        except GlobalConfRefused as err:
            if self._last_error is not None:
                err.detail += f"; it could not be refreshed: {self._last_error.detail}"
                err.args = (err.detail,)
            raise
        return conf

    def load_cached(self) -> GlobalConf | None:
        """Load the last good copy from disk and verify it against the anchor.

        Returns the document if it is still valid. An expired copy is kept (so that an older
        version is still refused later and :attr:`current` says ``expired``) but ``None`` is
        returned. A copy that does not verify raises :class:`GlobalConfRefused`.
        """
        try:
            token = (self.cache_dir / CACHE_FILE).read_text("ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            raise GlobalConfRefused(
                f"cached global configuration {self.cache_dir / CACHE_FILE} is unreadable: {err}",
                reason="malformed",
            ) from None
        try:
            conf = _authentic_document(token, self.anchor)
        except GlobalConfRefused as err:
            err.detail = f"cached copy {self.cache_dir / CACHE_FILE}: {err.detail}"
            err.args = (err.detail,)
            raise
        etag_path = self.cache_dir / ETAG_FILE
        self._current = conf
        self._etag = etag_path.read_text("ascii").strip() if etag_path.exists() else None
        if conf.expires_at <= self._clock():
            return None
        return conf

    async def refresh(self) -> GlobalConf:
        """Fetch the document from the anchor's URL and make it current if it verifies.

        Refusals raise :class:`GlobalConfRefused` and leave :attr:`current` unchanged. If
        central cannot be reached the current document is returned while it is valid;
        ``unreachable`` is raised only when there is none.
        """
        async with self._lock:
            request_headers = {"Accept": "application/jose"}
            if self._etag is not None and self._current is not None:
                request_headers["If-None-Match"] = self._etag
            try:
                response = await self._http.get(self.anchor.url, headers=request_headers)
            except httpx.HTTPError as err:
                return self._unreachable(f"{type(err).__name__}: {err}")
            if response.status_code == 304:
                self._last_error = None
                return self.current
            if response.status_code != 200:
                return self._unreachable(f"central answered HTTP {response.status_code}")
            token = response.text.strip()
            etag = response.headers.get("ETag")
            try:
                conf = self._accept(token)
            except GlobalConfError as err:
                self._last_error = err
                raise
            self._last_error = None
            if conf is self._current:
                return conf
            await asyncio.to_thread(self._store, token, etag)
            self._current = conf
            self._etag = etag
            return conf

    def _accept(self, token: str) -> GlobalConf:
        held = self._current
        conf = verify_global_conf(
            token,
            self.anchor,
            now=self._clock(),
            min_version=held.version if held is not None else None,
        )
        if held is not None and conf.version == held.version:
            if conf.content_digest() == held.content_digest():
                # A re-issue: take it only if it extends the validity (a replayed older
                # re-issue is harmless but must not shorten it).
                return conf if conf.expires_at > held.expires_at else held
            raise GlobalConfRefused(
                f"global configuration version {conf.version} arrived with content that "
                f"differs from the accepted version {conf.version}; central must raise the "
                "version whenever the content changes",
                reason="version-conflict",
            )
        return conf

    def _unreachable(self, cause: str) -> GlobalConf:
        error = GlobalConfRefused(
            f"cannot fetch the global configuration from {self.anchor.url}: {cause}",
            reason="unreachable",
        )
        self._last_error = error
        try:
            return self.current
        except GlobalConfRefused as held:
            error.detail += f"; and no valid copy is held ({held.detail})"
            error.args = (error.detail,)
            raise error from None

    def _store(self, token: str, etag: str | None) -> None:
        """Write the token (then the ETag) atomically: a crash leaves the old or the new file."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.cache_dir / CACHE_FILE, token + "\n")
        if etag is None:
            (self.cache_dir / ETAG_FILE).unlink(missing_ok=True)
        else:
            _write_atomically(self.cache_dir / ETAG_FILE, etag + "\n")


def _write_atomically(path: Path, text: str) -> None:
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
