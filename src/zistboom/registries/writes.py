"""Writing records: create, update, update-entries, update-or-create and delete, each checked
against the version's schema and the unique fields, each change appended to the change log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import utc_now
from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from zistboom.registries import repository
from zistboom.registries.history import record_change
from zistboom.registries.reads import shown_fields
from zistboom.registries.target import (
    Caller,
    Target,
    body_part,
    matching,
    only_one,
    query_terms,
)

MAX_UPDATE_ENTRIES = 1000

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
            rows = await matching(session, target, terms, limit=2)
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
    content = body_part(body, "write")
    if not isinstance(content, dict):
        raise ValidationError("/write/content must be an object", field="/write/content")
    content = _with_all_defaults(target, content)
    target.schema.validate_record(content, pointer="/write/content")
    stored = await _insert(session, target, content, caller)
    return {"content": shown_fields(target, stored, None)}


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
    write = body_part(body, "write")
    if not isinstance(write, dict) or not write:
        raise ValidationError(
            "/write/content must be an object with at least one field", field="/write/content"
        )
    return write


async def update(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    terms = query_terms(target, body_part(body, "query"), "/query/content")
    write = _write_part(body)
    target.schema.validate_partial(write, pointer="/write/content")
    found = only_one(target, await matching(session, target, terms, limit=2))
    return {
        "content": shown_fields(target, await _change(session, target, found, write, caller), None)
    }


async def update_entries(
    session: AsyncSession, target: Target, body: Any, caller: Caller
) -> dict[str, Any]:
    terms = query_terms(target, body_part(body, "query"), "/query/content")
    write = _write_part(body)
    target.schema.validate_partial(write, pointer="/write/content")
    rows = await matching(session, target, terms, limit=MAX_UPDATE_ENTRIES + 1)
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
    query = body_part(body, "query")
    terms = query_terms(target, query, "/query/content")
    write = _write_part(body)
    rows = await matching(session, target, terms, limit=2)
    if not rows:
        content = _with_all_defaults(target, {**query, **write})
        target.schema.validate_record(content, pointer="/write/content")
        stored = await _insert(session, target, content, caller)
        return {"content": shown_fields(target, stored, None), "created": True}
    target.schema.validate_partial(write, pointer="/write/content")
    changed = await _change(session, target, only_one(target, rows), write, caller)
    return {"content": shown_fields(target, changed, None), "created": False}


async def delete(session: AsyncSession, target: Target, key: str, caller: Caller) -> None:
    record = await repository.get_record(session, target.registry.id, key)
    if record is None:
        raise NotFoundError(f"no record {key!r} in {target.registry.code}", field="ID")
    before = dict(record.content)
    await repository.delete_record(session, target.registry.id, key)
    await record_change(session, target.registry, key, "delete", before=before, after=None,
                        author=caller.author, at=utc_now())  # fmt: skip
