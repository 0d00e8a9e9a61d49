"""Request and response models of the accreditation API (``/api/v1/accreditation``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from zistboom.accreditation import applications, assessors, schemes
from zistboom.accreditation.accreditations import state_at
from zistboom.accreditation.models import (
    Accreditation,
    Application,
    AssessorAuthorisation,
    EvidenceFile,
    Recognition,
    RecognitionVersion,
    Scheme,
)
from zistboom.accreditation.recognitions import version_status
from zistboom.central.schemas import MemberIdText, NonBlank
from zistboom.core import identifiers
from zistboom.core.errors import ValidationError

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
LevelName = Literal["basic", "substantial", "high"]
Text = Annotated[
    str,
    Field(min_length=1, max_length=4000, pattern=f"[^{identifiers.SPACE_CHARACTERS}]"),
]
"""A text with something in it besides spaces (inputs are stripped before their length counts)."""
Reason = Annotated[Text, Field(description="why; kept in the history")]
Note = Annotated[str, Field(max_length=4000)]
EntityText = Annotated[
    str,
    Field(
        pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+(/[^/\s]+){0,2}$",
        max_length=300,
        description="a member, subsystem (…/SUBSYSTEM) or service (…/SUBSYSTEM/SERVICE)",
    ),
]


RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
Moment = Annotated[
    str,
    Field(
        pattern=RFC3339,
        json_schema_extra={"format": "date-time"},
        description="RFC 3339 with its offset, e.g. 2026-03-01T08:00:00Z",
    ),
]


def moment(text: str, *, field: str) -> datetime:
    """A :data:`Moment` as an aware datetime (a pattern cannot rule out the 30th of February)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{text!r} is not a valid RFC 3339 time", field=field) from None


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusChangeOut(BaseModel):
    status: str
    at: datetime
    actor: str
    reason: str


# --- schemes -------------------------------------------------------------------------------


class CriterionIn(Input):
    code: Code
    title_fa: NonBlank
    title_en: NonBlank
    evidence: Text = Field(description="what the applicant attaches to show the criterion is met")


class SchemeCreate(Input):
    ecosystem: Code = Field(description="the ecosystem that owns the scheme (GET /ecosystems)")
    kind: Code = Field(description="the kind of service it covers, e.g. e-invoice-provider")
    code: Code | None = Field(default=None, description="<ecosystem>-<kind> when not given")
    actions: list[Literal["provide", "issue"]] = Field(default=["provide"], min_length=1)
    levels: list[LevelName] = Field(
        default=["basic", "substantial", "high"], min_length=1, max_length=3
    )
    name_fa: NonBlank
    name_en: NonBlank
    description_fa: Text
    description_en: Text
    validity_days: int = Field(ge=1, le=schemes.MAX_VALIDITY_DAYS)
    criteria: list[CriterionIn] = Field(min_length=1, max_length=schemes.MAX_CRITERIA)


class ReasonIn(Input):
    reason: Reason


class CriterionOut(BaseModel):
    code: str
    title_fa: str
    title_en: str
    evidence: str


class SchemeOut(BaseModel):
    code: str
    ecosystem: str
    kind: str
    resource: str
    actions: list[str]
    levels: list[str]
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    validity_days: int
    criteria: list[CriterionOut]
    status: str = Field(description="active or retired, now")
    history: list[StatusChangeOut]

    @classmethod
    def of(cls, scheme: Scheme, now: datetime) -> SchemeOut:
        return cls(
            code=scheme.code,
            ecosystem=scheme.ecosystem,
            kind=scheme.kind,
            resource=scheme.resource,
            actions=scheme.actions,
            levels=scheme.levels,
            name_fa=scheme.name_fa,
            name_en=scheme.name_en,
            description_fa=scheme.description_fa,
            description_en=scheme.description_en,
            validity_days=scheme.validity_days,
            criteria=[
                CriterionOut(
                    code=c.code, title_fa=c.title_fa, title_en=c.title_en, evidence=c.evidence
                )
                for c in scheme.criteria
            ],
            status=schemes.scheme_status(scheme, now),
            history=[
                StatusChangeOut(status=e.status, at=e.at, actor=e.actor, reason=e.reason)
                for e in scheme.events
            ],
        )


# --- applications -------------------------------------------------------------------------


class ApplicationCreate(Input):
    """An application; a subsystem- or service-scoped one names its subject."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"scope": {"enum": ["subsystem", "service"]}},
                "required": ["scope"],
            },
            "then": {"required": ["subject"], "properties": {"subject": {"type": "string"}}},
        }
    )

    scheme: Code
    member_id: MemberIdText = Field(description="the applicant member")
    level: LevelName
    scope: Literal["member", "subsystem", "service"] = "member"
    subject: EntityText | None = Field(
        default=None, description="the member (default), one of its subsystems or services"
    )
    statement: Note = ""


class NoteIn(Input):
    note: Text


class OptionalNoteIn(Input):
    note: Note = ""


class CriterionReviewIn(Input):
    outcome: Literal["met", "not-met"]
    note: Note = Field(default="", description="required when not met")


class DecisionCreate(Input):
    outcome: Literal["granted", "refused"]
    reasons: Text
    level: LevelName | None = Field(
        default=None, description="the level granted: the one asked for when not given"
    )
    conditions: list[Text] = Field(default=[], max_length=20)
    validity_days: int | None = Field(
        default=None, ge=1, description="the scheme's default when not given, never longer"
    )


class ApplicationEventOut(BaseModel):
    status: str
    at: datetime
    actor: str
    note: str


class EvidenceOut(BaseModel):
    id: str
    criterion: str
    filename: str
    media_type: str
    size: int
    sha256: str = Field(description="SHA-256 (hex) of the file, taken on arrival")
    uploaded_at: datetime
    uploaded_by: str

    @classmethod
    def of(cls, evidence: EvidenceFile) -> EvidenceOut:
        return cls(
            id=evidence.identifier,
            criterion=evidence.criterion,
            filename=evidence.filename,
            media_type=evidence.media_type,
            size=evidence.size,
            sha256=evidence.sha256,
            uploaded_at=evidence.uploaded_at,
            uploaded_by=evidence.uploaded_by,
        )


class ReviewOut(BaseModel):
    criterion: str
    outcome: str
    note: str
    assessor_key: str
    authorisation: str
    at: datetime


class DecisionOut(BaseModel):
    outcome: str
    reasons: str
    assessor_key: str
    authorisation: str
    at: datetime
    accreditation: str | None


class ApplicationOut(BaseModel):
    id: str
    scheme: str
    member_id: str
    level: str
    scope: str
    subject: str
    statement: str
    status: str
    created_at: datetime
    events: list[ApplicationEventOut]
    evidence: list[EvidenceOut]
    reviews: list[ReviewOut]
    findings: dict[str, str] = Field(description="the latest finding on each criterion reviewed")
    decision: DecisionOut | None

    @classmethod
    def of(cls, app: Application) -> ApplicationOut:
        decision = app.decision
        return cls(
            id=app.identifier,
            scheme=app.scheme.code,
            member_id=app.member,
            level=app.level,
            scope=app.scope,
            subject=app.subject,
            statement=app.statement,
            status=app.status,
            created_at=app.created_at,
            events=[
                ApplicationEventOut(status=e.status, at=e.at, actor=e.actor, note=e.note)
                for e in app.events
            ],
            evidence=[EvidenceOut.of(e) for e in app.evidence],
            reviews=[
                ReviewOut(
                    criterion=r.criterion,
                    outcome=r.outcome,
                    note=r.note,
                    assessor_key=r.assessor_key,
                    authorisation=f"asr-{r.authorisation_id}",
                    at=r.at,
                )
                for r in app.reviews
            ],
            findings={c: r.outcome for c, r in applications.findings(app).items()},
            decision=None
            if decision is None
            else DecisionOut(
                outcome=decision.outcome,
                reasons=decision.reasons,
                assessor_key=decision.assessor_key,
                authorisation=f"asr-{decision.authorisation_id}",
                at=decision.at,
                accreditation=None
                if decision.accreditation_id is None
                else f"acc-{decision.accreditation_id}",
            ),
        )


# --- assessors ---------------------------------------------------------------------------


class AssessorGrant(Input):
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{8}$", description="an assessor key's id")]
    scheme: Code
    depth: int = Field(default=0, ge=0, le=assessors.MAX_DEPTH)
    reason: Reason


class DelegationCreate(Input):
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{8}$")]
    depth: int = Field(default=0, ge=0, le=assessors.MAX_DEPTH)
    reason: Reason


class AssessorOut(BaseModel):
    id: str
    key_id: str
    member_id: str = Field(description="the key's member: the assessor's employer")
    scheme: str
    depth: int
    delegated_from: str | None
    status: str = Field(description="granted or withdrawn, now")
    history: list[StatusChangeOut]

    @classmethod
    def of(cls, row: AssessorAuthorisation, now: datetime) -> AssessorOut:
        return cls(
            id=row.identifier,
            key_id=row.key_id,
            member_id=row.member,
            scheme=row.scheme.code,
            depth=row.depth,
            delegated_from=row.delegated_from,
            status=assessors.authority_status(row, now),
            history=[
                StatusChangeOut(status=e.status, at=e.at, actor=e.actor, reason=e.reason)
                for e in row.events
            ],
        )


# --- accreditations ------------------------------------------------------------------------


class AccreditationOut(BaseModel):
    id: str
    scheme: str
    resource: str
    member_id: str
    scope: str
    subject: str
    level: str
    valid_from: datetime
    valid_until: datetime
    conditions: list[str]
    application: str
    status: str = Field(
        description="active, suspended, revoked, withdrawn, expired or not-yet-valid at status_at"
    )
    status_at: datetime
    history: list[StatusChangeOut]

    @classmethod
    def of(cls, row: Accreditation, at: datetime, status: str | None = None) -> AccreditationOut:
        return cls(
            id=row.identifier,
            scheme=row.scheme.code,
            resource=row.scheme.resource,
            member_id=row.member,
            scope=row.scope,
            subject=row.subject,
            level=row.level,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            conditions=row.conditions,
            application=f"app-{row.application_id}",
            status=status or state_at(row, at),
            status_at=at,
            history=[
                StatusChangeOut(status=e.status, at=e.at, actor=e.actor, reason=e.reason)
                for e in row.events
            ],
        )


# --- recognitions ----------------------------------------------------------------------


class RecognitionVersionIn(Input):
    kinds: list[Code] = Field(min_length=1, max_length=20)
    level_mapping: dict[LevelName, LevelName] = Field(
        min_length=1, description="the scheme's level → the level it counts as here"
    )
    valid_from: Moment | None = Field(default=None, description="now when not given")
    valid_until: Moment
    reason: Reason


class RecognitionCreate(RecognitionVersionIn):
    ecosystem: Code = Field(description="the recognising ecosystem")
    scheme: Code = Field(description="another ecosystem's scheme")


class RecognitionVersionOut(BaseModel):
    version: int
    kinds: list[str]
    level_mapping: dict[str, str]
    valid_from: datetime
    valid_until: datetime
    status: str = Field(description="active, revoked, expired or not-yet-valid, now")
    history: list[StatusChangeOut]
    statement: str = Field(description="the terms as a compact JWS signed by central")


class RecognitionOut(BaseModel):
    id: str
    ecosystem: str
    scheme: str
    scheme_resource: str
    versions: list[RecognitionVersionOut]

    @classmethod
    def of(cls, recognition: Recognition, now: datetime) -> RecognitionOut:
        def version(v: RecognitionVersion) -> RecognitionVersionOut:
            return RecognitionVersionOut(
                version=v.version,
                kinds=v.kinds,
                level_mapping=v.level_mapping,
                valid_from=v.valid_from,
                valid_until=v.valid_until,
                status=version_status(recognition, v, now),
                history=[
                    StatusChangeOut(status=e.status, at=e.at, actor=e.actor, reason=e.reason)
                    for e in v.events
                ],
                statement=v.statement,
            )

        return cls(
            id=recognition.identifier,
            ecosystem=recognition.ecosystem,
            scheme=recognition.scheme.code,
            scheme_resource=recognition.scheme.resource,
            versions=[version(v) for v in recognition.versions],
        )
