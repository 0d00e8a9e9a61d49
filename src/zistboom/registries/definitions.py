"""Defining registries and their versions: a registry with its first draft, new drafts checked
against the stored records (a breaking change is refused, naming each field), publishing with
the indexes its searches need, description and removal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import utc_now
from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from zistboom.core.identifiers import MemberId
from zistboom.registries import repository
from zistboom.registries.models import Registry, RegistryVersion
from zistboom.registries.query import (
    filterable,
    terms_of,
)
from zistboom.registries.schema import RegistrySchema, compare, parse_schema
from zistboom.registries.target import Schemas, Target

CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")
ECOSYSTEM = re.compile(r"[a-z][a-z0-9-]{1,63}")
# The registry service's own services on the gateway share the subsystem with the registries.
RESERVED_CODES = frozenset({"personal-data-usage", "registry-database"})

# --- defining registries and versions --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Definition:
    code: str
    name_fa: str
    name_en: str
    owner: str
    ecosystem: str = "national"
    description_fa: str = ""
    description_en: str = ""


def _check_definition(definition: Definition) -> None:
    if not CODE.fullmatch(definition.code) or definition.code in RESERVED_CODES:
        raise ValidationError(
            f"registry code {definition.code!r} must be 2 to 32 lowercase letters, digits and "
            "hyphens, starting with a letter",
            field="code",
        )
    for name in ("name_fa", "name_en"):
        value = getattr(definition, name).strip()
        if not value or len(value) > 200:
            raise ValidationError(f"{name} must be 1 to 200 characters", field=name)
    for name in ("description_fa", "description_en"):
        if len(getattr(definition, name)) > 4000:
            raise ValidationError(f"{name} is longer than 4000 characters", field=name)
    MemberId.parse(definition.owner, field="owner")
    if not ECOSYSTEM.fullmatch(definition.ecosystem):
        raise ValidationError(
            "ecosystem must be an ecosystem key (such as tax) or national", field="ecosystem"
        )


async def define_registry(
    session: AsyncSession,
    definition: Definition,
    schema_document: dict[str, Any],
    *,
    pointer: str = "",
) -> tuple[Registry, RegistryVersion]:
    """A new registry with its first version, 1.0, as a draft. The schema's refusals name
    their keyword below ``pointer`` (where the schema sits in the request)."""
    _check_definition(definition)
    parse_schema(schema_document, pointer=pointer)
    if await repository.find_registry(session, definition.code) is not None:
        raise ConflictError(f"registry {definition.code!r} exists", field="code")
    now = utc_now()
    registry = Registry(
        code=definition.code,
        name_fa=definition.name_fa.strip(),
        name_en=definition.name_en.strip(),
        description_fa=definition.description_fa,
        description_en=definition.description_en,
        owner=definition.owner,
        ecosystem=definition.ecosystem,
        created_at=now,
    )
    session.add(registry)
    await session.flush()
    version = RegistryVersion(
        registry_id=registry.id, version="1.0", schema=schema_document, created_at=now
    )
    session.add(version)
    await session.flush()
    return registry, version


async def has_registry(session: AsyncSession, code: str) -> bool:
    return await repository.find_registry(session, code) is not None


async def get_registry(session: AsyncSession, code: str) -> Registry:
    registry = await repository.find_registry(session, code)
    if registry is None:
        raise NotFoundError(f"there is no registry {code!r}", field="registry")
    return registry


def _next_version(latest: str, *, major: bool) -> str:
    high, low = (int(part) for part in latest.split("."))
    return f"{high + 1}.0" if major else f"{high}.{low + 1}"


async def propose_version(
    session: AsyncSession,
    schemas: Schemas,
    code: str,
    schema_document: dict[str, Any],
    *,
    pointer: str = "",
) -> RegistryVersion:
    """A new draft from a schema (replacing an unpublished draft). It must keep every stored
    record valid: a breaking change is refused, naming each field and the reason. The
    schema's refusals name their keyword below ``pointer``, as in :func:`define_registry`."""
    registry = await get_registry(session, code)
    new = parse_schema(schema_document, pointer=pointer)
    versions = await repository.versions_of(session, registry)
    published = [v for v in versions if v.published_at is not None]
    for draft in (v for v in versions if v.published_at is None):
        await session.delete(draft)
    await session.flush()
    if not published:
        version = RegistryVersion(
            registry_id=registry.id, version="1.0", schema=schema_document, created_at=utc_now()
        )
        session.add(version)
        await session.flush()
        return version
    latest = published[-1]
    comparison = compare(schemas.of(latest), new)
    records = await repository.count_records(session, registry.id)
    if comparison.breaking and records:
        problems = [{"field": i.field, "message": i.reason} for i in comparison.breaking]
        raise ValidationError(
            f"the new schema would break the {records} stored records of {code}: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            field=problems[0]["field"],
            errors=problems,
        )
    if records:
        for name in comparison.needs_unique_check:
            duplicate = await repository.duplicate_value(session, registry.id, name)
            if duplicate is not None:
                raise ValidationError(
                    f"{name} cannot become unique: {duplicate} records share one value",
                    field=name,
                    errors=[{"field": name, "message": "unique constraint the data violates"}],
                )
    version = RegistryVersion(
        registry_id=registry.id,
        version=_next_version(latest.version, major=bool(comparison.breaking)),
        schema=schema_document,
        created_at=utc_now(),
    )
    session.add(version)
    await session.flush()
    return version


async def publish(session: AsyncSession, schemas: Schemas, code: str) -> RegistryVersion:
    """Publish the draft: its indexes are built (a unique one fails if the data has
    duplicates) and its Data API answers from now on."""
    registry = await get_registry(session, code)
    versions = await repository.versions_of(session, registry)
    drafts = [v for v in versions if v.published_at is None]
    if not drafts:
        raise ConflictError(
            f"registry {code!r} has no draft to publish: import a schema first", field="version"
        )
    draft = drafts[-1]
    schema = schemas.of(draft)
    earlier = [schemas.of(v) for v in versions if v.published_at is not None]
    if earlier and _term_fields(schema) - set().union(*(_term_fields(s) for s in earlier)):
        # The draft searches fields no earlier version did: give every record their terms.
        target = Target(registry, draft, schema, [*earlier, schema])
        await repository.refresh_terms(session, registry.id, target.terms)
    await build_indexes(session, registry, schema)
    draft.published_at = utc_now()
    await session.flush()
    schemas.forget()
    return draft


def _term_fields(schema: RegistrySchema) -> set[str]:
    return set(terms_of(schema, {f.name: None for f in schema.fields}))


async def build_indexes(session: AsyncSession, registry: Registry, schema: RegistrySchema) -> None:
    for field_ in schema.fields:
        if field_.unique and not field_.key:
            try:
                async with session.begin_nested():
                    await repository.create_index(session, registry.id, field_, unique=True)
            except IntegrityError as error:
                raise ValidationError(
                    f"{field_.name} cannot be unique: stored records share a value",
                    field=field_.name,
                ) from error
        if field_.searchable and field_.name in filterable(schema):
            await repository.create_index(session, registry.id, field_, unique=False)
            await repository.create_statistics(session, registry.id, field_)
    usable = filterable(schema)
    for names in schema.search_indexes:
        await repository.create_compound_index(
            session, registry.id, [usable[name] for name in names]
        )


async def version_row(session: AsyncSession, code: str, version: str | None) -> RegistryVersion:
    """A version of a registry (the newest, draft or published, when none is named)."""
    registry = await get_registry(session, code)
    versions = await repository.versions_of(session, registry)
    if version is None and versions:
        return versions[-1]
    for row in versions:
        if row.version == version:
            return row
    raise NotFoundError(f"registry {code!r} has no version {version!r}", field="version")


@dataclass(frozen=True, slots=True)
class Description:
    registry: Registry
    versions: list[RegistryVersion]
    records: int


async def describe(session: AsyncSession, registry: Registry) -> Description:
    versions = await repository.versions_of(session, registry)
    return Description(registry, versions, await repository.count_records(session, registry.id))


async def registries(session: AsyncSession) -> list[Registry]:
    return await repository.list_registries(session)


async def registry_by_id(session: AsyncSession, registry_id: int) -> Registry:
    registry = await repository.find_registry_by_id(session, registry_id)
    if registry is None:
        raise NotFoundError(f"there is no registry with id {registry_id}", field="id")
    return registry


async def delete_registry(session: AsyncSession, code: str) -> None:
    """Remove a registry that holds no records (its change log stays)."""
    registry = await get_registry(session, code)
    records = await repository.count_records(session, registry.id)
    if records:
        raise ConflictError(
            f"registry {code!r} holds {records} records: it cannot be deleted", field="registry"
        )
    await repository.delete_registry_rows(session, registry)
