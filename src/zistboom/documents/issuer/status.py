"""Documents' status: revocation, suspension and reinstatement (the VC API's updateStatus), the
bits of the issuer's status lists that say it, and their signed list credentials.

A change of state, its bit and the list credential signed over the new bits are one
transaction; publishing that credential at the hub comes after the commit and is tried again by
the background pass until the hub takes it (``published_revision``). A list credential is valid
for two days (ZB-STD-008); the pass signs it again when less than a day is left.

The rules: ``revocation: true`` revokes (from active or suspended); ``suspension: true``
suspends an active document; ``suspension: false`` reinstates a suspended one. A revoked
document never changes again: reinstating it, in either purpose, is a conflict (409). Asking
for the state a document is already in changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError, NotFoundError, ZistboomError
from zistboom.documents import profile
from zistboom.documents.issuer import repository
from zistboom.documents.issuer.models import (
    PURPOSES,
    IssuedDocument,
    StatusChange,
    StatusList,
    StatusListBits,
)
from zistboom.documents.issuer.signing import DocumentSigner
from zistboom.documents.statuslist import VALIDITY, StatusBits, status_list_credential

log = logging.getLogger("zistboom.documents.issuer.status")
Purpose = profile.StatusPurpose
RENEW_WITHIN = timedelta(days=1)
"""A list credential is signed again when less than this is left of its validity."""


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One entry of an updateStatus request: set (``status``) or clear a purpose's bit."""

    purpose: Purpose
    status: bool


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    document: IssuedDocument
    changed: bool
    purposes: tuple[tuple[int, Purpose], ...]
    """The ``(list number, purpose)`` whose credential was signed anew, to publish."""


def next_state(state: str, update: StatusUpdate) -> str:
    """The state after ``update``; :class:`ConflictError` for what a revoked document refuses."""
    if state == "revoked":
        if update.purpose == "revocation" and update.status:
            return state
        wanted = "reinstated" if not update.status else "suspended"
        raise ConflictError(
            f"the document is revoked and cannot be {wanted}: a revocation is final "
            "(issue a new document instead)",
            field="credentialStatus",
        )
    if update.purpose == "revocation":
        return "revoked" if update.status else state
    if update.status:
        return "suspended"
    return "active" if state == "suspended" else state


def _bits_for(state: str) -> dict[Purpose, bool]:
    """The bits a state sets; a revocation leaves the suspension bit as it was."""
    if state == "revoked":
        return {"revocation": True}
    return {"revocation": False, "suspension": state == "suspended"}


def sign_bits(
    status_list: StatusList,
    bits_row: StatusListBits,
    signer: DocumentSigner,
    *,
    hub_url: str,
    at: datetime,
) -> None:
    """Sign the purpose's current bits as a ``BitstringStatusListCredential`` valid from
    ``at`` (for two days), and keep it on the row as the revision to publish.

    Each credential's ``validFrom`` is later than the one before it, by a second if need be
    (credential times are whole seconds): the hub takes a list only when it is newer than the
    one it holds, so two changes within a second must still read as two."""
    valid_from = at.replace(microsecond=0)
    if bits_row.valid_until is not None:
        valid_from = max(valid_from, bits_row.valid_until - VALIDITY + timedelta(seconds=1))
    purpose: Purpose = "revocation" if bits_row.purpose == "revocation" else "suspension"
    claims = status_list_credential(
        list_url=profile.status_list_url(hub_url, status_list.list_id, purpose),
        issuer=profile.issuer_urn(signer.member_id),
        purpose=purpose,
        bits=StatusBits.decode(bits_row.encoded_list),
        valid_from=valid_from,
    )
    bits_row.credential = signer.sign(claims)
    bits_row.signed_revision = bits_row.revision
    bits_row.valid_until = valid_from + VALIDITY


async def sign_new_list(
    session: AsyncSession,
    number: int,
    signer: DocumentSigner,
    *,
    hub_url: str,
    at: datetime,
) -> None:
    """Sign the purposes of list ``number`` that were never signed (a list just opened), so
    that its first document's status can be checked from the start."""
    status_list = await repository.list_by_number(session, number)
    for purpose in PURPOSES:
        if (await repository.bits_of(session, number, purpose)).credential is not None:
            continue  # the common case, read without a lock
        row = await repository.bits_of(session, number, purpose, for_update=True)
        if row.credential is None:
            sign_bits(status_list, row, signer, hub_url=hub_url, at=at)


async def change_status(
    session: AsyncSession,
    document_id: str,
    updates: list[StatusUpdate],
    signer: DocumentSigner,
    *,
    hub_url: str,
    requested_by: str,
    at: datetime,
) -> StatusOutcome:
    """Apply ``updates`` in order to the document; its bits change and are signed with it."""
    document = await repository.document(session, document_id, for_update=True)
    if document is None:
        raise NotFoundError(
            f"this issuer has issued no document {document_id}", field="credentialId"
        )
    state = document.state
    for update in updates:
        state = next_state(state, update)
    if state == document.state:
        return StatusOutcome(document, False, ())
    status_list = await repository.list_by_number(session, document.list_number)
    signed: list[tuple[int, Purpose]] = []
    for purpose, value in _bits_for(state).items():
        bits_row = await repository.bits_of(session, document.list_number, purpose, for_update=True)
        bits = StatusBits.decode(bits_row.encoded_list)
        if bits.get(document.status_index) == value:
            continue
        bits.set(document.status_index, value)
        bits_row.encoded_list = bits.encode()
        bits_row.revision += 1
        sign_bits(status_list, bits_row, signer, hub_url=hub_url, at=at)
        signed.append((status_list.number, purpose))
    await repository.add_status_change(
        session,
        StatusChange(
            document_id=document.id,
            from_state=document.state,
            to_state=state,
            at=at,
            requested_by=requested_by,
        ),
    )
    document.state = state
    document.state_changed_at = at
    await session.flush()
    return StatusOutcome(document, True, tuple(signed))


# --- keeping the hub's copies current ---------------------------------------------------------


class ListPublisher:
    """Puts signed list credentials at the hub and records which revision it holds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: DocumentSigner,
        publish: Callable[[str, str, str], Awaitable[None]],
        *,
        hub_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self._publish = publish
        self.hub_url = hub_url
        self._clock = clock

    async def publish(self, status_list: StatusList, bits_row: StatusListBits) -> None:
        """PUT one purpose's credential; raises what the hub (or the exchange) refused."""
        assert bits_row.credential is not None
        await self._publish(status_list.list_id, bits_row.purpose, bits_row.credential)
        async with transaction(self.sessions) as session:
            await repository.mark_published(
                session,
                status_list.number,
                bits_row.purpose,
                revision=bits_row.signed_revision,
                at=self._clock(),
            )

    async def publish_purpose(self, number: int, purpose: str) -> None:
        """PUT the purpose's credential unless the hub holds its latest revision already."""
        async with transaction(self.sessions) as session:
            status_list = await repository.list_by_number(session, number)
            bits_row = await repository.bits_of(session, number, purpose)
        if bits_row.published_revision < bits_row.signed_revision:
            await self.publish(status_list, bits_row)

    async def publish_pending(self) -> list[str]:
        """Every signed credential the hub has not taken; returns the failures' reasons."""
        async with transaction(self.sessions) as session:
            pending = await repository.purposes_to_publish(session)
        failures: list[str] = []
        for status_list, bits_row in pending:
            try:
                await self.publish(status_list, bits_row)
            except ZistboomError as error:
                failures.append(f"{status_list.list_id}/{bits_row.purpose}: {error.detail}")
        return failures

    async def renew_due(self) -> int:
        """Sign again every purpose whose credential expires within a day (or is older than
        its bits, or was never signed); returns how many were signed."""
        now = self._clock()
        async with transaction(self.sessions) as session:
            due = await repository.purposes_to_sign(session, renew_before=now + RENEW_WITHIN)
            for status_list, bits_row in due:
                locked = await repository.bits_of(
                    session, status_list.number, bits_row.purpose, for_update=True
                )
                locked.revision += 1
                sign_bits(status_list, locked, self.signer, hub_url=self.hub_url, at=now)
        return len(due)

    async def pass_once(self) -> None:
        """One background pass: sign what is due, then publish what the hub lacks."""
        signed = await self.renew_due()
        if signed:
            log.info("signed %d status list credentials again", signed)
        for failure in await self.publish_pending():
            log.warning("status list not published at the hub: %s", failure)
