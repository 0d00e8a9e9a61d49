"""The trust list's content, built from the tables (ZB-STD-007): every scheme, accreditation,
recognition version and assessor authorisation, each with its whole history.

The same entries are how the domain reads a record's status at a time: turning a row into its
trust-list entry and asking ``core.accreditation`` keeps one rule for the list and the API."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import repository
from zistboom.accreditation.models import (
    Accreditation,
    AssessorAuthorisation,
    Recognition,
    RecognitionVersion,
    Scheme,
)
from zistboom.core.trustlist import (
    FORMAT,
    AccreditationEntry,
    AssessorEntry,
    RecognitionEntry,
    SchemeEntry,
    StatusChange,
    TrustList,
)

__all__ = [
    "accreditation_entry",
    "assessor_entry",
    "build_trust_list_content",
    "recognition_entry",
    "scheme_entry",
]


class _Event(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def reason(self) -> str: ...


def _history(events: Iterable[_Event]) -> list[StatusChange]:
    return [
        StatusChange.model_validate({"status": e.status, "at": e.at, "reason": e.reason})
        for e in events
    ]


def scheme_entry(row: Scheme) -> SchemeEntry:
    return SchemeEntry.model_validate(
        {
            "code": row.code,
            "ecosystem": row.ecosystem,
            "kind": row.kind,
            "actions": row.actions,
            "levels": row.levels,
            "name_fa": row.name_fa,
            "name_en": row.name_en,
            "history": _history(row.events),
        }
    )


def accreditation_entry(row: Accreditation) -> AccreditationEntry:
    return AccreditationEntry.model_validate(
        {
            "id": row.identifier,
            "scheme": row.scheme.code,
            "member": row.member,
            "scope": row.scope,
            "subject": row.subject,
            "level": row.level,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "conditions": row.conditions,
            "history": _history(row.events),
        }
    )


def recognition_entry(recognition: Recognition, version: RecognitionVersion) -> RecognitionEntry:
    return RecognitionEntry.model_validate(
        {
            "id": recognition.identifier,
            "version": version.version,
            "ecosystem": recognition.ecosystem,
            "scheme": recognition.scheme.code,
            "kinds": version.kinds,
            "level_mapping": version.level_mapping,
            "valid_from": version.valid_from,
            "valid_until": version.valid_until,
            "history": _history(version.events),
            "statement": version.statement,
        }
    )


def assessor_entry(row: AssessorAuthorisation) -> AssessorEntry:
    return AssessorEntry.model_validate(
        {
            "id": row.identifier,
            "member": row.member,
            "scheme": row.scheme.code,
            "depth": row.depth,
            "delegated_from": row.delegated_from,
            "history": _history(row.events),
        }
    )


async def build_trust_list_content(
    session: AsyncSession,
    *,
    instance: str,
    issued_at: datetime,
    next_update: datetime,
    sequence: int,
) -> TrustList:
    """The whole list as of now, unsigned; the publication signs and serves it."""
    recognitions = await repository.list_recognitions(session)
    return TrustList(
        format=FORMAT,
        instance=instance,
        sequence=sequence,
        issued_at=issued_at,
        next_update=next_update,
        schemes=[scheme_entry(s) for s in await repository.list_schemes(session)],
        accreditations=[
            accreditation_entry(a) for a in await repository.list_accreditations(session)
        ],
        recognitions=[recognition_entry(r, v) for r in recognitions for v in r.versions],
        assessors=[assessor_entry(a) for a in await repository.list_authorisations(session)],
    )
