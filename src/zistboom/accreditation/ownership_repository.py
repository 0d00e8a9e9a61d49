"""The queries of the ecosystem operators' ownership readings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation.ownership_models import OwnershipReading


async def add_reading(session: AsyncSession, reading: OwnershipReading) -> OwnershipReading:
    session.add(reading)
    await session.flush()
    return reading


async def newest_reading(
    session: AsyncSession, ecosystem: str, operator_id: str, *, good_only: bool
) -> OwnershipReading | None:
    """The newest reading of this operator for this ecosystem (a good one, if asked)."""
    query = select(OwnershipReading).where(
        OwnershipReading.ecosystem == ecosystem, OwnershipReading.operator_id == operator_id
    )
    if good_only:
        query = query.where(OwnershipReading.outcome == "ok")
    query = query.order_by(OwnershipReading.id.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def newest_readings(
    session: AsyncSession, operators: Sequence[tuple[str, str]], *, good_only: bool
) -> dict[str, OwnershipReading]:
    """The newest reading per ecosystem of the given (ecosystem, operator) pairs, by ecosystem."""
    if not operators:
        return {}
    wanted = dict(operators)
    reading = OwnershipReading
    newest = (
        select(reading.ecosystem, reading.operator_id, func.max(reading.id))
        .where(OwnershipReading.ecosystem.in_(wanted))
        .group_by(OwnershipReading.ecosystem, OwnershipReading.operator_id)
    )
    if good_only:
        newest = newest.where(OwnershipReading.outcome == "ok")
    ids = [last for ecosystem, operator, last in await session.execute(newest)
           if wanted[ecosystem] == operator]  # fmt: skip
    if not ids:
        return {}
    rows = await session.execute(select(OwnershipReading).where(OwnershipReading.id.in_(ids)))
    return {r.ecosystem: r for r in rows.scalars()}


async def list_readings(
    session: AsyncSession, ecosystem: str, *, before_id: int | None, limit: int
) -> list[OwnershipReading]:
    """An ecosystem's readings, newest first, below ``before_id`` if given."""
    query = select(OwnershipReading).where(OwnershipReading.ecosystem == ecosystem)
    if before_id is not None:
        query = query.where(OwnershipReading.id < before_id)
    query = query.order_by(OwnershipReading.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def last_good_readings(session: AsyncSession) -> dict[tuple[str, str], datetime]:
    """When each (ecosystem, operator) was last read successfully."""
    query = (
        select(
            OwnershipReading.ecosystem,
            OwnershipReading.operator_id,
            func.max(OwnershipReading.at),
        )
        .where(OwnershipReading.outcome == "ok")
        .group_by(OwnershipReading.ecosystem, OwnershipReading.operator_id)
    )
    return {(row[0], row[1]): row[2] for row in await session.execute(query)}
