"""A request's target: who asks (as the gateway vouches), the published version asked for, and
the records a query body names. Shared by reading and writing."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from zistboom.registries import repository
from zistboom.registries.history import Author
from zistboom.registries.models import Registry, RegistryVersion
from zistboom.registries.query import (
    Term,
    filterable,
    parse_value,
    terms_of,
)
from zistboom.registries.schema import Field, RegistrySchema, parse_schema
from zistboom.registries.validation import json_pointer

# --- who is asking ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller as the registry's own gateway vouches for it (X-Road-* headers)."""

    client: str
    """``X-Road-Client``: the client subsystem (or member)."""
    member: str
    user_id: str | None = None
    purpose: str | None = None
    message_id: str | None = None

    @property
    def author(self) -> Author:
        return Author(self.client, self.user_id, self.message_id)


# --- parsed schemas --------------------------------------------------------------------------


class Schemas:
    """Parsed schemas by version row: published versions never change, so a parsed schema
    (with its compiled validator) is kept for the life of the process. Resolved targets are
    kept for ``TARGET_SECONDS``: a version published by another process (the CLI, another
    replica) is served within that time, one published through this process at once."""

    TARGET_SECONDS = 2.0

    def __init__(self) -> None:
        self._parsed: dict[int, RegistrySchema] = {}
        self._targets: dict[tuple[str, str], tuple[float, Target]] = {}

    def target(self, code: str, version: str) -> Target | None:
        kept = self._targets.get((code, version))
        if kept is None or time.monotonic() - kept[0] > self.TARGET_SECONDS:
            return None
        return kept[1]

    def keep(self, code: str, version: str, target: Target) -> None:
        self._targets[(code, version)] = (time.monotonic(), target)

    def forget(self) -> None:
        """After a change of registries or versions in this process."""
        self._targets.clear()

    def of(self, version: RegistryVersion) -> RegistrySchema:
        parsed = self._parsed.get(version.id)
        if parsed is None or version.published_at is None:
            parsed = parse_schema(version.schema)
            if version.published_at is not None:
                self._parsed[version.id] = parsed
        return parsed


@dataclass(slots=True)
class Target:
    """A published version of a registry, resolved for one request."""

    registry: Registry
    version: RegistryVersion
    schema: RegistrySchema
    published: list[RegistrySchema] = field(default_factory=list)
    """Every published version's schema: a record's terms cover the searchable fields of each."""

    @property
    def fields(self) -> dict[str, Field]:
        return filterable(self.schema)

    @property
    def personal(self) -> bool:
        """A field personal in any published version is personal in every one: reading it
        through an older version needs who and why, and is logged, all the same."""
        return self.schema.has_personal or any(s.has_personal for s in self.published)

    def typed_subjects(self, content: Mapping[str, Any]) -> list[str]:
        found: dict[str, None] = {}
        for schema in [*self.published, self.schema]:
            found.update((s, None) for s in schema.typed_subjects(dict(content)))
        return list(found)

    def terms(self, content: Mapping[str, Any]) -> dict[str, Term]:
        merged: dict[str, Term] = {}
        for schema in self.published:
            merged.update(terms_of(schema, content))
        return merged


async def resolve(session: AsyncSession, schemas: Schemas, code: str, version: str) -> Target:
    """The published version, or a 404 naming what is unknown."""
    kept = schemas.target(code, version)
    if kept is not None:
        return kept
    found = await repository.published_version(session, code, version)
    if found is None:
        registry = await repository.find_registry(session, code)
        if registry is None:
            raise NotFoundError(f"there is no registry {code!r}", field="registry")
        names = [
            v.version
            for v in await repository.versions_of(session, registry)
            if v.published_at is not None
        ]
        raise NotFoundError(
            f"registry {code!r} has no published version {version!r} "
            f"(published: {', '.join(names) or 'none'})",
            field="version",
        )
    registry, row = found
    versions = await repository.versions_of(session, registry)
    published = [schemas.of(v) for v in versions if v.published_at is not None]
    # Kept beyond this session: detached now, with what was loaded, so that no rollback of
    # this session expires them under another request.
    session.expunge(registry)
    session.expunge(row)
    target = Target(registry, row, schemas.of(row), published)
    schemas.keep(code, version, target)
    return target


def query_terms(target: Target, content: Any, pointer: str) -> dict[str, Term]:
    """The equality terms of a ``query.content`` object: key, unique or searchable fields."""
    if not isinstance(content, dict) or not content:
        raise ValidationError(f"{pointer} must be an object with at least one field", field=pointer)
    target.schema.validate_partial(content, pointer=pointer)
    usable = target.fields
    terms: dict[str, Term] = {}
    for name, value in content.items():
        field_ = usable.get(name) or unique_field(target.schema, name)
        if field_ is None:
            raise ValidationError(
                f"{pointer}/{name}: a query may name only the key, unique and searchable fields "
                f"({', '.join(sorted(usable))})",
                field=f"{pointer}/{name}",
            )
        terms[name] = parse_value(field_, _as_text(value), parameter=f"{pointer}/{name}")
    return terms


def unique_field(schema: RegistrySchema, name: str) -> Field | None:
    for field_ in schema.fields:
        if field_.name == name and field_.unique:
            return field_
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 237.0 is an integer in JSON Schema, and int() reads "237"
    return str(value)


def body_part(body: Any, part: str, pointer: str = "") -> Any:
    """``body[part]["content"]``, or a 422 naming what is missing."""
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", field="/")
    section = body.get(part)
    if not isinstance(section, dict) or "content" not in section:
        raise ValidationError(
            f"the body needs {part}.content (GovStack Data API)", field=f"/{part}/content"
        )
    beside = sorted(set(section) - {"content"})
    if beside:
        raise ValidationError(
            f"unknown member {beside[0]!r} in {part}: it holds content only",
            field=json_pointer((part, beside[0])),
        )
    unknown = set(body) - {"query", "write"}
    if unknown:
        raise ValidationError(
            f"unknown member {sorted(unknown)[0]!r} in the body", field=f"/{sorted(unknown)[0]}"
        )
    return section["content"]


async def matching(
    session: AsyncSession, target: Target, terms: Mapping[str, Term], *, limit: int
) -> list[repository.Found]:
    fields = dict(target.fields)
    for name in terms:
        if name not in fields:
            found = unique_field(target.schema, name)
            assert found is not None
            fields[name] = found
    return await repository.find_by_content(session, target.registry.id, fields, terms, limit=limit)


def only_one(target: Target, rows: Sequence[repository.Found]) -> repository.Found:
    if not rows:
        raise NotFoundError(
            f"no record of {target.registry.code} matches the query", field="/query/content"
        )
    if len(rows) > 1:
        raise ConflictError(
            f"several records of {target.registry.code} match the query: name the key or a "
            "unique field",
            field="/query/content",
        )
    return rows[0]
