"""Applications for accreditation (``app-<n>``): a member applies under a scheme for a level and
a scope, attaches evidence for each criterion, and follows its application; an assessor with
current authority under the scheme, and of another member, reviews each criterion and decides.

Steps, each kept as an event with its actor, time and note:
``submitted`` → ``under-review`` → ``more-information-requested`` → ``under-review`` (when the
applicant answers) → … → ``decided`` (granted, which makes an accreditation, or refused).
A member-scoped key applies for its own member; an admin or registrar may apply on a member's
behalf."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import accreditations, assessors, history, repository, schemes
from zistboom.accreditation.models import (
    Application,
    ApplicationEvent,
    AssessorAuthorisation,
    CriterionReview,
    Decision,
    EvidenceFile,
)
from zistboom.central import service as central
from zistboom.central.models import Member
from zistboom.central.operators import Operator
from zistboom.core import identifiers
from zistboom.core.errors import ConflictError, PermissionDeniedError, ValidationError

SUBMITTED = "submitted"
UNDER_REVIEW = "under-review"
MORE_INFORMATION = "more-information-requested"
DECIDED = "decided"
ApplicationStatus = Literal["submitted", "under-review", "more-information-requested", "decided"]
STATUSES: tuple[str, ...] = get_args(ApplicationStatus)
SCOPES = ("member", "subsystem", "service")
OUTCOMES = ("met", "not-met")
DECISIONS = ("granted", "refused")

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
"""The largest evidence file taken (10 MiB); evidence is kept in the database."""
MAX_EVIDENCE_FILES = 100
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UNSAFE_FILENAME = re.compile(r"[/\\\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ApplicationInput:
    scheme: str
    member: str
    level: str
    scope: str = "member"
    subject: str | None = None
    """The member itself (the default for ``member`` scope), one of its subsystems, or one
    service of one of its subsystems."""
    statement: str = ""


@dataclass(frozen=True, slots=True)
class DecisionInput:
    outcome: str
    reasons: str
    level: str | None = None
    """The level granted; the level asked when not given, never above it."""
    conditions: Sequence[str] = field(default_factory=tuple)
    validity_days: int | None = None
    """The scheme's default when not given, never longer."""


# --- who may do what ----------------------------------------------------------------------


async def _applicant(session: AsyncSession, member_id: str, actor: Operator) -> Member:
    member = await central.member_by_id(session, member_id, field="member_id")
    actor.require_member(member, "admin", "registrar")
    return member


async def _assessor(
    session: AsyncSession, application: Application, actor: Operator, at: datetime, doing: str
) -> AssessorAuthorisation:
    authority = await assessors.current_authority(
        session, actor, application.scheme, at, doing=doing
    )
    assessors.refuse_conflict(authority, application.member, application.identifier)
    return authority


async def _may_read(session: AsyncSession, application: Application, actor: Operator) -> None:
    if actor.role in ("admin", "registrar", "auditor"):
        return
    if actor.role == "member":
        member = await central.operator_member(session, actor)
        if member is not None and member.identifier == application.member:
            return
    if actor.role == "assessor":
        scheme_ids = await assessors.schemes_assessed_by(session, actor, history.moment(None))
        if application.scheme_id in scheme_ids:
            return
    raise PermissionDeniedError(
        f"{application.identifier} is visible to its applicant, to assessors authorised under "
        f"{application.scheme.code}, and to admins, registrars and auditors"
    )


def _in(application: Application, allowed: Sequence[str], doing: str) -> None:
    if application.status not in allowed:
        raise ConflictError(
            f"{application.identifier} is {application.status}: it must be "
            f"{' or '.join(allowed)} to {doing}",
            field="status",
        )


async def _step(
    session: AsyncSession,
    application: Application,
    status: str,
    note: str,
    *,
    actor: Operator,
    at: datetime,
    action: str,
    details: dict[str, object] | None = None,
) -> None:
    history.after_last(application.events, at, application.identifier)
    application.events.append(ApplicationEvent(status=status, at=at, actor=actor.actor, note=note))
    application.status = status
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action=f"accreditation.application.{action}",
        target=application.identifier,
        details={"status": status, "note": note, **(details or {})},
    )


# --- the applicant ------------------------------------------------------------------------


async def _subject(member: Member, scope: str, subject: str | None) -> str:
    if scope not in SCOPES:
        raise ValidationError(f"scope must be one of {', '.join(SCOPES)}", field="scope")
    if scope == "member":
        if subject not in (None, member.identifier):
            raise ValidationError(
                f"a member-scoped application is for the member itself ({member.identifier})",
                field="subject",
            )
        return member.identifier
    if subject is None:
        raise ValidationError(f"a {scope}-scoped application names its subject", field="subject")
    if scope == "subsystem":
        parsed_subsystem = identifiers.SubsystemId.parse(subject, field="subject")
        owner, subsystem_code = str(parsed_subsystem.member), parsed_subsystem.subsystem_code
    else:
        parsed_service = identifiers.ServiceId.parse(subject, field="subject")
        owner = str(parsed_service.member)
        subsystem_code = parsed_service.subsystem.subsystem_code
    if owner != member.identifier:
        raise ValidationError(f"{subject} is not a {scope} of {member.identifier}", field="subject")
    if not any(s.code == subsystem_code for s in member.subsystems):
        raise ValidationError(
            f"{member.identifier} has no subsystem {subsystem_code!r}: register it at central "
            "first",
            field="subject",
        )
    return subject


async def submit(
    session: AsyncSession,
    data: ApplicationInput,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Application:
    when = history.moment(at)
    member = await _applicant(session, data.member, actor)
    scheme = await schemes.require_active(session, data.scheme, when, field="scheme")
    if data.level not in scheme.levels:
        raise ValidationError(
            f"scheme {scheme.code} grants the levels {', '.join(scheme.levels)}, not "
            f"{data.level!r}",
            field="level",
        )
    subject = await _subject(member, data.scope, data.subject)
    application = Application(
        scheme_id=scheme.id,
        member=member.identifier,
        level=data.level,
        scope=data.scope,
        subject=subject,
        statement=history.text(data.statement, "statement", required=False),
        status=SUBMITTED,
        created_at=when,
        events=[],
    )
    session.add(application)
    await session.flush()
    await session.refresh(application, ["scheme", "evidence", "reviews", "decision"])
    await _step(
        session,
        application,
        SUBMITTED,
        application.statement,
        actor=actor,
        at=when,
        action="submit",
        details={
            "scheme": scheme.code,
            "member": member.identifier,
            "level": data.level,
            "scope": data.scope,
            "subject": subject,
        },
    )
    return application


async def get_application(
    session: AsyncSession, application_id: str, *, actor: Operator
) -> Application:
    application = await repository.application(session, application_id)
    await _may_read(session, application, actor)
    return application


async def list_applications(
    session: AsyncSession,
    *,
    actor: Operator,
    member: str | None = None,
    scheme: str | None = None,
    status: str | None = None,
) -> list[Application]:
    """Applications the caller may see: a member its own, an assessor those under the schemes
    it is authorised for, admins, registrars and auditors all."""
    if status is not None and status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    scheme_ids: list[int] | None = None
    if scheme is not None:
        scheme_ids = [(await schemes.get_scheme(session, scheme, field="scheme")).id]
    if actor.role == "member":
        own = await central.operator_member(session, actor)
        if own is None or member not in (None, own.identifier):
            raise PermissionDeniedError("a member key sees its own member's applications only")
        member = own.identifier
    elif actor.role == "assessor":
        assessed = await assessors.schemes_assessed_by(session, actor, history.moment(None))
        scheme_ids = [i for i in assessed if scheme_ids is None or i in scheme_ids]
    else:
        actor.require("admin", "registrar", "auditor")
    return await repository.list_applications(
        session, member=member, scheme_ids=scheme_ids, status=status
    )


def _filename(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 255 or name in (".", "..") or _UNSAFE_FILENAME.search(name):
        raise ValidationError(
            "filename must be 1 to 255 characters with no path separators or control characters",
            field="filename",
        )
    return name


def _media_type(value: str | None) -> str:
    text = (value or "").strip()
    main = text.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(main) or len(text) > 255:
        raise ValidationError(
            "send the file with its media type as Content-Type (for example application/pdf)",
            field="content-type",
        )
    return text


async def attach_evidence(
    session: AsyncSession,
    application_id: str,
    *,
    criterion: str,
    filename: str,
    media_type: str | None,
    content: bytes,
    expected_sha256: str | None = None,
    actor: Operator,
    at: datetime | None = None,
) -> EvidenceFile:
    """Attach a file for one criterion; it is kept with its SHA-256, which, when the applicant
    states it, must match what arrived."""
    when = history.moment(at)
    application = await repository.application(session, application_id)
    await _applicant(session, application.member, actor)
    _in(application, (SUBMITTED, MORE_INFORMATION), "attach evidence")
    codes = [c.code for c in application.scheme.criteria]
    if criterion not in codes:
        raise ValidationError(
            f"scheme {application.scheme.code} has no criterion {criterion!r}: use one of "
            f"{', '.join(codes)}",
            field="criterion",
        )
    name = _filename(filename)
    media = _media_type(media_type)
    if not content:
        raise ValidationError("the evidence file is empty", field="content")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise ValidationError(
            f"an evidence file is at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB",
            field="content",
        )
    if len(application.evidence) >= MAX_EVIDENCE_FILES:
        raise ConflictError(
            f"{application.identifier} already has {MAX_EVIDENCE_FILES} evidence files",
            field="content",
        )
    digest = hashlib.sha256(content).hexdigest()
    if expected_sha256 is not None:
        if not _SHA256.fullmatch(expected_sha256):
            raise ValidationError("sha256 must be 64 lower-case hex digits", field="sha256")
        if expected_sha256 != digest:
            raise ValidationError(
                f"the file that arrived has SHA-256 {digest}, not {expected_sha256}: it changed "
                "on the way; send it again",
                field="sha256",
            )
    evidence = EvidenceFile(
        application_id=application.id,
        criterion=criterion,
        filename=name,
        media_type=media,
        size=len(content),
        sha256=digest,
        content=content,
        uploaded_at=when,
        uploaded_by=actor.actor,
    )
    application.evidence.append(evidence)
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.application.evidence",
        target=application.identifier,
        details={
            "evidence": evidence.identifier,
            "criterion": criterion,
            "filename": name,
            "media_type": media,
            "size": evidence.size,
            "sha256": digest,
        },
    )
    return evidence


async def evidence_file(
    session: AsyncSession, application_id: str, evidence_id: str, *, actor: Operator
) -> EvidenceFile:
    """One evidence file with its bytes, checked against the digest taken on arrival."""
    application = await get_application(session, application_id, actor=actor)
    evidence = await repository.evidence_with_content(session, application.id, evidence_id)
    if hashlib.sha256(evidence.content).hexdigest() != evidence.sha256:
        raise ConflictError(
            f"{evidence.identifier} of {application.identifier} no longer matches the SHA-256 "
            f"taken when it arrived ({evidence.sha256}): the stored copy was changed",
            field="sha256",
        )
    return evidence


async def respond(
    session: AsyncSession,
    application_id: str,
    note: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Application:
    """The applicant answers a request for information; the review goes on."""
    when = history.moment(at)
    application = await repository.application(session, application_id)
    await _applicant(session, application.member, actor)
    _in(application, (MORE_INFORMATION,), "respond")
    await _step(
        session,
        application,
        UNDER_REVIEW,
        history.text(note, "note"),
        actor=actor,
        at=when,
        action="respond",
    )
    return application


# --- the assessor -------------------------------------------------------------------------


async def start_review(
    session: AsyncSession,
    application_id: str,
    note: str = "",
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Application:
    when = history.moment(at)
    application = await repository.application(session, application_id)
    authority = await _assessor(session, application, actor, when, "review it")
    _in(application, (SUBMITTED,), "start its review")
    await _step(
        session,
        application,
        UNDER_REVIEW,
        history.text(note, "note", required=False),
        actor=actor,
        at=when,
        action="start-review",
        details={"authorisation": authority.identifier},
    )
    return application


async def request_information(
    session: AsyncSession,
    application_id: str,
    note: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Application:
    when = history.moment(at)
    application = await repository.application(session, application_id)
    authority = await _assessor(session, application, actor, when, "ask for information")
    _in(application, (UNDER_REVIEW,), "ask for more information")
    await _step(
        session,
        application,
        MORE_INFORMATION,
        history.text(note, "note"),
        actor=actor,
        at=when,
        action="request-information",
        details={"authorisation": authority.identifier},
    )
    return application


async def review_criterion(
    session: AsyncSession,
    application_id: str,
    criterion: str,
    outcome: str,
    note: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> CriterionReview:
    """Record whether one criterion is met; a later review of the same criterion replaces the
    finding (both are kept). ``met`` needs evidence for the criterion."""
    when = history.moment(at)
    application = await repository.application(session, application_id)
    authority = await _assessor(session, application, actor, when, "review it")
    _in(application, (UNDER_REVIEW,), "review a criterion")
    codes = [c.code for c in application.scheme.criteria]
    if criterion not in codes:
        raise ValidationError(
            f"scheme {application.scheme.code} has no criterion {criterion!r}", field="criterion"
        )
    if outcome not in OUTCOMES:
        raise ValidationError(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    if outcome == "met" and not any(e.criterion == criterion for e in application.evidence):
        raise ConflictError(
            f"criterion {criterion} of {application.identifier} has no evidence: request "
            "information before finding it met",
            field="criterion",
        )
    history.after_last(application.reviews, when, f"the reviews of {application.identifier}")
    review = CriterionReview(
        application_id=application.id,
        criterion=criterion,
        outcome=outcome,
        note=history.text(note, "note", required=outcome == "not-met"),
        assessor_key=actor.key_id,
        authorisation_id=authority.id,
        at=when,
    )
    application.reviews.append(review)
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.application.review",
        target=application.identifier,
        details={
            "criterion": criterion,
            "outcome": outcome,
            "note": review.note,
            "authorisation": authority.identifier,
        },
    )
    return review


def findings(application: Application) -> dict[str, CriterionReview]:
    """The latest review of each criterion."""
    latest: dict[str, CriterionReview] = {}
    for review in application.reviews:
        latest[review.criterion] = review
    return latest


async def decide(
    session: AsyncSession,
    application_id: str,
    data: DecisionInput,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Decision:
    """Grant (every criterion found met; an accreditation is made) or refuse, with reasons."""
    when = history.moment(at)
    application = await repository.application(session, application_id)
    authority = await _assessor(session, application, actor, when, "decide it")
    if data.outcome not in DECISIONS:
        raise ValidationError(f"outcome must be one of {', '.join(DECISIONS)}", field="outcome")
    reasons = history.text(data.reasons, "reasons")
    accreditation_id: int | None = None
    if data.outcome == "granted":
        _in(application, (UNDER_REVIEW,), "grant it")
        latest = findings(application)
        unmet = [c.code for c in application.scheme.criteria if c.code not in latest]
        if unmet:
            raise ConflictError(f"criteria not yet reviewed: {', '.join(unmet)}", field="criteria")
        not_met = [code for code, review in latest.items() if review.outcome != "met"]
        if not_met:
            raise ConflictError(
                f"criteria found not met: {', '.join(not_met)}; refuse, or request information",
                field="criteria",
            )
        accreditation = await accreditations.grant(
            session,
            application,
            level=data.level or application.level,
            conditions=data.conditions,
            validity_days=data.validity_days,
            reason=reasons,
            actor=actor,
            at=when,
        )
        accreditation_id = accreditation.id
    else:
        _in(application, (UNDER_REVIEW, MORE_INFORMATION), "refuse it")
    decision = Decision(
        application_id=application.id,
        outcome=data.outcome,
        reasons=reasons,
        assessor_key=actor.key_id,
        authorisation_id=authority.id,
        at=when,
        accreditation_id=accreditation_id,
    )
    session.add(decision)
    await session.flush()
    await _step(
        session,
        application,
        DECIDED,
        reasons,
        actor=actor,
        at=when,
        action="decide",
        details={
            "outcome": data.outcome,
            "authorisation": authority.identifier,
            "accreditation": None if accreditation_id is None else f"acc-{accreditation_id}",
        },
    )
    await session.refresh(application, ["decision"])
    return decision
