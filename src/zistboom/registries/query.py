"""The Data API's list query (ZB-STD-006 §8): search, filters, ordering, field selection and
keyset paging, parsed from the query string and checked against the version's schema.

The same :class:`ListQuery` is compiled to SQL by ``repository.py`` and evaluated in Python by
:meth:`ListQuery.matches` (for ``asOf`` lists, read from the change log); the tests hold the
two to the same answers.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final, Literal

import orjson

from zistboom.core.errors import ValidationError
from zistboom.registries.schema import Field, RegistrySchema, match_form

Operator = Literal["eq", "prefix", "gte", "gt", "lte", "lt", "in"]
OPERATORS: tuple[Operator, ...] = ("eq", "prefix", "gte", "gt", "lte", "lt", "in")
RANGE_KINDS = frozenset({"number", "integer", "date", "date-time", "time"})
TERM_KINDS = frozenset(
    {"text", "number", "integer", "boolean", "date", "date-time", "time", "code-list"}
)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_IN_VALUES = 100
MAX_FILTERS = 20
EXACT_COUNT_LIMIT = 10_000
INTEGER_LIMIT = 2**63 - 1  # SQLite's INTEGER, PostgreSQL's bigint
_QUERY_PARAMETER = re.compile(r"query\.([a-z][a-z0-9_]{0,62})(?:\.([a-z]+))?")
_KNOWN = frozenset({"search", "filter", "ordering", "page_size", "cursor", "asOf", "page"})

Term = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: Operator
    values: tuple[Term, ...]
    """One value, or several for ``in``."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: after (or, for ``previous``, before) the row with this order value
    and key."""

    direction: Literal["after", "before"]
    value: Term
    key: str

    def encode(self) -> str:
        raw = orjson.dumps([self.direction[0], self.value, self.key])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            direction, value, key = orjson.loads(raw)
        except (binascii.Error, ValueError, TypeError) as error:
            raise ValidationError(
                "cursor is not one this registry gave: use the next or previous link as it is",
                field="cursor",
            ) from error
        if direction not in ("a", "b") or not isinstance(key, str):
            raise ValidationError("cursor is not one this registry gave", field="cursor")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValidationError("cursor is not one this registry gave", field="cursor")
        return cls("after" if direction == "a" else "before", value, key)


@dataclass(frozen=True, slots=True)
class ListQuery:
    conditions: tuple[Condition, ...] = ()
    search: str | None = None
    """Match form of the ``search`` text: a prefix of any searchable text field."""
    search_fields: tuple[str, ...] = ()
    order_field: str | None = None
    """None orders by the key."""
    descending: bool = False
    selected: tuple[str, ...] | None = None
    """Fields to return (``filter``); None returns every field of the version."""
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None
    as_of: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def order_value(self, key: str, terms: Mapping[str, Any]) -> Term:
        if self.order_field is None:
            return key
        value: Term = terms.get(self.order_field)
        return value

    def matches(self, terms: Mapping[str, Any]) -> bool:
        """Whether a record with these terms answers the query (cursor aside)."""
        for condition in self.conditions:
            value = terms.get(condition.field)
            if not _holds(condition, value):
                return False
        if self.search is not None:
            return any(
                isinstance(terms.get(name), str) and terms[name].startswith(self.search)
                for name in self.search_fields
            )
        return True


def _holds(condition: Condition, value: Any) -> bool:
    if value is None:
        return False
    wanted = condition.values
    if condition.operator == "eq":
        return bool(value == wanted[0])
    if condition.operator == "in":
        return value in wanted
    if condition.operator == "prefix":
        return isinstance(value, str) and value.startswith(str(wanted[0]))
    bound = wanted[0]
    assert bound is not None
    if condition.operator == "gte":
        return bool(value >= bound)
    if condition.operator == "gt":
        return bool(value > bound)
    if condition.operator == "lte":
        return bool(value <= bound)
    return bool(value < bound)


def term(field_: Field, value: Any) -> Term:
    """The comparable form of a stored value (``records.terms``)."""
    if value is None:
        return None
    if field_.key:
        return str(value)  # the key is compared exactly, as records.key holds it
    if field_.kind == "text":
        return match_form(str(value))
    if field_.kind == "date-time":
        return _utc(datetime.fromisoformat(str(value).upper().replace("Z", "+00:00")))
    if field_.kind == "time":
        return _time(str(value))
    if field_.kind in ("number",) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str | int | float | bool):
        return value
    return None


def terms_of(schema: RegistrySchema, content: Mapping[str, Any]) -> dict[str, Term]:
    """Terms of every key, unique and searchable field present in ``content``."""
    terms: dict[str, Term] = {}
    for field_ in schema.fields:
        wanted = (field_.key or field_.unique or field_.searchable) and field_.kind in TERM_KINDS
        if wanted and field_.name in content:
            terms[field_.name] = term(field_, content[field_.name])
    return terms


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time(text: str) -> str:
    """A time with its offset, in one comparable form (UTC, microseconds)."""
    parsed = time.fromisoformat(text.upper().replace("Z", "+00:00"))
    if parsed.utcoffset() is None:
        raise ValueError("a time needs its offset, e.g. 08:30:00+03:30 or 05:00:00Z")
    moment = datetime.combine(date(2000, 1, 1), parsed).astimezone(UTC)
    return moment.time().isoformat(timespec="microseconds")


# Filter values exactly as stored values are written (RFC 3339, JSON numbers, ASCII digits):
# Python's parsers alone would also take "1_000", "٥", "nan", week dates and basic formats.
_SECONDS = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
_OFFSET = r"([zZ]|[+-][0-9]{2}:[0-9]{2})"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_STRICT: Final = {
    "integer": re.compile(r"-?[0-9]+"),
    "number": re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
    "date": re.compile(_DATE),
    "time": re.compile(_SECONDS + _OFFSET),
    "date-time": re.compile(_DATE + "[tT]" + _SECONDS + _OFFSET),
}
_SHAPES: Final = {
    "integer": "digits, with an optional minus sign",
    "number": "a JSON number, such as -12.5 or 1e3",
    "date": "YYYY-MM-DD",
    "time": "HH:MM:SS with its offset, such as 08:30:00+03:30",
    "date-time": "RFC 3339, such as 2026-01-01T08:30:00+03:30",
}


def _strict(kind: str, text: str) -> None:
    pattern = _STRICT.get(kind)
    if pattern is not None and not pattern.fullmatch(text):
        raise ValueError(f"write it as {_SHAPES[kind]}")


def parse_value(field_: Field, text: str, *, parameter: str) -> Term:
    """A filter value from the query string, in its comparable form."""
    try:
        value = _parse_value(field_, text)
        _strict(field_.kind, text)
        return value
    except ValueError as error:
        raise ValidationError(
            f"{parameter}: {text!r} is not a valid {field_.kind} ({error})", field=parameter
        ) from error


def _parse_value(field_: Field, text: str) -> Term:
    if field_.key:
        return str(int(text)) if field_.kind == "integer" else text
    if field_.kind == "text":
        return match_form(text)
    if field_.kind == "integer":
        number = int(text)
        if abs(number) > INTEGER_LIMIT:
            raise ValueError(f"out of range: at most {INTEGER_LIMIT} either side of zero")
        return number
    if field_.kind == "number":
        return float(text)
    if field_.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("not true or false")
        return text == "true"
    if field_.kind == "date":
        return date.fromisoformat(text).isoformat()
    if field_.kind == "time":
        return _time(text)
    if field_.kind == "date-time":
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("a date-time needs its offset, e.g. 2026-01-01T08:30:00+03:30")
        return _utc(moment)
    if field_.kind == "code-list":
        if field_.code_list and text not in field_.code_list:
            raise ValueError(f"not one of {', '.join(sorted(field_.code_list))}")
        return text
    raise ValueError(f"{field_.name} cannot be filtered on")


def _allowed_operators(field_: Field) -> tuple[Operator, ...]:
    if field_.kind == "text":
        return ("eq", "prefix", "in")
    if field_.kind in RANGE_KINDS:
        return ("eq", "gte", "gt", "lte", "lt", "in")
    if field_.kind == "code-list":
        return ("eq", "in")
    return ("eq",)


def filterable(schema: RegistrySchema) -> dict[str, Field]:
    """Fields a list may filter and order on: the key and the searchable fields."""
    return {f.name: f for f in schema.fields if (f.key or f.searchable) and f.kind in TERM_KINDS}


def parse_list_query(schema: RegistrySchema, parameters: Sequence[tuple[str, str]]) -> ListQuery:
    """Parse and check the list parameters; every refusal names the parameter."""
    usable = filterable(schema)
    conditions: list[Condition] = []
    single: dict[str, str] = {}
    for name, value in parameters:
        matched = _QUERY_PARAMETER.fullmatch(name)
        if matched is None:
            if name not in _KNOWN:
                raise ValidationError(
                    f"unknown parameter {name!r}: use search, filter, ordering, page_size, "
                    "cursor, asOf or query.<field>[.<operator>]",
                    field=name,
                )
            if name in single:
                raise ValidationError(f"{name} is given more than once", field=name)
            single[name] = value
            continue
        field_name, operator = matched.group(1), matched.group(2) or "eq"
        field_ = usable.get(field_name)
        if field_ is None:
            raise ValidationError(
                f"{name}: {field_name!r} is not a searchable field of this version "
                f"(searchable: {', '.join(sorted(usable))})",
                field=name,
            )
        if operator not in _allowed_operators(field_):
            raise ValidationError(
                f"{name}: operator {operator!r} does not apply to a {field_.kind} field "
                f"(allowed: {', '.join(_allowed_operators(field_))})",
                field=name,
            )
        if operator == "in":
            parts = value.split(",")
            if len(parts) > MAX_IN_VALUES:
                raise ValidationError(f"{name}: at most {MAX_IN_VALUES} values", field=name)
            values = tuple(parse_value(field_, part, parameter=name) for part in parts)
        else:
            values = (parse_value(field_, value, parameter=name),)
            if operator == "prefix" and values[0] == "":
                raise ValidationError(f"{name}: an empty prefix matches everything", field=name)
        conditions.append(Condition(field_name, operator, values))
    if len(conditions) > MAX_FILTERS:
        raise ValidationError(f"at most {MAX_FILTERS} query.* conditions", field="query")
    if "page" in single and single["page"] != "1":
        raise ValidationError(
            "page numbers are not supported past the first page: follow the next link "
            "(keyset paging, ZB-STD-006 §8.5)",
            field="page",
        )
    search = None
    search_fields = tuple(n for n, f in usable.items() if f.kind == "text")
    if "search" in single:
        search = match_form(single["search"])
        if not search:
            raise ValidationError("search is empty", field="search")
        if not search_fields:
            raise ValidationError("this version has no searchable text field", field="search")
    order_field, descending = None, False
    if "ordering" in single:
        text = single["ordering"]
        descending = text.startswith("-")
        name = text[1:] if descending else text
        if name not in usable:
            raise ValidationError(
                f"ordering: {name!r} is not the key or a searchable field "
                f"(use one of {', '.join(sorted(usable))}, with '-' for descending)",
                field="ordering",
            )
        order_field = None if usable[name].key else name
    selected = None
    if "filter" in single:
        names = tuple(n.strip() for n in single["filter"].split(",") if n.strip())
        known = {f.name for f in schema.fields}
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise ValidationError(
                f"filter: {', '.join(unknown) or 'nothing'} is not a field of this version",
                field="filter",
            )
        selected = names
    page_size = DEFAULT_PAGE_SIZE
    if "page_size" in single:
        try:
            page_size = int(single["page_size"])
        except ValueError:
            page_size = 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}", field="page_size"
            )
    cursor = Cursor.decode(single["cursor"]) if "cursor" in single else None
    as_of = parse_as_of(single["asOf"]) if "asOf" in single else None
    return ListQuery(
        conditions=tuple(conditions),
        search=search,
        search_fields=search_fields,
        order_field=order_field,
        descending=descending,
        selected=selected,
        page_size=page_size,
        cursor=cursor,
        as_of=as_of,
    )


def parse_as_of(text: str, *, field: str = "asOf") -> datetime:
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            _strict("date-time", text)
    except ValueError as error:
        raise ValidationError(
            f"{field}: {text!r} is not an RFC 3339 date-time (2026-12-01T10:00:00Z)", field=field
        ) from error
    if moment.tzinfo is None:
        raise ValidationError(f"{field} needs a time zone offset or Z", field=field)
    return moment.astimezone(UTC)
