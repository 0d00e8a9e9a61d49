"""The documents hub's queries. Services take a session and call these; nothing else writes
SQL. Every query about a locker is scoped by its holder here, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.documents.hub.models import (
    AccessEvent,
    Document,
    DocumentType,
    Share,
    StatusList,
)

# --- document types ---------------------------------------------------------------------------


async def document_type(session: AsyncSession, code: str) -> DocumentType | None:
    return await session.get(DocumentType, code)


async def document_types(session: AsyncSession) -> Sequence[DocumentType]:
    return (await session.scalars(select(DocumentType).order_by(DocumentType.code))).all()


# --- documents --------------------------------------------------------------------------------


def _locker(holder: str) -> Select[Document]:
    """The holder's documents: the one statement every locker read starts from."""
    return select(Document).where(Document.holder == holder)


async def document(session: AsyncSession, document_id: str) -> Document | None:
    return await session.get(Document, document_id)


async def locker_document(session: AsyncSession, holder: str, document_id: str) -> Document | None:
    found: Document | None = await session.scalar(_locker(holder).where(Document.id == document_id))
    return found


async def locker_documents(session: AsyncSession, holder: str) -> Sequence[Document]:
    statement = _locker(holder).order_by(Document.issued_at.desc(), Document.id)
    return (await session.scalars(statement)).all()


async def type_codes_of(session: AsyncSession, document_ids: list[str]) -> dict[str, str]:
    if not document_ids:
        return {}
    rows = await session.execute(
        select(Document.id, Document.type_code).where(Document.id.in_(document_ids))
    )
    return {row.id: row.type_code for row in rows}


async def document_by_pull_token(session: AsyncSession, token: str) -> Document | None:
    found: Document | None = await session.scalar(
        select(Document).where(Document.pull_token == token)
    )
    return found


# --- status lists -----------------------------------------------------------------------------


async def status_list(session: AsyncSession, list_id: str, purpose: str) -> StatusList | None:
    found: StatusList | None = await session.scalar(
        select(StatusList).where(StatusList.list_id == list_id, StatusList.purpose == purpose)
    )
    return found


async def status_list_for_update(
    session: AsyncSession, list_id: str, purpose: str
) -> StatusList | None:
    """The held list, locked until the transaction ends (PostgreSQL; SQLite's transactions
    take the write lock up front), so two replacements are decided one after the other."""
    found: StatusList | None = await session.scalar(
        select(StatusList)
        .where(StatusList.list_id == list_id, StatusList.purpose == purpose)
        .with_for_update()
    )
    return found


async def status_lists_of_list(session: AsyncSession, list_id: str) -> Sequence[StatusList]:
    return (await session.scalars(select(StatusList).where(StatusList.list_id == list_id))).all()


# --- shares -----------------------------------------------------------------------------------


async def share(session: AsyncSession, share_id: str) -> Share | None:
    return await session.get(Share, share_id)


async def share_for_update(session: AsyncSession, share_id: str) -> Share | None:
    found: Share | None = await session.scalar(
        select(Share).where(Share.id == share_id).with_for_update()
    )
    return found


async def holder_shares(
    session: AsyncSession, holder: str, document_id: str | None = None
) -> Sequence[Share]:
    statement = select(Share).where(Share.holder == holder)
    if document_id is not None:
        statement = statement.where(Share.document_id == document_id)
    return (await session.scalars(statement.order_by(Share.created_at.desc(), Share.id))).all()


# --- access events ----------------------------------------------------------------------------


def add_event(session: AsyncSession, event: AccessEvent) -> None:
    session.add(event)


async def access_events(
    session: AsyncSession,
    holder: str,
    *,
    document_id: str | None,
    since: datetime | None,
    before: int | None,
    limit: int,
) -> Sequence[AccessEvent]:
    """The holder's events, newest first, ``limit`` of them below the id ``before``."""
    statement = select(AccessEvent).where(AccessEvent.holder == holder)
    if document_id is not None:
        statement = statement.where(AccessEvent.document_id == document_id)
    if since is not None:
        statement = statement.where(AccessEvent.at >= since)
    if before is not None:
        statement = statement.where(AccessEvent.id < before)
    statement = statement.order_by(AccessEvent.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()
