"""Documents' status at the issuer: revocation, suspension and reinstatement change the
document's state and its bit in the right list, each change signed at once as a
BitstringStatusListCredential; a revoked document never changes again; lists are signed again
before their validity ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from documents.issuer.issuer_world import T0, InstancePki, member_id
from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError, NotFoundError
from zistboom.documents.issuer import allocation, repository, status
from zistboom.documents.issuer.database import open_database
from zistboom.documents.issuer.models import IssuedDocument, StatusListBits
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.signing import DocumentSigner
from zistboom.documents.issuer.status import StatusUpdate
from zistboom.documents.statuslist import MIN_SIZE, ParsedStatusList, parse_status_list
from zistboom.documents.vc import verify_signature

HUB = "https://hub.example"
REVOKE = StatusUpdate("revocation", True)
UNREVOKE = StatusUpdate("revocation", False)
SUSPEND = StatusUpdate("suspension", True)
REINSTATE = StatusUpdate("suspension", False)


@dataclass
class Issuer:
    sessions: async_sessionmaker[AsyncSession]
    signer: DocumentSigner

    async def document(self) -> IssuedDocument:
        """A document recorded as issuance records one, at a freshly allocated entry."""
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        async with transaction(self.sessions) as session:
            entry = await allocation.allocate(
                session, credential_id=credential_id, size=MIN_SIZE, at=T0
            )
            document = IssuedDocument(
                id=credential_id,
                type_code="tax-clearance",
                holder="IR0499370899",
                list_number=entry.list_number,
                status_index=entry.status_index,
                state="active",
                issued_at=T0,
                valid_from=T0,
                valid_until=T0 + timedelta(days=90),
                credential_digest="0" * 64,
                timestamp_digest="0" * 64,
                qr_digest="0" * 64,
                pdf_digest=None,
                requested_by="IR-TEST/GOV/x/backoffice",
                state_changed_at=T0,
            )
            await repository.add_document(session, document)
            await repository.settle_allocation(session, credential_id, outcome="issued")
        return document

    async def change(
        self, document: IssuedDocument, *updates: StatusUpdate, at: datetime = T0
    ) -> status.StatusOutcome:
        async with transaction(self.sessions) as session:
            return await status.change_status(
                session,
                document.id,
                list(updates),
                self.signer,
                hub_url=HUB,
                requested_by="IR-TEST/GOV/x/backoffice",
                at=at,
            )

    async def bits_row(self, document: IssuedDocument, purpose: str) -> StatusListBits:
        async with transaction(self.sessions) as session:
            return await repository.bits_of(session, document.list_number, purpose)

    async def state(self, document: IssuedDocument) -> str:
        async with transaction(self.sessions) as session:
            row = await repository.document(session, document.id)
        assert row is not None
        return row.state

    def signed_list(self, row: StatusListBits) -> ParsedStatusList:
        """The row's list credential, its signature checked, signed by the document key."""
        assert row.credential is not None
        parsed = parse_status_list(row.credential)
        verify_signature(parsed)
        assert parsed.leaf == self.signer.certificate
        return parsed

    async def bit(self, document: IssuedDocument, purpose: str) -> bool:
        """The document's bit in the list credential as signed (not merely as stored)."""
        parsed = self.signed_list(await self.bits_row(document, purpose))
        assert parsed.purpose == purpose
        return parsed.bits.get(document.status_index)


@pytest.fixture
async def issuer(tmp_path: Path, database_url: str) -> AsyncIterator[Issuer]:
    settings = IssuerSettings(data_dir=tmp_path / "issuer", database_url=database_url)
    opened = await open_database(settings)
    try:
        yield Issuer(opened.sessions, InstancePki.create().document_signer(member_id()))
    finally:
        await opened.engine.dispose()


async def test_suspension_and_reinstatement_change_the_suspension_list_only(
    issuer: Issuer,
) -> None:
    document, neighbour = await issuer.document(), await issuer.document()
    suspended = await issuer.change(document, SUSPEND)
    assert suspended.changed and suspended.document.state == "suspended"
    assert suspended.purposes == ((document.list_number, "suspension"),)
    assert await issuer.bit(document, "suspension") is True
    assert await issuer.bit(neighbour, "suspension") is False
    revocation = await issuer.bits_row(document, "revocation")
    assert revocation.credential is None, "the revocation list was signed without a change"

    reinstated = await issuer.change(document, REINSTATE, at=T0 + timedelta(hours=1))
    assert reinstated.document.state == "active"
    assert await issuer.bit(document, "suspension") is False
    row = await issuer.bits_row(document, "suspension")
    assert row.signed_revision == row.revision == 3
    async with transaction(issuer.sessions) as session:
        changes = await repository.status_changes(session, document.id)
    assert [(c.from_state, c.to_state) for c in changes] == [
        ("active", "suspended"),
        ("suspended", "active"),
    ]


async def test_the_signed_list_names_its_url_issuer_and_two_days_of_validity(
    issuer: Issuer,
) -> None:
    document = await issuer.document()
    await issuer.change(document, REVOKE)
    row = await issuer.bits_row(document, "revocation")
    parsed = issuer.signed_list(row)
    async with transaction(issuer.sessions) as session:
        listed = await repository.list_by_number(session, document.list_number)
    assert parsed.list_url == f"{HUB}/status-lists/{listed.list_id}/revocation"
    assert parsed.issuer_member == issuer.signer.member_id
    assert (parsed.valid_from, parsed.valid_until) == (T0, T0 + timedelta(days=2))
    assert row.valid_until == T0 + timedelta(days=2)
    assert await issuer.bit(document, "revocation") is True


async def test_a_revoked_document_cannot_be_reinstated_or_suspended(issuer: Issuer) -> None:
    document = await issuer.document()
    await issuer.change(document, SUSPEND)
    revoked = await issuer.change(document, REVOKE)
    assert revoked.document.state == "revoked"
    assert revoked.purposes == ((document.list_number, "revocation"),)
    before = await issuer.bits_row(document, "revocation")

    for refused in (UNREVOKE, REINSTATE, SUSPEND):
        with pytest.raises(ConflictError, match="revoked and cannot be"):
            await issuer.change(document, refused)
    assert await issuer.state(document) == "revoked"
    after = await issuer.bits_row(document, "revocation")
    assert (after.revision, after.credential) == (before.revision, before.credential)

    again = await issuer.change(document, REVOKE)
    assert not again.changed and again.purposes == ()


async def test_a_request_with_a_refused_entry_applies_none_of_it(issuer: Issuer) -> None:
    document = await issuer.document()
    with pytest.raises(ConflictError):
        await issuer.change(document, REVOKE, REINSTATE)
    assert await issuer.state(document) == "active"
    assert (await issuer.bits_row(document, "revocation")).credential is None


async def test_asking_for_the_state_a_document_is_in_changes_nothing(issuer: Issuer) -> None:
    document = await issuer.document()
    for update in (REINSTATE, UNREVOKE):
        outcome = await issuer.change(document, update)
        assert not outcome.changed
    row = await issuer.bits_row(document, "suspension")
    assert (row.revision, row.credential) == (1, None)


async def test_an_unknown_document_is_not_found(issuer: Issuer) -> None:
    async with transaction(issuer.sessions) as session:
        with pytest.raises(NotFoundError, match="issued no document"):
            await status.change_status(
                session,
                f"urn:uuid:{uuid.uuid4()}",
                [REVOKE],
                issuer.signer,
                hub_url=HUB,
                requested_by="x",
                at=T0,
            )


async def test_lists_are_signed_again_within_a_day_of_their_end(issuer: Issuer) -> None:
    document = await issuer.document()
    await issuer.change(document, SUSPEND)
    clock = [T0 + timedelta(hours=12)]
    publisher = status.ListPublisher(
        issuer.sessions,
        issuer.signer,
        _never_called,
        hub_url=HUB,
        clock=lambda: clock[0],
    )
    # Never-signed purposes (the revocation list here) are signed at the first pass.
    assert await publisher.renew_due() == 1
    assert (await issuer.bits_row(document, "revocation")).valid_until == clock[0] + timedelta(2)
    suspension = await issuer.bits_row(document, "suspension")
    assert suspension.valid_until == T0 + timedelta(days=2)

    assert await publisher.renew_due() == 0, "a list with more than a day left was signed again"

    clock[0] = T0 + timedelta(days=1, minutes=1)
    assert await publisher.renew_due() == 1
    renewed = await issuer.bits_row(document, "suspension")
    assert renewed.valid_until == clock[0] + timedelta(days=2)
    assert renewed.signed_revision == renewed.revision == suspension.revision + 1
    assert await issuer.bit(document, "suspension") is True


async def _never_called(list_id: str, purpose: str, credential: str) -> None:
    raise AssertionError("renew_due publishes nothing")


async def test_two_changes_within_a_second_sign_lists_of_increasing_valid_from(
    issuer: Issuer,
) -> None:
    """The hub takes a list only when its validFrom is later than the one it holds."""
    document = await issuer.document()
    await issuer.change(document, SUSPEND, at=T0)
    first = issuer.signed_list(await issuer.bits_row(document, "suspension"))
    await issuer.change(document, REINSTATE, at=T0 + timedelta(milliseconds=300))
    second = issuer.signed_list(await issuer.bits_row(document, "suspension"))
    assert second.valid_from == first.valid_from + timedelta(seconds=1)
    assert second.bits.get(document.status_index) is False
