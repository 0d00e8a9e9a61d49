"""Lockers: who may act for which holder, and what a holder's locker shows.

The rule (issue 9, ZB-STD-008 §lockers): acting **for a person** is the single-window
operator's right only — its subsystem (the hub's ``window_subsystem`` setting) with
``X-Road-UserId`` naming the person (``IR`` + national code, ``FN`` + foreign national ID).
Any other client sending ``X-Road-UserId`` is refused, whatever it names: a person because it
may not act for one, anything else because the hub acts for nobody but persons and businesses.
A business's own information systems act for that business: a client whose member code (the
member's 11-digit legal-entity ID) is the holder, with no ``X-Road-UserId``. Persons acting for
a business (mandates) come later."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core import identifiers
from zistboom.core.errors import ActForPersonRefusedError, NotFoundError
from zistboom.documents.hub import access, repository
from zistboom.documents.hub.models import Document
from zistboom.documents.hub.service import Acting, Caller, Clock

PERSON = re.compile(identifiers.PERSON_ID_PATTERN)


def is_person(holder: str) -> bool:
    return PERSON.fullmatch(holder) is not None


def acting_for(caller: Caller, *, window: str) -> Acting:
    """The holder ``caller`` acts for; :class:`ActForPersonRefusedError` naming why when none."""
    user = caller.user_id
    if caller.client == window:
        if user is None:
            raise ActForPersonRefusedError(
                f"{window} acts for persons only: send X-Road-UserId naming the person "
                "(IR and a national code, or FN and a foreign national ID)",
                field="X-Road-UserId",
            )
        if not is_person(user):
            raise ActForPersonRefusedError(
                f"X-Road-UserId {user!r} names no person: the single window acts for a person "
                "named as IR and a national code, or FN and a foreign national ID",
                field="X-Road-UserId",
            )
        return Acting(caller, user)
    if user is not None:
        if is_person(user):
            raise ActForPersonRefusedError(
                f"{caller.client} may not act for a person: X-Road-UserId {user} is accepted "
                f"only from the single window's subsystem ({window or 'none configured'})",
                field="X-Road-UserId",
            )
        raise ActForPersonRefusedError(
            f"{caller.client} sent X-Road-UserId {user!r}: a business's own systems act for "
            "the business itself, without X-Road-UserId; acting for another is refused",
            field="X-Road-UserId",
        )
    return Acting(caller, caller.member_code)


async def documents(session: AsyncSession, acting: Acting, clock: Clock) -> Sequence[Document]:
    """The holder's documents, newest first; the listing is an access event."""
    found = await repository.locker_documents(session, acting.holder)
    access.record(session, access.Event(acting.holder, "listed", clock()), acting.caller)
    return found


async def document(session: AsyncSession, acting: Acting, document_id: str) -> Document:
    found = await repository.locker_document(session, acting.holder, document_id)
    if found is None:
        raise NotFoundError(
            f"the locker of {acting.holder} holds no document {document_id!r}", field="id"
        )
    return found
