"""Reading an applicant's records from base registries through the exchange (ZB-STD-006 Data
API ``read``, called on the operator's gateway as the window's subsystem), with
``X-Road-UserId`` the person and ``X-Road-Purpose`` naming the service and the application's
tracking code; and record matching: an answer that is not about the applicant is refused and
nothing of it is kept (ZB-STD-010 §3.1).

The reads of one application go out together; each ends as ``read``, ``not-found`` (the
registry has no such record), ``refused`` (the record is someone else's) or ``failed`` (the
exchange or the registry failed), with a reason the person is shown."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from zistboom.core import exchange as xr
from zistboom.core.identifiers import ServiceId
from zistboom.window.catalogue.definitions import BaseDataItem

PURPOSE_PREFIX: Final = "single-window"


def purpose_of(agency: str, service_code: str, tracking_code: str) -> str:
    """``X-Road-Purpose`` of the reads for an application: the service and its tracking code."""
    return f"{PURPOSE_PREFIX}:{agency}/{service_code}:{tracking_code}"


@dataclass(frozen=True, slots=True)
class Pull:
    """One record to read: which registry, by which field and value, and who it must name."""

    source_index: int
    registry: ServiceId
    key_field: str
    key: str
    subject_path: str | None
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pulled:
    pull: Pull
    outcome: str
    """``read``, ``not-found``, ``refused``, ``failed``."""
    values: dict[str, Any]
    """The items asked for (only when ``read``)."""
    message_id: str | None
    at: datetime
    reason: str | None


def pulls_for(
    base_data: Sequence[BaseDataItem], applicant: str, asked_keys: dict[str, str]
) -> list[Pull]:
    """The reads of a definition's base data for ``applicant`` (``IR…``/``FN…``), the keys the
    person gave in ``asked_keys`` (by index); items that cannot be read are left out."""
    digits = applicant[2:]
    found: list[Pull] = []
    for index, item in enumerate(base_data):
        registry = ServiceId.parse(item.registry, field=f"base_data.{index}.registry")
        if item.find_by is not None:
            found.append(
                Pull(index, registry, item.find_by, digits, item.subject_path, tuple(item.items))
            )
        elif item.asked is not None and asked_keys.get(str(index)):
            key = asked_keys[str(index)]
            found.append(
                Pull(index, registry, item.asked.field, key, item.subject_path, tuple(item.items))
            )
    return found


def names_applicant(record: dict[str, Any], path: str, digits: str) -> bool:
    """Whether the record's ``path`` (``field`` or ``array.field``) names ``digits``."""
    head, _, tail = path.partition(".")
    value = record.get(head)
    if not tail:
        if isinstance(value, list):
            return digits in value
        return value == digits
    if not isinstance(value, list):
        return False
    return any(isinstance(entry, dict) and entry.get(tail) == digits for entry in value)


async def read_one(
    http: httpx.AsyncClient,
    pull: Pull,
    *,
    client: str,
    applicant: str,
    purpose: str,
    registry_version: str,
    now: datetime,
) -> Pulled:
    """Read one record through the exchange and match it to the applicant."""
    path = f"/{xr.PROTOCOL_VERSION}/{pull.registry.to_path()}/{registry_version}/read"
    headers = {
        "X-Road-Client": client,
        "X-Road-UserId": applicant,
        "X-Road-Purpose": purpose,
    }
    body = {"query": {"content": {pull.key_field: pull.key}}}
    try:
        answer = await http.post(path, json=body, headers=headers)
    except httpx.HTTPError as error:
        return Pulled(
            pull, "failed", {}, None, now, f"the gateway did not answer ({type(error).__name__})"
        )
    message_id = answer.headers.get(xr.X_ROAD_ID) or None
    if answer.status_code == 404 and not answer.headers.get(xr.X_ROAD_ERROR):
        return Pulled(pull, "not-found", {}, message_id, now, "the registry has no such record")
    if answer.headers.get(xr.X_ROAD_ERROR) or answer.status_code != 200:
        return Pulled(pull, "failed", {}, message_id, now, f"{answer.status_code}: {_said(answer)}")
    try:
        document = answer.json()
    except ValueError:
        document = None
    record = document.get("content") if isinstance(document, dict) else None
    if not isinstance(record, dict):
        return Pulled(pull, "failed", {}, message_id, now, "the answer is not a record")
    if record.get(pull.key_field) != pull.key:
        return Pulled(
            pull, "refused", {}, message_id, now, "the answer is not the record asked for"
        )
    if pull.subject_path is not None and not names_applicant(
        record, pull.subject_path, applicant[2:]
    ):
        return Pulled(pull, "refused", {}, message_id, now, "the record is about someone else")
    values = {field: record[field] for field in pull.fields if field in record}
    return Pulled(pull, "read", values, message_id, now, None)


async def read_all(
    http: httpx.AsyncClient,
    pulls: Sequence[Pull],
    *,
    client: str,
    applicant: str,
    purpose: str,
    registry_version: str,
    now: datetime,
) -> list[Pulled]:
    """Every read of an application, at the same time."""
    return list(
        await asyncio.gather(
            *(
                read_one(
                    http,
                    pull,
                    client=client,
                    applicant=applicant,
                    purpose=purpose,
                    registry_version=registry_version,
                    now=now,
                )
                for pull in pulls
            )
        )
    )


def _said(answer: httpx.Response) -> str:
    try:
        document = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(document, dict):
        return str(document.get("message") or document.get("detail") or document)[:300]
    return str(document)[:300]
