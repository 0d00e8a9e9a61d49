"""The trust list: the contract between the accreditation system and everybody who enforces it
(ZB-STD-007).

Central's accreditation system publishes one JSON document, signed as a compact JWS by its
trust-list key, in the manner of an ETSI TS 119 612 trusted list: a sequence number, an issue
time, a next-update time, and every scheme, accreditation, recognition and assessor
authorisation with its full status history, so that a question about a past moment is answered
from the list itself. The global configuration (ZB-STD-003) points at the current list: its URL,
sequence number, digest and the fingerprint of the key that signs it. This module owns:

- the document model (:class:`TrustList`) and its canonical JSON;
- signing (:func:`sign_trust_list`, used by central) and verification (:func:`verify_trust_list`);
- :class:`TrustListClient`, which fetches the list a pointer names, refuses a changed byte, a
  key other than the one named, an older sequence number and a list past its next update, and
  keeps the last good copy on disk.

Answering "is E accredited for R at T?" over a verified list is ``core/accreditation.py``.
Nothing here imports ``central`` or ``accreditation``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, Self

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.crypto.jws import (
    jwk_to_public_key,
    public_key_to_jwk,
    sign_jws,
    unverified_header,
    verify_jws,
)
from zistboom.core.crypto.keys import PrivateKey, public_key_fingerprint
from zistboom.core.errors import CryptoError, TrustListError, ValidationError
from zistboom.core.globalconf import (
    IdPart,
    MemberId,
    TrustListPointer,
    UTCDateTime,
    _first_error,
    _write_atomically,
    utc_now,
)

__all__ = [
    "FORMAT",
    "JWS_TYPE",
    "LEVELS",
    "NATIONAL",
    "AccreditationEntry",
    "AssessorEntry",
    "Level",
    "RecognitionEntry",
    "SchemeEntry",
    "StatusChange",
    "TrustList",
    "TrustListClient",
    "TrustListRefused",
    "sign_statement",
    "sign_trust_list",
    "token_digest",
    "verify_trust_list",
]

FORMAT = "zistboom-trust-list/1"
JWS_TYPE = "zb-trust-list+jws"
CACHE_FILE = "trust-list.jws"

Level = Literal["basic", "substantial", "high"]
LEVELS: tuple[Level, ...] = ("basic", "substantial", "high")
"""Assurance levels, lowest first: a requirement of one level is met by it or a higher one."""

Action = Literal["provide", "issue"]
NATIONAL = "national"
"""The ecosystem of the national platforms themselves (ZB-STD-007 §5): schemes for what is of
national scope (documents of national scope, the base registries), not one of central's
ecosystems. In the trust list and in checks it is an ecosystem like any other."""
EntityId = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+(/[^/\s]+){0,2}$")]
"""A member ``INSTANCE/CLASS/CODE``, subsystem ``…/SUBSYSTEM`` or service ``…/SERVICE``."""
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

RefusalReason = Literal[
    "malformed",  # not a JWS, wrong typ, or a payload that is not a valid list
    "untrusted-key",  # signed by a key other than the one the global configuration names
    "tampered",  # the signature does not verify, or the digest is not the one named
    "wrong-instance",  # a list of another instance
    "older-sequence",  # a lower sequence number than one already accepted (rollback)
    "stale",  # next_update has passed
    "missing",  # no list yet
    "unreachable",  # the list could not be fetched and no valid copy is held
]


class TrustListRefused(TrustListError):
    """A trust list that cannot be used, with a machine-readable :attr:`reason`."""

    def __init__(self, detail: str, *, reason: RefusalReason, field: str | None = None) -> None:
        super().__init__(detail, field=field, reason=reason)
        self.reason: RefusalReason = reason


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatusChange(_Contract):
    """One entry of a status history; histories are in time order and never rewritten."""

    status: Literal[
        "active", "retired", "granted", "suspended", "reinstated", "revoked", "withdrawn"
    ]
    at: UTCDateTime
    reason: str = ""


def _in_order(history: list[StatusChange]) -> list[StatusChange]:
    if any(later.at < earlier.at for earlier, later in itertools.pairwise(history)):
        raise ValueError("history must be in time order")
    return history


class SchemeEntry(_Contract):
    """What a provider must meet to offer a kind of service in an ecosystem."""

    code: Code
    ecosystem: IdPart
    kind: Code
    """The kind of service it covers; while the scheme is active the kind is regulated there."""
    actions: list[Action] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    name_fa: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    history: list[StatusChange] = Field(min_length=1)
    """``active`` from the time it was published, ``retired`` when withdrawn from use."""

    @property
    def resource(self) -> str:
        return f"{self.ecosystem}:{self.kind}"


class AccreditationEntry(_Contract):
    """A member's (or one subsystem's, or one service's) accreditation under a scheme."""

    id: Code
    scheme: Code
    member: MemberId
    scope: Literal["member", "subsystem", "service"]
    subject: EntityId
    """What it covers: the member itself, one of its subsystems, or one service of it."""
    level: Level
    valid_from: UTCDateTime
    valid_until: UTCDateTime
    conditions: list[str] = Field(default_factory=list)
    history: list[StatusChange] = Field(min_length=1)
    """``granted`` first, then ``suspended`` / ``reinstated``, and ``revoked`` or ``withdrawn``.
    Expiry is not an event: an accreditation is expired from ``valid_until`` on."""


class RecognitionEntry(_Contract):
    """Ecosystem ``ecosystem`` counts accreditations under ``scheme`` (another ecosystem's) for
    ``kinds`` of its own, at the levels ``level_mapping`` gives; one version of a recognition."""

    id: Code
    version: int = Field(ge=1)
    ecosystem: IdPart
    scheme: Code
    kinds: list[Code] = Field(min_length=1)
    level_mapping: dict[Level, Level]
    valid_from: UTCDateTime
    valid_until: UTCDateTime
    history: list[StatusChange] = Field(min_length=1)
    """``granted``, then ``revoked`` (a new version revokes the one it replaces)."""
    statement: str
    """This version's terms as a compact JWS signed by the trust-list key."""


class AssessorEntry(_Contract):
    """A member whose assessor may decide applications under a scheme, directly or by delegation."""

    id: Code
    member: MemberId
    scheme: Code
    depth: int = Field(ge=0)
    """How many further times this authority may be delegated."""
    delegated_from: Code | None
    history: list[StatusChange] = Field(min_length=1)
    """``granted``, then ``withdrawn``."""


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


class TrustList(_Contract):
    """The trust list document (payload of the signed JWS)."""

    format: Literal["zistboom-trust-list/1"]
    instance: IdPart
    sequence: int = Field(ge=1)
    issued_at: UTCDateTime
    next_update: UTCDateTime
    schemes: list[SchemeEntry]
    accreditations: list[AccreditationEntry]
    recognitions: list[RecognitionEntry]
    assessors: list[AssessorEntry]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        if self.next_update <= self.issued_at:
            problems.append("next_update must be later than issued_at")
        schemes = {scheme.code for scheme in self.schemes}
        if duplicates := _duplicates([scheme.code for scheme in self.schemes]):
            problems.append(f"schemes: duplicate codes {', '.join(duplicates)}")
        if duplicates := _duplicates([scheme.resource for scheme in self.schemes]):
            problems.append(f"schemes: more than one scheme for {', '.join(duplicates)}")
        if duplicates := _duplicates([entry.id for entry in self.accreditations]):
            problems.append(f"accreditations: duplicate ids {', '.join(duplicates)}")
        versions = [f"{entry.id}@{entry.version}" for entry in self.recognitions]
        if duplicates := _duplicates(versions):
            problems.append(f"recognitions: duplicate versions {', '.join(duplicates)}")
        listed: list[tuple[str, list[AccreditationEntry | RecognitionEntry | AssessorEntry]]] = [
            ("accreditations", list(self.accreditations)),
            ("recognitions", list(self.recognitions)),
            ("assessors", list(self.assessors)),
        ]
        for label, entries in listed:
            for index, entry in enumerate(entries):
                if entry.scheme not in schemes:
                    problems.append(f"{label}[{index}].scheme: {entry.scheme} is not listed")
                try:
                    _in_order(entry.history)
                except ValueError as err:
                    problems.append(f"{label}[{index}].history: {err}")
        for index, accreditation in enumerate(self.accreditations):
            if accreditation.valid_until <= accreditation.valid_from:
                problems.append(f"accreditations[{index}]: valid_until must follow valid_from")
            parts = accreditation.subject.split("/")
            expected = {"member": 3, "subsystem": 4, "service": 5}[accreditation.scope]
            if len(parts) != expected or "/".join(parts[:3]) != accreditation.member:
                problems.append(
                    f"accreditations[{index}].subject: {accreditation.subject} is not a "
                    f"{accreditation.scope} of {accreditation.member}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def canonical_json(self) -> bytes:
        """UTF-8, keys sorted, no spaces, times in UTC ``Z`` (as the global configuration)."""
        return orjson.dumps(
            self.model_dump(mode="python"), option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z
        )


def token_digest(token: str) -> str:
    """SHA-256 (hex) of the signed list as published: the digest the global configuration names."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def sign_trust_list(trust_list: TrustList, key: PrivateKey) -> str:
    """Sign the list with the trust-list key; compact JWS over its canonical JSON."""
    return sign_statement(trust_list.canonical_json(), key, typ=JWS_TYPE)


def sign_statement(payload: bytes, key: PrivateKey, *, typ: str) -> str:
    """A compact JWS carrying its signer's public key (``jwk``) and fingerprint (``kid``)."""
    public = key.public_key()
    headers = {"typ": typ, "jwk": public_key_to_jwk(public), "kid": public_key_fingerprint(public)}
    return sign_jws(payload, key, headers=headers)


def verify_trust_list(
    token: str,
    *,
    key_fingerprint: str,
    instance: str,
    now: datetime,
    digest: str | None = None,
    min_sequence: int | None = None,
) -> TrustList:
    """Verify a signed trust list (ZB-STD-007 §9.1): signed by the key with ``key_fingerprint``,
    of ``instance``, with the ``digest`` the global configuration names (when given), not older
    than ``min_sequence``, and not past its next update at ``now``.

    :class:`TrustListRefused` with the reason ``malformed``, ``untrusted-key``, ``tampered``,
    ``wrong-instance``, ``older-sequence`` or ``stale``.
    """
    if now.tzinfo is None:
        raise ValidationError("now must be a timezone-aware datetime", field="now")
    trust_list = _authentic_list(token, key_fingerprint=key_fingerprint, instance=instance)
    if digest is not None and token_digest(token) != digest:
        raise TrustListRefused(
            f"trust list sequence {trust_list.sequence} has digest {token_digest(token)}, the "
            f"global configuration names {digest}: it is not the list published",
            reason="tampered",
        )
    if min_sequence is not None and trust_list.sequence < min_sequence:
        raise TrustListRefused(
            f"trust list sequence {trust_list.sequence} is older than sequence {min_sequence}, "
            "which was already accepted",
            reason="older-sequence",
        )
    _check_current(trust_list, now)
    return trust_list


def _authentic_list(token: str, *, key_fingerprint: str, instance: str) -> TrustList:
    try:
        header = unverified_header(token)
    except CryptoError as err:
        raise TrustListRefused(err.detail, reason="malformed") from None
    if header.get("typ") != JWS_TYPE:
        raise TrustListRefused(
            f"JWS typ is {header.get('typ')!r}, expected {JWS_TYPE!r}", reason="malformed"
        )
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise TrustListRefused("JWS header carries no 'jwk' object", reason="malformed")
    try:
        signer = jwk_to_public_key(jwk)
    except CryptoError as err:
        raise TrustListRefused(f"JWS header jwk: {err.detail}", reason="malformed") from None
    fingerprint = public_key_fingerprint(signer)
    if fingerprint != key_fingerprint:
        raise TrustListRefused(
            f"trust list signed by key {fingerprint}, the global configuration names "
            f"{key_fingerprint}",
            reason="untrusted-key",
        )
    if header.get("kid", fingerprint) != fingerprint:
        raise TrustListRefused(
            f"JWS kid {header.get('kid')!r} does not name the key in jwk ({fingerprint})",
            reason="malformed",
        )
    try:
        _, payload = verify_jws(token, signer)
    except CryptoError as err:
        raise TrustListRefused(f"trust list refused: {err.detail}", reason="tampered") from None
    try:
        trust_list = TrustList.model_validate_json(payload, strict=True)
    except PydanticValidationError as err:
        field, message = _first_error(err)
        raise TrustListRefused(
            f"trust list payload is invalid: {message}", reason="malformed", field=field
        ) from None
    if trust_list.instance != instance:
        raise TrustListRefused(
            f"trust list is for instance {trust_list.instance}, expected {instance}",
            reason="wrong-instance",
        )
    return trust_list


def _check_current(trust_list: TrustList, now: datetime) -> None:
    if trust_list.next_update <= now:
        raise TrustListRefused(
            f"trust list sequence {trust_list.sequence} was due to be replaced at "
            f"{_iso(trust_list.next_update)} (now {_iso(now)}) and no newer one has been obtained",
            reason="stale",
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class TrustListClient:
    """A gateway's (or any verifier's) copy of the trust list: fetched when the global
    configuration names a newer sequence, verified, cached on disk.

    Call :meth:`load_cached` once on start and :meth:`follow` with the global configuration's
    pointer after each configuration refresh; read :attr:`current` when a check needs the list.
    A refused or unreachable list never replaces the current one.
    """

    def __init__(
        self,
        instance: str,
        cache_dir: Path,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.instance = instance
        self.cache_dir = Path(cache_dir)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=10.0)
        self._clock = clock
        self._current: TrustList | None = None
        self._token: str | None = None
        self._last_error: TrustListError | None = None
        self._lock = asyncio.Lock()
        self.generation = 0
        """Raised each time a new list becomes current, so that indexes built on it can tell."""

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    @property
    def last_error(self) -> TrustListError | None:
        return self._last_error

    @property
    def held(self) -> TrustList | None:
        """The last good list, even if it is past its next update (``None`` if there is none)."""
        return self._current

    @property
    def current(self) -> TrustList:
        """The verified list while it is before its next update; :class:`TrustListRefused`
        (``missing`` or ``stale``) otherwise."""
        trust_list = self._current
        if trust_list is None:
            detail = "no trust list has been obtained yet"
            if self._last_error is not None:
                detail += f" (last error: {self._last_error.detail})"
            raise TrustListRefused(detail, reason="missing")
        try:
            _check_current(trust_list, self._clock())
        except TrustListRefused as err:
            if self._last_error is not None:
                err.detail += f"; it could not be refreshed: {self._last_error.detail}"
                err.args = (err.detail,)
            raise
        return trust_list

    def load_cached(self, key_fingerprint: str) -> TrustList | None:
        """Load the last good copy from disk, verified against ``key_fingerprint`` (its age is
        not checked here: :attr:`current` says whether it is still usable)."""
        try:
            token = (self.cache_dir / CACHE_FILE).read_text("ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            raise TrustListRefused(
                f"cached trust list {self.cache_dir / CACHE_FILE} is unreadable: {err}",
                reason="malformed",
            ) from None
        self._set(_authentic_list(token, key_fingerprint=key_fingerprint, instance=self.instance))
        self._token = token
        return self._current

    async def follow(self, pointer: TrustListPointer | None) -> TrustList | None:
        """Fetch the list ``pointer`` names if it is newer than the one held (or none is held).

        Refusals raise :class:`TrustListRefused` and leave :attr:`current` unchanged; an
        unreachable list is recorded in :attr:`last_error` and the held one returned.
        """
        if pointer is None:
            return self._current
        held = self._current
        if held is not None and held.sequence >= pointer.sequence:
            return held
        async with self._lock:
            held = self._current
            if held is not None and held.sequence >= pointer.sequence:
                return held
            try:
                response = await self._http.get(pointer.url, headers={"Accept": "application/jose"})
            except httpx.HTTPError as err:
                self._last_error = TrustListRefused(
                    f"cannot fetch the trust list from {pointer.url}: {type(err).__name__}: {err}",
                    reason="unreachable",
                )
                return held
            if response.status_code != 200:
                self._last_error = TrustListRefused(
                    f"cannot fetch the trust list from {pointer.url}: HTTP {response.status_code}",
                    reason="unreachable",
                )
                return held
            token = response.text.strip()
            try:
                trust_list = verify_trust_list(
                    token,
                    key_fingerprint=pointer.key_fingerprint,
                    instance=self.instance,
                    now=self._clock(),
                    digest=pointer.digest,
                    min_sequence=held.sequence if held is not None else None,
                )
                if trust_list.sequence != pointer.sequence:
                    raise TrustListRefused(
                        f"the global configuration names trust list sequence {pointer.sequence}, "
                        f"{pointer.url} served sequence {trust_list.sequence}",
                        reason="older-sequence"
                        if trust_list.sequence < pointer.sequence
                        else "tampered",
                    )
            except TrustListError as err:
                self._last_error = err
                raise
            await asyncio.to_thread(self._store, token)
            self._set(trust_list)
            self._token = token
            self._last_error = None
            return trust_list

    def _set(self, trust_list: TrustList) -> None:
        self._current = trust_list
        self.generation += 1

    def _store(self, token: str) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.cache_dir / CACHE_FILE, token + "\n")
