"""The hub's services on the exchange, behind its gateway (the gateway's address and backend
secret checked first, ``core/backend.py``; the ``X-Road-*`` headers believed only then):

- ``documents`` (``/exchange/documents``): issuers deposit documents and publish status lists;
- ``lockers`` (``/exchange/lockers``): the single window for a person, or a business's own
  systems for the business: the locker, its shares, its access events;
- ``shared-documents`` (``/exchange/shared-documents``): a share's recipient fetches.

Each service has a backend URL of its own on the gateway, so an access right to one never
reaches the routes of another. Routes parse and identify the caller, then call the service
modules; their answers are ``schemas.py``'s."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as InPath
from pydantic.json_schema import SkipJsonSchema

from zistboom.core import backend, identifiers
from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses
from zistboom.documents import profile
from zistboom.documents.hub import (
    access,
    deposits,
    document_types,
    lockers,
    shares,
    status_lists,
)
from zistboom.documents.hub.models import Document, Share
from zistboom.documents.hub.schemas import (
    AccessEventOut,
    AccessEventPage,
    Deposit,
    Deposited,
    LockerDocument,
    LockerDocumentFull,
    LockerPage,
    SharedDocument,
    ShareOut,
    SharePage,
    ShareRequest,
    StatusListHeld,
)
from zistboom.documents.hub.service import Acting, Caller
from zistboom.documents.hub.state import HubState, state_of

DOCUMENTS = "documents"
LOCKERS = "lockers"
SHARED_DOCUMENTS = "shared-documents"
EXCHANGE = "/exchange"
VC_JWT = "application/vc+jwt"
LIST_ID = r"^[A-Za-z0-9_-]{1,64}$"
PURPOSE = r"^(revocation|suspension)$"


def service_prefix(service: str) -> str:
    """Where a service's backend URL points, below the hub's base URL."""
    return f"{EXCHANGE}/{service}"


def _behind(request: Request) -> backend.BehindGateway:
    return state_of(request).gateway


_through_gateway = backend.through_gateway(
    _behind,
    refusal=(
        "the hub's exchange services answer only calls that come through the hub's own "
        "gateway: call them at /r1/… on your gateway"
    ),
    who="the hub's gateway",
)
Through = Annotated[None, Depends(_through_gateway)]
OptionalText = str | SkipJsonSchema[None]
ClientHeader = Annotated[
    str,
    Header(
        alias="X-Road-Client",
        pattern=identifiers.CLIENT_ID_PATTERN,
        max_length=300,
        json_schema_extra={"format": identifiers.CLIENT_ID_FORMAT},
        description="the client (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]), as the gateway vouches for it",
    ),
]
UserIdHeader = Annotated[
    OptionalText,
    Header(
        alias="X-Road-UserId",
        max_length=64,
        description="the person the single window acts for (IR and a national code, or FN and "
        "a foreign national ID); accepted from the window's subsystem only, refused (403 "
        "act-for-person-refused) from any other client",
    ),
]
PurposeHeader = Annotated[
    OptionalText, Header(alias="X-Road-Purpose", max_length=500, description="why")
]
MessageIdHeader = Annotated[
    OptionalText, Header(alias="X-Road-Id", max_length=200, description="the message id")
]


def _caller(
    _: Through,
    client: ClientHeader,
    road_user_id: UserIdHeader = None,
    road_purpose: PurposeHeader = None,
    road_message_id: MessageIdHeader = None,
) -> Caller:
    """The caller as the gateway vouches for it (the parameters' names are not the headers'
    own: ``purpose`` is also a path parameter of the status lists)."""
    return Caller.of(client, user_id=road_user_id, purpose=road_purpose, message_id=road_message_id)


GatewayCaller = Annotated[Caller, Depends(_caller)]


def _acting(request: Request, caller: GatewayCaller) -> Acting:
    """The holder the caller acts for (the window for a person, a business for itself)."""
    return lockers.acting_for(caller, window=state_of(request).settings.window_subsystem)


ActingFor = Annotated[Acting, Depends(_acting)]

documents_service = APIRouter(prefix=service_prefix(DOCUMENTS), tags=["documents service"])
lockers_service = APIRouter(prefix=service_prefix(LOCKERS), tags=["lockers service"])
shared_service = APIRouter(prefix=service_prefix(SHARED_DOCUMENTS), tags=["shared-documents"])


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def pull_link(state: HubState, document: Document) -> str:
    return f"{state.settings.base_url}/p/{document.pull_token}"


def locker_document(state: HubState, document: Document, names: tuple[str, str]) -> LockerDocument:
    return LockerDocument(
        id=document.id,
        type=document.type_code,
        type_name_fa=names[0],
        type_name_en=names[1],
        issuer=document.issuer,
        holder=document.holder,
        issued_at=document.issued_at,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        pull_link=pull_link(state, document),
        has_qr=document.qr is not None,
        has_pdf=document.pdf is not None,
    )


def full_document(
    state: HubState, document: Document, names: tuple[str, str]
) -> LockerDocumentFull:
    summary = locker_document(state, document, names)
    return LockerDocumentFull(
        **summary.model_dump(),
        credential=document.credential,
        timestamp_token=_b64(document.timestamp_token) or "",
        qr=document.qr,
        pdf=_b64(document.pdf),
    )


def share_out(share: Share, document_type: str, now: datetime) -> ShareOut:
    return ShareOut(
        id=share.id,
        document_id=share.document_id,
        document_type=document_type,
        holder=share.holder,
        recipient=share.recipient,
        purpose=share.purpose,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        state=shares.state_of(share, now),
        consent=share.consent,
    )


# --- the documents service: issuers -----------------------------------------------------------


@documents_service.post(
    "/documents",
    status_code=201,
    response_model=Deposited,
    response_model_by_alias=True,
    responses=problem_responses(400, 403, 409, 422),
)
async def deposit(request: Request, body: Deposit, caller: GatewayCaller) -> Deposited:
    """Deposit a document into its holder's locker. The VC-JWT must verify (signature,
    certificate of kind doc chaining to the instance CA and naming the calling member, trusted
    time from the timestamp token, accreditation at that time, a registered type and a subject
    meeting its schema); 403 when the caller is not the credential's issuer, 409 when the
    document is held already, 422 naming the failing checks otherwise."""
    state = state_of(request)
    deposited = await deposits.deposit(state, caller, body)
    return Deposited(
        id=deposited.id,
        holder=deposited.holder,
        type=deposited.type_code,
        issued_at=deposited.issued_at,
        pull_link=pull_link(state, deposited),
    )


@documents_service.put(
    "/status-lists/{list_id}/{purpose}",
    response_model=StatusListHeld,
    response_model_by_alias=True,
    responses=problem_responses(403, 409, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                VC_JWT: {
                    "schema": {
                        "type": "string",
                        "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                        "description": "the issuer-signed BitstringStatusListCredential",
                    }
                }
            },
        }
    },
)
async def publish_status_list(
    request: Request,
    caller: GatewayCaller,
    list_id: Annotated[str, InPath(pattern=LIST_ID)],
    purpose: Annotated[profile.StatusPurpose, InPath()],
) -> StatusListHeld:
    """Publish (or replace) a status list: a BitstringStatusListCredential signed by the
    calling member, served at this URL. It replaces the held list only when its validFrom is
    later (409 otherwise: never an older list); a list another member signed first stays that
    member's (403)."""
    state = state_of(request)
    raw = await request.body()
    held, replaced = await status_lists.publish(state, caller, list_id, purpose, raw)
    return StatusListHeld(
        list_id=held.list_id,
        purpose=held.purpose,
        valid_from=held.valid_from,
        valid_until=held.valid_until,
        replaced=replaced,
    )


# --- the lockers service: holders --------------------------------------------------------------

LOCKER = problem_responses(403, 404, 422)


@lockers_service.get("/lockers/documents", responses=LOCKER)
async def list_documents(request: Request, acting: ActingFor) -> LockerPage:
    """The holder's documents, newest first (the listing is an access event)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        found = await lockers.documents(session, acting, state.clock)
        names = await document_types.names(session)
    return LockerPage(documents=[locker_document(state, d, names[d.type_code]) for d in found])


@lockers_service.get("/lockers/documents/{document_id}", responses=LOCKER)
async def get_document(
    request: Request, acting: ActingFor, document_id: Annotated[str, InPath(max_length=64)]
) -> LockerDocumentFull:
    """One of the holder's documents with its artefacts (VC-JWT, timestamp, QR, PDF)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        document = await lockers.document(session, acting, document_id)
        names = await document_types.names(session)
    return full_document(state, document, names[document.type_code])


@lockers_service.get("/lockers/shares", responses=LOCKER)
async def list_shares(
    request: Request,
    acting: ActingFor,
    document_id: Annotated[str | SkipJsonSchema[None], Query(max_length=64)] = None,
) -> SharePage:
    """The holder's shares (active, expired and revoked), newest first."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        found = await shares.holder_shares(session, acting, document_id)
        types = await document_types.of_documents(session, [s.document_id for s in found])
    now = state.clock()
    return SharePage(shares=[share_out(s, types[s.document_id], now) for s in found])


@lockers_service.post(
    "/lockers/shares", status_code=201, responses=problem_responses(400, 403, 404, 422)
)
async def create_share(request: Request, acting: ActingFor, body: ShareRequest) -> ShareOut:
    """Share one of the holder's documents with a member, for a purpose, until a time (at most
    the hub's max_share_days ahead): the answer carries the consent record the hub signed."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        share = await shares.create(
            session,
            acting,
            document_id=body.document_id,
            recipient=body.recipient,
            purpose=body.purpose,
            expires_at=body.expires_at,
            identity=state.identity,
            clock=state.clock,
            max_days=state.settings.max_share_days,
        )
        types = await document_types.of_documents(session, [share.document_id])
    return share_out(share, types[share.document_id], state.clock())


@lockers_service.delete(
    "/lockers/shares/{share_id}", responses=problem_responses(403, 404, 409, 422)
)
async def revoke_share(
    request: Request, acting: ActingFor, share_id: Annotated[str, InPath(max_length=64)]
) -> ShareOut:
    """Revoke a share: the recipient can no longer fetch the document (409 if revoked
    already)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        share = await shares.revoke(session, acting, share_id, state.clock)
        types = await document_types.of_documents(session, [share.document_id])
    return share_out(share, types[share.document_id], state.clock())


@lockers_service.get("/lockers/access-events", responses=LOCKER)
async def list_access_events(
    request: Request,
    acting: ActingFor,
    document_id: Annotated[str | SkipJsonSchema[None], Query(max_length=64)] = None,
    since: Annotated[datetime | SkipJsonSchema[None], Query()] = None,
    before: Annotated[int | SkipJsonSchema[None], Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=access.MAX_PAGE)] = 50,
) -> AccessEventPage:
    """Every issuance, share, share revocation, fetch, verification and listing of the
    holder's documents, newest first, a page at a time."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        rows, following = await access.events_of(
            session, acting.holder, document_id=document_id, since=since, before=before,
            limit=limit,
        )  # fmt: skip
    return AccessEventPage(
        events=[AccessEventOut.model_validate(row, from_attributes=True) for row in rows],
        next_before=following,
    )


# --- the shared-documents service: recipients ---------------------------------------------------


@shared_service.get("/shares/{share_id}/document", responses=problem_responses(403, 404, 410, 422))
async def fetch_shared(
    request: Request, caller: GatewayCaller, share_id: Annotated[str, InPath(max_length=64)]
) -> SharedDocument:
    """The shared document, for the share's recipient member only (403 otherwise); a revoked
    share is refused with 403 share-revoked, an expired one with 410 share-expired."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        share, document = await shares.fetch(session, caller, share_id, state.clock)
        names = await document_types.names(session)
    return SharedDocument(
        share=share_out(share, document.type_code, state.clock()),
        document=full_document(state, document, names[document.type_code]),
    )


def routers() -> list[APIRouter]:
    return [documents_service, lockers_service, shared_service]
