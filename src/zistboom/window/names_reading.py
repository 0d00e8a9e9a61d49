"""A person's names read from their base registry through the exchange: the civil registry's
persons service for ``IR`` + national code, the foreign nationals registry for ``FN`` + ID
(ZB-STD-006 Data API ``read``), called through the window operator's gateway (the ``r1``
client interface, ZB-STD-004) as the operator's subsystem, with ``X-Road-UserId`` the person
and ``X-Road-Purpose`` the profile.

The answer must be about the person who asked (record matching): a record of anyone else is
refused, as is an answer that is not a record of the registry's shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from zistboom.core import exchange as xr
from zistboom.core.errors import ConfigurationError, ZistboomError
from zistboom.core.identifiers import ServiceId
from zistboom.window.settings import WindowSettings

PURPOSE: Final = "single-window:profile-names"
ITEMS: Final = ("given_name_fa", "family_name_fa", "given_name_en", "family_name_en")


class ExchangeReadError(ZistboomError):
    """A registry read through the exchange failed or gave an answer that cannot be used."""

    status = 502
    code = "exchange-read-failed"
    title = "The registry could not be read"


class Names(BaseModel):
    """The names a registry keeps (later compatible versions may add fields: ignored)."""

    model_config = ConfigDict(extra="ignore")

    national_code: str | None = None
    foreign_national_id: str | None = None
    given_name_fa: str = Field(max_length=100)
    family_name_fa: str = Field(max_length=100)
    given_name_en: str | None = Field(default=None, max_length=100)
    family_name_en: str | None = Field(default=None, max_length=100)


class ReadAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: Names


@dataclass(frozen=True, slots=True)
class Source:
    """Where a person's names are read: the registry service and the record's key field."""

    service: ServiceId
    key_field: str
    key: str


@dataclass(frozen=True, slots=True)
class NamesRead:
    names: Names
    source: Source
    message_id: str | None
    at: datetime


def source_for(settings: WindowSettings, subject: str) -> Source | None:
    """The registry that keeps ``subject``'s names, or None when none is configured."""
    if subject.startswith("IR") and settings.persons_registry_service:
        service = ServiceId.parse(settings.persons_registry_service, field="persons_registry")
        return Source(service, "national_code", subject[2:])
    if subject.startswith("FN") and settings.foreign_nationals_registry_service:
        service = ServiceId.parse(
            settings.foreign_nationals_registry_service, field="foreign_nationals_registry"
        )
        return Source(service, "foreign_national_id", subject[2:])
    return None


async def read_names(
    http: httpx.AsyncClient, settings: WindowSettings, subject: str, *, now: datetime
) -> NamesRead:
    """Read ``subject``'s names through the exchange (``http`` on the gateway's client port)."""
    source = source_for(settings, subject)
    if source is None:
        raise ConfigurationError(
            f"no registry is configured for the names of {subject[:2]} subjects",
            field="subject",
        )
    path = f"/{xr.PROTOCOL_VERSION}/{source.service.to_path()}/{settings.registry_version}/read"
    headers = {
        "X-Road-Client": settings.subsystem_id,
        "X-Road-UserId": subject,
        "X-Road-Purpose": PURPOSE,
    }
    body = {"query": {"content": {source.key_field: source.key}}}
    try:
        answer = await http.post(path, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise ExchangeReadError(
            f"the window's gateway did not answer ({type(error).__name__}); try again later"
        ) from error
    message_id = answer.headers.get(xr.X_ROAD_ID) or None
    if answer.headers.get(xr.X_ROAD_ERROR) or answer.status_code != 200:
        raise ExchangeReadError(
            f"the registry {source.service} answered {answer.status_code}: {_said(answer)}",
            message_id=message_id,
        )
    try:
        names = ReadAnswer.model_validate_json(answer.content).content
    except PydanticValidationError as error:
        raise ExchangeReadError(
            f"the registry's answer is not a record with names: {error.error_count()} problems",
            message_id=message_id,
        ) from error
    answered_key = getattr(names, source.key_field)
    if answered_key != source.key:
        raise ExchangeReadError(
            "the registry answered with a record of someone else; nothing was kept",
            message_id=message_id,
        )
    return NamesRead(names, source, message_id, now)


def _said(answer: httpx.Response) -> str:
    try:
        document = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(document, dict):
        return str(document.get("message") or document.get("detail") or document)[:300]
    return str(document)[:300]
