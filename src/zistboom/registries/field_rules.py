"""The registry schema subset, field by field: which keywords each of the twelve kinds takes,
where the flags may go, and a refusal naming the JSON pointer of every keyword outside it.

:func:`parse_properties` parses the fields of one object (the top level or a nested one) and
collects its refusals in :class:`Refusals`, so that one answer lists them all.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from zistboom.registries.fields import (
    DEFAULT_MAX_BYTES,
    KEY_KINDS,
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_TEXT_LENGTH,
    SEARCHABLE_KINDS,
    UNIQUE_KINDS,
    Field,
    Kind,
)
from zistboom.registries.validation import Path, Problem, json_pointer, shown, value_problems

FIELD_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,62}")
MAX_DEPTH: Final = 8  # nested objects and arrays below a top-level field
_MEDIA_TYPE: Final = re.compile(
    r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
)
_GENERIC: Final = frozenset(
    {"title", "description", "default", "examples", "x-title-en", "x-title-fa"}
)
_FLAGS: Final = ("x-key", "x-unique", "x-searchable", "x-personal", "x-subject", "x-subject-kind")
SUBJECT_KINDS: Final = ("national-code", "legal-entity", "foreign-national")
_BOUNDS: Final = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_KIND_KEYWORDS: Final[Mapping[Kind, frozenset[str]]] = {
    "text": frozenset({"type", "minLength", "maxLength", "pattern"}),
    "number": frozenset({"type"}) | _BOUNDS,
    "integer": frozenset({"type"}) | _BOUNDS,
    "boolean": frozenset({"type"}),
    "date": frozenset({"type", "format"}),
    "date-time": frozenset({"type", "format"}),
    "time": frozenset({"type", "format"}),
    "file": frozenset({"type", "contentEncoding", "contentMediaType", "x-max-bytes"}),
    "code-list": frozenset({"type", "enum", "x-code-list"}),
    "geo-point": frozenset(
        {"type", "x-geo-point", "properties", "required", "additionalProperties"}
    ),
    "array": frozenset({"type", "items", "minItems", "maxItems"}),
    "object": frozenset({"type", "properties", "required", "additionalProperties"}),
}
_ANY_KIND: Final = frozenset().union(*_KIND_KEYWORDS.values())
_GEO_BOUNDS: Final = {"lat": (-90, 90), "lon": (-180, 180)}
_TYPES: Final = ("string", "number", "integer", "boolean", "object", "array")
_TYPE_KINDS: Final[Mapping[str, Kind]] = {
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "array": "array",
}
_FORMAT_KINDS: Final[Mapping[str, Kind]] = {
    "date": "date",
    "date-time": "date-time",
    "time": "time",
}
_OUTSIDE_SUBSET: Final = (
    "is outside the registry schema subset (no $ref, $defs, allOf, anyOf, oneOf, not, "
    "if/then/else, const, patternProperties or dependent keywords): describe the field with "
    "one of the twelve kinds"
)


class Refusals:
    """Every refusal found in one document, so that one answer lists them all."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, pointer: Path, message: str) -> None:
        self.found.append((pointer, message))


def check_closed(fragment: Mapping[str, Any], pointer: Path, refusals: Refusals) -> None:
    if fragment.get("additionalProperties", False) is not False:
        refusals.add(
            (*pointer, "additionalProperties"),
            "additionalProperties must be false (or absent, which means false): a record holds "
            "only the fields its schema names",
        )


def check_texts(
    fragment: Mapping[str, Any], pointer: Path, keywords: Sequence[str], refusals: Refusals
) -> None:
    for keyword in keywords:
        if keyword in fragment and not isinstance(fragment[keyword], str):
            refusals.add(
                (*pointer, keyword), f"{keyword} is a string, not {shown(fragment[keyword])}"
            )


def required_names(
    fragment: Mapping[str, Any], properties: Mapping[str, Any], pointer: Path, refusals: Refusals
) -> frozenset[str]:
    value = fragment.get("required", [])
    if not isinstance(value, list):
        refusals.add((*pointer, "required"), "required is an array of field names")
        return frozenset()
    names: set[str] = set()
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in properties:
            refusals.add(
                (*pointer, "required", index),
                f"{shown(name)} is not one of the properties ({', '.join(properties)})",
            )
        elif name in names:
            refusals.add((*pointer, "required", index), f"{name!r} is listed twice")
        else:
            names.add(name)
    return frozenset(names)


def parse_properties(
    properties: Mapping[str, Any],
    required: frozenset[str],
    pointer: Path,
    path: str,
    refusals: Refusals,
    *,
    depth: int,
    top: bool,
) -> tuple[Field, ...]:
    fields = []
    for name, fragment in properties.items():
        where = (*pointer, "properties", name)
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            refusals.add(
                where,
                f"field name {name!r} is not allowed: a lower-case letter, then up to 62 "
                "lower-case letters, digits or '_' (^[a-z][a-z0-9_]{0,62}$)",
            )
            continue
        field = _parse_field(
            name,
            fragment,
            where,
            f"{path}.{name}" if path else name,
            refusals,
            required=name in required,
            depth=depth,
            top=top,
        )
        if field is not None:
            fields.append(field)
    return tuple(fields)


def _parse_field(
    name: str,
    fragment: object,
    pointer: Path,
    path: str,
    refusals: Refusals,
    *,
    required: bool,
    depth: int,
    top: bool,
) -> Field | None:
    if not isinstance(fragment, dict):
        refusals.add(pointer, f"a field is described by a JSON object, not {shown(fragment)}")
        return None
    if depth > MAX_DEPTH:
        refusals.add(pointer, f"fields nest at most {MAX_DEPTH} levels below a top-level field")
        return None
    kind = _kind_of(fragment, pointer, refusals)
    if kind is None:  # still name the keywords no kind takes ($ref, oneOf ...)
        _check_keywords(fragment, None, pointer, refusals, top=top)
        return None
    before = len(refusals.found)
    _check_keywords(fragment, kind, pointer, refusals, top=top)
    check_texts(fragment, pointer, ("title", "description", "x-title-en", "x-title-fa"), refusals)
    parts = _KindParser(name, fragment, pointer, path, refusals, depth).parse(kind)
    field = Field(
        name=name,
        path=path,
        kind=kind,
        required=required,
        default=fragment.get("default"),
        has_default="default" in fragment,
        fragment=fragment,
        **parts,
    )
    if top:
        field = _with_flags(field, refusals)
    if len(refusals.found) == before:
        _check_values(field, pointer, refusals)
    return field


def _kind_of(fragment: Mapping[str, Any], pointer: Path, refusals: Refusals) -> Kind | None:
    if "type" not in fragment:
        refusals.add(pointer, f"a field needs a type: one of {', '.join(_TYPES)}")
        return None
    kind = fragment["type"]
    if isinstance(kind, list):
        refusals.add(
            (*pointer, "type"), f"type lists are not allowed: give one of {', '.join(_TYPES)}"
        )
        return None
    if kind not in _TYPES:
        refusals.add((*pointer, "type"), f"type {shown(kind)} is not one of {', '.join(_TYPES)}")
        return None
    if kind == "string":
        if "format" in fragment:
            format_ = fragment["format"]
            if not isinstance(format_, str) or format_ not in _FORMAT_KINDS:
                refusals.add(
                    (*pointer, "format"),
                    f"format {shown(format_)} is not supported: date, date-time or time (for "
                    "other shapes give a text field a pattern)",
                )
                return None
            return _FORMAT_KINDS[format_]
        if "contentEncoding" in fragment or "contentMediaType" in fragment:
            return "file"
        if "enum" in fragment or "x-code-list" in fragment:
            return "code-list"
        return "text"
    if kind == "object":
        return "geo-point" if "x-geo-point" in fragment else "object"
    return _TYPE_KINDS[kind]


def _check_keywords(
    fragment: Mapping[str, Any], kind: Kind | None, pointer: Path, refusals: Refusals, *, top: bool
) -> None:
    """Refuse the keywords ``kind`` does not take (with no kind: those no kind takes)."""
    own = _KIND_KEYWORDS[kind] if kind is not None else _ANY_KIND
    allowed = _GENERIC | own | (frozenset(_FLAGS) if top else frozenset())
    for keyword in fragment:
        if keyword in allowed:
            continue
        if keyword in _FLAGS:
            reason = f"{keyword} is allowed on top-level fields only"
        elif kind is not None and keyword in _ANY_KIND:
            reason = (
                f"{keyword!r} does not apply to a {kind} field (it takes "
                f"{', '.join(sorted(_KIND_KEYWORDS[kind] - {'type'})) or 'no other keyword'})"
            )
        elif keyword.startswith("x-"):
            known = sorted(
                {*_FLAGS, "x-code-list", "x-geo-point", "x-max-bytes", "x-title-en", "x-title-fa"}
            )
            reason = (
                f"unknown extension keyword {keyword!r} (the registry's are {', '.join(known)})"
            )
        else:
            reason = f"{keyword!r} {_OUTSIDE_SUBSET}"
        refusals.add((*pointer, keyword), reason)


class _KindParser:
    """The checks of one field's own kind; returns the Field attributes they determine."""

    def __init__(
        self,
        name: str,
        fragment: dict[str, Any],
        pointer: Path,
        path: str,
        refusals: Refusals,
        depth: int,
    ) -> None:
        self.name, self.fragment, self.pointer, self.path = name, fragment, pointer, path
        self.refusals, self.depth = refusals, depth

    def refuse(self, keyword: str | None, message: str) -> None:
        where = self.pointer if keyword is None else (*self.pointer, keyword)
        self.refusals.add(where, message)

    def parse(self, kind: Kind) -> dict[str, Any]:
        if kind == "text":
            self.lengths("minLength", "maxLength", MAX_TEXT_LENGTH)
            self.pattern()
        elif kind in ("number", "integer"):
            self.bounds()
        elif kind == "file":
            return self.file()
        elif kind == "code-list":
            return {"code_list": self.code_list()}
        elif kind == "geo-point":
            return {"properties": self.geo_point()}
        elif kind == "array":
            self.lengths("minItems", "maxItems", MAX_ITEMS)
            return {"items": self.items()}
        elif kind == "object":
            return {"properties": self.object()}
        return {}

    def count(self, keyword: str) -> int | None:
        value = self.fragment.get(keyword)
        if keyword in self.fragment and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            self.refuse(keyword, f"{keyword} is a whole number ≥ 0, not {shown(value)}")
            return None
        return value

    def lengths(self, low: str, high: str, bound: int) -> None:
        least, most = self.count(low), self.count(high)
        if most is not None and most > bound:
            self.refuse(high, f"{high} {most} is above the bound {bound}")
        if least is not None and most is not None and least > most:
            self.refuse(low, f"{low} {least} is greater than {high} {most}: no value would do")

    def pattern(self) -> None:
        if "pattern" not in self.fragment:
            return
        pattern = self.fragment["pattern"]
        if not isinstance(pattern, str):
            self.refuse("pattern", f"pattern is a regular expression string, not {shown(pattern)}")
            return
        try:
            re.compile(pattern, re.ASCII)
        except re.error as err:
            self.refuse("pattern", f"pattern {pattern!r} is not a valid regular expression: {err}")

    def bounds(self) -> None:
        values: dict[str, float] = {}
        for keyword in sorted(_BOUNDS & self.fragment.keys()):
            value = self.fragment[keyword]
            if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
                self.refuse(keyword, f"{keyword} is a number, not {shown(value)}")
            elif abs(value) == float("inf"):
                self.refuse(keyword, f"{keyword} is a finite number")
            else:
                values[keyword] = value
        lows = [(values[k], k) for k in ("minimum", "exclusiveMinimum") if k in values]
        highs = [(values[k], k) for k in ("maximum", "exclusiveMaximum") if k in values]
        for low, low_keyword in lows:
            for high, high_keyword in highs:
                empty = low > high or (low == high and "exclusive" in low_keyword + high_keyword)
                if empty:
                    self.refuse(
                        low_keyword,
                        f"{low_keyword} {low} and {high_keyword} {high} leave no valid value",
                    )

    def file(self) -> dict[str, Any]:
        encoding = self.fragment.get("contentEncoding")
        if encoding is None:
            self.refuse(
                None, "a file field needs contentEncoding 'base64' with its contentMediaType"
            )
        elif encoding != "base64":
            self.refuse("contentEncoding", f"contentEncoding is 'base64', not {shown(encoding)}")
        media_type = self.fragment.get("contentMediaType")
        if media_type is None:
            self.refuse(
                None, "a file field needs contentMediaType, e.g. image/jpeg or application/pdf"
            )
        elif not isinstance(media_type, str) or not _MEDIA_TYPE.fullmatch(media_type):
            self.refuse(
                "contentMediaType",
                f"{shown(media_type)} is not a media type: type/subtype in lower case, without "
                "parameters, e.g. image/jpeg",
            )
            media_type = None
        max_bytes = self.fragment.get("x-max-bytes", DEFAULT_MAX_BYTES)
        if (
            not isinstance(max_bytes, int)
            or isinstance(max_bytes, bool)
            or not (1 <= max_bytes <= MAX_FILE_BYTES)
        ):
            self.refuse("x-max-bytes", f"x-max-bytes is a whole number from 1 to {MAX_FILE_BYTES}")
            max_bytes = DEFAULT_MAX_BYTES
        return {"media_type": media_type, "max_bytes": max_bytes}

    def code_list(self) -> dict[str, dict[str, str]]:
        codes = self.fragment.get("enum")
        if not isinstance(codes, list) or not codes:
            self.refuse("enum", "a code list's enum is a non-empty array of codes (strings)")
            codes = []
        seen: list[str] = []
        for index, code in enumerate(codes):
            where = (*self.pointer, "enum", index)
            if not isinstance(code, str) or not code:
                self.refusals.add(where, f"a code is a non-empty string, not {shown(code)}")
            elif code in seen:
                self.refusals.add(where, f"code {code!r} is listed twice")
            else:
                seen.append(code)
        labels = self.fragment.get("x-code-list")
        if not isinstance(labels, dict):
            self.refuse(
                "x-code-list" if "x-code-list" in self.fragment else None,
                "a code list needs x-code-list: an object giving each code its fa and en labels",
            )
            return {}
        where = (*self.pointer, "x-code-list")
        for code in (code for code in seen if code not in labels):
            self.refusals.add((*where, code), f"code {code!r} has no label: give it fa and en")
        result: dict[str, dict[str, str]] = {}
        for code, label in labels.items():
            if code not in seen:
                self.refusals.add((*where, code), f"{code!r} has a label but is not in enum")
            elif not isinstance(label, dict) or set(label) != {"fa", "en"}:
                self.refusals.add((*where, code), 'a label is {"fa": "…", "en": "…"}, both given')
            elif not all(isinstance(text, str) and text.strip() for text in label.values()):
                self.refusals.add((*where, code), "the fa and en labels are non-empty strings")
            else:
                result[code] = dict(label)
        return result

    def nested(self, keyword: str, properties: object) -> tuple[Field, ...]:
        if not isinstance(properties, dict) or not properties:
            self.refuse(keyword, "properties is a non-empty object of fields")
            return ()
        required = required_names(self.fragment, properties, self.pointer, self.refusals)
        check_closed(self.fragment, self.pointer, self.refusals)
        return parse_properties(
            properties,
            required,
            self.pointer,
            self.path,
            self.refusals,
            depth=self.depth + 1,
            top=False,
        )

    def object(self) -> tuple[Field, ...]:
        if "properties" not in self.fragment:
            self.refuse(None, "an object field needs properties: its fields, at least one")
            return ()
        return self.nested("properties", self.fragment["properties"])

    def geo_point(self) -> tuple[Field, ...]:
        if self.fragment["x-geo-point"] is not True:
            self.refuse("x-geo-point", "x-geo-point is true (leave it out for a plain object)")
        properties = self.fragment.get("properties")
        if not isinstance(properties, dict) or set(properties) != {"lat", "lon"}:
            self.refuse("properties", "a geo-point has exactly the properties lat and lon")
            return ()
        if self.fragment.get("required") not in (["lat", "lon"], ["lon", "lat"]):
            self.refuse("required", 'a geo-point requires both: "required": ["lat", "lon"]')
        fields = self.nested("properties", properties)
        for field in fields:
            low, high = _GEO_BOUNDS[field.name]
            exact = field.fragment.get("minimum") == low and field.fragment.get("maximum") == high
            if (
                field.kind != "number"
                or not exact
                or _BOUNDS & field.fragment.keys() - {"minimum", "maximum"}
            ):
                self.refusals.add(
                    (*self.pointer, "properties", field.name),
                    f'{field.name} is {{"type": "number", "minimum": {low}, "maximum": {high}}}',
                )
        return fields

    def items(self) -> Field | None:
        if "items" not in self.fragment:
            self.refuse(None, "an array field needs items: the schema of each element")
            return None
        return _parse_field(
            self.name,
            self.fragment["items"],
            (*self.pointer, "items"),
            self.path,
            self.refusals,
            required=False,
            depth=self.depth + 1,
            top=False,
        )


def _flag(field: Field, keyword: str, refusals: Refusals, pointer: Path) -> bool:
    value = field.fragment.get(keyword, False)
    if not isinstance(value, bool):
        refusals.add((*pointer, keyword), f"{keyword} is true or false, not {shown(value)}")
        return False
    return value


def _with_flags(field: Field, refusals: Refusals) -> Field:
    pointer: Path = ("properties", field.name)
    key, unique, searchable, personal = (
        _flag(field, keyword, refusals, pointer) for keyword in _FLAGS[:4]
    )
    kinds = ", ".join(sorted(SEARCHABLE_KINDS))
    if key and field.kind not in KEY_KINDS:
        refusals.add((*pointer, "x-key"), f"the key is a text or integer field, not {field.kind}")
    if key and field.has_default:
        refusals.add((*pointer, "default"), "the key has no default: each record names its own")
    if unique and field.kind not in UNIQUE_KINDS:
        refusals.add(
            (*pointer, "x-unique"), f"x-unique goes on text, integer or date, not {field.kind}"
        )
    if searchable and field.kind not in SEARCHABLE_KINDS:
        refusals.add(
            (*pointer, "x-searchable"), f"a {field.kind} field cannot be searched ({kinds} can)"
        )
    return dataclasses.replace(
        field,
        required=field.required or key,
        key=key,
        unique=unique or key,
        searchable=searchable,
        personal=personal,
        subject=_subject(field, refusals, (*pointer, "x-subject")),
        subject_kind=_subject_kind(field, refusals, (*pointer, "x-subject-kind")),
    )


def _subject_kind(field: Field, refusals: Refusals, pointer: Path) -> str | None:
    """What the subject IDs are: without it, a 10-digit value is a national code and an
    11-digit one a legal-entity ID; any other is typed by nobody (no usage list shows it)."""
    value = field.fragment.get("x-subject-kind")
    if value is None:
        return None
    if "x-subject" not in field.fragment:
        refusals.add(pointer, "x-subject-kind goes with x-subject")
        return None
    if value not in SUBJECT_KINDS:
        refusals.add(pointer, f"x-subject-kind is one of {', '.join(SUBJECT_KINDS)}")
        return None
    return str(value)


def _subject(field: Field, refusals: Refusals, pointer: Path) -> Literal[True] | str | None:
    value = field.fragment.get("x-subject", False)
    if value is False:
        return None
    items = field.items
    if field.kind == "text" or (items is not None and items.kind == "text"):
        if value is not True:
            refusals.add(
                pointer,
                f"on a text field or an array of text, x-subject is true, not {shown(value)}",
            )
            return None
        return True
    if items is not None and items.kind == "object":
        names = {sub.name: sub for sub in items.properties}
        if not isinstance(value, str):
            refusals.add(
                pointer,
                "on an array of objects, x-subject names the sub-field holding the ID, e.g. "
                f'"national_code" (one of {", ".join(names)})',
            )
            return None
        if value not in names or names[value].kind != "text":
            refusals.add(
                pointer, f"{value!r} is not a text field of the items ({', '.join(names)})"
            )
            return None
        return value
    refusals.add(pointer, "x-subject goes on a text field, an array of text or an array of objects")
    return None


def _check_values(field: Field, pointer: Path, refusals: Refusals) -> None:
    values: list[tuple[Path, object]] = []
    if field.has_default:
        values.append((("default",), field.default))
    examples = field.fragment.get("examples", [])
    if not isinstance(examples, list):
        refusals.add((*pointer, "examples"), "examples is an array of values")
    else:
        values.extend((("examples", index), example) for index, example in enumerate(examples))
    for where, value in values:
        for path, message in value_problems(field, value)[:1]:
            inside = f"{json_pointer(path)}: " if path else ""
            what = "the default" if where == ("default",) else f"example {where[1]}"
            refusals.add(
                (*pointer, *where), f"{what} is not valid for the field: {inside}{message}"
            )
