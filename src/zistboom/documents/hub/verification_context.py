"""The hub's :class:`~zistboom.documents.verification.VerificationContext`: what the one
verification algorithm (``documents/verification.py``) reads, taken from the hub's copies of
central's global configuration and trust list (``sources.py``) and from its own tables (the
registered document types, the status lists as the issuers signed them, the timestamp tokens in
the lockers).

The algorithm asks synchronously; what it may ask of the database is read before it runs
(:func:`build`): every type, the status lists the presented document names, and its locker
entry's timestamp."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509 as cx509
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.accreditation import TrustIndex
from zistboom.core.errors import DocumentError
from zistboom.documents import profile, statuslist, verification
from zistboom.documents.hub import document_types, repository
from zistboom.documents.hub.sources import Sources


@dataclass(slots=True)
class HubContext:
    """One verification's context (made by :func:`build`)."""

    sources: Sources
    clock: Callable[[], datetime]
    types: dict[str, verification.DocumentTypeView] = field(default_factory=dict)
    lists: dict[str, verification.StatusListView] = field(default_factory=dict)
    timestamps: dict[str, bytes] = field(default_factory=dict)

    @property
    def ca_certificates(self) -> list[cx509.Certificate]:
        return self.sources.ca_certificates()

    @property
    def tsa_certificates(self) -> list[cx509.Certificate]:
        return self.sources.tsa_certificates()

    def revoked_at(self, serial: int) -> datetime | None:
        return self.sources.revoked_at(serial)

    def trust_index(self, at: datetime) -> TrustIndex | None:
        # One index answers for any time: the list carries every accreditation's history.
        return self.sources.trust_index()

    def document_type(self, code: str) -> verification.DocumentTypeView | None:
        return self.types.get(code)

    def status_list(self, url: str) -> verification.StatusListView | None:
        return self.lists.get(url)

    def timestamp_for(self, credential_id: str) -> bytes | None:
        return self.timestamps.get(credential_id)

    def now(self) -> datetime:
        return self.clock()

    def freshness(self) -> list[verification.SourceFreshness]:
        return [
            verification.SourceFreshness(source.name, source.refreshed_at)
            for source in self.sources.freshness()
        ]


async def build(
    session: AsyncSession,
    sources: Sources,
    clock: Callable[[], datetime],
    *,
    hub_url: str,
    credential_ids: Iterable[str],
    list_ids: Iterable[str],
) -> HubContext:
    """The context for a document whose credential ids and status list ids are given."""
    context = HubContext(sources, clock)
    for row in await document_types.all_types(session):
        definition = document_types.definition_of(row)
        context.types[row.code] = verification.DocumentTypeView.of(definition)
    for list_id in set(list_ids):
        for held in await repository.status_lists_of_list(session, list_id):
            try:
                parsed = statuslist.parse_status_list(held.credential)
            except DocumentError:
                continue  # checked when received; a list that no longer reads is not used
            url = profile.status_list_url(hub_url, held.list_id, held.purpose)  # type: ignore[arg-type]
            context.lists[url] = verification.StatusListView(
                bits=parsed.bits,
                valid_from=parsed.valid_from,
                valid_until=parsed.valid_until,
                fetched_at=held.received_at,
            )
    for credential_id in set(credential_ids):
        document = await repository.document(session, credential_id)
        if document is not None:
            context.timestamps[credential_id] = document.timestamp_token
    return context
