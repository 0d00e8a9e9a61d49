"""The issuer as an information system on the exchange: every call it makes (to the hub's
``documents`` service, to the agency's own registry) goes to its gateway's client port
(``r1``, ZB-STD-004) with ``X-Road-Client`` = the issuer's subsystem; the gateway signs it,
logs it and checks the answer's signature.

A refusal becomes an :class:`ExchangeRefused` naming who refused and why: the exchange's
``X-Road-Error`` (with its ``{type, message}`` body) or the service's own problem details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from zistboom.core import exchange as xr
from zistboom.core.errors import ZistboomError

MAX_MESSAGE = 2000


class GatewayUnreachable(ZistboomError):
    """The agency's own gateway did not answer (down, or a wrong ``gateway_url``)."""

    status = 503
    code = "gateway-unreachable"
    title = "The agency's gateway is unreachable"


class ExchangeRefused(ZistboomError):
    """A service called through the exchange (or the exchange itself) refused the call."""

    status = 502
    code = "exchange-refused"
    title = "A call through the exchange was refused"

    def __init__(
        self, detail: str, *, error_type: str, upstream_status: int, field: str | None = None
    ) -> None:
        super().__init__(
            detail, field=field, error_type=error_type, upstream_status=upstream_status
        )
        self.error_type = error_type
        self.upstream_status = upstream_status


@dataclass(frozen=True, slots=True)
class Call:
    """One call's facts: the service (``INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE``), the path
    below it, and whom it is for and why (``X-Road-UserId``, ``X-Road-Purpose``)."""

    method: str
    service: str
    path: str
    user_id: str | None = None
    purpose: str | None = None


class ExchangeClient:
    """Calls through the gateway's client port; one connection pool, closed with :meth:`close`."""

    def __init__(
        self,
        gateway_url: str,
        client_id: str,
        *,
        timeout: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.client_id = client_id
        self.base_url = f"{gateway_url.rstrip('/')}/{xr.PROTOCOL_VERSION}"
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def send(
        self,
        call: Call,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """The service's answer (2xx); :class:`ExchangeRefused` for any other,
        :class:`GatewayUnreachable` when the gateway does not answer."""
        headers = {"X-Road-Client": self.client_id}
        if call.user_id:
            headers["X-Road-UserId"] = call.user_id
        if call.purpose:
            headers["X-Road-Purpose"] = call.purpose
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{self.base_url}/{call.service}/{call.path.lstrip('/')}"
        try:
            answer = await self._http.request(
                call.method, url, json=json, content=content, headers=headers
            )
        except httpx.HTTPError as error:
            raise GatewayUnreachable(
                f"the agency's gateway at {self.base_url} did not answer a call to "
                f"{call.service}: {type(error).__name__}: {error}"
            ) from error
        xroad_error = answer.headers.get(xr.X_ROAD_ERROR)
        if xroad_error or not 200 <= answer.status_code < 300:
            raise _refusal(call, answer, xroad_error)
        return answer


def _refusal(call: Call, answer: httpx.Response, xroad_error: str | None) -> ExchangeRefused:
    """Who refused and why: the exchange's ``{type, message}`` body, or the service's problem
    details (RFC 9457)."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if xroad_error:
        error_type = xroad_error
        message = str(body.get("message") or answer.text or answer.reason_phrase)
        who = "the exchange"
    else:
        error_type = str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1] or str(
            answer.status_code
        )
        message = str(body.get("detail") or answer.text or answer.reason_phrase)
        who = call.service
    return ExchangeRefused(
        f"{who} refused {call.method} {call.path} (HTTP {answer.status_code}, {error_type}): "
        f"{message}"[:MAX_MESSAGE],
        error_type=error_type,
        upstream_status=answer.status_code,
    )
