"""Publishing the trust list (ZB-STD-007): build it from the accreditation tables, give it the
next sequence number, sign it with central's trust-list key, keep the signed copy that
``GET /trust-list`` serves and the :class:`~zistboom.core.accreditation.TrustIndex` that the
trust-registry queries and the catalogue answer from, and say where it is (the pointer the global
configuration carries).

Every issue gets a new sequence number, also when only its times changed: a gateway fetches the
list whenever the global configuration names a newer sequence, and a list whose next update has
passed must be replaced by one it will fetch. Sequence numbers are kept in central's own table
``trust_list_issues`` (migration 0004) rather than in a file under the data directory: the
number is taken in the same transaction that reads the accreditation tables (so two central
processes on one database cannot issue the same number, the primary key refuses the second),
it follows the database it describes when that is moved or restored, and the table keeps which
list (by digest) was current from when, as ``global_conf_versions`` does for the configuration.

What goes into the list is not decided here: the builder (``listing.build_trust_list_content``
of the domain tables) is passed in; :func:`empty_content` lists nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.central.models import TrustListIssue
from zistboom.central.settings import CentralSettings
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto.keys import PrivateKey, public_key_fingerprint
from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ConfigurationError
from zistboom.core.globalconf import TrustListPointer
from zistboom.core.trustlist import (
    FORMAT,
    TrustList,
    sign_statement,
    sign_trust_list,
    token_digest,
)

__all__ = [
    "MEDIA_TYPE",
    "Issued",
    "SignedTrustList",
    "TrustListBuilder",
    "TrustListPublisher",
    "empty_content",
    "router",
]

log = logging.getLogger("zistboom.accreditation")
MEDIA_TYPE = "application/jose"
# Each lost race means another process issued a list in between: with N processes issuing
# at once, one may lose up to N - 1 times per list of theirs. CI saw a third loss with two.
_ISSUE_ATTEMPTS = 20


class TrustListBuilder(Protocol):
    """Makes the list's content from the tables, with the times and sequence it is given."""

    def __call__(
        self,
        session: AsyncSession,
        *,
        instance: str,
        issued_at: datetime,
        next_update: datetime,
        sequence: int,
    ) -> Awaitable[TrustList]: ...


async def empty_content(
    session: AsyncSession,
    *,
    instance: str,
    issued_at: datetime,
    next_update: datetime,
    sequence: int,
) -> TrustList:
    """A list with no schemes, accreditations, recognitions or assessors: nothing regulated."""
    return TrustList(
        format=FORMAT,
        instance=instance,
        sequence=sequence,
        issued_at=issued_at,
        next_update=next_update,
        schemes=[],
        accreditations=[],
        recognitions=[],
        assessors=[],
    )


@dataclass(frozen=True, slots=True)
class SignedTrustList:
    """One issued list: the document, the compact JWS served, its SHA-256 (what the global
    configuration names) and the entity tag of ``GET /trust-list``."""

    document: TrustList
    token: str
    digest: str
    etag: str

    @classmethod
    def of(cls, document: TrustList, token: str) -> SignedTrustList:
        digest = token_digest(token)
        return cls(document, token, digest, f'"{document.sequence}-{digest[:16]}"')


@dataclass(frozen=True, slots=True)
class Issued:
    """The current list and its index, swapped together so that a reader never sees one
    without the other."""

    signed: SignedTrustList
    index: TrustIndex


class TrustListPublisher:
    """Holds the current signed trust list and its index, and issues the next one."""

    def __init__(
        self,
        settings: CentralSettings,
        key: PrivateKey,
        sessions: async_sessionmaker[AsyncSession],
        builder: TrustListBuilder = empty_content,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._key = key
        self._sessions = sessions
        self._builder = builder
        self._clock = clock
        self._lock = asyncio.Lock()
        self._issued: Issued | None = None
        # What GET /trust-list serves once a global configuration follows the lists: the one
        # it names, so that a gateway never sees a list other than the one named (the newest
        # is issued a moment before the configuration that names it).
        self._named: Issued | None = None
        self._previous: Issued | None = None
        self.key_fingerprint = public_key_fingerprint(key.public_key())

    @property
    def instance(self) -> str:
        return self._settings.instance

    @property
    def url(self) -> str:
        return f"{self._settings.base_url}/trust-list"

    @property
    def validity(self) -> timedelta:
        return timedelta(seconds=self._settings.trust_list_validity_seconds)

    @property
    def issued(self) -> Issued:
        """The list last issued with its index (:class:`ConfigurationError` before the first):
        what the checks and queries answer from, at once after a change."""
        issued = self._issued
        if issued is None:
            raise ConfigurationError("central has not issued a trust list yet")
        return issued

    @property
    def current(self) -> SignedTrustList:
        """The list ``GET /trust-list`` serves: the one the current global configuration names
        (see :meth:`named`), or the newest while no configuration follows."""
        return self._named.signed if self._named is not None else self.issued.signed

    def named(self, pointer: TrustListPointer | None) -> None:
        """A global configuration naming ``pointer`` is now current: serve that list."""
        for held in (self._issued, self._previous):
            if held is not None and pointer is not None and held.signed.digest == pointer.digest:
                self._named = held
                return

    @property
    def index(self) -> TrustIndex:
        """The last issued list, arranged for checks."""
        return self.issued.index

    def sign_statement(self, payload: bytes, *, typ: str) -> str:
        """A compact JWS over ``payload`` by the trust-list key (recognitions, TRQP answers)."""
        return sign_statement(payload, self._key, typ=typ)

    def pointer(self) -> TrustListPointer | None:
        """What the global configuration says about the current list (``None`` before the
        first issue)."""
        issued = self._issued
        if issued is None:
            return None
        return TrustListPointer(
            url=self.url,
            sequence=issued.signed.document.sequence,
            digest=issued.signed.digest,
            key_fingerprint=self.key_fingerprint,
        )

    def seconds_until_due(self) -> float:
        """Seconds until the current list is half way to its next update (0 if it is already,
        or if there is none): it is re-issued then, leaving the other half for gateways."""
        issued = self._issued
        if issued is None:
            return 0.0
        document = issued.signed.document
        due = document.issued_at + (document.next_update - document.issued_at) / 2
        return max(0.0, (due - self._clock()).total_seconds())

    async def refresh(self) -> SignedTrustList:
        """Issue the list now: content from the builder, the next sequence number, signed."""
        async with self._lock:
            for attempt in range(1, _ISSUE_ATTEMPTS + 1):
                try:
                    issued = await self._issue()
                    break
                except IntegrityError:
                    # Another central process on this database took the number first.
                    if attempt == _ISSUE_ATTEMPTS:
                        raise
                    log.warning("trust list sequence taken by another process; trying again")
            self._previous, self._issued = self._issued, issued
            log.info(
                "trust list %d issued (%d accreditations)",
                issued.signed.document.sequence,
                len(issued.signed.document.accreditations),
            )
            return issued.signed

    async def _issue(self) -> Issued:
        now = self._clock()
        async with transaction(self._sessions) as session:
            sequence = await _next_sequence(session)
            document = await self._builder(
                session,
                instance=self._settings.instance,
                issued_at=now,
                next_update=now + self.validity,
                sequence=sequence,
            )
            if (document.instance, document.sequence) != (self._settings.instance, sequence):
                raise ConfigurationError(
                    f"the trust list builder made list {document.sequence} of "
                    f"{document.instance}, not {sequence} of {self._settings.instance}"
                )
            # Signing and indexing a large list take a while: off the event loop.
            issued = await asyncio.to_thread(self._sign, document)
            session.add(
                TrustListIssue(
                    sequence=sequence,
                    digest=issued.signed.digest,
                    issued_at=document.issued_at,
                    next_update=document.next_update,
                )
            )
            await session.flush()
        return issued

    def _sign(self, document: TrustList) -> Issued:
        token = sign_trust_list(document, self._key)
        return Issued(SignedTrustList.of(document, token), TrustIndex(document))

    async def run(self, then: Callable[[], Awaitable[object]]) -> None:
        """Re-issue whenever the list is half way to its next update, then call ``then`` (the
        global configuration's re-issue, so that it names the new list); until cancelled."""
        while True:
            await asyncio.sleep(self.seconds_until_due())
            if self.seconds_until_due() > 0:
                continue  # re-issued meanwhile, after a change
            try:
                await self.refresh()
                await then()
            except Exception:
                # Keep the loop alive: the current list is good until its next update.
                log.exception("re-issuing the trust list failed; trying again in a minute")
                await asyncio.sleep(60)


async def _next_sequence(session: AsyncSession) -> int:
    last = (
        await session.execute(
            select(TrustListIssue.sequence).order_by(TrustListIssue.sequence.desc()).limit(1)
        )
    ).scalar_one_or_none()
    return 1 if last is None else last + 1


# --- GET /trust-list --------------------------------------------------------------------------


def trust_lists_of(request: Request) -> TrustListPublisher:
    publisher: TrustListPublisher = request.app.state.trust_lists
    return publisher


TrustLists = Annotated[TrustListPublisher, Depends(trust_lists_of)]
router = APIRouter(tags=["public"])


@router.get(
    "/trust-list",
    summary="The signed trust list (compact JWS, ZB-STD-007)",
    description=(
        "Every scheme, accreditation, recognition and assessor authorisation with its status "
        "history, signed by central's trust-list key (the key, sequence number and digest are "
        "named in the global configuration's `trust_list`). Conditional GET with `If-None-Match`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "the compact JWS",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
            "headers": {"ETag": {"schema": {"type": "string"}}},
        },
        304: {"description": "unchanged since the entity tag given"},
    },
)
async def trust_list(
    trust_lists: TrustLists, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    current = trust_lists.current
    headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
    if if_none_match and current.etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(current.token, media_type=MEDIA_TYPE, headers=headers)
