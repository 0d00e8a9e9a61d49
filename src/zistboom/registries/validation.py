"""Record validation against a registry schema, with refusals worded for people.

jsonschema (Draft 2020-12) does the validating; this module owns what it leaves out and the
wording of every refusal:

- the formats ``date``, ``date-time`` and ``time`` (RFC 3339; a date-time and a time carry their
  offset) are checked here: jsonschema hands date-time and time to the optional
  ``rfc3339-validator`` package and skips them silently when it is missing;
- ``pattern`` matches as in ECMA-262, with ASCII ``\\d`` and ``\\w``: with Python's Unicode
  classes ``^\\d{10}$`` would let a national code through in Persian digits;
- ``contentEncoding`` is only an annotation to jsonschema, so file fields' base64 and their
  ``x-max-bytes`` are checked here.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, NoReturn

from jsonschema import (  # type: ignore[import-untyped]  # no stubs; used through Any
    Draft202012Validator,
    FormatChecker,
)
from jsonschema import ValidationError as JsonSchemaError
from jsonschema.validators import extend  # type: ignore[import-untyped]

from zistboom.core.errors import ValidationError

if TYPE_CHECKING:
    from zistboom.registries.schema import Field

MAX_LISTED_ERRORS: Final = 20
_SHOWN_LENGTH: Final = 60

Path = tuple[str | int, ...]
Problem = tuple[Path, str]  # where (parts below the caller's pointer), and what is wrong

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME: Final = (
    r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_DATE_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]" + _TIME)
_FULL_TIME: Final = re.compile(_TIME)

FORMAT_HINTS: Final = {
    "date": "a date (YYYY-MM-DD)",
    "date-time": "a date-time (RFC 3339 with its offset, e.g. 2025-03-21T08:30:00+03:30)",
    "time": "a time (HH:MM:SS with its offset, e.g. 08:30:00+03:30)",
}


def is_date(value: object) -> bool:
    """An RFC 3339 full-date that exists: ``2024-02-29`` yes, ``2023-02-29`` no."""
    if not isinstance(value, str):
        return True  # another keyword (type) refuses it
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    """An RFC 3339 date-time with an offset (``Z`` or ``±HH:MM``); no leap second, which a
    stored value could not be compared or ordered as."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def is_time(value: object) -> bool:
    """An RFC 3339 full-time: ``HH:MM:SS[.frac]`` with an offset."""
    if not isinstance(value, str):
        return True
    return bool(_FULL_TIME.fullmatch(value)) and is_date_time("1970-01-01T" + value)


def _format_checker() -> Any:
    checker = FormatChecker(formats=())
    checker.checks("date")(is_date)
    checker.checks("date-time")(is_date_time)
    checker.checks("time")(is_time)
    return checker


def _ascii_pattern(validator: Any, pattern: str, instance: object, schema: object) -> Iterator[Any]:
    if isinstance(instance, str) and not re.search(pattern, instance, re.ASCII):
        yield JsonSchemaError(f"{instance!r} does not match {pattern!r}")


_Validator: Final = extend(Draft202012Validator, {"pattern": _ascii_pattern})


# --- closed schemas: what the validator reads --------------------------------------------------


def closed_fragment(field: Field) -> dict[str, Any]:
    """The field's schema with every object closed: in a registry schema an absent
    ``additionalProperties`` means false, where JSON Schema would allow any other key."""
    fragment = copy.deepcopy(dict(field.fragment))
    if field.items is not None:
        fragment["items"] = closed_fragment(field.items)
    if field.kind in ("object", "geo-point"):
        fragment["properties"] = {sub.name: closed_fragment(sub) for sub in field.properties}
        fragment["additionalProperties"] = False
    return fragment


def closed_document(document: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """The version's document as records are checked against it: objects closed, the key
    required."""
    closed = copy.deepcopy(dict(document))
    closed["properties"] = {field.name: closed_fragment(field) for field in fields}
    closed["additionalProperties"] = False
    required = list(closed.get("required", []))
    required += [f.name for f in fields if f.key and f.name not in required]
    closed["required"] = required
    return closed


# --- validators ----------------------------------------------------------------------------


class RecordValidator:
    """A validator built once for one schema (a version's records, or one field's values)."""

    def __init__(self, schema: Mapping[str, Any], fields: Sequence[Field]) -> None:
        self._validator = _Validator(schema, format_checker=_format_checker())
        self._fields = tuple(fields)

    def problems(self, content: object) -> list[Problem]:
        """Everything wrong with ``content``, ordered by where it is."""
        found: list[Problem] = []
        for error in self._validator.iter_errors(content):
            found.extend(_problems_of(error))
        if isinstance(content, dict):
            for field in self._fields:
                if field.name in content:
                    found.extend(file_problems(field, content[field.name], (field.name,)))
        return sorted(dict.fromkeys(found), key=lambda problem: problem[0])


def value_problems(field: Field, value: object) -> list[Problem]:
    """Everything wrong with one value of ``field`` (a default, an example)."""
    validator = _Validator(closed_fragment(field), format_checker=_format_checker())
    found = [problem for error in validator.iter_errors(value) for problem in _problems_of(error)]
    found.extend(file_problems(field, value, ()))
    return sorted(dict.fromkeys(found), key=lambda problem: problem[0])


def file_problems(field: Field, value: object, path: Path) -> Iterator[Problem]:
    """Base64 and size of the file values within ``value`` (other checks are jsonschema's)."""
    if field.kind == "file" and isinstance(value, str):
        problem = _file_problem(value, field.max_bytes or 0)
        if problem is not None:
            yield path, problem
    elif field.items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            yield from file_problems(field.items, item, (*path, index))
    elif field.properties and isinstance(value, dict):
        for sub in field.properties:
            if sub.name in value:
                yield from file_problems(sub, value[sub.name], (*path, sub.name))


def _file_problem(text: str, max_bytes: int) -> str | None:
    padding = len(text) - len(text.rstrip("="))
    size = len(text) // 4 * 3 - min(padding, 2)
    if size > max_bytes:  # refused before decoding: a huge string costs no memory
        return f"the file is about {size} bytes; at most {max_bytes} are allowed"
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return (
            "is not valid base64: use the standard alphabet (A-Z a-z 0-9 + /) with '=' "
            "padding, without spaces or line breaks"
        )
    return None


# --- wording ---------------------------------------------------------------------------------


def shown(value: object) -> str:
    """A value as a message quotes it: strings in quotes, long ones cut."""
    if isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


_JSON_TYPES: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


def _problems_of(error: Any) -> list[Problem]:
    path: Path = tuple(error.absolute_path)
    keyword: str = error.validator
    expected: Any = error.validator_value
    value: Any = error.instance
    if keyword == "required":
        # jsonschema raises one error per missing name; each lists them all (callers dedupe).
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return [((*path, name), "is missing: the field is required") for name in missing]
    if keyword == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = [name for name in value if name not in known] if isinstance(value, dict) else []
        return [
            ((*path, name), f"is not a field here (the fields are: {_names(known)})")
            for name in extra
        ]
    return [(path, _message(keyword, expected, value, error.message))]


def _message(keyword: str, expected: Any, value: Any, fallback: str) -> str:
    if keyword == "type":
        wanted = " or ".join(_JSON_TYPES.get(t, t) for t in _as_list(expected))
        return f"{shown(value)} is not {wanted}"
    if keyword == "format":
        return f"{shown(value)} is not {FORMAT_HINTS.get(expected, expected)}"
    if keyword == "enum":
        return f"{shown(value)} is not one of the codes {_names(str(code) for code in expected)}"
    if keyword == "pattern":
        return f"{shown(value)} does not match the pattern {expected}"
    if keyword == "minLength":
        return f"{shown(value)} is too short: at least {expected} characters are needed"
    if keyword == "maxLength":
        return f"{shown(value)} is too long ({len(value)} characters): at most {expected}"
    bounds = {
        "minimum": "less than the minimum",
        "maximum": "greater than the maximum",
        "exclusiveMinimum": "not greater than",
        "exclusiveMaximum": "not less than",
    }
    if keyword in bounds:
        return f"{shown(value)} is {bounds[keyword]} {expected}"
    if keyword == "minItems":
        return f"has {len(value)} items: at least {expected} are needed"
    if keyword == "maxItems":
        return f"has {len(value)} items: at most {expected} are allowed"
    return str(fallback)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def json_pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901: each part after a '/', with '~' and '/' escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def refuse(problems: Sequence[Problem], *, pointer: str) -> NoReturn:
    """Raise one ValidationError for ``problems`` (at least one): the first as ``detail`` and
    ``field``, up to twenty in ``errors``; each message starts with its pointer."""
    entries = []
    for path, text in problems[:MAX_LISTED_ERRORS]:
        where = pointer + json_pointer(path)
        entries.append({"field": where, "message": f"{where}: {text}" if where else text})
    first = entries[0]
    raise ValidationError(first["message"], field=first["field"], errors=entries)
