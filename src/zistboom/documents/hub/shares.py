"""Shares: a holder's consent that one member may fetch one document for a purpose until a
time. Each share is a consent record the hub signs with its own ``doc`` key — a compact JWS,
``typ`` ``zb-consent+jws``, ``x5c`` to the instance CA — over the canonical JSON of who
consented to whom, for which document, why and until when; anyone can check it offline with
the CA certificate. A share is revocable; an expired or revoked one lets nobody fetch, and the
refusal names which. The recipient fetches through the exchange (the ``shared-documents``
service); each share, revocation and fetch is an access event of the holder."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.crypto import jws
from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    ShareExpiredError,
    ShareRevokedError,
    ValidationError,
)
from zistboom.documents.hub import access, lockers, repository
from zistboom.documents.hub.errors import NotTheRecipient
from zistboom.documents.hub.identity import HubIdentity
from zistboom.documents.hub.models import Document, Share
from zistboom.documents.hub.service import Acting, Caller, Clock

CONSENT_TYPE = "zb-consent+jws"
CONSENT_FORMAT = "zistboom-consent/1"
ShareState = Literal["active", "expired", "revoked"]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def consent_record(share: Share, document: Document, hub_member: str) -> dict[str, Any]:
    """The signed content of a consent (``format`` first, times in UTC)."""
    return {
        "format": CONSENT_FORMAT,
        "share_id": share.id,
        "hub": hub_member,
        "holder": share.holder,
        "recipient": share.recipient,
        "document_id": document.id,
        "document_type": document.type_code,
        "issuer": document.issuer,
        "purpose": share.purpose,
        "created_at": _iso(share.created_at),
        "expires_at": _iso(share.expires_at),
    }


def sign_consent(record: dict[str, Any], identity: HubIdentity) -> str:
    payload = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return jws.sign_jws(payload, identity.key, headers={"typ": CONSENT_TYPE, "x5c": identity.x5c})


def state_of(share: Share, now: datetime) -> ShareState:
    if share.revoked_at is not None:
        return "revoked"
    return "expired" if share.expires_at <= now else "active"


async def create(
    session: AsyncSession,
    acting: Acting,
    *,
    document_id: str,
    recipient: str,
    purpose: str,
    expires_at: datetime,
    identity: HubIdentity,
    clock: Clock,
    max_days: int,
) -> Share:
    """Share one of the holder's documents with ``recipient`` until ``expires_at``."""
    now = clock()
    if expires_at <= now:
        raise ValidationError(
            f"expires_at {_iso(expires_at)} is not in the future: a share needs a period",
            field="expires_at",
        )
    if expires_at > now + timedelta(days=max_days):
        raise ValidationError(
            f"expires_at {_iso(expires_at)} is more than {max_days} days ahead, the longest "
            "share this hub records",
            field="expires_at",
        )
    if recipient == acting.caller.member and not lockers.is_person(acting.holder):
        raise ValidationError("a business cannot share a document with itself", field="recipient")
    document = await lockers.document(session, acting, document_id)
    share = Share(
        id=str(uuid.uuid4()),
        document_id=document.id,
        holder=acting.holder,
        recipient=recipient,
        purpose=purpose.strip(),
        created_at=now.replace(microsecond=0),
        expires_at=expires_at.replace(microsecond=0),
        revoked_at=None,
        created_by=acting.caller.client,
        consent="",
    )
    share.consent = sign_consent(consent_record(share, document, identity.member_id), identity)
    session.add(share)
    access.record(
        session,
        access.Event(
            acting.holder, "shared", now, document.id, share_id=share.id, purpose=share.purpose
        ),
        acting.caller,
    )
    return share


async def holder_shares(
    session: AsyncSession, acting: Acting, document_id: str | None = None
) -> list[Share]:
    return list(await repository.holder_shares(session, acting.holder, document_id))


async def revoke(session: AsyncSession, acting: Acting, share_id: str, clock: Clock) -> Share:
    """Revoke the holder's share; revoking it twice is a conflict that says when it was."""
    share = await repository.share_for_update(session, share_id)
    if share is None or share.holder != acting.holder:
        raise NotFoundError(f"{acting.holder} has no share {share_id!r}", field="id")
    if share.revoked_at is not None:
        raise ConflictError(f"share {share_id} was already revoked at {_iso(share.revoked_at)}")
    now = clock()
    share.revoked_at = now
    access.record(
        session,
        access.Event(acting.holder, "share-revoked", now, share.document_id, share_id=share.id),
        acting.caller,
    )
    return share


async def fetch(
    session: AsyncSession, caller: Caller, share_id: str, clock: Clock
) -> tuple[Share, Document]:
    """The shared document, for the share's recipient while the share is active."""
    share = await repository.share(session, share_id)
    if share is None:
        raise NotFoundError(f"no share {share_id!r}", field="share_id")
    if caller.member != share.recipient:
        raise NotTheRecipient(
            f"share {share_id} is for {share.recipient}, not for {caller.member}",
            field="X-Road-Client",
        )
    now = clock()
    state = state_of(share, now)
    if state == "revoked":
        assert share.revoked_at is not None
        raise ShareRevokedError(
            f"the holder revoked share {share_id} at {_iso(share.revoked_at)}; ask the holder "
            "for a new one",
            revoked_at=_iso(share.revoked_at),
        )
    if state == "expired":
        raise ShareExpiredError(
            f"share {share_id} expired at {_iso(share.expires_at)}; ask the holder for a new one",
            expires_at=_iso(share.expires_at),
        )
    document = await repository.document(session, share.document_id)
    assert document is not None  # a foreign key
    access.record(
        session,
        access.Event(
            share.holder,
            "fetched",
            now,
            document.id,
            share_id=share.id,
            purpose=caller.purpose or share.purpose,
        ),
        caller,
    )
    return share, document
