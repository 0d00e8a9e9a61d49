"""Bitstring Status List v1.0: the bits (:class:`StatusBits`), the list credential an issuer signs
(:func:`status_list_credential`, :func:`parse_status_list`) and how an issuer hands out indexes
(:class:`IndexPermutation`).

The encoding is the W3C one: index 0 is the left-most bit (the most significant bit of the
first byte), the bitstring is GZIP-compressed, base64url-encoded without padding and prefixed
with the multibase code ``u``; a list holds at least 131,072 entries so that one document's bit
hides among many (herd privacy). A list credential is a VC 2.0 signed as a VC-JWT by the issuer's
document-signing key (``vc.sign_credential``) and valid for two days from its ``validFrom``, so a
verifier can tell a stale list.
"""

from __future__ import annotations

import gzip
import math
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Self

from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.crypto.keys import b64url_decode, b64url_encode
from zistboom.core.errors import DocumentError, ValidationError
from zistboom.documents import profile
from zistboom.documents.vc import CredentialTime, ProfileModel, VcJwt, parse_vc_jwt, reason_of

__all__ = [
    "MAX_SIZE",
    "MIN_SIZE",
    "VALIDITY",
    "IndexPermutation",
    "ParsedStatusList",
    "StatusBits",
    "StatusListClaims",
    "parse_status_list",
    "status_list_credential",
]

MIN_SIZE: Final = 131_072
"""The W3C minimum (16 KiB of bits)."""
MAX_SIZE: Final = 16 * 1024 * 1024 * 8
"""The most entries a decoded list may have (16 MiB of bits): a bound against GZIP bombs."""
VALIDITY: Final = timedelta(days=2)
MULTIBASE_BASE64URL: Final = "u"
_SCAN_BELOW: Final = 4096


class StatusBits:
    """A bitstring of ``size`` status entries (a multiple of 8, at least :data:`MIN_SIZE`)."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = MIN_SIZE) -> None:
        if size % 8 or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValidationError(
                f"a status list has a multiple of 8 entries from {MIN_SIZE} to {MAX_SIZE}, "
                f"not {size}",
                field="size",
            )
        self._bits = bytearray(size // 8)

    @property
    def size(self) -> int:
        return len(self._bits) * 8

    def _place(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise DocumentError(f"status index {index} is outside the list (0 to {self.size - 1})")
        byte, bit = divmod(index, 8)
        return byte, 0x80 >> bit

    def get(self, index: int) -> bool:
        byte, mask = self._place(index)
        return bool(self._bits[byte] & mask)

    def set(self, index: int, value: bool) -> None:
        byte, mask = self._place(index)
        if value:
            self._bits[byte] |= mask
        else:
            self._bits[byte] &= ~mask & 0xFF

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """The ``encodedList``: ``u`` + base64url (no padding) of the GZIP of the bitstring."""
        # mtime=0: the same bits always give the same text.
        return MULTIBASE_BASE64URL + b64url_encode(gzip.compress(self.to_bytes(), mtime=0))

    @classmethod
    def decode(cls, text: str) -> Self:
        """Read an ``encodedList``; :class:`DocumentError` naming what is wrong with it."""
        if not text.startswith(MULTIBASE_BASE64URL):
            raise DocumentError("encodedList must start with the multibase prefix 'u' (base64url)")
        try:
            compressed = b64url_decode(text[1:])
        except ValidationError:
            raise DocumentError("encodedList is not base64url after its 'u' prefix") from None
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
        try:
            raw = inflater.decompress(compressed, MAX_SIZE // 8 + 1)
        except zlib.error as exc:
            raise DocumentError(f"encodedList is not GZIP data: {exc}") from None
        if len(raw) > MAX_SIZE // 8 or inflater.unconsumed_tail:
            raise DocumentError(f"encodedList holds more than {MAX_SIZE} entries")
        if not inflater.eof or inflater.unused_data:
            raise DocumentError("encodedList is not exactly one complete GZIP member")
        if len(raw) * 8 < MIN_SIZE:
            raise DocumentError(
                f"encodedList holds {len(raw) * 8} entries, fewer than the minimum {MIN_SIZE}"
            )
        bits = cls(len(raw) * 8)
        bits._bits[:] = raw
        return bits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StatusBits) and self._bits == other._bits

    def __hash__(self) -> int:
        return hash(bytes(self._bits))

    def __repr__(self) -> str:
        return f"StatusBits(size={self.size}, set={sum(b.bit_count() for b in self._bits)})"


@dataclass(frozen=True, slots=True)
class IndexPermutation:
    """The ``counter``-th document of a list gets index ``(a·counter + b) mod size``.

    With ``a`` odd, coprime with ``size`` and neither 1 nor ``size - 1``, counters 0 to
    ``size - 1`` give every index exactly once and neighbours in time do not sit side by side in
    the list, so an index tells nothing about when, or next to whom, a document was issued. The
    issuer keeps ``a`` and ``b`` per list and the counter durably.
    """

    size: int
    a: int
    b: int

    def __post_init__(self) -> None:
        if self.size < 5:
            raise ValidationError("a permutation needs at least 5 entries", field="size")
        if not self.valid_multiplier(self.a, self.size):
            raise ValidationError(
                f"multiplier {self.a} must be odd, coprime with {self.size}, and neither 1 nor "
                f"{self.size - 1}",
                field="a",
            )
        if not 0 <= self.b < self.size:
            raise ValidationError(f"addend {self.b} must be in 0..{self.size - 1}", field="b")

    @staticmethod
    def valid_multiplier(a: int, size: int) -> bool:
        return 1 < a < size - 1 and a % 2 == 1 and math.gcd(a, size) == 1

    @classmethod
    def random(cls, size: int) -> IndexPermutation:
        """A fresh permutation of ``size`` entries (multiplier and addend from ``secrets``)."""
        if size < 5:
            raise ValidationError("a permutation needs at least 5 entries", field="size")
        if size < _SCAN_BELOW:
            candidates = [a for a in range(3, size - 1, 2) if cls.valid_multiplier(a, size)]
            if not candidates:
                raise ValidationError(f"no multiplier fits a list of {size}", field="size")
            return cls(size, secrets.choice(candidates), secrets.randbelow(size))
        # Large sizes: over a quarter of the odd numbers below any size up to MAX_SIZE are
        # coprime with it, so a few draws suffice.
        while True:
            a = 2 * secrets.randbelow(size // 2) + 1
            if cls.valid_multiplier(a, size):
                return cls(size, a, secrets.randbelow(size))

    def index(self, counter: int) -> int:
        """The index of the ``counter``-th document (0-based); the list is full at ``size``."""
        if not 0 <= counter < self.size:
            raise ValidationError(
                f"counter {counter} is outside the list's {self.size} entries", field="counter"
            )
        return (self.a * counter + self.b) % self.size

    def counter(self, index: int) -> int:
        """The inverse: which counter value gave ``index``."""
        if not 0 <= index < self.size:
            raise ValidationError(f"index {index} is outside the list", field="index")
        return ((index - self.b) * pow(self.a, -1, self.size)) % self.size


# --- the list credential ---------------------------------------------------------------------


class _ListSubject(ProfileModel):
    id: str
    type: Literal["BitstringStatusList"]
    statusPurpose: profile.StatusPurpose
    encodedList: str = Field(min_length=2)


class StatusListClaims(ProfileModel):
    """The claims of a ``BitstringStatusListCredential`` of this profile."""

    context: list[str] = Field(alias="@context")
    id: str
    type: list[str]
    issuer: str
    validFrom: CredentialTime
    validUntil: CredentialTime
    credentialSubject: _ListSubject

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.context != [profile.CREDENTIALS_V2_CONTEXT]:
            raise ValueError(f"@context must be [{profile.CREDENTIALS_V2_CONTEXT!r}]")
        if self.type != [profile.VERIFIABLE_CREDENTIAL, profile.STATUS_LIST_CREDENTIAL]:
            raise ValueError(
                f"type must be {[profile.VERIFIABLE_CREDENTIAL, profile.STATUS_LIST_CREDENTIAL]}"
            )
        if not self.id.endswith("/" + self.credentialSubject.statusPurpose):
            raise ValueError("the list's URL must end with its statusPurpose")
        if self.credentialSubject.id != self.id + "#list":
            raise ValueError("credentialSubject.id must be the list's URL + '#list'")
        if self.validUntil <= self.validFrom:
            raise ValueError("validUntil must be after validFrom")
        return self


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: profile.StatusPurpose,
    bits: StatusBits,
    valid_from: datetime,
) -> dict[str, Any]:
    """The claims of the list at ``list_url`` (``…/status-lists/<list id>/<purpose>``), issued
    by ``issuer`` (its ``urn:zb:member:`` URN) and valid for :data:`VALIDITY` from
    ``valid_from``; sign them with ``vc.sign_credential``."""
    profile.member_of_issuer(issuer)
    claims: dict[str, Any] = {
        "@context": [profile.CREDENTIALS_V2_CONTEXT],
        "id": list_url,
        "type": [profile.VERIFIABLE_CREDENTIAL, profile.STATUS_LIST_CREDENTIAL],
        "issuer": issuer,
        "validFrom": profile.rfc3339(valid_from),
        "validUntil": profile.rfc3339(valid_from + VALIDITY),
        "credentialSubject": {
            "id": list_url + "#list",
            "type": profile.STATUS_LIST,
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }
    _list_model(claims)
    return claims


def _list_model(claims: Any) -> StatusListClaims:
    try:
        return StatusListClaims.model_validate(claims)
    except PydanticValidationError as err:
        raise DocumentError(
            f"not a status list credential of ZB-STD-008: {reason_of(err)}"
        ) from None


@dataclass(frozen=True, slots=True)
class ParsedStatusList(VcJwt):
    """A status list credential, read and decoded, its signature not yet checked."""

    list_url: str
    issuer_member: str
    purpose: profile.StatusPurpose
    bits: StatusBits
    valid_from: datetime
    valid_until: datetime


def parse_status_list(token: str) -> ParsedStatusList:
    """Read a status list VC-JWT and decode its bits (``vc.verify_signature`` checks it)."""
    envelope = parse_vc_jwt(token)
    claims = _list_model(envelope.claims)
    return ParsedStatusList(
        token=envelope.token,
        header=envelope.header,
        claims=envelope.claims,
        signing_input=envelope.signing_input,
        signature=envelope.signature,
        chain=envelope.chain,
        list_url=claims.id,
        issuer_member=profile.member_of_issuer(claims.issuer),
        purpose=claims.credentialSubject.statusPurpose,
        bits=StatusBits.decode(claims.credentialSubject.encodedList),
        valid_from=claims.validFrom,
        valid_until=claims.validUntil,
    )
