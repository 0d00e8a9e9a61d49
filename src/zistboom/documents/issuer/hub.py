"""The issuer's side of the documents hub: the document types it registers (read from the
hub's public ``GET /api/v1/document-types/{code}``, kept for ``type_cache_seconds``), and
through the exchange the hub's ``documents`` service: ``POST /documents`` (a deposit into the
holder's locker) and ``PUT /status-lists/{list_id}/{purpose}`` (a signed list credential).

Types are read from the public API, the same answer every verifier reads, because the hub's
``documents`` service on the exchange takes only what issuers send; what an issuer must not
get wrong (the schema it validates against, the accreditation it needs) is checked again by
every verifier against that same public type."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.accreditation import Requirement
from zistboom.core.errors import NotFoundError, ZistboomError
from zistboom.documents import profile
from zistboom.documents.issuer.exchange import Call, ExchangeClient
from zistboom.documents.types import DocumentTypeDefinition


class HubUnavailable(ZistboomError):
    """The hub's public API did not answer, or answered something that is not a type."""

    status = 502
    code = "hub-unavailable"
    title = "The documents hub is unavailable"


@dataclass(slots=True)
class _Cached:
    document_type: DocumentTypeDefinition
    until: float


def requirement_of(document_type: DocumentTypeDefinition) -> Requirement:
    """The accreditation an issuer of ``document_type`` needs (to *issue* its kind)."""
    wanted = document_type.requirement
    return Requirement(wanted.ecosystem, wanted.kind, wanted.level, action="issue")


class HubClient:
    def __init__(
        self,
        exchange: ExchangeClient,
        *,
        hub_service: str,
        hub_url: str,
        cache_seconds: float,
        http: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.hub_service = hub_service
        self.hub_url = hub_url.rstrip("/")
        self.cache_seconds = cache_seconds
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=30, trust_env=False)
        self._monotonic = monotonic
        self._types: dict[str, _Cached] = {}

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def pull_link(self, token: str) -> str:
        """The public URL of a document's pull link (``/p/<token>``)."""
        return f"{self.hub_url}/p/{token}"

    async def document_type(self, code: str) -> DocumentTypeDefinition:
        """The type ``code`` as the hub registers it; :class:`NotFoundError` if it does not."""
        cached = self._types.get(code)
        if cached is not None and cached.until > self._monotonic():
            return cached.document_type
        url = f"{self.hub_url}/api/v1/document-types/{code}"
        try:
            answer = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise HubUnavailable(
                f"the hub at {self.hub_url} did not answer for document type {code}: "
                f"{type(error).__name__}: {error}"
            ) from error
        if answer.status_code == 404:
            raise NotFoundError(
                f"the hub registers no document type {code!r}", field="/credential/documentType"
            )
        if answer.status_code != 200:
            raise HubUnavailable(f"the hub answered HTTP {answer.status_code} for {url}")
        try:
            document_type = DocumentTypeDefinition.model_validate_json(answer.content)
        except PydanticValidationError as error:
            raise HubUnavailable(
                f"the hub's answer for {url} is not a document type: {error}"
            ) from error
        self._types[code] = _Cached(document_type, self._monotonic() + self.cache_seconds)
        return document_type

    async def deposit(self, deposit: dict[str, Any]) -> dict[str, Any]:
        """Put a document into its holder's locker; the hub's answer (its pull link)."""
        answer = await self.exchange.send(Call("POST", self.hub_service, "documents"), json=deposit)
        body = answer.json()
        return body if isinstance(body, dict) else {}

    async def publish_status_list(self, list_id: str, purpose: str, credential: str) -> None:
        await self.exchange.send(
            Call("PUT", self.hub_service, f"status-lists/{list_id}/{purpose}"),
            content=credential.encode("ascii"),
            content_type=profile.VC_MEDIA_TYPE,
        )
