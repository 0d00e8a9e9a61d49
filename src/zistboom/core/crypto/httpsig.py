"""HTTP Message Signatures (RFC 9421) and the Content-Digest field (RFC 9530) for the
gateway-to-gateway exchange.

The client's gateway signs each request with the client member's key; the provider's gateway
verifies it before forwarding anything, then signs the response with the provider member's key and
binds it to the request (RFC 9421 §2.4, the ``req`` parameter), typically by covering the
request's own signature (``"signature";req;key="zb"``). This module owns

- the signature base (RFC 9421 §2.5) and every derived component the exchange uses:
  ``@method``, ``@target-uri``, ``@authority``, ``@scheme``, ``@request-target``, ``@path``,
  ``@query``, ``@query-param`` and ``@status``, plus header fields with the ``req``, ``key`` and
  ``sf`` parameters. ``bs`` (byte sequences) and ``tr`` (trailers) are refused: nothing in the
  exchange needs them, and component values are limited to visible ASCII, space and tab so that
  no value can smuggle a line into the signature base;
- the two algorithms of the instance PKI: ``ecdsa-p256-sha256`` (RFC 9421 §3.3.4; the signature
  is the raw 64-byte ``r || s``, not DER) and ``ed25519`` (§3.3.6). The algorithm follows from the
  key; a signature's ``alg`` parameter, when present, must name the algorithm of the key;
- the verification policy: required components, ``created`` within a clock skew, ``expires``,
  ``tag``, exact label selection; every failure is a :class:`~zistboom.core.errors.CryptoError`
  whose message names what was wrong;

Structured fields (RFC 8941) are parsed and serialised by a small strict implementation here
rather than by the http-sfv package: the exchange needs only Dictionaries, Inner Lists and
Items, this is the hottest code path of the gateway (two parses per message), a generic parser
would add a dependency for a few hundred lines, and the policy wants two refusals RFC 8941
itself does not make: duplicate dictionary keys and duplicate parameter keys, of a signature
(``;created=1;created=2``) or of a component (``"x";req;req``) alike (RFC 8941 keeps the last
one, which lets two parties read one field differently), and anything that is not ASCII. The
``sf`` component parameter is accepted only on a field whose structured type is known (and the
value is then its strict re-serialisation), ``name`` only on ``@query-param`` (ZB-STD-005 §9.1).
RFC 9651's Date and Display String types are not accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from zistboom.core.crypto.keys import (
    KeyType,
    PrivateKey,
    PublicKey,
    key_type_of,
    sign_bytes,
    verify_bytes,
)
from zistboom.core.errors import CryptoError

__all__ = [
    "ALGORITHM_OF_KEY_TYPE",
    "DigestAlgorithm",
    "RequestParts",
    "ResponseParts",
    "SignatureParams",
    "SignedFields",
    "StaleSignature",
    "VerifiedSignature",
    "content_digest",
    "request_signature_base",
    "sign_request",
    "sign_response",
    "verify_content_digest",
    "verify_request",
    "verify_response",
]

DigestAlgorithm = Literal["sha-256", "sha-512"]

ALGORITHM_OF_KEY_TYPE: dict[KeyType, str] = {
    "ec-p256": "ecdsa-p256-sha256",
    "ed25519": "ed25519",
}
_KEY_TYPE_OF_ALGORITHM: dict[str, KeyType] = {v: k for k, v in ALGORITHM_OF_KEY_TYPE.items()}

_DIGEST_FUNCTIONS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}

# Structured types of the fields the ``sf`` parameter may re-serialise (RFC 9421 §2.1.1 needs the
# type to be known in advance).
_STRUCTURED_FIELD_TYPES: dict[str, Literal["dictionary", "list", "item"]] = {
    "accept-signature": "dictionary",
    "cache-status": "list",
    "cdn-cache-control": "dictionary",
    "client-cert": "item",
    "client-cert-chain": "list",
    "content-digest": "dictionary",
    "priority": "dictionary",
    "proxy-status": "list",
    "repr-digest": "dictionary",
    "signature": "dictionary",
    "signature-input": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
}

_DEFAULT_PORTS = {"http": "80", "https": "443"}


# --------------------------------------------------------------------------------------------
# Messages and results


class StaleSignature(CryptoError):
    """A signature outside its freshness window (too old, from the future, or expired): the
    exchange treats it as a replay."""


@dataclass(frozen=True, slots=True)
class RequestParts:
    """What a signature over a request can cover.

    ``target_uri`` is absolute (``https://gw-b.example:8443/r1/...?x=1``, no fragment);
    ``headers`` maps lower-case field names to the field value, several field lines combined
    with ``", "`` as HTTP does. A case-insensitive mapping (such as a ``CIMultiDict``) works too.
    """

    method: str
    target_uri: str
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ResponseParts:
    """What a signature over a response can cover: its status and its header fields."""

    status: int
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """The parameters of one signature (RFC 9421 §2.3) and its covered components.

    ``components`` holds the component identifiers as serialised in ``Signature-Input``, for
    example ``'"@method"'`` or ``'"signature";req;key="zb"'``.
    """

    key_id: str
    created: int
    expires: int | None
    nonce: str | None
    alg: str | None
    tag: str | None
    components: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignedFields:
    """The header fields a signer adds, and the bytes it signed.

    ``signature_input`` and ``signature`` hold only this signature's member; to keep other
    signatures on the message, join the values with ``", "``.
    """

    signature_input: str
    signature: str
    signature_base: bytes


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that verified: its parameters, its raw value and the base it covers."""

    params: SignatureParams
    signature: bytes
    signature_base: bytes


# --------------------------------------------------------------------------------------------
# Structured fields (RFC 8941), the strict subset described in the module docstring


class _Token(str):
    """An sf-token, kept apart from an sf-string because both serialise differently."""

    __slots__ = ()


_BareItem = int | Decimal | str | bytes | bool
_Params = dict[str, _BareItem]
_Item = tuple[_BareItem, _Params]


@dataclass(slots=True)
class _InnerList:
    items: list[_Item]
    params: _Params


_Member = _Item | _InnerList

_DIGITS = frozenset("0123456789")
_ALPHA = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LCALPHA = frozenset("abcdefghijklmnopqrstuvwxyz")
_KEY_START = _LCALPHA | {"*"}
_KEY_CHARS = _LCALPHA | _DIGITS | frozenset("_-.*")
_TCHAR = _ALPHA | _DIGITS | frozenset("!#$%&'*+-.^_`|~")
_TOKEN_START = _ALPHA | {"*"}
_TOKEN_CHARS = _TCHAR | frozenset(":/")
_BASE64_CHARS = _ALPHA | _DIGITS | frozenset("+/=")
_FIELD_NAME_CHARS = _TCHAR - frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MAX_INTEGER = 999_999_999_999_999


class _StructureError(Exception):
    """Internal: a structured field that does not parse; turned into a CryptoError by callers."""


def _parse_key(text: str, i: int) -> tuple[str, int]:
    n = len(text)
    if i >= n or text[i] not in _KEY_START:
        raise _StructureError(f"a key must start with a lower-case letter or '*' at offset {i}")
    start = i
    i += 1
    while i < n and text[i] in _KEY_CHARS:
        i += 1
    return text[start:i], i


def _parse_number(text: str, i: int) -> tuple[int | Decimal, int]:
    n = len(text)
    start = i
    if text[i] == "-":
        i += 1
    digits_start = i
    if i >= n or text[i] not in _DIGITS:
        raise _StructureError(f"a number needs a digit at offset {i}")
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        if i - digits_start > 12:
            raise _StructureError("a decimal has more than 12 integer digits")
        i += 1
        fraction_start = i
        while i < n and text[i] in _DIGITS:
            i += 1
        if not 1 <= i - fraction_start <= 3:
            raise _StructureError("a decimal needs one to three fractional digits")
        return Decimal(text[start:i]), i
    if i - digits_start > 15:
        raise _StructureError("an integer has more than 15 digits")
    return int(text[start:i]), i


def _parse_string(text: str, i: int) -> tuple[str, int]:
    # text[i] is the opening quote; the common case has no escapes and is cut out in one go.
    end = text.find('"', i + 1)
    if end < 0:
        raise _StructureError("a string has no closing quote")
    chunk = text[i + 1 : end]
    if "\\" not in chunk:
        if not chunk.isprintable():
            raise _StructureError("a string holds a control character")
        return chunk, end + 1
    out: list[str] = []
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 1
            if i >= n or text[i] not in '"\\':
                raise _StructureError('a string has a backslash not followed by \\ or "')
            out.append(text[i])
        elif char == '"':
            return "".join(out), i + 1
        elif not " " <= char <= "~":
            raise _StructureError("a string holds a control character")
        else:
            out.append(char)
        i += 1
    raise _StructureError("a string has no closing quote")


def _parse_bytes(text: str, i: int) -> tuple[bytes, int]:
    end = text.find(":", i + 1)
    if end < 0:
        raise _StructureError("a byte sequence has no closing ':'")
    chunk = text[i + 1 : end]
    if not _BASE64_CHARS.issuperset(chunk):
        raise _StructureError("a byte sequence holds a character that is not base64")
    body = chunk.rstrip("=")
    if "=" in body or len(chunk) - len(body) > 2:
        raise _StructureError("a byte sequence has misplaced '=' padding")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True), end + 1
    except (binascii.Error, ValueError):
        raise _StructureError("a byte sequence is not valid base64") from None


def _parse_bare_item(text: str, i: int) -> tuple[_BareItem, int]:
    if i >= len(text):
        raise _StructureError("a value is missing at the end")
    char = text[i]
    if char == '"':
        return _parse_string(text, i)
    if char == "-" or char in _DIGITS:
        return _parse_number(text, i)
    if char in _TOKEN_START:
        start = i
        n = len(text)
        i += 1
        while i < n and text[i] in _TOKEN_CHARS:
            i += 1
        return _Token(text[start:i]), i
    if char == ":":
        return _parse_bytes(text, i)
    if char == "?":
        flag = text[i + 1 : i + 2]
        if flag == "1":
            return True, i + 2
        if flag == "0":
            return False, i + 2
        raise _StructureError("a boolean must be ?0 or ?1")
    raise _StructureError(f"unexpected character {char!r} at offset {i}")


def _parse_params(text: str, i: int) -> tuple[_Params, int]:
    params: _Params = {}
    n = len(text)
    while i < n and text[i] == ";":
        i += 1
        while i < n and text[i] == " ":
            i += 1
        key, i = _parse_key(text, i)
        if key in params:
            # RFC 8941 would keep the last value; a verifier and a signer could then disagree.
            raise _StructureError(f"parameter {key!r} repeats")
        value: _BareItem = True
        if i < n and text[i] == "=":
            value, i = _parse_bare_item(text, i + 1)
        params[key] = value
    return params, i


def _parse_item(text: str, i: int) -> tuple[_Item, int]:
    value, i = _parse_bare_item(text, i)
    params, i = _parse_params(text, i)
    return (value, params), i


def _parse_inner_list(text: str, i: int) -> tuple[_InnerList, int]:
    # text[i] is "("
    i += 1
    n = len(text)
    items: list[_Item] = []
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == ")":
            params, i = _parse_params(text, i + 1)
            return _InnerList(items, params), i
        item, i = _parse_item(text, i)
        items.append(item)
        if i < n and text[i] not in " )":
            raise _StructureError(f"inner list items must be separated by spaces (offset {i})")
    raise _StructureError("an inner list has no closing ')'")


def _parse_member(text: str, i: int) -> tuple[_Member, int]:
    if i < len(text) and text[i] == "(":
        return _parse_inner_list(text, i)
    return _parse_item(text, i)


def _check_ascii(text: str) -> None:
    if not text.isascii():
        raise _StructureError("a structured field must be ASCII")


def _skip_ows(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    return i


def _parse_dictionary(text: str) -> dict[str, _Member]:
    _check_ascii(text)
    members: dict[str, _Member] = {}
    n = len(text)
    i = _skip_ows(text, 0)
    while i < n:
        key, i = _parse_key(text, i)
        member: _Member
        if i < n and text[i] == "=":
            member, i = _parse_member(text, i + 1)
        else:
            params, i = _parse_params(text, i)
            member = (True, params)
        if key in members:
            raise _StructureError(f"the key {key!r} appears more than once")
        members[key] = member
        i = _skip_ows(text, i)
        if i >= n:
            break
        if text[i] != ",":
            raise _StructureError(f"expected ',' between members at offset {i}")
        i = _skip_ows(text, i + 1)
        if i >= n:
            raise _StructureError("a trailing ',' ends the field")
    return members


def _parse_list(text: str) -> list[_Member]:
    _check_ascii(text)
    members: list[_Member] = []
    n = len(text)
    i = _skip_ows(text, 0)
    while i < n:
        member, i = _parse_member(text, i)
        members.append(member)
        i = _skip_ows(text, i)
        if i >= n:
            break
        if text[i] != ",":
            raise _StructureError(f"expected ',' between members at offset {i}")
        i = _skip_ows(text, i + 1)
        if i >= n:
            raise _StructureError("a trailing ',' ends the field")
    return members


def _parse_single_item(text: str) -> _Item:
    _check_ascii(text)
    stripped = text.strip(" ")
    item, i = _parse_item(stripped, 0)
    if i != len(stripped):
        raise _StructureError(f"unexpected characters after the item at offset {i}")
    return item


def _serialize_string(value: str) -> str:
    if not (value.isascii() and value.isprintable()):
        raise _StructureError("a string may hold only visible ASCII characters and spaces")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_bare_item(value: _BareItem) -> str:
    if value is True:
        return "?1"
    if value is False:
        return "?0"
    if isinstance(value, _Token):
        if not value or value[0] not in _TOKEN_START or not _TOKEN_CHARS.issuperset(value):
            raise _StructureError(f"{value!r} is not a token")
        return str(value)
    if isinstance(value, str):
        return _serialize_string(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, int):
        if abs(value) > _MAX_INTEGER:
            raise _StructureError("an integer is out of range")
        return str(value)
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    if abs(rounded) >= 10**12:
        raise _StructureError("a decimal is out of range")
    text = f"{rounded:f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _serialize_params(params: _Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare_item(value)}"
        for key, value in params.items()
    )


def _serialize_member(member: _Member) -> str:
    if isinstance(member, _InnerList):
        inner = " ".join(_serialize_bare_item(v) + _serialize_params(p) for v, p in member.items)
        return f"({inner}){_serialize_params(member.params)}"
    return _serialize_bare_item(member[0]) + _serialize_params(member[1])


def _serialize_dictionary(members: Mapping[str, _Member]) -> str:
    parts = []
    for key, member in members.items():
        if not isinstance(member, _InnerList) and member[0] is True:
            parts.append(key + _serialize_params(member[1]))
        else:
            parts.append(f"{key}={_serialize_member(member)}")
    return ", ".join(parts)


def _serialize_structured_field(name: str, value: str) -> str:
    """Strict re-serialisation of a structured field whose type is known (the ``sf`` flag)."""
    kind = _STRUCTURED_FIELD_TYPES.get(name)
    if kind is None:
        raise CryptoError(
            f"the structured type of field {name!r} is not known, so it cannot be covered "
            "with the sf parameter; cover it without sf"
        )
    try:
        if kind == "dictionary":
            return _serialize_dictionary(_parse_dictionary(value))
        if kind == "list":
            return ", ".join(_serialize_member(m) for m in _parse_list(value))
        return _serialize_member(_parse_single_item(value))
    except _StructureError as exc:
        raise CryptoError(f"field {name!r} is not a valid structured {kind}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Content-Digest (RFC 9530)


def content_digest(body: bytes, algorithm: DigestAlgorithm = "sha-256") -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``, e.g. ``sha-256=:X48E9q...=:``."""
    digest = _DIGEST_FUNCTIONS.get(algorithm)
    if digest is None:
        raise CryptoError(
            f"digest algorithm {algorithm!r} is not supported; use sha-256 or sha-512"
        )
    return f"{algorithm}=:{base64.b64encode(digest(body)).decode('ascii')}:"


def verify_content_digest(value: str, body: bytes) -> None:
    """Check a ``Content-Digest`` field against ``body``.

    Every listed digest with an algorithm we know (sha-256, sha-512) must match; others (md5,
    crc32c, ...) are ignored, and a field listing none we know is refused.
    """
    try:
        members = _parse_dictionary(value)
    except _StructureError as exc:
        raise CryptoError(f"Content-Digest is not a valid structured dictionary: {exc}") from None
    checked = 0
    for algorithm, member in members.items():
        digest = _DIGEST_FUNCTIONS.get(algorithm)
        if digest is None:
            continue
        if isinstance(member, _InnerList) or not isinstance(member[0], bytes):
            raise CryptoError(f"the Content-Digest {algorithm} member is not a byte sequence")
        if not hmac.compare_digest(member[0], digest(body)):
            raise CryptoError(f"the {algorithm} Content-Digest does not match the message body")
        checked += 1
    if not checked:
        raise CryptoError("Content-Digest lists no digest algorithm we accept (sha-256, sha-512)")


# --------------------------------------------------------------------------------------------
# Component identifiers


_DERIVED_COMPONENTS = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
        "@status",
    }
)


@dataclass(frozen=True, slots=True)
class _Component:
    name: str
    params: _Params
    serialized: str  # canonical serialisation, as written in the signature base
    identity: tuple[str, frozenset[tuple[str, _BareItem]]]  # order-free, for comparisons
    req: bool
    key: str | None  # the Dictionary member to cover (``key`` parameter)
    sf: bool
    query_name: str | None  # the encoded name of ``@query-param``


def _make_component(name: str, params: _Params) -> _Component:
    """A checked component identifier; :class:`CryptoError` for anything we do not support."""
    try:
        label = _serialize_string(name)
    except _StructureError:
        raise CryptoError("a component name may hold only visible ASCII characters") from None
    if not name:
        raise CryptoError("a component identifier has an empty name")
    req = sf = False
    key: str | None = None
    query_name: str | None = None
    for param, value in params.items():
        if param == "req" and value is True:
            req = True
        elif param == "key" and isinstance(value, str) and not isinstance(value, _Token):
            key = value
        elif param == "sf" and value is True:
            sf = True
        elif param == "name" and isinstance(value, str) and not isinstance(value, _Token):
            query_name = value
        elif param == "bs":
            raise CryptoError(
                f"component {label}: the bs parameter is not supported; sign the field without bs"
            )
        elif param == "tr":
            raise CryptoError(f"component {label}: trailer fields (tr) are not supported")
        else:
            raise CryptoError(f"component {label} has an unsupported parameter {param!r}")
    if name.startswith("@"):
        if name == "@signature-params":
            raise CryptoError('"@signature-params" cannot be listed as a covered component')
        if name not in _DERIVED_COMPONENTS:
            raise CryptoError(f"unknown derived component {label}")
        if key is not None or sf:
            raise CryptoError(f"derived component {label} takes no key or sf parameter")
        if (name == "@query-param") != (query_name is not None):
            raise CryptoError(
                '"@query-param" needs a name parameter, and only it takes one'
                if name == "@query-param"
                else f"derived component {label} takes no name parameter"
            )
        if name == "@status" and req:
            raise CryptoError('"@status" describes a response and cannot carry req')
    else:
        if not _FIELD_NAME_CHARS.issuperset(name):
            raise CryptoError(
                f"component {label} is neither a derived component nor a lower-case field name"
            )
        if query_name is not None:
            raise CryptoError(f"field component {label} takes no name parameter")
        if key is not None and sf:
            raise CryptoError(f"component {label} cannot carry both key and sf")
    try:
        serialized = label + _serialize_params(params)
    except _StructureError as exc:
        raise CryptoError(f"component {label} has an invalid parameter: {exc}") from None
    return _Component(
        name=name,
        params=params,
        serialized=serialized,
        identity=(name, frozenset(params.items())),
        req=req,
        key=key,
        sf=sf,
        query_name=query_name,
    )


@lru_cache(maxsize=512)
def _cached_component(
    name: str, typed_params: tuple[tuple[str, type, _BareItem], ...]
) -> _Component:
    """:func:`_make_component` for identifiers parsed out of a Signature-Input field, which
    repeat from message to message."""
    return _make_component(name, {key: value for key, _, value in typed_params})


@lru_cache(maxsize=512)
def _component_from_text(text: str) -> _Component:
    """A component identifier as a caller writes it: ``'"@method"'``, ``'"x";req'``, or a bare
    name without parameters such as ``'@method'`` or ``'content-digest'``."""
    if not text.startswith('"'):
        if '"' in text or ";" in text:
            raise CryptoError(f"component identifier {text!r} must start with a quoted name")
        text = f'"{text}"'
    if not text.isascii():
        raise CryptoError(f"component identifier {text!r} must be ASCII")
    try:
        (value, params), end = _parse_item(text, 0)
    except _StructureError as exc:
        raise CryptoError(f"component identifier {text!r} is malformed: {exc}") from None
    if end != len(text) or not isinstance(value, str) or isinstance(value, _Token):
        raise CryptoError(f"component identifier {text!r} is malformed")
    return _make_component(value, params)


def _components_from_texts(texts: Sequence[str] | Collection[str]) -> Sequence[_Component]:
    if isinstance(texts, str):
        raise CryptoError("components must be a sequence of identifiers, not one string")
    return _required_components(tuple(texts))


@lru_cache(maxsize=256)
def _required_components(texts: tuple[str, ...]) -> tuple[_Component, ...]:
    """The components a caller names (to sign, or to require), in its order; a list of
    identifiers repeats from message to message."""
    return tuple(_component_from_text(text) for text in texts)


# --------------------------------------------------------------------------------------------
# Component values


@dataclass(frozen=True, slots=True)
class _TargetUri:
    uri: str
    scheme: str
    authority: str
    path: str
    query: str | None  # without "?"; None when there is no "?" at all


@lru_cache(maxsize=256)
def _parse_target_uri(uri: str) -> _TargetUri:
    if not uri.isascii():
        raise CryptoError(f"target URI {uri!r} must be ASCII; percent-encode other characters")
    colon = uri.find("://")
    scheme = uri[:colon].lower() if colon > 0 else ""
    if (
        not scheme
        or scheme[0] not in _ALPHA
        or not (_ALPHA | _DIGITS | set("+-.")).issuperset(scheme)
    ):
        raise CryptoError(f"target URI {uri!r} is not absolute (scheme://authority/path)")
    if "#" in uri:
        raise CryptoError(f"target URI {uri!r} has a fragment, which a request never sends")
    rest = uri[colon + 3 :]
    end = len(rest)
    for stop in "/?":
        found = rest.find(stop)
        if 0 <= found < end:
            end = found
    authority, rest = rest[:end], rest[end:]
    if not authority or "@" in authority:
        raise CryptoError(f"target URI {uri!r} needs a host and must not carry user information")
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise CryptoError(f"target URI {uri!r} has an unterminated IPv6 address")
        host, port = authority[: close + 1], authority[close + 1 :]
        if port and not port.startswith(":"):
            raise CryptoError(f"target URI {uri!r} has a malformed authority")
        port = port[1:]
    else:
        host, _, port = authority.partition(":")
    if not host or (port and not port.isdigit()) or not port.isascii():
        raise CryptoError(f"target URI {uri!r} has a malformed host or port")
    host = host.lower()
    if port and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path, question, query = rest.partition("?")
    return _TargetUri(
        uri=uri,
        scheme=scheme,
        authority=host,
        path=path or "/",
        query=query if question else None,
    )


# The application/x-www-form-urlencoded percent-encode set leaves only these bytes alone.
_QUERY_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")
_QUERY_ENCODING = tuple(chr(b) if b in _QUERY_SAFE else f"%{b:02X}" for b in range(256))


def _encode_query_part(text: str) -> str:
    return "".join(_QUERY_ENCODING[b] for b in text.encode("utf-8"))


def _query_param_value(target: _TargetUri, encoded_name: str, where: str) -> str:
    found = [
        value
        for name, value in parse_qsl(target.query or "", keep_blank_values=True)
        if _encode_query_part(name) == encoded_name
    ]
    if not found:
        raise CryptoError(f"query parameter {encoded_name!r} is missing from the {where}")
    if len(found) > 1:
        raise CryptoError(
            f"query parameter {encoded_name!r} appears more than once in the {where}; cover "
            '"@query" instead'
        )
    return _encode_query_part(found[0])


def _check_value(component: _Component, value: str) -> str:
    # Visible ASCII, space and tab only: a CR or LF would forge lines of the signature base.
    if value.isascii() and value.isprintable():
        return value
    if all(" " <= char <= "~" or char == "\t" for char in value):
        return value
    raise CryptoError(
        f"the value of component {component.serialized} holds a control or non-ASCII "
        "character, which cannot be signed"
    )


def _field_value(component: _Component, headers: Mapping[str, str], where: str) -> str:
    raw = headers.get(component.name)
    if raw is None:
        raise CryptoError(f"covered header field {component.name!r} is missing from the {where}")
    value = raw.strip(" \t")
    if component.key is not None:
        try:
            members = _parse_dictionary(value)
        except _StructureError as exc:
            raise CryptoError(
                f"field {component.name!r} of the {where} is not a valid structured "
                f"dictionary: {exc}"
            ) from None
        member = members.get(component.key)
        if member is None:
            raise CryptoError(
                f"field {component.name!r} of the {where} has no member {component.key!r}"
            )
        try:
            return _serialize_member(member)
        except _StructureError as exc:
            raise CryptoError(f"field {component.name!r} of the {where}: {exc}") from None
    if component.sf:
        return _serialize_structured_field(component.name, value)
    return _check_value(component, value)


def _component_value(
    component: _Component,
    request: RequestParts | None,
    response: ResponseParts | None,
) -> str:
    """The value of one covered component; ``response`` is None for a request signature."""
    if component.req or response is None:
        if request is None:  # pragma: no cover - the callers always pass the request
            raise CryptoError(f"component {component.serialized} needs the request")
        where = "request"
        if not component.name.startswith("@"):
            return _field_value(component, request.headers, where)
        name = component.name
        if name == "@method":
            if not request.method or not _TCHAR.issuperset(request.method):
                raise CryptoError(f"request method {request.method!r} is not a token")
            return request.method
        if name == "@status":
            raise CryptoError('"@status" can only be covered by a response signature')
        target = _parse_target_uri(request.target_uri)
        if name == "@target-uri":
            value = target.uri
        elif name == "@authority":
            value = target.authority
        elif name == "@scheme":
            value = target.scheme
        elif name == "@path":
            value = target.path
        elif name == "@query":
            value = "?" + (target.query or "")
        elif name == "@request-target":
            value = target.path if target.query is None else f"{target.path}?{target.query}"
        else:  # "@query-param", the only one left
            value = _query_param_value(target, component.query_name or "", where)
        return _check_value(component, value)
    if not component.name.startswith("@"):
        return _field_value(component, response.headers, "response")
    if component.name != "@status":
        raise CryptoError(
            f"{component.serialized} describes the request; a response signature covers it "
            "with the req parameter"
        )
    status = response.status
    if not (isinstance(status, int) and 100 <= status <= 999):
        raise CryptoError(f"response status {status!r} is not a three-digit code")
    return str(status)


# --------------------------------------------------------------------------------------------
# Signature base and signature parameters


def _signature_params_value(components: Sequence[_Component], params: SignatureParams) -> str:
    fields = [f"created={params.created}"]
    if params.expires is not None:
        fields.append(f"expires={params.expires}")
    if params.nonce is not None:
        fields.append(f"nonce={_serialize_string(params.nonce)}")
    if params.alg is not None:
        fields.append(f"alg={_serialize_string(params.alg)}")
    fields.append(f"keyid={_serialize_string(params.key_id)}")
    if params.tag is not None:
        fields.append(f"tag={_serialize_string(params.tag)}")
    return "(" + " ".join(c.serialized for c in components) + ");" + ";".join(fields)


def _signature_base(
    components: Sequence[_Component],
    params_value: str,
    request: RequestParts | None,
    response: ResponseParts | None,
) -> bytes:
    seen: set[tuple[str, frozenset[tuple[str, _BareItem]]]] = set()
    lines = []
    for component in components:
        if component.identity in seen:
            raise CryptoError(f"component {component.serialized} is covered more than once")
        seen.add(component.identity)
        if component.req and response is None:
            raise CryptoError(
                f"component {component.serialized}: req only belongs in a response signature"
            )
        lines.append(f"{component.serialized}: {_component_value(component, request, response)}\n")
    lines.append(f'"@signature-params": {params_value}')
    try:
        return "".join(lines).encode("ascii")
    except UnicodeEncodeError:  # pragma: no cover - every value was checked to be ASCII
        raise CryptoError("the signature base would not be ASCII") from None


def _check_label(label: str) -> None:
    if not label or label[0] not in _KEY_START or not _KEY_CHARS.issuperset(label):
        raise CryptoError(
            f"signature label {label!r} is not a structured-field key "
            "(lower-case letters, digits, '_', '-', '.', '*')"
        )


def _check_params_text(name: str, value: str | None) -> None:
    if value is not None and not (value.isascii() and value.isprintable()):
        raise CryptoError(f"signature parameter {name} may hold only visible ASCII and spaces")


def _raw_signature(key: PrivateKey, base: bytes) -> bytes:
    key_type = key_type_of(key)
    signature = sign_bytes(key, base)
    if key_type == "ec-p256":
        r, s = decode_dss_signature(signature)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signature


def _check_raw_signature(key: PublicKey, signature: bytes, base: bytes) -> None:
    key_type = key_type_of(key)
    if len(signature) != 64:
        raise CryptoError(
            f"a {ALGORITHM_OF_KEY_TYPE[key_type]} signature has 64 bytes, not {len(signature)}"
        )
    if key_type == "ec-p256":
        signature = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
    verify_bytes(key, signature, base)


def _sign(
    *,
    components: Sequence[str],
    request: RequestParts,
    response: ResponseParts | None,
    key: PrivateKey,
    key_id: str,
    created: int,
    expires: int | None,
    nonce: str | None,
    tag: str | None,
    label: str,
) -> SignedFields:
    _check_label(label)
    for name, value in (("keyid", key_id), ("nonce", nonce), ("tag", tag)):
        _check_params_text(name, value)
    for name, number in (("created", created), ("expires", expires)):
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int) or abs(number) > _MAX_INTEGER
        ):
            raise CryptoError(f"signature parameter {name} must be an integer of Unix seconds")
    if expires is not None and expires < created:
        raise CryptoError("a signature cannot expire before it is created")
    parsed = _components_from_texts(components)
    params = SignatureParams(
        key_id=key_id,
        created=created,
        expires=expires,
        nonce=nonce,
        alg=None,
        tag=tag,
        components=tuple(c.serialized for c in parsed),
    )
    params_value = _signature_params_value(parsed, params)
    base = _signature_base(parsed, params_value, request, response)
    signature = _raw_signature(key, base)
    return SignedFields(
        signature_input=f"{label}={params_value}",
        signature=f"{label}=:{base64.b64encode(signature).decode('ascii')}:",
        signature_base=base,
    )


def sign_request(
    request: RequestParts,
    *,
    components: Sequence[str],
    key: PrivateKey,
    key_id: str,
    created: int,
    expires: int | None = None,
    nonce: str | None = None,
    tag: str | None = None,
    label: str = "zb",
) -> SignedFields:
    """Sign ``request`` over ``components`` (identifiers such as ``'"@method"'``,
    ``'"@query-param";name="x"'``, ``'"content-digest"'``; a bare name like ``'@method'`` is
    accepted for an identifier without parameters).

    The algorithm follows from ``key``. :class:`CryptoError` if a component is unsupported or
    missing from the request, or a value cannot be signed.
    """
    return _sign(
        components=components,
        request=request,
        response=None,
        key=key,
        key_id=key_id,
        created=created,
        expires=expires,
        nonce=nonce,
        tag=tag,
        label=label,
    )


def sign_response(
    response: ResponseParts,
    *,
    request: RequestParts,
    components: Sequence[str],
    key: PrivateKey,
    key_id: str,
    created: int,
    expires: int | None = None,
    nonce: str | None = None,
    tag: str | None = None,
    label: str = "zb",
) -> SignedFields:
    """Sign ``response``, bound to the ``request`` it answers.

    Components with the ``req`` parameter take their value from the request, for example
    ``'"signature";req;key="zb"'`` (the request's own signature), ``'"@method";req'`` or
    ``'"x-road-id";req'``; the others come from the response (``'"@status"'``, header fields).
    """
    return _sign(
        components=components,
        request=request,
        response=response,
        key=key,
        key_id=key_id,
        created=created,
        expires=expires,
        nonce=nonce,
        tag=tag,
        label=label,
    )


def _listed_component(value: _BareItem, params: _Params, label: str) -> _Component:
    """The component an item of a Signature-Input inner list names."""
    if not isinstance(value, str) or isinstance(value, _Token):
        raise CryptoError(f"Signature-Input {label!r} lists a component that is not a string")
    # The type is part of the key: a token equals the string with the same text, True == 1.
    typed = tuple((name, type(v), v) for name, v in params.items()) if params else ()
    return _cached_component(value, typed)


@dataclass(frozen=True, slots=True)
class _InputStart:
    """A Signature-Input field up to the ``)`` closing its first member's inner list, parsed."""

    key: str
    items: list[_Item]  # shared between the messages that start alike: never changed
    components: tuple[_Component, ...] | None  # None when an item is not a component we take


@lru_cache(maxsize=256)
def _input_start(prefix: str) -> _InputStart | None:
    """``prefix`` parsed as ``key=(...)`` by the general parser, or ``None`` for any other
    shape. A signer sends the same covered components with every message, so this part of its
    Signature-Input repeats while the parameters after it (created, nonce) change."""
    try:
        i = _skip_ows(prefix, 0)
        key, i = _parse_key(prefix, i)
        if prefix[i : i + 2] != "=(":
            return None
        inner, end = _parse_inner_list(prefix, i + 1)
    except _StructureError:
        return None
    if end != len(prefix):  # pragma: no cover - prefix ends at the first ')'
        return None
    try:
        components = tuple(_listed_component(v, p, key) for v, p in inner.items)
    except CryptoError:
        components = None  # the caller's general path reports it in its turn
    return _InputStart(key, inner.items, components)


def _parse_signature_input(text: str) -> tuple[dict[str, _Member], _InputStart | None]:
    """:func:`_parse_dictionary` of a Signature-Input field, faster for one member whose
    inner list starts the field (the shape every signer here sends): that part comes from
    :func:`_input_start`, the parameters after it are parsed as the general parser would."""
    close = text.find(")")
    start = _input_start(text[: close + 1]) if close > 0 and text.isascii() else None
    if start is not None:
        try:
            params, i = _parse_params(text, close + 1)
        except _StructureError:
            pass  # the general parser below raises the same error
        else:
            if _skip_ows(text, i) == len(text):
                return {start.key: _InnerList(start.items, params)}, start
    return _parse_dictionary(text), None


def _selected_member(
    headers: Mapping[str, str], label: str, where: str
) -> tuple[_InnerList, bytes, tuple[_Component, ...] | None]:
    """The labelled Signature-Input member and signature, and the member's components when
    they came parsed from the cache."""
    signature_input = headers.get("signature-input")
    signature = headers.get("signature")
    if signature_input is None or signature is None:
        missing = "Signature-Input" if signature_input is None else "Signature"
        raise CryptoError(f"the {where} has no {missing} field, so it is not signed")
    try:
        inputs, start = _parse_signature_input(signature_input)
    except _StructureError as exc:
        raise CryptoError(f"the {where}'s Signature-Input field is malformed: {exc}") from None
    try:
        signatures = _parse_dictionary(signature)
    except _StructureError as exc:
        raise CryptoError(f"the {where}'s Signature field is malformed: {exc}") from None
    member = inputs.get(label)
    value = signatures.get(label)
    if member is None or value is None:
        raise CryptoError(f"no signature labelled {label!r} in the {where}")
    if not isinstance(member, _InnerList):
        raise CryptoError(f"Signature-Input {label!r} of the {where} is not an inner list")
    if isinstance(value, _InnerList) or not isinstance(value[0], bytes):
        raise CryptoError(f"Signature {label!r} of the {where} is not a byte sequence")
    return member, value[0], None if start is None else start.components


def _integer_param(params: _Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CryptoError(f"signature parameter {name} must be an integer")
    return value


def _string_param(params: _Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or isinstance(value, _Token):
        raise CryptoError(f"signature parameter {name} must be a string")
    return value


_SIGNATURE_PARAMETERS = frozenset({"created", "expires", "nonce", "alg", "keyid", "tag"})


def _params_value(components: Sequence[_Component], member: _InnerList, label: str) -> str:
    """The canonical ``@signature-params`` value: the parsed member re-serialised."""
    try:
        covered = " ".join(c.serialized for c in components)
        return f"({covered}){_serialize_params(member.params)}"
    except _StructureError as exc:  # pragma: no cover - parsed values always re-serialise
        raise CryptoError(f"signature {label!r} has an invalid parameter: {exc}") from None


def _verify(
    *,
    request: RequestParts,
    response: ResponseParts | None,
    resolve_key: Callable[[SignatureParams], PublicKey],
    required: Collection[str],
    now: int,
    max_skew: int,
    expected_tag: str | None,
    label: str,
) -> VerifiedSignature:
    _check_label(label)
    where = "request" if response is None else "response"
    message_headers = request.headers if response is None else response.headers
    member, signature, listed = _selected_member(message_headers, label, where)

    components = (
        [_listed_component(value, item_params, label) for value, item_params in member.items]
        if listed is None
        else listed
    )
    unknown = set(member.params) - _SIGNATURE_PARAMETERS
    if unknown:
        raise CryptoError(f"unknown signature parameter(s) {', '.join(sorted(unknown))}")
    created = _integer_param(member.params, "created")
    key_id = _string_param(member.params, "keyid")
    if created is None:
        raise CryptoError(f"signature {label!r} has no created parameter")
    if key_id is None:
        raise CryptoError(f"signature {label!r} has no keyid parameter")
    params = SignatureParams(
        key_id=key_id,
        created=created,
        expires=_integer_param(member.params, "expires"),
        nonce=_string_param(member.params, "nonce"),
        alg=_string_param(member.params, "alg"),
        tag=_string_param(member.params, "tag"),
        components=tuple(c.serialized for c in components),
    )

    if isinstance(required, str):
        raise CryptoError("required must be a collection of identifiers, not one string")
    covered = {c.identity for c in components}
    try:
        needed_components: Iterable[_Component] = _required_components(tuple(required))
    except CryptoError:  # report the first uncovered or invalid one, in the caller's order
        needed_components = map(_component_from_text, required)
    for needed in needed_components:
        if needed.identity not in covered:
            raise CryptoError(
                f"signature {label!r} does not cover the required {needed.serialized}"
            )
    if expected_tag is not None and params.tag != expected_tag:
        raise CryptoError(f"signature {label!r} has tag {params.tag!r}, expected {expected_tag!r}")
    if created > now + max_skew:
        raise StaleSignature(
            f"signature {label!r} was created {created - now} s in the future (allowed "
            f"skew {max_skew} s); check the clocks"
        )
    if created < now - max_skew:
        raise StaleSignature(
            f"signature {label!r} was created {now - created} s ago, more than the allowed "
            f"{max_skew} s"
        )
    if params.expires is not None and params.expires < now:
        raise StaleSignature(f"signature {label!r} expired {now - params.expires} s ago")

    base = _signature_base(components, _params_value(components, member, label), request, response)
    key = resolve_key(params)
    key_type = key_type_of(key)
    if params.alg is not None:
        expected_type = _KEY_TYPE_OF_ALGORITHM.get(params.alg)
        if expected_type is None:
            raise CryptoError(f"signature algorithm {params.alg!r} is not supported")
        if expected_type != key_type:
            raise CryptoError(
                f"signature {label!r} names alg {params.alg!r} but the key {params.key_id!r} "
                f"is for {ALGORITHM_OF_KEY_TYPE[key_type]}"
            )
    _check_raw_signature(key, signature, base)
    return VerifiedSignature(params=params, signature=signature, signature_base=base)


def verify_request(
    request: RequestParts,
    *,
    resolve_key: Callable[[SignatureParams], PublicKey],
    required: Collection[str],
    now: int,
    max_skew: int = 30,
    expected_tag: str | None = None,
    label: str = "zb",
) -> VerifiedSignature:
    """Verify the signature labelled ``label`` on ``request``.

    ``required`` lists the component identifiers the signature must cover; ``created`` must lie
    within ``now ± max_skew`` and ``expires``, when present, not before ``now``. ``resolve_key``
    gets the parsed parameters (``key_id`` above all) and returns the public key, or raises
    :class:`CryptoError`, which propagates. Any failure is a :class:`CryptoError`.
    """
    return _verify(
        request=request,
        response=None,
        resolve_key=resolve_key,
        required=required,
        now=now,
        max_skew=max_skew,
        expected_tag=expected_tag,
        label=label,
    )


def verify_response(
    response: ResponseParts,
    *,
    request: RequestParts,
    resolve_key: Callable[[SignatureParams], PublicKey],
    required: Collection[str],
    now: int,
    max_skew: int = 30,
    expected_tag: str | None = None,
    label: str = "zb",
) -> VerifiedSignature:
    """Verify the signature labelled ``label`` on ``response``, which answers ``request``.

    ``request`` is the request as it was sent, with its own signature fields, so that components
    carrying ``req`` (``'"signature";req;key="zb"'``) are taken from it. Otherwise as
    :func:`verify_request`.
    """
    return _verify(
        request=request,
        response=response,
        resolve_key=resolve_key,
        required=required,
        now=now,
        max_skew=max_skew,
        expected_tag=expected_tag,
        label=label,
    )


def request_signature_base(request: RequestParts, *, label: str = "zb") -> bytes:
    """The signature base of the request's ``label`` signature, rebuilt from the message as
    received without checking the signature or its parameters: what a provider's gateway binds
    a refusal to (``X-Road-Request-Hash``) when it refuses a request it has not verified.
    :class:`CryptoError` when the request carries no such signature or the base cannot be
    built."""
    _check_label(label)
    member, _signature, listed = _selected_member(request.headers, label, "request")
    components = (
        [_listed_component(value, item_params, label) for value, item_params in member.items]
        if listed is None
        else listed
    )
    return _signature_base(components, _params_value(components, member, label), request, None)
