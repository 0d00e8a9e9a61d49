"""X-Road style identifiers of the exchange (members, subsystems, services, gateways) and of
persons, with their three representations: the textual form ``IR/GOV/10380284790/SUB``, the
URL path form (each segment percent-encoded), and the X-Road JSON object form.

The rules are normative in docs/standards/ZB-STD-001-identifiers.md. Every identifier is a
frozen value that validates itself on construction, so an invalid one cannot exist; parsing is
strict (no case folding, no whitespace trimming, ASCII digits only) because two spellings of one
identifier would let access rights and message logs disagree about who is who.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import ClassVar, Final, Literal, Self, cast
from urllib.parse import quote, unquote

from zistboom.core.errors import ValidationError
from zistboom.core.iran import (
    FOREIGN_NATIONAL_ID_MAX_LENGTH,
    FOREIGN_NATIONAL_ID_MIN_LENGTH,
    validate_foreign_national_id,
    validate_legal_entity_id,
    validate_national_code,
)

INSTANCES: Final = ("IR", "IR-TEST", "IR-DEMO")


@dataclass(frozen=True, slots=True)
class MemberClass:
    """A member class: its code and what kind of organisation belongs to it."""

    code: str
    title_en: str
    title_fa: str


MEMBER_CLASSES: Final[Mapping[str, MemberClass]] = MappingProxyType(
    {
        "GOV": MemberClass("GOV", "Executive agencies", "دستگاه‌های اجرایی"),
        "PUB": MemberClass("PUB", "Public non-government bodies", "نهادهای عمومی غیردولتی"),
        "COM": MemberClass(
            "COM",
            "Companies, including ecosystem companies",
            "شرکت‌ها، از جمله شرکت‌های زیست‌بوم",
        ),
        "NGO": MemberClass("NGO", "Non-governmental organisations", "سازمان‌های مردم‌نهاد"),
    }
)

CODE_MAX_LENGTH: Final = 64
CODE_ALPHABET_TEXT: Final = "A-Z, a-z, 0-9, '.', '_' and '-'"
_CODE_CHAR: Final = re.compile(r"[A-Za-z0-9._-]")
_MEMBER_CODE: Final = re.compile(r"[0-9]{11}")

ObjectType = Literal["MEMBER", "SUBSYSTEM", "SERVICE", "SERVER"]


def _shown(value: object) -> str:
    # Quote input in messages, but never echo an oversized input back whole.
    text = repr(value)
    return text if len(text) <= 120 else f"{text[:100]}… ({len(text)} characters)"


# --- Segment rules ---------------------------------------------------------------------------


def _in(context: str | None) -> str:
    return "" if context is None else f" in {_shown(context)}"


def _check_instance(value: str, *, context: str | None, field: str) -> None:
    if value not in INSTANCES:
        raise ValidationError(
            f"unknown instance {_shown(value)}{_in(context)} "
            f"(expected one of {', '.join(INSTANCES)})",
            field=field,
        )


def _check_member_class(value: str, *, context: str | None, field: str) -> None:
    if value not in MEMBER_CLASSES:
        raise ValidationError(
            f"unknown member class {_shown(value)}{_in(context)} "
            f"(expected one of {', '.join(MEMBER_CLASSES)})",
            field=field,
        )


def _check_member_code(value: str, *, context: str | None, field: str) -> None:
    if not _MEMBER_CODE.fullmatch(value):
        raise ValidationError(
            f"member code {_shown(value)}{_in(context)} must be an 11-digit legal-entity ID "
            f"written with ASCII digits",
            field=field,
        )
    try:
        validate_legal_entity_id(value, field=field)
    except ValidationError as error:
        raise ValidationError(
            f"member code {_shown(value)}{_in(context)} is not a valid legal-entity ID: "
            f"{error.detail}",
            field=field,
        ) from error


def _check_code(value: str, *, label: str, context: str | None, field: str) -> None:
    """Subsystem, service and gateway codes: 1..64 of [A-Za-z0-9._-], not '.' or '..'."""
    if not value:
        raise ValidationError(f"{label} is empty{_in(context)}", field=field)
    if len(value) > CODE_MAX_LENGTH:
        raise ValidationError(
            f"{label} {_shown(value)}{_in(context)} has {len(value)} characters; "
            f"at most {CODE_MAX_LENGTH} are allowed",
            field=field,
        )
    bad = next((char for char in value if not _CODE_CHAR.fullmatch(char)), None)
    if bad is not None:
        raise ValidationError(
            f"{label} {_shown(value)}{_in(context)} contains {_shown(bad)}; "
            f"only {CODE_ALPHABET_TEXT} are allowed",
            field=field,
        )
    if value in (".", ".."):
        raise ValidationError(
            f"{label} {_shown(value)}{_in(context)} is refused: "
            "'.' and '..' are path steps, not codes",
            field=field,
        )


def _check_member_segments(
    segments: Sequence[str], *, context: str | None, fields: Sequence[str]
) -> None:
    _check_instance(segments[0], context=context, field=fields[0])
    _check_member_class(segments[1], context=context, field=fields[1])
    _check_member_code(segments[2], context=context, field=fields[2])


def _segments_of(text: str, *, count: int, name: str, shape: str, field: str) -> list[str]:
    segments = text.split("/")
    if len(segments) != count:
        raise ValidationError(
            f"wrong number of segments: {name} has {count} ({shape}), "
            f"got {len(segments)} in {_shown(text)}",
            field=field,
        )
    return segments


class _Identifier:
    """Shared textual, path and JSON handling; subclasses are frozen dataclasses."""

    __slots__ = ()

    OBJECT_TYPE: ClassVar[ObjectType]
    NAME: ClassVar[str]  # "a subsystem id", used in messages
    SHAPE: ClassVar[str]  # "INSTANCE/CLASS/CODE/SUBSYSTEM"
    DEFAULT_FIELD: ClassVar[str]
    JSON_KEYS: ClassVar[tuple[str, ...]]  # the keys after object_type, in segment order

    def segments(self) -> tuple[str, ...]:
        raise NotImplementedError

    @classmethod
    def _build(cls, segments: Sequence[str], *, context: str | None, fields: Sequence[str]) -> Self:
        raise NotImplementedError

    @classmethod
    def _segment_count(cls) -> int:
        return len(cls.JSON_KEYS)

    def __str__(self) -> str:
        return "/".join(self.segments())

    def to_path(self) -> str:
        """The URL path form: each segment percent-encoded on its own, joined by '/'."""
        return "/".join(quote(segment, safe="") for segment in self.segments())

    def to_dict(self) -> dict[str, str]:
        """The X-Road JSON object form (``object_type`` plus one key per segment)."""
        return {
            "object_type": self.OBJECT_TYPE,
            **dict(zip(self.JSON_KEYS, self.segments(), strict=True)),
        }

    @classmethod
    def parse(cls, text: str, *, field: str | None = None) -> Self:
        """Parse the textual form; nothing is trimmed, decoded or case-folded."""
        return cast(Self, _parsed(cls._from_text, text, field or cls.DEFAULT_FIELD))

    @classmethod
    def parse_path(cls, path: str, *, field: str | None = None) -> Self:
        """Parse the URL path form, percent-decoding each segment before it is validated."""
        return cast(Self, _parsed(cls._from_path, path, field or cls.DEFAULT_FIELD))

    @classmethod
    def _from_text(cls, text: str, name: str) -> Self:
        segments = _segments_of(
            text, count=cls._segment_count(), name=cls.NAME, shape=cls.SHAPE, field=name
        )
        return cls._build(segments, context=text, fields=[name] * len(segments))

    @classmethod
    def _from_path(cls, path: str, name: str) -> Self:
        segments = _segments_of(
            path, count=cls._segment_count(), name=cls.NAME, shape=cls.SHAPE, field=name
        )
        # Split first, then decode each segment on its own: an encoded '/' stays inside its
        # segment and is refused as a character outside the code alphabet.
        try:
            decoded = [unquote(segment, errors="strict") for segment in segments]
        except UnicodeDecodeError as error:
            raise ValidationError(
                f"{_shown(path)} has percent-encoded bytes that are not UTF-8", field=name
            ) from error
        return cls._build(decoded, context=path, fields=[name] * len(decoded))

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, field: str | None = None) -> Self:
        """Build from the X-Road JSON object form; unknown or missing keys are refused."""
        name = field or cls.DEFAULT_FIELD
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"{cls.NAME} must be a JSON object, got {type(data).__name__}", field=name
            )
        object_type = data.get("object_type")
        if object_type != cls.OBJECT_TYPE:
            raise ValidationError(
                f"object_type {_shown(object_type)} does not fit {cls.NAME}: "
                f"expected {cls.OBJECT_TYPE!r}",
                field=f"{name}.object_type",
            )
        allowed = {"object_type", *cls.JSON_KEYS}
        unknown = sorted(str(key) for key in data if key not in allowed)
        if cls.OBJECT_TYPE == "SERVICE" and data.get("service_version") is None:
            # X-Road's JSON may carry "service_version": null; versions live in the code here.
            unknown = [key for key in unknown if key != "service_version"]
        if unknown:
            raise ValidationError(
                f"unknown keys for {cls.NAME}: {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(allowed))})",
                field=name,
            )
        segments: list[str] = []
        for key in cls.JSON_KEYS:
            value = data.get(key)
            if not isinstance(value, str):
                problem = (
                    "is missing" if key not in data else f"must be a string, got {_shown(value)}"
                )
                raise ValidationError(f"{key} {problem}", field=f"{name}.{key}")
            segments.append(value)
        return cls._build(segments, context=None, fields=[f"{name}.{key}" for key in cls.JSON_KEYS])


@dataclass(frozen=True, slots=True)
class MemberId(_Identifier):
    """A member: ``INSTANCE/CLASS/CODE``, the code being the member's legal-entity ID."""

    instance: str
    member_class: str
    member_code: str

    OBJECT_TYPE: ClassVar[ObjectType] = "MEMBER"
    NAME: ClassVar[str] = "a member id"
    SHAPE: ClassVar[str] = "INSTANCE/CLASS/CODE"
    DEFAULT_FIELD: ClassVar[str] = "member_id"
    JSON_KEYS: ClassVar[tuple[str, ...]] = ("xroad_instance", "member_class", "member_code")

    def __post_init__(self) -> None:
        _check_member_segments(
            self.segments(),
            context=None,
            fields=("instance", "member_class", "member_code"),
        )

    def segments(self) -> tuple[str, ...]:
        return (self.instance, self.member_class, self.member_code)

    @classmethod
    def _build(cls, segments: Sequence[str], *, context: str | None, fields: Sequence[str]) -> Self:
        _check_member_segments(segments, context=context, fields=fields)
        return cls(segments[0], segments[1], segments[2])


@dataclass(frozen=True, slots=True)
class SubsystemId(_Identifier):
    """A member's subsystem: ``INSTANCE/CLASS/CODE/SUBSYSTEM``; the clients and providers."""

    member: MemberId
    subsystem_code: str

    OBJECT_TYPE: ClassVar[ObjectType] = "SUBSYSTEM"
    NAME: ClassVar[str] = "a subsystem id"
    SHAPE: ClassVar[str] = "INSTANCE/CLASS/CODE/SUBSYSTEM"
    DEFAULT_FIELD: ClassVar[str] = "subsystem_id"
    JSON_KEYS: ClassVar[tuple[str, ...]] = (*MemberId.JSON_KEYS, "subsystem_code")

    def __post_init__(self) -> None:
        _check_code(
            self.subsystem_code, label="subsystem code", context=None, field="subsystem_code"
        )

    def segments(self) -> tuple[str, ...]:
        return (*self.member.segments(), self.subsystem_code)

    @classmethod
    def _build(cls, segments: Sequence[str], *, context: str | None, fields: Sequence[str]) -> Self:
        _check_member_segments(segments, context=context, fields=fields)
        _check_code(segments[3], label="subsystem code", context=context, field=fields[3])
        return cls(MemberId(segments[0], segments[1], segments[2]), segments[3])


@dataclass(frozen=True, slots=True)
class ServiceId(_Identifier):
    """A service of a subsystem: ``INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE``.

    There is no separate version: a version, when wanted, is part of the code (``getPerson.v1``).
    """

    subsystem: SubsystemId
    service_code: str

    OBJECT_TYPE: ClassVar[ObjectType] = "SERVICE"
    NAME: ClassVar[str] = "a service id"
    SHAPE: ClassVar[str] = "INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE"
    DEFAULT_FIELD: ClassVar[str] = "service_id"
    JSON_KEYS: ClassVar[tuple[str, ...]] = (*SubsystemId.JSON_KEYS, "service_code")

    def __post_init__(self) -> None:
        _check_code(self.service_code, label="service code", context=None, field="service_code")

    @property
    def member(self) -> MemberId:
        return self.subsystem.member

    def segments(self) -> tuple[str, ...]:
        return (*self.subsystem.segments(), self.service_code)

    @classmethod
    def _build(cls, segments: Sequence[str], *, context: str | None, fields: Sequence[str]) -> Self:
        _check_member_segments(segments, context=context, fields=fields)
        _check_code(segments[3], label="subsystem code", context=context, field=fields[3])
        _check_code(segments[4], label="service code", context=context, field=fields[4])
        member = MemberId(segments[0], segments[1], segments[2])
        return cls(SubsystemId(member, segments[3]), segments[4])


@dataclass(frozen=True, slots=True)
class GatewayId(_Identifier):
    """A member's gateway (X-Road: security server): ``INSTANCE/CLASS/CODE/GATEWAY``.

    The textual form has the shape of a subsystem id; which one is meant comes from context
    (the JSON form says it with ``object_type`` ``SERVER``).
    """

    member: MemberId
    gateway_code: str

    OBJECT_TYPE: ClassVar[ObjectType] = "SERVER"
    NAME: ClassVar[str] = "a gateway id"
    SHAPE: ClassVar[str] = "INSTANCE/CLASS/CODE/GATEWAY"
    DEFAULT_FIELD: ClassVar[str] = "gateway_id"
    JSON_KEYS: ClassVar[tuple[str, ...]] = (*MemberId.JSON_KEYS, "server_code")

    def __post_init__(self) -> None:
        _check_code(self.gateway_code, label="gateway code", context=None, field="gateway_code")

    def segments(self) -> tuple[str, ...]:
        return (*self.member.segments(), self.gateway_code)

    @classmethod
    def _build(cls, segments: Sequence[str], *, context: str | None, fields: Sequence[str]) -> Self:
        _check_member_segments(segments, context=context, fields=fields)
        _check_code(segments[3], label="gateway code", context=context, field=fields[3])
        return cls(MemberId(segments[0], segments[1], segments[2]), segments[3])


ExchangeId = MemberId | SubsystemId | ServiceId | GatewayId

# Parsing is memoised: the gateway parses the same few identifiers in every message. The values
# are frozen, so one instance can serve every caller; a text that does not parse raises anew
# each time (lru_cache keeps results, never exceptions), with its own field name in the message.
_PARSED_CACHE_SIZE: Final = 1024


@lru_cache(maxsize=_PARSED_CACHE_SIZE)
def _parsed(parse: Callable[[str, str], _Identifier], text: str, field: str) -> _Identifier:
    """``parse`` is a class's ``_from_text`` or ``_from_path``: equal (so one cache entry)
    whenever it is the same class's."""
    return parse(text, field)


_BY_OBJECT_TYPE: Final[Mapping[str, type[MemberId | SubsystemId | ServiceId | GatewayId]]] = (
    MappingProxyType(
        {
            "MEMBER": MemberId,
            "SUBSYSTEM": SubsystemId,
            "SERVICE": ServiceId,
            "SERVER": GatewayId,
        }
    )
)


def identifier_from_dict(data: Mapping[str, object], *, field: str = "id") -> ExchangeId:
    """Build whichever identifier the JSON object's ``object_type`` names."""
    object_type = data.get("object_type") if isinstance(data, Mapping) else None
    kind = _BY_OBJECT_TYPE.get(object_type) if isinstance(object_type, str) else None
    if kind is None:
        raise ValidationError(
            f"unknown object_type {_shown(object_type)} "
            f"(expected one of {', '.join(_BY_OBJECT_TYPE)})",
            field=f"{field}.object_type",
        )
    return kind.from_dict(data, field=field)


def parse_client_header(value: str, *, field: str = "X-Road-Client") -> SubsystemId | MemberId:
    """Parse an ``X-Road-Client`` header: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``.

    Surrounding spaces and tabs (HTTP optional whitespace) are ignored; each segment is
    percent-decoded before it is validated, as in the URL path form.
    """
    return _parsed_client_header(value, field)


@lru_cache(maxsize=_PARSED_CACHE_SIZE)
def _parsed_client_header(value: str, field: str) -> SubsystemId | MemberId:
    text = value.strip(" \t")
    count = text.count("/") + 1
    if count == 4:
        return SubsystemId.parse_path(text, field=field)
    if count == 3:
        return MemberId.parse_path(text, field=field)
    raise ValidationError(
        f"wrong number of segments: the {field} header takes 3 (INSTANCE/CLASS/MEMBER) or "
        f"4 (INSTANCE/CLASS/MEMBER/SUBSYSTEM), got {count} in {_shown(value)}",
        field=field,
    )


# --- Person identifiers ----------------------------------------------------------------------

PersonKind = Literal["IR", "FN"]


@dataclass(frozen=True, slots=True)
class PersonId:
    """A natural person: ``IR`` + 10-digit national code, or ``FN`` + foreign national ID.

    Example: ``IR0499370899``. The textual form is canonical (ASCII digits, the national code
    with all ten digits); use :meth:`national` or :meth:`foreign` to build one from typed input.
    """

    kind: PersonKind
    number: str

    DEFAULT_FIELD: ClassVar[str] = "person_id"

    def __post_init__(self) -> None:
        _check_person(self.kind, self.number, context=None, field="person_id")

    def __str__(self) -> str:
        return self.kind + self.number

    @classmethod
    def national(cls, national_code: str, *, field: str = "national_code") -> PersonId:
        """A person with an Iranian national code, normalised first (Persian digits, padding)."""
        return cls("IR", validate_national_code(national_code, field=field))

    @classmethod
    def foreign(cls, foreign_id: str, *, field: str = "foreign_national_id") -> PersonId:
        """A foreign national, normalised first (Persian digits, surrounding whitespace)."""
        return cls("FN", validate_foreign_national_id(foreign_id, field=field))

    @classmethod
    def parse(cls, text: str, *, field: str = "person_id") -> PersonId:
        """Parse ``IR<national code>`` or ``FN<foreign national id>``, strictly."""
        kind, number = text[:2], text[2:]
        if kind == "IR":
            _check_person("IR", number, context=text, field=field)
            return cls("IR", number)
        if kind == "FN":
            _check_person("FN", number, context=text, field=field)
            return cls("FN", number)
        raise ValidationError(
            f"person id {_shown(text)} must start with IR (national code) "
            "or FN (foreign national ID)",
            field=field,
        )


def _check_person(kind: str, number: str, *, context: str | None, field: str) -> None:
    if kind not in ("IR", "FN"):
        raise ValidationError(f"person id kind must be IR or FN, got {_shown(kind)}", field=field)
    if kind == "IR":
        if not re.fullmatch(r"[0-9]{10}", number):
            raise ValidationError(
                f"national code {_shown(number)}{_in(context)} must be 10 ASCII digits", field=field
            )
        validator = validate_national_code
    else:
        if not re.fullmatch(r"[0-9]+", number):
            raise ValidationError(
                f"foreign national ID {_shown(number)}{_in(context)} must be ASCII digits",
                field=field,
            )
        validator = validate_foreign_national_id
    try:
        validator(number, field=field)
    except ValidationError as error:
        raise ValidationError(f"{error.detail}{_in(context)}", field=field) from error


# --- Single segments, for APIs that take them one at a time ----------------------------------


def validate_member_class(value: str, *, field: str = "member_class") -> str:
    """A member class on its own (GOV, PUB, COM, NGO)."""
    _check_member_class(value, context=None, field=field)
    return value


def validate_code(value: str, *, field: str = "code", label: str = "code") -> str:
    """A subsystem, service or gateway code on its own."""
    _check_code(value, label=label, context=None, field=field)
    return value


# --- The shape rules as JSON Schema patterns, for API documents ------------------------------
# Valid in Python, ECMA-262 and pydantic's Rust engine alike (so no look-around). A check
# digit cannot be stated in a pattern: the validators above stay the authority, the patterns
# only let OpenAPI documents say the rest.

# What Python's \s matches (str.isspace), spelled out for a character class: ECMA-262's and
# pydantic's Rust \s each differ from it (U+001C..U+001F, U+0085).
SPACE_CHARACTERS: Final = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INSTANCE_PATTERN: Final = "(?:" + "|".join(INSTANCES) + ")"
_CLASS_PATTERN: Final = "(?:" + "|".join(MEMBER_CLASSES) + ")"
# Eleven digits whose fourth to ninth are not all zero.
_MEMBER_CODE_PATTERN: Final = (
    "[0-9]{3}(?:[1-9][0-9]{5}|0[1-9][0-9]{4}|00[1-9][0-9]{3}|000[1-9][0-9]{2}|0000[1-9][0-9]"
    "|00000[1-9])[0-9]{2}"
)
# 1..64 of the code alphabet, except '.' and '..'.
_CODE_PATTERN: Final = (
    r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}"
    r"|\.\.[A-Za-z0-9._-]{1,62})"
)
CODE_PATTERN: Final = f"^{_CODE_PATTERN}$"
MEMBER_CODE_PATTERN: Final = f"^{_MEMBER_CODE_PATTERN}$"
_MEMBER_ID: Final = f"{_INSTANCE_PATTERN}/{_CLASS_PATTERN}/{_MEMBER_CODE_PATTERN}"
MEMBER_ID_PATTERN: Final = f"^{_MEMBER_ID}$"
SUBSYSTEM_ID_PATTERN: Final = f"^{_MEMBER_ID}/{_CODE_PATTERN}$"
SERVICE_ID_PATTERN: Final = f"^{_MEMBER_ID}/{_CODE_PATTERN}/{_CODE_PATTERN}$"
# An X-Road-Client header: a member or one of its subsystems.
CLIENT_ID_PATTERN: Final = f"^{_MEMBER_ID}(?:/{_CODE_PATTERN})?$"
# IR and a national code, or FN and a foreign national ID.
_FOREIGN_DIGITS: Final = f"{FOREIGN_NATIONAL_ID_MIN_LENGTH},{FOREIGN_NATIONAL_ID_MAX_LENGTH}"
PERSON_ID_PATTERN: Final = f"^(?:IR[0-9]{{10}}|FN[0-9]{{{_FOREIGN_DIGITS}}})$"
# Custom JSON Schema formats naming the check-digit rules (annotations: a validator that does
# not know them ignores them; a test generator can produce valid values from them).
LEGAL_ENTITY_ID_FORMAT: Final = "zb-legal-entity-id"
MEMBER_ID_FORMAT: Final = "zb-member-id"
SUBSYSTEM_ID_FORMAT: Final = "zb-subsystem-id"
SERVICE_ID_FORMAT: Final = "zb-service-id"
NATIONAL_CODE_FORMAT: Final = "zb-national-code"
CLIENT_ID_FORMAT: Final = "zb-client-id"
PERSON_ID_FORMAT: Final = "zb-person-id"
