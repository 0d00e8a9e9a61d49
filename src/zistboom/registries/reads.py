"""Reading records: list, read, exists and read-value, the personal-data rule (who and why, or
no answer), the usage entries written with the answer, ``asOf`` reads from the change log, and
the personal-data-usage list (only about the person asking)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import utc_now
from zistboom.core.errors import (
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.core.identifiers import PersonId
from zistboom.registries import repository
from zistboom.registries.models import Usage
from zistboom.registries.query import (
    EXACT_COUNT_LIMIT,
    Cursor,
    ListQuery,
    Term,
)
from zistboom.registries.target import Caller, Target, body_part, matching, only_one, query_terms

# --- reading ---------------------------------------------------------------------------------


def _require_purpose(target: Target, caller: Caller) -> None:
    if target.personal and not (caller.user_id and caller.purpose):
        raise PermissionDeniedError(
            f"registry {target.registry.code} holds personal data: a read needs X-Road-UserId "
            "(who reads) and X-Road-Purpose (why)",
            field="X-Road-UserId" if not caller.user_id else "X-Road-Purpose",
        )


def shown_fields(
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
    if not target.personal:
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
        for subject in target.typed_subjects(stored)
    ]


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
        shown = shown_fields(target, row.content, query.selected)
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
    applied to each record's state then (ZB-STD-006 §11.4: key order only)."""
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
        for key, state in batch:
            scanned += 1
            after_key = key
            if state is not None and query.matches(target.terms(state)):
                matched.append((key, state))
    more = len(matched) > query.page_size or not exhausted
    matched = matched[: query.page_size]
    now = utc_now()
    results, usage = [], []
    for key, content in matched:
        shown = shown_fields(target, content, query.selected)
        results.append(shown)
        usage.extend(_usage(target, caller, key, content, shown, now))
    if usage:
        await repository.insert_usage(session, usage)
    next_cursor = Cursor("after", matched[-1][0], matched[-1][0]) if matched and more else None
    if not matched and more and after_key is not None:
        next_cursor = Cursor("after", after_key, after_key)
    exact = exhausted and query.cursor is None
    return Page(len(results), exact, results, next_cursor, None)


async def read_record(
    session: AsyncSession,
    target: Target,
    body: Any,
    caller: Caller,
    *,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    _require_purpose(target, caller)
    terms = query_terms(target, body_part(body, "query"), "/query/content")
    if as_of is not None:
        key = _key_of_terms(target, terms)
        change = await repository.record_as_of(session, target.registry.id, key, as_of)
        if change is None or change.after is None:
            raise NotFoundError(
                f"record {key} of {target.registry.code} did not exist at {as_of.isoformat()}",
                field="asOf",
            )
        stored = change.after
    elif set(terms) == {target.schema.key.name}:
        key = str(terms[target.schema.key.name])
        content = await repository.content_by_key(session, target.registry.id, key)
        if content is None:
            raise NotFoundError(
                f"no record of {target.registry.code} matches the query", field="/query/content"
            )
        stored = content
    else:
        found = only_one(target, await matching(session, target, terms, limit=2))
        key, stored = found.key, found.content
    shown = shown_fields(target, stored, None)
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
    terms = query_terms(target, body_part(body, "query"), "/query/content")
    rows = await matching(session, target, terms, limit=2)
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
    shown = shown_fields(target, record.content, None)
    if field_name not in shown:
        raise NotFoundError(f"record {key!r} has no {field_name}", field="field")
    value = shown[field_name]
    served = field_.file_extension if field_.kind == "file" else None
    if extension != "json" and extension != served:
        wanted = "json" if served is None else f"json or .{served}"
        raise ValidationError(f"{field_name} is read as .{wanted}", field="ext")
    # Written last: a read that fails has logged nothing (see group_commit).
    usage = _usage(target, caller, key, record.content, {field_name: value}, utc_now())
    if usage:
        await repository.insert_usage(session, usage)
    if extension == "json":
        return {"value": value}, None
    assert field_.media_type is not None  # a file extension is its media type's
    return base64.b64decode(value), field_.media_type


# --- the personal-data-usage API -------------------------------------------------------------


def subject_of(user_id: str | None) -> str:
    """The subject a usage list is about: the person named by X-Road-UserId, only."""
    if not user_id:
        raise PermissionDeniedError(
            "the personal-data-usage list needs X-Road-UserId: it answers only about that person",
            field="X-Road-UserId",
        )
    return str(PersonId.parse(user_id, field="X-Road-UserId"))


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
    if asked_for is not None and asked_for not in (caller.user_id, subject, subject[2:]):
        raise PermissionDeniedError(
            "userID must be the person named by X-Road-UserId: nobody sees another person's "
            "usage list",
            field="userID",
        )
    return await repository.usage_of(
        session, subject, since=since, until=until, after_id=after_id, limit=limit
    )
