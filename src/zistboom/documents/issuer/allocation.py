"""Status-list entries handed out to documents (Bitstring Status List v1.0 §6 on herd privacy):
each list has ``size`` entries and a permutation fixed at its creation; the n-th document of a
list gets the permutation's n-th index, so consecutive documents sit at unrelated places and
no index is given twice. A new list is opened when the current one is full.

The counter is raised by one ``UPDATE … RETURNING`` and the allocation recorded with a unique
``(list, index)`` key, in the caller's transaction: the caller commits it before anything is
signed, so an index once handed out is never handed out again, whatever fails afterwards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ConflictError
from zistboom.documents.issuer import repository
from zistboom.documents.issuer.models import StatusList
from zistboom.documents.statuslist import IndexPermutation

# Another allocator may fill the open list between our read and our update; then we look again.
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a document's status is kept: list ``list_id`` at ``status_index``."""

    credential_id: str
    list_number: int
    list_id: str
    status_index: int


def permutation_of(status_list: StatusList) -> IndexPermutation:
    return IndexPermutation(status_list.size, status_list.multiplier, status_list.addend)


async def new_list(session: AsyncSession, *, size: int, at: datetime) -> StatusList:
    """A new, empty list of ``size`` entries with a fresh permutation."""
    permutation = IndexPermutation.random(size)
    return await repository.add_list(
        session,
        list_id=str(uuid.uuid4()),
        size=size,
        multiplier=permutation.a,
        addend=permutation.b,
        at=at,
    )


async def allocate(session: AsyncSession, *, credential_id: str, size: int, at: datetime) -> Entry:
    """The next entry for ``credential_id``, from the oldest list with room (a new one of
    ``size`` entries when every list is full)."""
    for _ in range(_ATTEMPTS):
        status_list = await repository.open_list(session)
        if status_list is None:
            await repository.hold_list_opening(session)
            # Another allocator may have opened one while we waited for the lock.
            status_list = await repository.open_list(session) or await new_list(
                session, size=size, at=at
            )
        counter = await repository.take_counter(session, status_list.number)
        if counter is None:
            continue
        index = permutation_of(status_list).index(counter)
        await repository.add_allocation(
            session,
            list_number=status_list.number,
            status_index=index,
            counter=counter,
            credential_id=credential_id,
            at=at,
        )
        return Entry(credential_id, status_list.number, status_list.list_id, index)
    raise ConflictError(
        f"no status-list entry could be taken in {_ATTEMPTS} attempts (other issuances filled "
        "the lists meanwhile): try again"
    )
