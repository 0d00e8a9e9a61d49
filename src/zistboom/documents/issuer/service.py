"""What the issuer's routes call: issuing (``issuance.py``) and changing a document's status
(``status.py``, whose re-signed lists go to the hub at once and, failing that, at the next
background pass), and the background work itself (refreshing the global configuration and
the trust list, re-signing lists before they expire, publishing what the hub lacks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError
from zistboom.documents.issuer import status
from zistboom.documents.issuer.exchange import ExchangeClient
from zistboom.documents.issuer.hub import HubClient
from zistboom.documents.issuer.issuance import Issuance, Issued, IssueRequest
from zistboom.documents.issuer.models import IssuedDocument
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.signing import DocumentSigner
from zistboom.documents.issuer.status import ListPublisher, StatusUpdate
from zistboom.documents.issuer.trust import TrustSources

log = logging.getLogger("zistboom.documents.issuer")


@dataclass(frozen=True, slots=True)
class StatusResult:
    document: IssuedDocument
    changed: bool
    published: bool


class Issuer:
    def __init__(
        self,
        settings: IssuerSettings,
        sessions: async_sessionmaker[AsyncSession],
        signer: DocumentSigner,
        trust: TrustSources,
        exchange: ExchangeClient,
        hub: HubClient,
        tsa_http: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = signer
        self.trust = trust
        self._clock = clock
        self.publisher = ListPublisher(
            sessions, signer, hub.publish_status_list, hub_url=settings.hub_url, clock=clock
        )
        self.issuance = Issuance(
            settings, sessions, signer, trust, hub, exchange, tsa_http, self.publisher, clock=clock
        )

    async def issue(self, request: IssueRequest) -> Issued:
        return await self.issuance.issue(request)

    async def update_status(
        self, credential_id: str, updates: list[StatusUpdate], *, requested_by: str
    ) -> StatusResult:
        async with transaction(self.sessions) as session:
            outcome = await status.change_status(
                session,
                credential_id,
                updates,
                self.signer,
                hub_url=self.settings.hub_url,
                requested_by=requested_by,
                at=self._clock(),
            )
        published = True
        for number, purpose in outcome.purposes:
            try:
                await self.publisher.publish_purpose(number, purpose)
            except ZistboomError as error:
                published = False
                log.warning(
                    "status list of %s not published yet (tried again later): %s",
                    credential_id,
                    error.detail,
                )
        return StatusResult(outcome.document, outcome.changed, published)

    async def run_background(self) -> None:
        """Until cancelled: the configuration and trust list every ``conf_refresh_seconds``,
        the status lists' pass every ``status_check_seconds``."""
        loop = asyncio.get_running_loop()
        next_pass = loop.time()
        while True:
            await self.trust.refresh()
            if loop.time() >= next_pass:
                try:
                    await self.publisher.pass_once()
                except Exception:  # the next pass tries again; the loop must not die
                    log.exception("status list pass failed")
                next_pass = loop.time() + self.settings.status_check_seconds
            await asyncio.sleep(
                min(self.settings.conf_refresh_seconds, max(0.0, next_pass - loop.time()))
            )
