"""The registry's rules: defining registries and their versions, and every Data API operation
with its schema checks, the personal-data rules and usage log, and the change log. No HTTP
here: routes in ``api.py`` parse and identify the caller, then call these functions with their
session (one transaction per call, so a read and its usage entries commit together)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import utc_now
from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.core.identifiers import MemberId, PersonId
from zistboom.registries import repository
from zistboom.registries.history import Author, record_change
from zistboom.registries.models import Registry, RegistryVersion, Usage
from zistboom.registries.query import (
    EXACT_COUNT_LIMIT,
    Cursor,
    ListQuery,
    Term,
    filterable,
    parse_value,
    terms_of,
)
from zistboom.registries.schema import Field, RegistrySchema, compare, parse_schema
from zistboom.registries.validation import json_pointer

CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")
ECOSYSTEM = re.compile(r"[a-z][a-z0-9-]{1,63}")
VERSION = re.compile(r"[1-9][0-9]{0,5}\.[0-9]{1,6}")
MAX_UPDATE_ENTRIES = 1000
RESERVED_CODES = frozenset({"mypersonaldatausage"})


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
    (with its compiled validator) is kept for the life of the process."""

    def __init__(self) -> None:
        self._parsed: dict[int, RegistrySchema] = {}

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

    def terms(self, content: Mapping[str, Any]) -> dict[str, Term]:
        merged: dict[str, Term] = {}
        for schema in self.published:
            merged.update(terms_of(schema, content))
        return merged


async def resolve(session: AsyncSession, schemas: Schemas, code: str, version: str) -> Target:
    """The published version, or a 404 naming what is unknown."""
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
    return Target(registry, row, schemas.of(row), published)


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


# --- reading ---------------------------------------------------------------------------------


def _require_purpose(target: Target, caller: Caller) -> None:
    if target.schema.has_personal and not (caller.user_id and caller.purpose):
        raise PermissionDeniedError(
            f"registry {target.registry.code} holds personal data: a read needs X-Road-UserId "
            "(who reads) and X-Road-Purpose (why)",
            field="X-Road-UserId" if not caller.user_id else "X-Road-Purpose",
        )


def _shown(
    target: Target, content: Mapping[str, Any], selected: Sequence[str] | None
) -> dict[str, Any]:
    projected = target.schema.apply_defaults(target.schema.project(dict(content)))
    if selected is not None:
        projected = {name: projected[name] for name in selected if name in projected}
        key = target.schema.key.name
        if key in content:
            projected.setdefault(key, content[key])
    return projected


def _usage(target: Target, caller: Caller, key: str, stored: Mapping[str, Any],
           shown: Mapping[str, Any], at: datetime) -> list[Usage]:  # fmt: skip
    if not target.schema.has_personal:
        return []
    assert caller.user_id is not None
    assert caller.purpose is not None
    names = sorted(shown)
    return [
        Usage(
            at=at,
            subject=subject,
            registry_code=target.registry.code,
            record_key=key,
            fields={"names": names},
            client=caller.client,
            user_id=caller.user_id,
            purpose=caller.purpose,
            message_id=caller.message_id,
        )
        for subject in target.schema.subjects(dict(stored))
    ]


def _query_terms(target: Target, content: Any, pointer: str) -> dict[str, Term]:
    """The equality terms of a ``query.content`` object: key, unique or searchable fields."""
    if not isinstance(content, dict) or not content:
        raise ValidationError(f"{pointer} must be an object with at least one field", field=pointer)
    target.schema.validate_partial(content, pointer=pointer)
    usable = target.fields
    terms: dict[str, Term] = {}
    for name, value in content.items():
        field_ = usable.get(name) or _unique_field(target.schema, name)
        if field_ is None:
            raise ValidationError(
                f"{pointer}/{name}: a query may name only the key, unique and searchable fields "
                f"({', '.join(sorted(usable))})",
                field=f"{pointer}/{name}",
            )
        terms[name] = parse_value(field_, _as_text(value), parameter=f"{pointer}/{name}")
    return terms


def _unique_field(schema: RegistrySchema, name: str) -> Field | None:
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


def _body_part(body: Any, part: str, pointer: str = "") -> Any:
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


@dataclass(frozen=True, slots=True)
class Page:
    count: int
    count_exact: bool
    results: list[dict[str, Any]]
    next: Cursor | None
    previous: Cursor | None


async def list_records(
    session: AsyncSession, target: Target, query: ListQuery, caller: Caller
) -> Page:
    _require_purpose(target, caller)
    if query.as_of is not None:
        return await _list_as_of(session, target, query, caller)
    rows = await repository.list_page(session, target.registry.id, target.fields, query)
    backwards = query.cursor is not None and query.cursor.direction == "before"
    more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    if backwards:
        rows.reverse()
    if query.cursor is None and not more:
        count, exact = len(rows), True  # the first page holds every match
    else:
        count, exact = await repository.count_matching(
            session, target.registry.id, target.fields, query
        )
    now = utc_now()
    results, usage = [], []
    for row in rows:
        shown = _shown(target, row.content, query.selected)
        results.append(shown)
        usage.extend(_usage(target, caller, row.key, row.content, shown, now))
    if usage:
        await repository.insert_usage(session, usage)
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    next_cursor = previous_cursor = None
    if last is not None and (more or backwards):
        next_cursor = Cursor("after", query.order_value(last.key, last.terms), last.key)
    if first is not None and (query.cursor is not None and (not backwards or more)):
        previous_cursor = Cursor("before", query.order_value(first.key, first.terms), first.key)
    return Page(count, exact, results, next_cursor, previous_cursor)


async def _list_as_of(
    session: AsyncSession, target: Target, query: ListQuery, caller: Caller
) -> Page:
    """A list of the records as they were: the change log read in key order, the filters
    applied to each record's state then (ZB-STD-006 §7.2: key order only)."""
    assert query.as_of is not None
    if query.order_field is not None or query.descending:
        raise ValidationError("a list with asOf is in key order only", field="ordering")
    if query.cursor is not None and query.cursor.direction == "before":
        raise ValidationError("a list with asOf pages forward only", field="cursor")
    after_key = query.cursor.key if query.cursor is not None else None
    matched: list[tuple[str, dict[str, Any]]] = []
    scanned, exhausted = 0, False
    while len(matched) <= query.page_size and scanned < EXACT_COUNT_LIMIT:
        batch = await repository.states_as_of(
            session, target.registry.id, query.as_of, after_key=after_key, limit=500
        )
        if not batch:
            exhausted = True
            break
        for change in batch:
            scanned += 1
            after_key = change.record_key
            if change.after is not None and query.matches(target.terms(change.after)):
                matched.append((change.record_key, change.after))
    more = len(matched) > query.page_size or not exhausted
    matched = matched[: query.page_size]
    now = utc_now()
    results, usage = [], []
    for key, content in matched:
        shown = _shown(target, content, query.selected)
        results.append(shown)
        usage.extend(_usage(target, caller, key, content, shown, now))
    if usage:
        await repository.insert_usage(session, usage)
    next_cursor = Cursor("after", matched[-1][0], matched[-1][0]) if matched and more else None
    if not matched and more and after_key is not None:
        next_cursor = Cursor("after", after_key, after_key)
    exact = exhausted and query.cursor is None
    return Page(len(results), exact, results, next_cursor, None)


async def _matching(
    session: AsyncSession, target: Target, terms: Mapping[str, Term], *, limit: int
) -> list[repository.Found]:
    fields = dict(target.fields)
    for name in terms:
        if name not in fields:
            found = _unique_field(target.schema, name)
            assert found is not None
            fields[name] = found
    return await repository.find_by_content(session, target.registry.id, fields, terms, limit=limit)


def _one(target: Target, rows: Sequence[repository.Found]) -> repository.Found:
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


async def read_record(
    session: AsyncSession,
    target: Target,
    body: Any,
    caller: Caller,
    *,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    _require_purpose(target, caller)
    terms = _query_terms(target, _body_part(body, "query"), "/query/content")
    if as_of is not None:
        key = _key_of_terms(target, terms)
        change = await repository.record_as_of(session, target.registry.id, key, as_of)
        if change is None or change.after is None:
            raise NotFoundError(
                f"record {key} of {target.registry.code} did not exist at {as_of.isoformat()}",
                field="asOf",
            )
        stored = change.after
    else:
        found = _one(target, await _matching(session, target, terms, limit=2))
        key, stored = found.key, found.content
    shown = _shown(target, stored, None)
    usage = _usage(target, caller, key, stored, shown, utc_now())
    if usage:
        await repository.insert_usage(session, usage)
    return {"content": shown}


def _key_of_terms(target: Target, terms: Mapping[str, Term]) -> str:
    key = target.schema.key.name
    if set(terms) != {key}:
        raise ValidationError(
            f"a read with asOf names the record by its key ({key}) only", field="/query/content"
        )
    return str(terms[key])


async def exists(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    terms = _query_terms(target, _body_part(body, "query"), "/query/content")
    rows = await _matching(session, target, terms, limit=2)
    message = "a record matches" if rows else "no record matches"
    if len(rows) > 1:
        message = "several records match"
    return {"answer": {"status": bool(rows), "message": message}}


async def read_value(
    session: AsyncSession, target: Target, key: str, field_name: str, extension: str,
    caller: Caller,
) -> tuple[Any, str | None]:  # fmt: skip
    """One field's value: ``({"value": ...}, None)`` for ``.json``, or the file's bytes and
    media type for a file field read with its own extension."""
    _require_purpose(target, caller)
    names = {f.name: f for f in target.schema.fields}
    field_ = names.get(field_name)
    if field_ is None:
        raise NotFoundError(
            f"{field_name!r} is not a field of {target.registry.code} {target.version.version}",
            field="field",
        )
    record = await repository.get_record(session, target.registry.id, key)
    if record is None:
        raise NotFoundError(f"no record {key!r} in {target.registry.code}", field="ID")
    shown = _shown(target, record.content, None)
    if field_name not in shown:
        raise NotFoundError(f"record {key!r} has no {field_name}", field="field")
    value = shown[field_name]
    usage = _usage(target, caller, key, record.content, {field_name: value}, utc_now())
    if usage:
        await repository.insert_usage(session, usage)
    if extension == "json":
        return {"value": value}, None
    served = field_.file_extension if field_.kind == "file" else None
    if served is not None and extension == served:
        assert field_.media_type is not None  # a file extension is its media type's
        return base64.b64decode(value), field_.media_type
    wanted = "json" if served is None else f"json or .{served}"
    raise ValidationError(f"{field_name} is read as .{wanted}", field="ext")


# --- writing ---------------------------------------------------------------------------------


def _key_value(target: Target, content: Mapping[str, Any]) -> str:
    key = target.schema.key.name
    value = content.get(key)
    if value is None:
        raise ValidationError(f"{key} (the key) is required", field=f"/write/content/{key}")
    return str(value)


async def _check_unique(
    session: AsyncSession, target: Target, content: Mapping[str, Any], key: str
) -> None:
    for field_ in target.schema.fields:
        if field_.unique and not field_.key and field_.name in content:
            terms = {field_.name: target.terms(content).get(field_.name)}
            rows = await _matching(session, target, terms, limit=2)
            if any(row.key != key for row in rows):
                raise ConflictError(
                    f"another record has this {field_.name}", field=f"/write/content/{field_.name}"
                )


async def _insert(
    session: AsyncSession, target: Target, content: dict[str, Any], caller: Caller
) -> dict[str, Any]:
    key = _key_value(target, content)
    if await repository.get_record(session, target.registry.id, key) is not None:
        raise ConflictError(
            f"a record with {target.schema.key.name} {key} exists: use update",
            field=f"/write/content/{target.schema.key.name}",
        )
    await _check_unique(session, target, content, key)
    now = utc_now()
    await repository.insert_record(
        session, target.registry.id, key, content, target.terms(content), now
    )
    await record_change(session, target.registry, key, "create", before=None, after=content,
                        author=caller.author, at=now)  # fmt: skip
    return content


async def create(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    content = _body_part(body, "write")
    if not isinstance(content, dict):
        raise ValidationError("/write/content must be an object", field="/write/content")
    content = _with_all_defaults(target, content)
    target.schema.validate_record(content, pointer="/write/content")
    stored = await _insert(session, target, content, caller)
    return {"content": _shown(target, stored, None)}


def _with_all_defaults(target: Target, content: dict[str, Any]) -> dict[str, Any]:
    """Defaults of this version and of every later one (a field a later version added as
    required with a default), so that the record is valid in each."""
    filled = dict(content)
    for schema in [*target.published, target.schema]:
        for name, value in schema.apply_defaults({}).items():
            filled.setdefault(name, value)
    return filled


async def _change(
    session: AsyncSession,
    target: Target,
    found: repository.Found,
    write: dict[str, Any],
    caller: Caller,
) -> dict[str, Any]:
    key_name = target.schema.key.name
    if key_name in write and str(write[key_name]) != found.key:
        raise ValidationError(
            f"{key_name} is the key and cannot change: delete the record and create another",
            field=f"/write/content/{key_name}",
        )
    # Defaults of fields added since the record was written are stored with the change.
    merged = _with_all_defaults(target, {**found.content, **write})
    target.schema.validate_record(target.schema.project(merged), pointer="/write/content")
    await _check_unique(session, target, merged, found.key)
    now = utc_now()
    await repository.replace_record(
        session, target.registry.id, found.key, merged, target.terms(merged), now
    )
    await record_change(session, target.registry, found.key, "update", before=found.content,
                        after=merged, author=caller.author, at=now)  # fmt: skip
    return merged


def _write_part(body: Any) -> dict[str, Any]:
    write = _body_part(body, "write")
    if not isinstance(write, dict) or not write:
        raise ValidationError(
            "/write/content must be an object with at least one field", field="/write/content"
        )
    return write


async def update(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    terms = _query_terms(target, _body_part(body, "query"), "/query/content")
    write = _write_part(body)
    target.schema.validate_partial(write, pointer="/write/content")
    found = _one(target, await _matching(session, target, terms, limit=2))
    return {"content": _shown(target, await _change(session, target, found, write, caller), None)}


async def update_entries(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    terms = _query_terms(target, _body_part(body, "query"), "/query/content")
    write = _write_part(body)
    target.schema.validate_partial(write, pointer="/write/content")
    rows = await _matching(session, target, terms, limit=MAX_UPDATE_ENTRIES + 1)
    if len(rows) > MAX_UPDATE_ENTRIES:
        raise ValidationError(
            f"the query matches more than {MAX_UPDATE_ENTRIES} records: narrow it",
            field="/query/content",
        )
    for row in rows:
        await _change(session, target, row, write, caller)
    return {"updated": len(rows)}


async def update_or_create(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    query = _body_part(body, "query")
    terms = _query_terms(target, query, "/query/content")
    write = _write_part(body)
    rows = await _matching(session, target, terms, limit=2)
    if not rows:
        content = _with_all_defaults(target, {**query, **write})
        target.schema.validate_record(content, pointer="/write/content")
        stored = await _insert(session, target, content, caller)
        return {"content": _shown(target, stored, None), "created": True}
    target.schema.validate_partial(write, pointer="/write/content")
    changed = await _change(session, target, _one(target, rows), write, caller)
    return {"content": _shown(target, changed, None), "created": False}


async def delete(session: AsyncSession, target: Target, key: str, caller: Caller) -> None:
    record = await repository.get_record(session, target.registry.id, key)
    if record is None:
        raise NotFoundError(f"no record {key!r} in {target.registry.code}", field="ID")
    before = dict(record.content)
    await repository.delete_record(session, target.registry.id, key)
    await record_change(session, target.registry, key, "delete", before=before, after=None,
                        author=caller.author, at=utc_now())  # fmt: skip


# --- the personal-data-usage API -------------------------------------------------------------


def subject_of(user_id: str | None) -> str:
    """The subject a usage list is about: the person named by X-Road-UserId, only."""
    if not user_id:
        raise PermissionDeniedError(
            "the personal-data-usage list needs X-Road-UserId: it answers only about that person",
            field="X-Road-UserId",
        )
    return PersonId.parse(user_id, field="X-Road-UserId").number


async def usage_list(
    session: AsyncSession,
    caller: Caller,
    *,
    asked_for: str | None,
    since: datetime | None,
    until: datetime | None,
    after_id: int | None,
    limit: int,
) -> list[Usage]:
    """Reads of the caller's person's own data. A ``userID`` naming anyone else is refused:
    a person sees reads of their own data and nobody else's."""
    subject = subject_of(caller.user_id)
    if asked_for is not None and asked_for not in (caller.user_id, subject):
        raise PermissionDeniedError(
            "userID must be the person named by X-Road-UserId: nobody sees another person's "
            "usage list",
            field="userID",
        )
    return await repository.usage_of(
        session, subject, since=since, until=until, after_id=after_id, limit=limit
    )


Kind = Literal["data", "database", "usage"]
