"""The ``r1`` request target: ``/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/path][?query]``,
parsed strictly (ZB-STD-004 §3.2) on both sides of the exchange.

The service path travels to the provider's backend as received, still percent-encoded, and
access rights are matched on that same form. So that no backend can read a segment as "go up
one level" where the access rule saw a name, a segment is refused when it is a dot segment or
becomes one under the normalisations servers commonly apply: percent-decoding (repeated, for
double encoding), IIS ``%uXXXX`` escapes, overlong UTF-8 forms of ASCII (``%c0%ae``), Unicode
compatibility forms (NFKC: the full-width dot ``．``, the one-dot leader ``․``), path parameters
after ``;`` (``..;`` is ``..`` to many Java servers), and surrounding white space. Encoded
slashes and back-slashes are refused under the same decodings, and control characters (NUL,
CR, LF, …) anywhere in the path, and NUL in the query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from zistboom.core import exchange as xr
from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import ServiceId

MAX_TARGET_LENGTH = 4096
# Enough rounds of percent-decoding for any encoding that fits the target's length limit to be
# undone in practice (each round shortens an escape); a segment still changing after them is
# refused as unreadable.
_DECODE_ROUNDS = 4
_IIS_ESCAPE = re.compile(rb"%u([0-9a-fA-F]{4})")
# Overlong UTF-8 encodings of ASCII (two, three and four bytes), which strict decoders refuse
# but some servers decode.
_OVERLONG = re.compile(
    rb"[\xc0\xc1][\x80-\xbf]|\xe0[\x80-\x9f][\x80-\xbf]|\xf0[\x80-\x8f][\x80-\xbf][\x80-\xbf]"
)
_NUL_IN_QUERY = re.compile(r"%00|\x00|%25(?:25)*00", re.IGNORECASE)
# Segments made only of these characters need no decoding to be judged (the common case).
_PLAIN = re.compile(r"[A-Za-z0-9_~:@!$&'()*+,=-]*")


@dataclass(frozen=True, slots=True)
class R1Target:
    """A parsed ``/r1/…`` request target."""

    service: ServiceId
    rest: str
    """The path after the service id, as received (still percent-encoded), or ''."""
    query: str
    """The raw query string, unchanged, without '?'."""

    @property
    def path_and_query(self) -> str:
        return (
            "/r1/" + self.service.to_path() + self.rest + (f"?{self.query}" if self.query else "")
        )

    @property
    def backend_path(self) -> str:
        return self.rest or "/"


def parse_target(raw_path: str, query: str) -> R1Target:
    """Strictly parse ``/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/rest]``."""
    target = split_target(raw_path, query)
    if _NUL_IN_QUERY.search(query):
        raise xr.BadRequest("the query must not contain NUL (%00)")
    for segment in target.rest.split("/")[1:]:
        check_path_segment(segment)
    return target


def split_target(raw_path: str, query: str) -> R1Target:
    """The service id parsed and the path after it taken as received, not yet checked (the
    provider's gateway names the service in a refusal of the path)."""
    if len(raw_path) + len(query) > MAX_TARGET_LENGTH:
        raise xr.BadRequest(f"the request target is longer than {MAX_TARGET_LENGTH} characters")
    if not raw_path.startswith("/r1/"):
        raise xr.BadRequest(
            "not an X-Road REST request: the path must start with /r1/ followed by the "
            "service id INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE"
        )
    segments = raw_path[4:].split("/")
    if len(segments) < 5:
        raise xr.InvalidServiceIdentifier(
            f"the service id needs 5 segments (INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE), "
            f"got {len(segments)}: {raw_path[4:]!r}"
        )
    for segment in segments[:5]:
        if not _PLAIN.fullmatch(segment):
            _check_control_characters(segment, _decoded(segment))
    try:
        service = ServiceId.parse_path("/".join(segments[:5]), field="service")
    except ValidationError as error:
        raise xr.InvalidServiceIdentifier(error.detail) from error
    rest_segments = segments[5:]
    rest = "/" + "/".join(rest_segments) if rest_segments else ""
    return R1Target(service, rest, query)


def check_path_segment(segment: str) -> None:
    """Refuse a segment of the service path that is, or normalises to, a dot segment, or that
    hides a slash, a back-slash or a control character (:class:`BadRequest`)."""
    if _PLAIN.fullmatch(segment):
        return
    decoded = _decoded(segment)
    _check_control_characters(segment, decoded)
    if "\\" in segment or "\\" in decoded or "/" in decoded:
        raise xr.BadRequest(
            f"encoded slashes and back-slashes are not allowed in the service path: {segment!r}"
        )
    normalised = unicodedata.normalize("NFKC", decoded).split(";", 1)[0].strip()
    if normalised in (".", ".."):
        raise xr.BadRequest(
            f"dot segments are not allowed in the service path: {segment!r} reads as "
            f"{normalised!r} to servers that decode it"
        )


def _decoded(segment: str) -> str:
    """The segment after the decodings of the module docstring (not NFKC, not ';')."""
    data = segment.encode("utf-8", "surrogateescape")
    for _ in range(_DECODE_ROUNDS):
        decoded = _IIS_ESCAPE.sub(_iis_character, unquote_to_bytes(data))
        if decoded == data:
            break
        data = decoded
    else:
        raise xr.BadRequest(
            f"the service path segment {segment!r} is percent-encoded more than "
            f"{_DECODE_ROUNDS} times"
        )
    data = _OVERLONG.sub(_overlong_character, data)
    return data.decode("utf-8", "replace")


def _iis_character(match: re.Match[bytes]) -> bytes:
    return chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")


def _overlong_character(match: re.Match[bytes]) -> bytes:
    raw = match.group(0)
    if len(raw) == 2:
        code = ((raw[0] & 0x1F) << 6) | (raw[1] & 0x3F)
    elif len(raw) == 3:
        code = ((raw[0] & 0x0F) << 12) | ((raw[1] & 0x3F) << 6) | (raw[2] & 0x3F)
    else:
        code = ((raw[1] & 0x3F) << 12) | ((raw[2] & 0x3F) << 6) | (raw[3] & 0x3F)
    return bytes([code]) if code < 0x80 else raw


def _check_control_characters(segment: str, decoded: str) -> None:
    for form in (segment, decoded):
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in form):
            kind = "NUL" if "\x00" in form else "control characters"
            raise xr.BadRequest(f"the request path must not contain {kind}: {segment!r}")
