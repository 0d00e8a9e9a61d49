"""The documents hub's ``lockers`` service, called through the window operator's gateway (the
``r1`` client interface, ZB-STD-004) as the window's subsystem, acting for the signed-in person:
``X-Road-UserId`` is the person's subject (``IR…``/``FN…``), ``X-Road-Purpose`` why. The hub's
own rule lets the window act for that person only; every answer is checked against its shape.

A refusal by the hub is turned into our errors: a document or share the person does not hold
(404, or 403) is :class:`NotFoundError`, so a page never tells another person's document from
a missing one; a bad share request is :class:`ValidationError` naming the hub's reason; the
exchange failing is :class:`LockerUnavailableError`."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from zistboom.core import exchange as xr
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError, ZistboomError
from zistboom.core.identifiers import ServiceId

PURPOSE: Final = "single-window:locker"
MAX_EVENTS: Final = 200
M = TypeVar("M", bound=BaseModel)


class LockerUnavailableError(ZistboomError):
    """The locker could not be read or changed through the exchange."""

    status = 502
    code = "locker-unavailable"
    title = "The documents hub could not be reached"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LockerDocument(_Answer):
    id: str
    type: str
    type_name_fa: str
    type_name_en: str
    issuer: str
    holder: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    has_qr: bool = False
    has_pdf: bool = False

    def state(self, now: datetime) -> Literal["valid", "expired", "not-yet-valid"]:
        """Whether the document is in its validity period now (its status list is the
        verifier's to read)."""
        if self.valid_from > now:
            return "not-yet-valid"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        return "valid"


class FullDocument(LockerDocument):
    credential: str
    qr: str | None = None
    pdf: str | None = None

    @property
    def pdf_bytes(self) -> bytes | None:
        return base64.b64decode(self.pdf) if self.pdf else None


class Share(_Answer):
    id: str
    document_id: str
    document_type: str
    holder: str
    recipient: str
    purpose: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]
    consent: str


class AccessEvent(_Answer):
    id: int
    document_id: str | None
    kind: str
    actor: str
    user_id: str | None
    purpose: str | None
    share_id: str | None
    at: datetime


class _DocumentList(_Answer):
    documents: list[LockerDocument]


class _ShareList(_Answer):
    shares: list[Share]


class _EventPage(_Answer):
    events: list[AccessEvent]


class LockerClient:
    """The ``lockers`` service at ``service`` (``INSTANCE/CLASS/CODE/SUBSYSTEM/lockers``),
    through ``http`` (based at the gateway's client port) as ``client`` (the window)."""

    def __init__(self, http: httpx.AsyncClient, *, service: str, client: str) -> None:
        self.http = http
        self.service = ServiceId.parse(service, field="hub_lockers_service")
        self.client = client

    async def documents(self, subject: str) -> list[LockerDocument]:
        answer = await self._call("GET", "/documents", subject, what="the locker")
        return _parsed(_DocumentList, answer).documents

    async def document(self, subject: str, document_id: str) -> FullDocument:
        """One of the person's documents with its artefacts (the PDF among them)."""
        answer = await self._call(
            "GET", f"/documents/{_segment(document_id)}", subject, what="the document"
        )
        return _parsed(FullDocument, answer)

    async def shares(self, subject: str, document_id: str | None = None) -> list[Share]:
        params = {"document_id": document_id} if document_id else None
        answer = await self._call("GET", "/shares", subject, what="the shares", params=params)
        return _parsed(_ShareList, answer).shares

    async def share(
        self,
        subject: str,
        document_id: str,
        recipient_member: str,
        purpose: str,
        expires_at: datetime,
    ) -> Share:
        """Share the person's document with ``recipient_member`` for ``purpose`` until
        ``expires_at``; the hub signs the consent record. ``purpose`` is also the call's
        ``X-Road-Purpose``."""
        body = {
            "document_id": document_id,
            "recipient": recipient_member,
            "purpose": purpose,
            "expires_at": expires_at.astimezone(UTC).isoformat(),
        }
        answer = await self._call(
            "POST", "/shares", subject, what="the share", json=body, purpose=purpose
        )
        return _parsed(Share, answer)

    async def revoke(self, subject: str, share_id: str) -> Share:
        answer = await self._call(
            "DELETE", f"/shares/{_segment(share_id)}", subject, what="the share"
        )
        return _parsed(Share, answer)

    async def access_events(
        self,
        subject: str,
        document_id: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[AccessEvent]:
        """Who did what with the person's documents (newest first)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_EVENTS))}
        if document_id:
            params["document_id"] = document_id
        if since is not None:
            params["since"] = since.astimezone(UTC).isoformat()
        answer = await self._call(
            "GET", "/access-events", subject, what="the access events", params=params
        )
        return _parsed(_EventPage, answer).events

    async def _call(
        self, method: str, path: str, subject: str, *, what: str, purpose: str = PURPOSE,
        **sent: Any,
    ) -> httpx.Response:  # fmt: skip
        url = f"/{xr.PROTOCOL_VERSION}/{self.service.to_path()}/lockers{path}"
        headers = {"X-Road-Client": self.client, "X-Road-UserId": subject,
                   "X-Road-Purpose": purpose}  # fmt: skip
        try:
            answer = await self.http.request(method, url, headers=headers, **sent)
        except httpx.HTTPError as error:
            raise LockerUnavailableError(
                f"the window's gateway did not answer ({type(error).__name__}); try again later"
            ) from error
        if answer.headers.get(xr.X_ROAD_ERROR):
            raise LockerUnavailableError(
                f"the exchange refused the call for {what}: {_said(answer)}"
            )
        if answer.status_code in (403, 404):
            raise NotFoundError(f"{what} is not in your locker", field="id")
        if answer.status_code == 409:
            raise ConflictError(_said(answer))
        if answer.status_code in (400, 422):
            raise ValidationError(_said(answer), field=_field(answer))
        if answer.status_code >= 300:
            raise LockerUnavailableError(
                f"the hub answered {answer.status_code} for {what}: {_said(answer)}"
            )
        return answer


def _segment(value: str) -> str:
    """An id as one path segment (never a path of its own)."""
    if not value or "/" in value or value in (".", "..") or len(value) > 64:
        raise NotFoundError("no such item in your locker", field="id")
    return value


def _parsed(model: type[M], answer: httpx.Response) -> M:
    try:
        return model.model_validate_json(answer.content)
    except PydanticValidationError as error:
        raise LockerUnavailableError(
            f"the hub's answer is not of the expected shape: {error.error_count()} problems"
        ) from error


def _document(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _said(answer: httpx.Response) -> str:
    document = _document(answer)
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("message") or document)[:300]
    return answer.text[:300]


def _field(answer: httpx.Response) -> str | None:
    document = _document(answer)
    if isinstance(document, dict):
        errors = document.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("field") or "") or None
    return None
