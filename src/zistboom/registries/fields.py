"""A registry schema's fields: the twelve kinds a field can be, and :class:`Field`, one parsed
field with the registry's flags. The rules they are parsed by are
:mod:`zistboom.registries.field_rules`'s."""

from __future__ import annotations

import dataclasses
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

Kind = Literal[
    "text",
    "number",
    "integer",
    "boolean",
    "date",
    "date-time",
    "time",
    "file",
    "code-list",
    "geo-point",
    "array",
    "object",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

MAX_TEXT_LENGTH: Final = 10_000
MAX_ITEMS: Final = 1000
DEFAULT_MAX_BYTES: Final = 1024 * 1024
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
# Python's own table only (no /etc/mime.types), so every machine derives the same extensions.
_MEDIA_TYPES: Final = mimetypes.MimeTypes(filenames=())

KEY_KINDS: Final[frozenset[Kind]] = frozenset({"text", "integer"})
UNIQUE_KINDS: Final[frozenset[Kind]] = frozenset({"text", "integer", "date"})
SEARCHABLE_KINDS: Final[frozenset[Kind]] = frozenset(
    {"text", "number", "integer", "boolean", "date", "date-time", "time", "code-list"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One field of a registry schema, at any depth.

    ``path`` is dotted from the top (``owners.share``); an array's ``items`` carry the array's
    own name and path, so ``owners.share`` is the share of every owner.
    """

    name: str
    path: str
    kind: Kind
    required: bool = False
    key: bool = False
    unique: bool = False
    searchable: bool = False
    personal: bool = False
    subject: Literal[True] | str | None = None
    subject_kind: str | None = None
    default: Any = None
    has_default: bool = False
    code_list: Mapping[str, Mapping[str, str]] | None = None
    media_type: str | None = None
    max_bytes: int | None = None
    items: Field | None = None
    properties: tuple[Field, ...] = ()
    fragment: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def file_extension(self) -> str | None:
        """The extension ``read-value`` serves a file field's bytes under (``jpg``, ``pdf``)."""
        if self.media_type is None:
            return None
        extension = _MEDIA_TYPES.guess_extension(self.media_type)
        return extension.lstrip(".") if extension else "bin"
