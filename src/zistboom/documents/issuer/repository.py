"""The issuer's queries. Rows that a change reads and then writes (a list's counter, a purpose's
bits, a document's state) are read ``FOR UPDATE`` on PostgreSQL; on SQLite every transaction
begins ``IMMEDIATE`` (``core.database.begin_immediately``), which serialises writers the same
way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.documents.issuer.models import (
    PURPOSES,
    Allocation,
    IssuedDocument,
    StatusChange,
    StatusList,
    StatusListBits,
)
from zistboom.documents.statuslist import StatusBits

# --- status lists -----------------------------------------------------------------------------


async def open_list(session: AsyncSession) -> StatusList | None:
    """The oldest list that still has indexes to hand out."""
    query = (
        select(StatusList)
        .where(StatusList.allocated < StatusList.size)
        .order_by(StatusList.number)
        .limit(1)
    )
    return (await session.scalars(query)).first()


# pg_advisory_xact_lock's key for opening a list: any constant the issuer's database uses once.
_OPENING_LOCK = 0x7A62_6C69  # "zbli"


async def hold_list_opening(session: AsyncSession) -> None:
    """Take the lock that lets one transaction at a time open a list (held to its end), so
    that allocators which all find every list full open one new list, not one each. SQLite's
    ``BEGIN IMMEDIATE`` already lets one writer in at a time."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_OPENING_LOCK)))


async def add_list(
    session: AsyncSession,
    *,
    list_id: str,
    size: int,
    multiplier: int,
    addend: int,
    at: datetime,
) -> StatusList:
    """A new list with all bits 0 in both purposes."""
    empty = StatusBits(size).encode()
    row = StatusList(
        list_id=list_id, size=size, multiplier=multiplier, addend=addend, allocated=0, created_at=at
    )
    session.add(row)
    await session.flush()
    for purpose in PURPOSES:
        session.add(
            StatusListBits(
                list_number=row.number,
                purpose=purpose,
                encoded_list=empty,
                revision=1,
                signed_revision=0,
                published_revision=0,
            )
        )
    await session.flush()
    return row


async def take_counter(session: AsyncSession, number: int) -> int | None:
    """Raise list ``number``'s counter by one and return the value it had (the counter of the
    index now handed out); ``None`` if the list is full. One statement, so two allocators can
    never take the same value."""
    statement = (
        update(StatusList)
        .where(StatusList.number == number, StatusList.allocated < StatusList.size)
        .values(allocated=StatusList.allocated + 1)
        .returning(StatusList.allocated)
    )
    taken = (await session.execute(statement)).scalar_one_or_none()
    return None if taken is None else taken - 1


async def list_by_number(session: AsyncSession, number: int) -> StatusList:
    return (await session.scalars(select(StatusList).where(StatusList.number == number))).one()


async def list_by_id(session: AsyncSession, list_id: str) -> StatusList | None:
    return (await session.scalars(select(StatusList).where(StatusList.list_id == list_id))).first()


async def bits_of(
    session: AsyncSession, number: int, purpose: str, *, for_update: bool = False
) -> StatusListBits:
    query = select(StatusListBits).where(
        StatusListBits.list_number == number, StatusListBits.purpose == purpose
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one()


async def purposes_to_sign(
    session: AsyncSession, *, renew_before: datetime
) -> list[tuple[StatusList, StatusListBits]]:
    """Each list purpose whose signed credential is older than its bits, or expires before
    ``renew_before``, or was never signed."""
    query = (
        select(StatusList, StatusListBits)
        .join(StatusListBits, StatusListBits.list_number == StatusList.number)
        .where(
            or_(
                StatusListBits.signed_revision < StatusListBits.revision,
                StatusListBits.valid_until.is_(None),
                StatusListBits.valid_until < renew_before,
            )
        )
        .order_by(StatusList.number, StatusListBits.purpose)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def purposes_to_publish(session: AsyncSession) -> list[tuple[StatusList, StatusListBits]]:
    """Each list purpose whose signed credential the hub has not taken yet."""
    query = (
        select(StatusList, StatusListBits)
        .join(StatusListBits, StatusListBits.list_number == StatusList.number)
        .where(
            StatusListBits.credential.is_not(None),
            StatusListBits.published_revision < StatusListBits.signed_revision,
        )
        .order_by(StatusList.number, StatusListBits.purpose)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def mark_published(
    session: AsyncSession, number: int, purpose: str, *, revision: int, at: datetime
) -> None:
    """The hub took the credential of ``revision`` (a later one may have been signed since,
    which stays to be published)."""
    await session.execute(
        update(StatusListBits)
        .where(
            StatusListBits.list_number == number,
            StatusListBits.purpose == purpose,
            StatusListBits.published_revision < revision,
        )
        .values(published_revision=revision, published_at=at)
    )


# --- allocations ------------------------------------------------------------------------------


async def add_allocation(
    session: AsyncSession,
    *,
    list_number: int,
    status_index: int,
    counter: int,
    credential_id: str,
    at: datetime,
) -> Allocation:
    row = Allocation(
        list_number=list_number,
        status_index=status_index,
        counter=counter,
        credential_id=credential_id,
        allocated_at=at,
        outcome="pending",
        reason="",
    )
    session.add(row)
    await session.flush()
    return row


async def allocation_of(session: AsyncSession, credential_id: str) -> Allocation | None:
    query = select(Allocation).where(Allocation.credential_id == credential_id)
    return (await session.scalars(query)).first()


async def settle_allocation(
    session: AsyncSession, credential_id: str, *, outcome: str, reason: str = ""
) -> None:
    """Record a pending allocation's outcome (an already settled one stays as it is)."""
    await session.execute(
        update(Allocation)
        .where(Allocation.credential_id == credential_id, Allocation.outcome == "pending")
        .values(outcome=outcome, reason=reason)
    )


async def allocations_of_list(session: AsyncSession, number: int) -> list[Allocation]:
    query = select(Allocation).where(Allocation.list_number == number).order_by(Allocation.counter)
    return list((await session.scalars(query)).all())


# --- documents --------------------------------------------------------------------------------


async def add_document(session: AsyncSession, document: IssuedDocument) -> None:
    session.add(document)
    await session.flush()


async def document(
    session: AsyncSession, document_id: str, *, for_update: bool = False
) -> IssuedDocument | None:
    query = select(IssuedDocument).where(IssuedDocument.id == document_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def documents_of_list(session: AsyncSession, number: int) -> list[IssuedDocument]:
    query = (
        select(IssuedDocument)
        .where(IssuedDocument.list_number == number)
        .order_by(IssuedDocument.status_index)
    )
    return list((await session.scalars(query)).all())


async def add_status_change(session: AsyncSession, change: StatusChange) -> None:
    session.add(change)
    await session.flush()


async def status_changes(session: AsyncSession, document_id: str) -> list[StatusChange]:
    query = (
        select(StatusChange)
        .where(StatusChange.document_id == document_id)
        .order_by(StatusChange.id)
    )
    return list((await session.scalars(query)).all())
