"""Registry schema documents shared by the registry tests: the contract's own example, and a
minimal schema to put one field under test in."""

from __future__ import annotations

import copy
from typing import Any

_PERSON: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Persons",
    "type": "object",
    "properties": {
        "national_code": {
            "type": "string",
            "pattern": "^[0-9]{10}$",
            "x-key": True,
            "x-subject": True,
            "x-personal": True,
            "title": "کد ملی",
            "description": "National code",
        },
        "family_name_fa": {
            "type": "string",
            "maxLength": 100,
            "x-searchable": True,
            "x-personal": True,
        },
        "birth_date": {"type": "string", "format": "date", "x-searchable": True},
        "sex": {
            "type": "string",
            "enum": ["F", "M"],
            "x-code-list": {"F": {"fa": "زن", "en": "Female"}, "M": {"fa": "مرد", "en": "Male"}},
        },
        "height_cm": {"type": "integer", "minimum": 0},
        "alive": {"type": "boolean", "default": True},
        "photo": {
            "type": "string",
            "contentEncoding": "base64",
            "contentMediaType": "image/jpeg",
            "x-max-bytes": 64,
        },
        "location": {
            "type": "object",
            "x-geo-point": True,
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "required": ["lat", "lon"],
            "additionalProperties": False,
        },
        "owners": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "national_code": {"type": "string", "pattern": "^[0-9]{10}$"},
                    "share": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["national_code"],
            },
            "maxItems": 50,
            "x-subject": "national_code",
        },
        "registered_at": {"type": "string", "format": "date-time", "x-searchable": True},
        "opens_at": {"type": "string", "format": "time"},
    },
    "required": ["national_code", "family_name_fa"],
    "additionalProperties": False,
}


def person_document() -> dict[str, Any]:
    """The contract's example schema (with its owners' items spelled out), a fresh copy."""
    return copy.deepcopy(_PERSON)


def one_field_document(name: str, fragment: Any, **top: Any) -> dict[str, Any]:
    """A schema whose key is the text field ``id`` and which has one more field."""
    return {
        "type": "object",
        "properties": {"id": {"type": "string", "x-key": True}, name: fragment},
        **top,
    }


def person_record() -> dict[str, Any]:
    """A valid record of :func:`person_document`."""
    return {
        "national_code": "0012345678",
        "family_name_fa": "احمدی",
        "birth_date": "1990-03-21",
        "sex": "F",
        "height_cm": 170,
        "photo": "aGVsbG8=",
        "location": {"lat": 35.7, "lon": 51.4},
        "owners": [{"national_code": "1111111111", "share": 0.5}],
        "registered_at": "2025-03-21T08:30:00+03:30",
        "opens_at": "08:00:00Z",
    }
