"""The audit log: every change made through central, append-only and hash-chained.

Each record's hash is the SHA-256 of the canonical JSON of its content and its predecessor's hash,
so editing, deleting or reordering any row breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central.models import AuditRecord

if TYPE_CHECKING:
    from zistboom.central.operators import Operator
from zistboom.core.database import utc_now

GENESIS_HASH = "0" * 64


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over the canonical JSON of the record's content and its predecessor's hash."""
    content = {
        "seq": record.seq,
        "at": record.at.isoformat(timespec="microseconds"),
        "actor": record.actor,
        "action": record.action,
        "target": record.target,
        "details": record.details,
        "prev_hash": record.prev_hash,
    }
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
) -> AuditRecord:
    """Append one record in the caller's transaction: the change and its record land together."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Serialise appenders across central replicas: the chain has exactly one tail.
        await session.execute(text("SELECT pg_advisory_xact_lock(7201)"))
    last = (
        await session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1))
    ).scalar_one_or_none()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    at = utc_now()
    row = AuditRecord(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        # What is hashed is what the JSON column gives back.
        details=orjson.loads(orjson.dumps(details)),
        prev_hash=prev_hash,
    )
    row.hash = record_hash(row)
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class AuditVerification:
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


async def verify(session: AsyncSession, *, actor: Operator) -> AuditVerification:
    """Walk the whole chain; report the first record that does not hold."""
    actor.require("admin", "auditor")
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    rows = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.seq))
    async for row in rows:
        count += 1
        if row.seq != expected_seq:
            return AuditVerification(
                count, row.seq, f"record {expected_seq} is missing (next is {row.seq})"
            )
        if row.prev_hash != expected_prev:
            return AuditVerification(
                count, row.seq, f"record {row.seq} does not link to record {row.seq - 1}"
            )
        actual = record_hash(row)
        if actual != row.hash:
            return AuditVerification(
                count, row.seq, f"record {row.seq} was changed after it was written"
            )
        expected_prev = row.hash
        expected_seq += 1
    return AuditVerification(count)


async def list_records(
    session: AsyncSession, *, actor: Operator, after: int = 0, limit: int = 100
) -> list[AuditRecord]:
    actor.require("admin", "auditor")
    result = await session.execute(
        select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(limit)
    )
    return list(result.scalars())


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one())
