"""Bulk loading of records (the seed, and any load of many records at once): ``COPY`` on
PostgreSQL (asyncpg's binary ``copy_records_to_table``), batched ``executemany`` on SQLite.
Each record also gets its ``create`` change, chained like any other, so that its history
(and ``asOf`` reads) start at the load."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import utc_now
from zistboom.registries import repository
from zistboom.registries.history import change_hash
from zistboom.registries.models import Change, Record
from zistboom.registries.service import Target

BATCH = 5000
SEED_CLIENT = "seed"


@dataclass(frozen=True, slots=True)
class Loaded:
    records: int
    last_seq: int


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


async def load(
    session: AsyncSession,
    target: Target,
    rows: Iterable[dict[str, Any]],
    *,
    client: str = SEED_CLIENT,
    validate_first: int = 1000,
) -> Loaded:
    """Insert ``rows`` (new records) in the caller's transaction. The first ``validate_first``
    are checked against the schema; a generator whose records are tested (the seed) need not
    pay for checking millions."""
    head = await repository.lock_chain_head(session)
    seq, previous = head.seq, head.hash
    postgres = repository.dialect_of(session) == "postgresql"
    key_name = target.schema.key.name
    registry_id = target.registry.id
    count = 0
    for batch in _batches(rows, BATCH):
        now = utc_now()
        records: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        for content in batch:
            if count < validate_first:
                target.schema.validate_record(content, pointer=f"/records/{count}")
            key = str(content[key_name])
            records.append((registry_id, key, content, target.terms(content), now, now))
            seq += 1
            digest = change_hash(
                seq=seq, registry_id=registry_id, record_key=key, operation="create", at=now,
                client=client, user_id=None, message_id=None, before=None, after=content,
                previous_hash=previous,
            )  # fmt: skip
            changes.append(
                (seq, registry_id, key, "create", now, client, None, None, None, content,
                 previous, digest)
            )  # fmt: skip
            previous = digest
            count += 1
        if postgres:
            await _copy(session, records, changes)
        else:
            await _executemany(session, records, changes)
    head.seq, head.hash = seq, previous
    await session.flush()
    return Loaded(count, seq)


RECORD_COLUMNS = ("registry_id", "key", "content", "terms", "created_at", "updated_at")
CHANGE_COLUMNS = (
    "seq", "registry_id", "record_key", "operation", "at", "client", "user_id", "message_id",
    "before", "after", "previous_hash", "hash",
)  # fmt: skip
_JSON_POSITIONS = {"records": (2, 3), "changes": (8, 9)}


def _as_json_text(row: tuple[Any, ...], positions: tuple[int, ...]) -> tuple[Any, ...]:
    values = list(row)
    for position in positions:
        if values[position] is not None:
            values[position] = orjson.dumps(values[position]).decode()
    return tuple(values)


async def _copy(
    session: AsyncSession, records: list[tuple[Any, ...]], changes: list[tuple[Any, ...]]
) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        "records",
        records=[_as_json_text(r, _JSON_POSITIONS["records"]) for r in records],
        columns=list(RECORD_COLUMNS),
    )
    await driver.copy_records_to_table(
        "changes",
        records=[_as_json_text(c, _JSON_POSITIONS["changes"]) for c in changes],
        columns=list(CHANGE_COLUMNS),
    )


async def _executemany(
    session: AsyncSession, records: list[tuple[Any, ...]], changes: list[tuple[Any, ...]]
) -> None:
    await session.execute(
        insert(Record), [dict(zip(RECORD_COLUMNS, r, strict=True)) for r in records]
    )
    await session.execute(
        insert(Change), [dict(zip(CHANGE_COLUMNS, c, strict=True)) for c in changes]
    )
