"""The hub's :class:`~zistboom.documents.verification.VerificationContext`: what the one
verification algorithm (``documents/verification.py``) reads, taken from the hub's copies of
central's global configuration and trust list (``sources.py``) and from its own tables (the
registered document types, the status lists as the issuers signed them, the timestamp tokens in
the lockers). Each question is one short read of the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509 as cx509

from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.database import transaction
from zistboom.core.errors import DocumentError
from zistboom.documents import profile, statuslist, verification
from zistboom.documents.hub import repository
from zistboom.documents.hub.state import HubState


@dataclass(slots=True)
class HubContext:
    """One verification's view of the hub (status lists read once per verification)."""

    state: HubState
    _lists: dict[str, verification.StatusListView | None] = field(default_factory=dict)

    @property
    def ca_certificates(self) -> Sequence[cx509.Certificate]:
        return self.state.sources.ca_certificates()

    @property
    def tsa_certificates(self) -> Sequence[cx509.Certificate]:
        return self.state.sources.tsa_certificates()

    @property
    def hub_url(self) -> str:
        return self.state.settings.base_url

    async def revoked_at(self, serial: int) -> datetime | None:
        return self.state.sources.revoked_at(serial)

    async def trust_index(self, at: datetime) -> TrustIndex | None:
        # One index answers for any time: the list carries every accreditation's history.
        return self.state.sources.trust_index()

    async def document_type(self, code: str) -> verification.DocumentTypeView | None:
        async with transaction(self.state.sessions) as session:
            row = await repository.document_type(session, code)
        if row is None:
            return None
        return verification.DocumentTypeView(
            code=row.code,
            schema=row.subject_schema,
            requirement=Requirement(
                row.requirement_ecosystem,
                row.requirement_kind,
                row.requirement_level,  # type: ignore[arg-type]  # a Level, checked at registration
                action="issue",
            ),
        )

    async def status_list(self, url: str) -> verification.StatusListView | None:
        if url not in self._lists:
            self._lists[url] = await self._read_list(url)
        return self._lists[url]

    async def _read_list(self, url: str) -> verification.StatusListView | None:
        prefix = self.hub_url.rstrip("/") + "/status-lists/"
        list_id, _, purpose = url.removeprefix(prefix).partition("/")
        if not url.startswith(prefix) or purpose not in profile.STATUS_PURPOSES:
            return None  # another hub's list: this hub holds none of those
        async with transaction(self.state.sessions) as session:
            held = await repository.status_list(session, list_id, purpose)
        if held is None:
            return None
        try:
            parsed = statuslist.parse_status_list(held.credential)
        except DocumentError:
            return None  # checked when received; one that no longer reads is not relied on
        return verification.StatusListView(credential=parsed, fetched_at=held.received_at)

    async def timestamp_for(self, credential_id: str) -> bytes | None:
        async with transaction(self.state.sessions) as session:
            document = await repository.document(session, credential_id)
        return document.timestamp_token if document is not None else None

    def now(self) -> datetime:
        return self.state.clock()

    def sources(self) -> Sequence[verification.SourceFreshness]:
        return [
            verification.SourceFreshness(source.name, source.refreshed_at)
            for source in self.state.sources.freshness()
            if source.refreshed_at is not None
        ]
