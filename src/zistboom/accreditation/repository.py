"""The accreditation system's queries, and how a public identifier (``acc-17``) names a row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from zistboom.accreditation.models import (
    Accreditation,
    Application,
    AssessorAuthorisation,
    EvidenceFile,
    Recognition,
    Scheme,
)
from zistboom.core.errors import NotFoundError, ValidationError

T = TypeVar("T")
_NUMBERED = re.compile(r"([a-z]+)-([1-9][0-9]{0,17})")


def number_of(identifier: str, prefix: str, *, field: str) -> int:
    """The row number in ``<prefix>-<n>``; a malformed identifier is a validation error."""
    match = _NUMBERED.fullmatch(identifier)
    if match is None or match[1] != prefix:
        raise ValidationError(
            f"{identifier!r} is not an identifier of the form {prefix}-<number>", field=field
        )
    return int(match[2])


async def _found(session: AsyncSession, model: type[T], number: int, label: str) -> T:
    row = await session.get(model, number)
    if row is None:
        raise NotFoundError(f"no {label}", field="id")
    return row


# --- schemes -------------------------------------------------------------------------------


async def scheme_by_code(session: AsyncSession, code: str) -> Scheme | None:
    found: Scheme | None = await session.scalar(select(Scheme).where(Scheme.code == code))
    return found


async def scheme_for(session: AsyncSession, ecosystem: str, kind: str) -> Scheme | None:
    found: Scheme | None = await session.scalar(
        select(Scheme).where(Scheme.ecosystem == ecosystem, Scheme.kind == kind)
    )
    return found


async def list_schemes(session: AsyncSession, *, ecosystem: str | None = None) -> list[Scheme]:
    query = select(Scheme).order_by(Scheme.ecosystem, Scheme.code)
    if ecosystem is not None:
        query = query.where(Scheme.ecosystem == ecosystem)
    return list((await session.scalars(query)).all())


# --- applications -------------------------------------------------------------------------


async def application(session: AsyncSession, identifier: str) -> Application:
    number = number_of(identifier, "app", field="application_id")
    return await _found(session, Application, number, f"application {identifier}")


async def list_applications(
    session: AsyncSession,
    *,
    member: str | None = None,
    scheme_ids: Sequence[int] | None = None,
    status: str | None = None,
    include_member: str | None = None,
) -> list[Application]:
    """Applications, newest first; ``scheme_ids`` limits them to those schemes (an assessor's),
    ``include_member`` adds that member's own whatever their scheme."""
    query = select(Application).order_by(Application.id.desc())
    if member is not None:
        query = query.where(Application.member == member)
    if scheme_ids is not None:
        allowed: ColumnElement[bool] = Application.scheme_id.in_(list(scheme_ids))
        if include_member is not None:
            allowed = allowed | (Application.member == include_member)
        query = query.where(allowed)
    if status is not None:
        query = query.where(Application.status == status)
    return list((await session.scalars(query)).all())


async def evidence_with_content(
    session: AsyncSession, application_id: int, identifier: str
) -> EvidenceFile:
    number = number_of(identifier, "ev", field="evidence_id")
    found: EvidenceFile | None = await session.scalar(
        select(EvidenceFile)
        .where(EvidenceFile.id == number, EvidenceFile.application_id == application_id)
        .options(undefer(EvidenceFile.content))
    )
    if found is None:
        raise NotFoundError(f"application app-{application_id} has no evidence {identifier}")
    return found


# --- assessors ---------------------------------------------------------------------------


async def authorisation(session: AsyncSession, identifier: str) -> AssessorAuthorisation:
    number = number_of(identifier, "asr", field="authorisation_id")
    return await _found(
        session, AssessorAuthorisation, number, f"assessor authorisation {identifier}"
    )


async def authorisations_of_key(
    session: AsyncSession, key_id: str, *, scheme_id: int | None = None
) -> list[AssessorAuthorisation]:
    query = select(AssessorAuthorisation).where(AssessorAuthorisation.key_id == key_id)
    if scheme_id is not None:
        query = query.where(AssessorAuthorisation.scheme_id == scheme_id)
    return list((await session.scalars(query.order_by(AssessorAuthorisation.id))).all())


async def delegations_from(
    session: AsyncSession, authorisation_id: int
) -> list[AssessorAuthorisation]:
    query = select(AssessorAuthorisation).where(
        AssessorAuthorisation.delegated_from_id == authorisation_id
    )
    return list((await session.scalars(query.order_by(AssessorAuthorisation.id))).all())


async def list_authorisations(
    session: AsyncSession, *, scheme_id: int | None = None, key_id: str | None = None
) -> list[AssessorAuthorisation]:
    query = select(AssessorAuthorisation).order_by(AssessorAuthorisation.id)
    if scheme_id is not None:
        query = query.where(AssessorAuthorisation.scheme_id == scheme_id)
    if key_id is not None:
        query = query.where(AssessorAuthorisation.key_id == key_id)
    return list((await session.scalars(query)).all())


# --- accreditations ------------------------------------------------------------------------


async def accreditation(session: AsyncSession, identifier: str) -> Accreditation:
    number = number_of(identifier, "acc", field="accreditation_id")
    return await _found(session, Accreditation, number, f"accreditation {identifier}")


async def list_accreditations(
    session: AsyncSession, *, scheme_id: int | None = None, member: str | None = None
) -> list[Accreditation]:
    query = select(Accreditation).order_by(Accreditation.id)
    if scheme_id is not None:
        query = query.where(Accreditation.scheme_id == scheme_id)
    if member is not None:
        query = query.where(Accreditation.member == member)
    return list((await session.scalars(query)).all())


# --- recognitions ------------------------------------------------------------------------


async def recognition(session: AsyncSession, identifier: str) -> Recognition:
    number = number_of(identifier, "rec", field="recognition_id")
    return await _found(session, Recognition, number, f"recognition {identifier}")


async def recognition_of(
    session: AsyncSession, ecosystem: str, scheme_id: int
) -> Recognition | None:
    found: Recognition | None = await session.scalar(
        select(Recognition).where(
            Recognition.ecosystem == ecosystem, Recognition.scheme_id == scheme_id
        )
    )
    return found


async def list_recognitions(
    session: AsyncSession, *, ecosystem: str | None = None
) -> list[Recognition]:
    query = select(Recognition).order_by(Recognition.id)
    if ecosystem is not None:
        query = query.where(Recognition.ecosystem == ecosystem)
    return list((await session.scalars(query)).all())
