"""The change log: every create, update and delete of a record, append-only and hash-chained
(ZB-STD-006 §11). Each row's hash covers its content and the hash before it, so an edited,
removed or inserted row breaks the chain at that row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.registries import repository
from zistboom.registries.models import Change, Registry

Operation = Literal["create", "update", "delete"]
GENESIS = "0" * 64


def change_hash(
    *,
    seq: int,
    registry_id: int,
    record_key: str,
    operation: str,
    at: datetime,
    client: str,
    user_id: str | None,
    message_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    previous_hash: str,
) -> str:
    """SHA-256 (hex) of the row's canonical JSON (sorted keys, UTC time in microseconds)."""
    document = {
        "seq": seq,
        "registry_id": registry_id,
        "record_key": record_key,
        "operation": operation,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "client": client,
        "user_id": user_id,
        "message_id": message_id,
        "before": before,
        "after": after,
        "previous_hash": previous_hash,
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _hash_of(row: Change) -> str:
    return change_hash(
        seq=row.seq,
        registry_id=row.registry_id,
        record_key=row.record_key,
        operation=row.operation,
        at=row.at,
        client=row.client,
        user_id=row.user_id,
        message_id=row.message_id,
        before=row.before,
        after=row.after,
        previous_hash=row.previous_hash,
    )


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a change: the client subsystem, the person or official, the message."""

    client: str
    user_id: str | None
    message_id: str | None


async def record_change(
    session: AsyncSession,
    registry: Registry,
    key: str,
    operation: Operation,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    author: Author,
    at: datetime,
) -> Change:
    """Append one change, chained to the last one, in the caller's transaction."""
    head = await repository.lock_chain_head(session)
    seq = head.seq + 1
    at = at.astimezone(UTC)
    row = Change(
        seq=seq,
        registry_id=registry.id,
        record_key=key,
        operation=operation,
        at=at,
        client=author.client,
        user_id=author.user_id,
        message_id=author.message_id,
        before=before,
        after=after,
        previous_hash=head.hash,
    )
    row.hash = _hash_of(row)
    await repository.append_change(session, row)
    head.seq, head.hash = seq, row.hash
    return row


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    """Rows whose hash and link held."""
    problem: str | None = None
    seq: int | None = None
    registry_id: int | None = None
    record_key: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


async def verify(session: AsyncSession) -> Verification:
    """Walk the whole chain; the first row whose hash or link does not hold is named."""
    previous, expected_seq, checked = GENESIS, 1, 0
    async for row in repository.all_changes(session):
        problem = None
        if row.seq != expected_seq:
            problem = f"change {expected_seq} is missing (the next one is {row.seq})"
        elif row.previous_hash != previous:
            problem = "its previous_hash is not the hash of the change before it"
        elif _hash_of(row) != row.hash:
            problem = "its content does not match its hash: the row was edited"
        if problem is not None:
            return Verification(checked, problem, row.seq, row.registry_id, row.record_key)
        previous, expected_seq, checked = row.hash, row.seq + 1, checked + 1
    head = await repository.chain_head(session)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, previous):
        return Verification(
            checked,
            f"the chain ends at change {expected_seq - 1} but its head names change {head.seq}: "
            "changes were removed from the end",
            head.seq,
        )
    return Verification(checked)
