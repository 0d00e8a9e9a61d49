"""Central as an information system on the exchange: it reads a company's record from the
legal-entities registry (ZB-STD-006 Data API ``read``) through the IT authority's gateway (the
``r1`` client interface, ZB-STD-004), as that authority's client subsystem.

Every call names who asked (``X-Road-UserId``) and why (``X-Road-Purpose``), so the registry logs
the read in each shareholder's personal-data-usage list. The answer is either the shareholding,
with the message id and time, or a failure naming the exchange's (or the registry's) error; a
failure is a value, not an exception, because it is recorded like a reading.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from zistboom.central.settings import CentralSettings
from zistboom.core import exchange as xr
from zistboom.core.database import utc_now
from zistboom.core.errors import ConfigurationError
from zistboom.core.identifiers import ServiceId, SubsystemId

PURPOSE = "ecosystem-operator-ownership-check"
SCHEDULED_USER = "system:scheduled"
# Our own error types, for failures that carry no X-Road-Error of the exchange's.
GATEWAY_UNREACHABLE = "Central.ExchangeGatewayUnreachable"
INVALID_ANSWER = "Central.InvalidRegistryAnswer"
REGISTRY_ERROR = "Registry."  # + the problem type's last segment, e.g. Registry.not-found
MAX_MESSAGE = 2000


class Holder(BaseModel):
    """One shareholder as the companies registry keeps it; later compatible versions may add
    fields, so unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore")

    holder_kind: str = Field(max_length=32)
    holder_id: str = Field(max_length=32)
    share_percent: Decimal = Field(gt=0, le=100)
    state: bool


class CompanyRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    national_id: str
    shareholders: list[Holder] = Field(default_factory=list, max_length=1000)


class ReadAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: CompanyRecord


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """Where a reading comes from: the registry's service on the exchange and its version."""

    service: ServiceId
    version: str

    @property
    def code(self) -> str:
        """The registry's code, which is its service's code (ZB-STD-006 §4)."""
        return self.service.service_code


@dataclass(frozen=True, slots=True)
class Call:
    """The facts of one call: who central called as, for whom, why, and where."""

    client: str
    user_id: str
    purpose: str
    source: RegistrySource


@dataclass(frozen=True, slots=True)
class Shareholding:
    call: Call
    company_id: str
    holders: list[Holder]
    message_id: str | None
    at: datetime

    @property
    def private_share(self) -> Decimal:
        return sum((h.share_percent for h in self.holders if not h.state), Decimal(0))

    @property
    def state_share(self) -> Decimal:
        return sum((h.share_percent for h in self.holders if h.state), Decimal(0))


@dataclass(frozen=True, slots=True)
class ReadFailure:
    call: Call
    company_id: str
    error_type: str
    message: str
    http_status: int | None
    message_id: str | None
    at: datetime


Outcome = Shareholding | ReadFailure


def _decimal_json(content: bytes) -> Any:
    """JSON with its numbers as exact decimals (a share of 25.5 stays 25.5)."""
    return json.loads(content, parse_float=Decimal)


class CompaniesRegistryClient:
    """Reads companies' records through the exchange; one HTTP connection pool, closed with
    :meth:`close`."""

    def __init__(self, settings: CentralSettings) -> None:
        if not (
            settings.exchange_gateway_url
            and settings.exchange_client
            and settings.companies_registry_service
        ):
            raise ConfigurationError(
                "central reads ecosystem operators' ownership through the exchange: set "
                "ZB_EXCHANGE_GATEWAY_URL, ZB_EXCHANGE_CLIENT and ZB_COMPANIES_REGISTRY_SERVICE"
            )
        self.client_id = str(SubsystemId.parse(settings.exchange_client, field="exchange_client"))
        service = ServiceId.parse(
            settings.companies_registry_service, field="companies_registry_service"
        )
        self.source = RegistrySource(service, settings.companies_registry_version)
        base = settings.exchange_gateway_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=f"{base}/{xr.PROTOCOL_VERSION}",
            timeout=settings.exchange_timeout_seconds,
            verify=_tls_context(settings) if base.startswith("https:") else True,
            trust_env=False,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def read(self, company_id: str, *, user_id: str) -> Outcome:
        """Read the company ``company_id`` (its national ID) on behalf of ``user_id``."""
        call = Call(self.client_id, user_id, PURPOSE, self.source)
        path = f"/{self.source.service.to_path()}/{self.source.version}/read"
        headers = {
            "X-Road-Client": self.client_id,
            "X-Road-UserId": user_id,
            "X-Road-Purpose": PURPOSE,
        }
        body = {"query": {"content": {"national_id": company_id}}}
        try:
            answer = await self._http.post(path, json=body, headers=headers)
        except httpx.HTTPError as error:
            return ReadFailure(
                call, company_id, GATEWAY_UNREACHABLE,
                f"the IT authority's gateway at {self._http.base_url} did not answer: "
                f"{type(error).__name__}: {error}",
                None, None, utc_now(),
            )  # fmt: skip
        return _outcome(call, company_id, answer)


def _outcome(call: Call, company_id: str, answer: httpx.Response) -> Outcome:
    at = utc_now()
    message_id = answer.headers.get(xr.X_ROAD_ID) or None
    xroad_error = answer.headers.get(xr.X_ROAD_ERROR)
    if xroad_error or answer.status_code != 200:
        error_type, message = _failure_of(answer, xroad_error)
        return ReadFailure(
            call, company_id, error_type, message[:MAX_MESSAGE], answer.status_code, message_id, at
        )
    try:
        record = ReadAnswer.model_validate(_decimal_json(answer.content)).content
    except (ValueError, PydanticValidationError) as error:
        return ReadFailure(
            call, company_id, INVALID_ANSWER,
            f"the registry's answer is not a company record: {error}"[:MAX_MESSAGE],
            answer.status_code, message_id, at,
        )  # fmt: skip
    if record.national_id != company_id:
        return ReadFailure(
            call, company_id, INVALID_ANSWER,
            f"asked for company {company_id}, the registry answered {record.national_id}",
            answer.status_code, message_id, at,
        )  # fmt: skip
    return Shareholding(call, company_id, record.shareholders, message_id, at)


def _failure_of(answer: httpx.Response, xroad_error: str | None) -> tuple[str, str]:
    """The error type and message of a refused call: the exchange's ``{type, message}`` body,
    or the registry's problem details (RFC 9457)."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if xroad_error:
        return xroad_error, str(body.get("message") or answer.text or answer.reason_phrase)
    problem_type = str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1]
    error_type = REGISTRY_ERROR + (problem_type or str(answer.status_code))
    return error_type, str(body.get("detail") or answer.text or answer.reason_phrase)


def _tls_context(settings: CentralSettings) -> ssl.SSLContext:
    """HTTPS to the gateway's client port: its certificate (an authentication certificate of
    the instance CA, not named after a host) verified against the CA, and ours presented."""
    ca: Path = settings.exchange_tls_ca or settings.data_dir / "keys" / "ca.pem"
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    if settings.exchange_tls_cert is not None:
        if settings.exchange_tls_key is None:
            raise ConfigurationError(
                "ZB_EXCHANGE_TLS_CERT is set without ZB_EXCHANGE_TLS_KEY", field="exchange_tls_key"
            )
        context.load_cert_chain(str(settings.exchange_tls_cert), str(settings.exchange_tls_key))
    return context
