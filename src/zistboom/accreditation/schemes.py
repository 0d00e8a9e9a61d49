"""Schemes: what a provider must meet to offer one kind of service in one ecosystem (criteria
and the evidence each needs, the levels granted, the default validity). An admin publishes
and retires them; anyone may read them. A kind of service with an active scheme is regulated in
its ecosystem: one of central's, or ``national`` (ZB-STD-007 1.1), for the national platforms'
own schemes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import history, repository
from zistboom.accreditation.models import Scheme, SchemeCriterion, SchemeEvent
from zistboom.central import service as central
from zistboom.central.operators import Operator
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.persian import normalize_text
from zistboom.core.trustlist import LEVELS, NATIONAL

CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ACTIONS = ("provide", "issue")
MAX_VALIDITY_DAYS = 10 * 366
MAX_CRITERIA = 50


@dataclass(frozen=True, slots=True)
class CriterionInput:
    code: str
    title_fa: str
    title_en: str
    evidence: str
    """What the applicant attaches to show it is met."""


@dataclass(frozen=True, slots=True)
class SchemeInput:
    ecosystem: str
    kind: str
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    validity_days: int
    criteria: Sequence[CriterionInput]
    levels: Sequence[str] = LEVELS
    actions: Sequence[str] = ("provide",)
    code: str | None = field(default=None)
    """``<ecosystem>-<kind>`` when not given."""


def code_of(value: str, name: str, *, field: str) -> str:
    if not CODE.fullmatch(value):
        raise ValidationError(
            f"{name} {value!r} must be lower-case letters, digits and '-' (at most 64, "
            "starting with a letter or digit)",
            field=field,
        )
    return value


def _name(value: str, field: str, limit: int = 255) -> str:
    cleaned = normalize_text(value)
    if not cleaned:
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(cleaned) > limit:
        raise ValidationError(f"{field} is longer than {limit} characters", field=field)
    return cleaned


def ordered_levels(levels: Sequence[str], *, field: str) -> list[str]:
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise ValidationError(f"unknown level {unknown[0]!r}: use {', '.join(LEVELS)}", field=field)
    return [level for level in LEVELS if level in levels]


def _criteria(criteria: Sequence[CriterionInput]) -> list[SchemeCriterion]:
    if not criteria:
        raise ValidationError("a scheme needs at least one criterion", field="criteria")
    if len(criteria) > MAX_CRITERIA:
        raise ValidationError(f"a scheme has at most {MAX_CRITERIA} criteria", field="criteria")
    rows: list[SchemeCriterion] = []
    for index, criterion in enumerate(criteria):
        where = f"criteria.{index}"
        code = code_of(criterion.code, "criterion code", field=f"{where}.code")
        if any(row.code == code for row in rows):
            raise ValidationError(f"criterion {code} is listed twice", field=f"{where}.code")
        rows.append(
            SchemeCriterion(
                position=index,
                code=code,
                title_fa=_name(criterion.title_fa, f"{where}.title_fa"),
                title_en=_name(criterion.title_en, f"{where}.title_en"),
                evidence=history.text(criterion.evidence, f"{where}.evidence"),
            )
        )
    return rows


async def _scheme_ecosystem(session: AsyncSession, key: str) -> str:
    if key == NATIONAL:
        return NATIONAL
    try:
        return (await central.get_ecosystem(session, key)).key
    except NotFoundError:
        raise NotFoundError(
            f"no ecosystem {key!r}: see GET /api/v1/ecosystems, or use {NATIONAL!r} for a "
            "scheme of the national platforms",
            field="ecosystem",
        ) from None


async def create_scheme(
    session: AsyncSession,
    data: SchemeInput,
    *,
    actor: Operator,
    at: datetime | None = None,
    reason: str = "published",
) -> Scheme:
    actor.require("admin")
    when = history.moment(at)
    ecosystem = await _scheme_ecosystem(session, data.ecosystem)
    kind = code_of(data.kind, "kind of service", field="kind")
    if data.code is None and len(f"{ecosystem}-{kind}") > 64:
        raise ValidationError(
            f"{ecosystem}-{kind} is longer than 64 characters: give the scheme a shorter code",
            field="code",
        )
    code = code_of(data.code or f"{ecosystem}-{kind}", "scheme code", field="code")
    actions = [action for action in ACTIONS if action in data.actions]
    if not actions or len(actions) != len(set(data.actions)):
        raise ValidationError(f"actions must be among {', '.join(ACTIONS)}", field="actions")
    levels = ordered_levels(data.levels, field="levels")
    if not levels:
        raise ValidationError("a scheme grants at least one level", field="levels")
    if not 1 <= data.validity_days <= MAX_VALIDITY_DAYS:
        raise ValidationError(
            f"validity_days must be between 1 and {MAX_VALIDITY_DAYS}", field="validity_days"
        )
    if await repository.scheme_by_code(session, code) is not None:
        raise ConflictError(f"scheme {code} already exists", field="code")
    if (other := await repository.scheme_for(session, ecosystem, kind)) is not None:
        raise ConflictError(
            f"{ecosystem}:{kind} is already covered by scheme {other.code}: one scheme per "
            "kind of service in an ecosystem",
            field="kind",
        )
    scheme = Scheme(
        code=code,
        ecosystem=ecosystem,
        kind=kind,
        actions=actions,
        levels=levels,
        name_fa=_name(data.name_fa, "name_fa"),
        name_en=_name(data.name_en, "name_en"),
        description_fa=history.text(data.description_fa, "description_fa"),
        description_en=history.text(data.description_en, "description_en"),
        validity_days=data.validity_days,
        created_at=when,
        criteria=_criteria(data.criteria),
        events=[
            SchemeEvent(
                status="active", at=when, actor=actor.actor, reason=history.text(reason, "reason")
            )
        ],
    )
    session.add(scheme)
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.scheme.create",
        target=f"scheme:{code}",
        details={
            "resource": scheme.resource,
            "levels": levels,
            "actions": actions,
            "validity_days": scheme.validity_days,
            "criteria": [c.code for c in scheme.criteria],
        },
    )
    return scheme


async def get_scheme(session: AsyncSession, code: str, *, field: str = "code") -> Scheme:
    scheme = await repository.scheme_by_code(session, code)
    if scheme is None:
        raise NotFoundError(f"no scheme {code!r}", field=field)
    return scheme


async def list_schemes(session: AsyncSession, *, ecosystem: str | None = None) -> list[Scheme]:
    return await repository.list_schemes(session, ecosystem=ecosystem)


def scheme_status(scheme: Scheme, at: datetime) -> str:
    return history.status_at(scheme.events, at) or "not-yet-active"


async def require_active(session: AsyncSession, code: str, at: datetime, *, field: str) -> Scheme:
    scheme = await get_scheme(session, code, field=field)
    status = scheme_status(scheme, at)
    if status != "active":
        raise ConflictError(f"scheme {code} is {status}: nothing new is done under it", field=field)
    return scheme


async def retire_scheme(
    session: AsyncSession,
    code: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Scheme:
    """Withdraw a scheme from use: no new applications; what it granted stays in the list."""
    actor.require("admin")
    when = history.moment(at)
    scheme = await require_active(session, code, when, field="code")
    history.after_last(scheme.events, when, f"scheme {code}")
    reason = history.text(reason, "reason")
    scheme.events.append(SchemeEvent(status="retired", at=when, actor=actor.actor, reason=reason))
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.scheme.retire",
        target=f"scheme:{code}",
        details={"reason": reason},
    )
    return scheme
