"""The ecosystem operators' part of the accreditation API (``/api/v1/accreditation/…``): name an
ecosystem's operating company, read its ownership now, and see the readings and the findings.
Routes authenticate and parse, then call :mod:`zistboom.accreditation.ownership`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from zistboom.accreditation import ownership
from zistboom.accreditation.ownership import Finding, OwnershipChecker, Standing
from zistboom.accreditation.ownership_exchange import PURPOSE
from zistboom.accreditation.ownership_models import OwnershipReading
from zistboom.central import operators
from zistboom.central.api import BODY, KEYED, Authorization, CentralState, PageLimit, State
from zistboom.central.schemas import Input, MemberIdText
from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses

router = APIRouter(prefix="/api/v1/accreditation", tags=["accreditation"])
EcosystemPath = Annotated[
    str, Path(pattern="^[a-z0-9][a-z0-9-]{0,63}$", description="the ecosystem's key")
]


def checker_of(request: Request) -> OwnershipChecker:
    checker: OwnershipChecker = request.app.state.ownership
    return checker


Checker = Annotated[OwnershipChecker, Depends(checker_of)]


async def _operator(state: CentralState, authorization: Authorization) -> operators.Operator:
    presented = authorization.credentials.strip() if authorization else None
    async with transaction(state.sessions) as session:
        return await operators.authenticate(session, presented)


# --- API models ------------------------------------------------------------------------------


class OperatorSet(Input):
    member_id: MemberIdText | None = Field(
        description="the operating company, INSTANCE/COM/CODE (a member of kind "
        "ecosystem-operator); null clears it"
    )
    reason: str | None = Field(None, max_length=500, description="why, for the audit log")


class SourceOut(BaseModel):
    service: str = Field(description="the registry's service on the exchange")
    registry: str = Field(description="the registry's code")
    version: str


class HolderOut(BaseModel):
    holder_kind: str
    holder_id: str
    share_percent: float
    state: bool


class ErrorOut(BaseModel):
    type: str = Field(description="X-Road-Error, the registry's problem type, or Central.…")
    message: str
    http_status: int | None


class ReadingOut(BaseModel):
    id: int
    ecosystem: str
    operator: str
    outcome: Literal["ok", "failed"]
    trigger: Literal["on-demand", "scheduled"]
    requested_by: str = Field(description="sent as X-Road-UserId")
    purpose: str = Field(description="sent as X-Road-Purpose")
    client: str = Field(description="sent as X-Road-Client")
    source: SourceOut
    message_id: str | None = Field(description="X-Road-Id of the answer")
    read_at: datetime
    private_share_percent: float | None
    state_share_percent: float | None
    minimum_private_share_percent: float
    compliant: bool | None
    holders: list[HolderOut] | None
    error: ErrorOut | None

    @classmethod
    def of(cls, r: OwnershipReading) -> ReadingOut:
        return cls(
            id=r.id,
            ecosystem=r.ecosystem,
            operator=r.operator_id,
            outcome=r.outcome,
            trigger=r.trigger,
            requested_by=r.requested_by,
            purpose=r.purpose,
            client=r.client,
            source=_source(r),
            message_id=r.message_id,
            read_at=r.at,
            private_share_percent=_number(r.private_share_percent),
            state_share_percent=_number(r.state_share_percent),
            minimum_private_share_percent=float(r.minimum_private_share_percent),
            compliant=r.compliant,
            holders=[HolderOut(**h) for h in r.holders] if r.holders is not None else None,
            error=(
                ErrorOut(
                    type=r.error_type, message=r.error_message or "", http_status=r.http_status
                )
                if r.error_type
                else None
            ),
        )


class FindingOut(BaseModel):
    kind: str
    ecosystem: str
    operator: str
    message: str
    message_fa: str
    private_share_percent: float
    state_share_percent: float
    minimum_private_share_percent: float
    source: SourceOut
    message_id: str | None
    read_at: datetime
    reading_id: int

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            kind=f.kind,
            ecosystem=f.ecosystem.key,
            operator=f.operator,
            message=f.message,
            message_fa=f.message_fa,
            private_share_percent=float(f.private_share_percent),
            state_share_percent=float(f.state_share_percent),
            minimum_private_share_percent=float(f.minimum_private_share_percent),
            source=_source(f.reading),
            message_id=f.reading.message_id,
            read_at=f.reading.at,
            reading_id=f.reading.id,
        )


class OperatorOut(BaseModel):
    ecosystem: str
    name_fa: str
    name_en: str
    operator: str | None = Field(description="the operating company, INSTANCE/COM/CODE")
    operator_name_fa: str | None
    operator_name_en: str | None
    reading: ReadingOut | None = Field(description="the newest good reading: the rule's basis")
    last_attempt: ReadingOut | None = Field(description="the newest reading, good or failed")
    findings: list[FindingOut]

    @classmethod
    def of(cls, s: Standing) -> OperatorOut:
        return cls(
            ecosystem=s.ecosystem.key,
            name_fa=s.ecosystem.name_fa,
            name_en=s.ecosystem.name_en,
            operator=s.operator.identifier if s.operator else None,
            operator_name_fa=s.operator.name_fa if s.operator else None,
            operator_name_en=s.operator.name_en if s.operator else None,
            reading=ReadingOut.of(s.reading) if s.reading else None,
            last_attempt=ReadingOut.of(s.last_attempt) if s.last_attempt else None,
            findings=[FindingOut.of(f) for f in s.findings],
        )


class RefreshOut(BaseModel):
    reading: ReadingOut = Field(description="the reading just made (it may have failed)")
    operator: OperatorOut


def _source(r: OwnershipReading) -> SourceOut:
    return SourceOut(
        service=r.registry_service, registry=r.registry_code, version=r.registry_version
    )


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- routes ----------------------------------------------------------------------------------


@router.get(
    "/operators",
    summary="Every ecosystem's operator, its ownership reading and findings",
    response_model=list[OperatorOut],
    responses=problem_responses(*KEYED),
)
async def list_operators(state: State, authorization: Authorization = None) -> list[OperatorOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        return [OperatorOut.of(s) for s in await ownership.standings(session, actor=actor)]


@router.get(
    "/operators/{ecosystem}",
    summary="An ecosystem's operator, its ownership reading and findings",
    response_model=OperatorOut,
    responses=problem_responses(*KEYED, 404, 422),
)
async def get_operator(
    ecosystem: EcosystemPath, state: State, authorization: Authorization = None
) -> OperatorOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        return OperatorOut.of(await ownership.standing(session, ecosystem, actor=actor))


@router.put(
    "/operators/{ecosystem}",
    summary="Name (or clear, with null) the ecosystem's operating company",
    response_model=OperatorOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def set_operator(
    ecosystem: EcosystemPath, body: OperatorSet, state: State, authorization: Authorization = None
) -> OperatorOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        standing = await ownership.set_operator(
            session, ecosystem, body.member_id, reason=body.reason, actor=actor
        )
        return OperatorOut.of(standing)


@router.post(
    "/operators/{ecosystem}/refresh",
    summary="Read the operator's shareholding from the legal-entities registry now",
    description="Through the exchange, with X-Road-UserId naming your key and X-Road-Purpose "
    f"{PURPOSE}. A failed call is recorded as a failed reading (200) and does not "
    "replace the newest good one.",
    response_model=RefreshOut,
    responses=problem_responses(*KEYED, 404, 409, 422, 503),
)
async def refresh_operator(
    ecosystem: EcosystemPath, state: State, checker: Checker, authorization: Authorization = None
) -> RefreshOut:
    actor = await _operator(state, authorization)
    reading, standing = await checker.refresh(ecosystem, actor=actor)
    return RefreshOut(reading=ReadingOut.of(reading), operator=OperatorOut.of(standing))


@router.get(
    "/operators/{ecosystem}/readings",
    summary="The ecosystem's ownership readings, newest first",
    response_model=list[ReadingOut],
    responses=problem_responses(*KEYED, 404, 422),
)
async def list_readings(
    ecosystem: EcosystemPath,
    state: State,
    before: Annotated[int | None, Query(ge=1, description="the smallest id already read")] = None,
    limit: PageLimit = 50,
    authorization: Authorization = None,
) -> list[ReadingOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        rows = await ownership.readings(
            session, ecosystem, before_id=before, limit=limit, actor=actor
        )
        return [ReadingOut.of(r) for r in rows]


@router.get(
    "/findings",
    summary="Broken rules now: operators below the minimum private share",
    response_model=list[FindingOut],
    responses=problem_responses(*KEYED),
)
async def list_findings(state: State, authorization: Authorization = None) -> list[FindingOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        return [FindingOut.of(f) for f in await ownership.findings(session, actor=actor)]
