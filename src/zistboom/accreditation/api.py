"""The accreditation management API (``/api/v1/accreditation``), served by central: routes parse
and authenticate (central's API keys), then call ``accreditation.service``.

Schemes, accreditations, recognitions and assessor authorisations are public (they are in the
published trust list anyway); applications and their evidence need a key."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from zistboom.accreditation import service
from zistboom.accreditation.accreditations import AccreditationState
from zistboom.accreditation.applications import ApplicationStatus
from zistboom.accreditation.schemas import (
    AccreditationOut,
    ApplicationCreate,
    ApplicationOut,
    AssessorGrant,
    AssessorOut,
    CriterionReviewIn,
    DecisionCreate,
    DelegationCreate,
    EvidenceOut,
    Moment,
    NoteIn,
    OptionalNoteIn,
    ReasonIn,
    RecognitionCreate,
    RecognitionOut,
    RecognitionVersionIn,
    ReviewOut,
    SchemeCreate,
    SchemeOut,
    moment,
)
from zistboom.central.api import BODY, KEYED, Authorization, CentralState, State
from zistboom.central.api import _operator as authenticate
from zistboom.central.schemas import MemberIdText
from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ValidationError
from zistboom.core.problems import problem_responses

router = APIRouter(prefix="/api/v1/accreditation", tags=["accreditation"])

"""Central's trust-list key, under its data directory (made by the publication on first start):
it signs recognition statements as it signs the trust list."""

SchemePath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
AppPath = Annotated[str, Path(pattern=r"^app-[1-9][0-9]{0,17}$", description="app-<n>")]
EvidencePath = Annotated[str, Path(pattern=r"^ev-[1-9][0-9]{0,17}$", description="ev-<n>")]
AccPath = Annotated[str, Path(pattern=r"^acc-[1-9][0-9]{0,17}$", description="acc-<n>")]
AsrPath = Annotated[str, Path(pattern=r"^asr-[1-9][0-9]{0,17}$", description="asr-<n>")]
RecPath = Annotated[str, Path(pattern=r"^rec-[1-9][0-9]{0,17}$", description="rec-<n>")]
CriterionPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Ecosystem = Annotated[str | None, Query(max_length=64)]


def recognition_key(state: CentralState) -> PrivateKey:
    """Central's trust-list key, which signs recognitions as it signs the list."""
    return state.keys.trust_list_key


def _at(at: str | None) -> datetime:
    return utc_now() if at is None else moment(at, field="at")


# --- schemes -------------------------------------------------------------------------------


@router.post(
    "/schemes",
    status_code=201,
    response_model=SchemeOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def create_scheme(
    body: SchemeCreate, state: State, authorization: Authorization = None
) -> SchemeOut:
    actor = await authenticate(state, authorization)
    data = service.SchemeInput(
        ecosystem=body.ecosystem,
        kind=body.kind,
        code=body.code,
        actions=body.actions,
        levels=body.levels,
        name_fa=body.name_fa,
        name_en=body.name_en,
        description_fa=body.description_fa,
        description_en=body.description_en,
        validity_days=body.validity_days,
        criteria=[service.CriterionInput(**c.model_dump()) for c in body.criteria],
    )
    async with transaction(state.sessions) as session:
        scheme = await service.create_scheme(session, data, actor=actor)
        return SchemeOut.of(scheme, utc_now())


@router.get("/schemes", response_model=list[SchemeOut], responses=problem_responses(422))
async def list_schemes(state: State, ecosystem: Ecosystem = None) -> list[SchemeOut]:
    now = utc_now()
    async with transaction(state.sessions) as session:
        return [
            SchemeOut.of(s, now) for s in await service.list_schemes(session, ecosystem=ecosystem)
        ]


@router.get("/schemes/{code}", response_model=SchemeOut, responses=problem_responses(404, 422))
async def get_scheme(code: SchemePath, state: State) -> SchemeOut:
    async with transaction(state.sessions) as session:
        return SchemeOut.of(await service.get_scheme(session, code), utc_now())


@router.post(
    "/schemes/{code}/retire",
    response_model=SchemeOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def retire_scheme(
    code: SchemePath, body: ReasonIn, state: State, authorization: Authorization = None
) -> SchemeOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        scheme = await service.retire_scheme(session, code, body.reason, actor=actor)
        return SchemeOut.of(scheme, utc_now())


# --- applications -------------------------------------------------------------------------


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def submit_application(
    body: ApplicationCreate, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    data = service.ApplicationInput(
        scheme=body.scheme,
        member=body.member_id,
        level=body.level,
        scope=body.scope,
        subject=body.subject,
        statement=body.statement,
    )
    async with transaction(state.sessions) as session:
        return ApplicationOut.of(await service.submit(session, data, actor=actor))


@router.get(
    "/applications",
    response_model=list[ApplicationOut],
    responses=problem_responses(*KEYED, 404, 422),
)
async def list_applications(
    state: State,
    member_id: Annotated[MemberIdText | None, Query()] = None,
    scheme: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    authorization: Authorization = None,
) -> list[ApplicationOut]:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        rows = await service.list_applications(
            session, actor=actor, member=member_id, scheme=scheme, status=status
        )
        return [ApplicationOut.of(a) for a in rows]


@router.get(
    "/applications/{app_id}",
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 422),
)
async def get_application(
    app_id: AppPath, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        return ApplicationOut.of(await service.get_application(session, app_id, actor=actor))


async def _limited_body(request: Request, limit: int) -> bytes:
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > limit:
            raise ValidationError(
                f"an evidence file is at most {limit // (1024 * 1024)} MiB", field="content"
            )
    return bytes(received)


@router.post(
    "/applications/{app_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Attach an evidence file for one criterion (the file is the request body)",
    responses=problem_responses(*KEYED, 404, 409, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the file, sent with its own media type as Content-Type",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary", "minLength": 1}}},
        }
    },
)
async def attach_evidence(
    app_id: AppPath,
    request: Request,
    state: State,
    criterion: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
    sha256: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9a-f]{64}$",
            description="the file's SHA-256 as the sender computed it: refused if it differs",
        ),
    ] = None,
    authorization: Authorization = None,
) -> EvidenceOut:
    actor = await authenticate(state, authorization)
    content = await _limited_body(request, service.MAX_EVIDENCE_BYTES)
    async with transaction(state.sessions) as session:
        evidence = await service.attach_evidence(
            session,
            app_id,
            criterion=criterion,
            filename=filename,
            media_type=request.headers.get("content-type"),
            content=content,
            expected_sha256=sha256,
            actor=actor,
        )
        return EvidenceOut.of(evidence)


@router.get(
    "/applications/{app_id}/evidence/{evidence_id}",
    response_class=Response,
    summary="An evidence file, checked against its SHA-256 (sent as Repr-Digest)",
    responses={
        200: {"description": "the file", "content": {"*/*": {}}},
        **problem_responses(*KEYED, 404, 409, 422),
    },
)
async def evidence_file(
    app_id: AppPath, evidence_id: EvidencePath, state: State, authorization: Authorization = None
) -> Response:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        evidence = await service.evidence_file(session, app_id, evidence_id, actor=actor)
    digest = base64.b64encode(bytes.fromhex(evidence.sha256)).decode()
    return Response(
        evidence.content,
        media_type=evidence.media_type,
        headers={
            "Repr-Digest": f"sha-256=:{digest}:",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(evidence.filename)}",
        },
    )


@router.post(
    "/applications/{app_id}/start-review",
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def start_review(
    app_id: AppPath, body: OptionalNoteIn, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        app = await service.start_review(session, app_id, body.note, actor=actor)
        return ApplicationOut.of(app)


@router.post(
    "/applications/{app_id}/request-information",
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def request_information(
    app_id: AppPath, body: NoteIn, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        app = await service.request_information(session, app_id, body.note, actor=actor)
        return ApplicationOut.of(app)


@router.post(
    "/applications/{app_id}/respond",
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def respond(
    app_id: AppPath, body: NoteIn, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        return ApplicationOut.of(await service.respond(session, app_id, body.note, actor=actor))


@router.post(
    "/applications/{app_id}/criteria/{criterion}/review",
    status_code=201,
    response_model=ReviewOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def review_criterion(
    app_id: AppPath,
    criterion: CriterionPath,
    body: CriterionReviewIn,
    state: State,
    authorization: Authorization = None,
) -> ReviewOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        review = await service.review_criterion(
            session, app_id, criterion, body.outcome, body.note, actor=actor
        )
        return ReviewOut(
            criterion=review.criterion,
            outcome=review.outcome,
            note=review.note,
            assessor_key=review.assessor_key,
            authorisation=f"asr-{review.authorisation_id}",
            at=review.at,
        )


@router.post(
    "/applications/{app_id}/decision",
    status_code=201,
    response_model=ApplicationOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def decide(
    app_id: AppPath, body: DecisionCreate, state: State, authorization: Authorization = None
) -> ApplicationOut:
    actor = await authenticate(state, authorization)
    data = service.DecisionInput(
        outcome=body.outcome,
        reasons=body.reasons,
        level=body.level,
        conditions=body.conditions,
        validity_days=body.validity_days,
    )
    async with transaction(state.sessions) as session:
        await service.decide(session, app_id, data, actor=actor)
        return ApplicationOut.of(await service.get_application(session, app_id, actor=actor))


# --- assessors ---------------------------------------------------------------------------


@router.post(
    "/assessors",
    status_code=201,
    response_model=AssessorOut,
    summary="Authorise an assessor key under a scheme (admin)",
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def grant_authority(
    body: AssessorGrant, state: State, authorization: Authorization = None
) -> AssessorOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        row = await service.grant_authority(
            session,
            key_id=body.key_id,
            scheme=body.scheme,
            depth=body.depth,
            reason=body.reason,
            actor=actor,
        )
        return AssessorOut.of(row, utc_now())


@router.post(
    "/assessors/{asr_id}/delegations",
    status_code=201,
    response_model=AssessorOut,
    summary="Delegate this authority to another assessor key (its holder)",
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def delegate(
    asr_id: AsrPath, body: DelegationCreate, state: State, authorization: Authorization = None
) -> AssessorOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        row = await service.delegate(
            session, asr_id, key_id=body.key_id, depth=body.depth, reason=body.reason, actor=actor
        )
        return AssessorOut.of(row, utc_now())


@router.post(
    "/assessors/{asr_id}/withdraw",
    response_model=list[AssessorOut],
    summary="Withdraw an authority and everything delegated from it",
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def withdraw_authority(
    asr_id: AsrPath, body: ReasonIn, state: State, authorization: Authorization = None
) -> list[AssessorOut]:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        rows = await service.withdraw_authority(session, asr_id, body.reason, actor=actor)
        now = utc_now()
        return [AssessorOut.of(row, now) for row in rows]


@router.get("/assessors", response_model=list[AssessorOut], responses=problem_responses(404, 422))
async def list_authorities(
    state: State,
    scheme: Annotated[str | None, Query(max_length=64)] = None,
    key_id: Annotated[str | None, Query(max_length=16)] = None,
) -> list[AssessorOut]:
    now = utc_now()
    async with transaction(state.sessions) as session:
        rows = await service.list_authorities(session, scheme=scheme, key_id=key_id)
        return [AssessorOut.of(row, now) for row in rows]


# --- accreditations ------------------------------------------------------------------------


@router.get(
    "/accreditations",
    response_model=list[AccreditationOut],
    summary="Accreditations with their status now (or at ?at=)",
    responses=problem_responses(404, 422),
)
async def list_accreditations(
    state: State,
    scheme: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[MemberIdText | None, Query()] = None,
    status: Annotated[AccreditationState | None, Query()] = None,
    at: Annotated[Moment | None, Query(description="RFC 3339; now when not given")] = None,
) -> list[AccreditationOut]:
    when = _at(at)
    async with transaction(state.sessions) as session:
        rows = await service.list_accreditations(
            session, at=when, scheme=scheme, member=member_id, status=status
        )
        return [AccreditationOut.of(row, when, state) for row, state in rows]


@router.get(
    "/accreditations/{acc_id}",
    response_model=AccreditationOut,
    responses=problem_responses(404, 422),
)
async def get_accreditation(
    acc_id: AccPath,
    state: State,
    at: Annotated[Moment | None, Query(description="RFC 3339; now when not given")] = None,
) -> AccreditationOut:
    when = _at(at)
    async with transaction(state.sessions) as session:
        return AccreditationOut.of(await service.get_accreditation(session, acc_id), when)


def _change_route(name: str, change: service.AccreditationChange, summary: str) -> None:
    @router.post(
        f"/accreditations/{{acc_id}}/{name}",
        response_model=AccreditationOut,
        summary=summary,
        name=f"{name}_accreditation",
        responses=problem_responses(*KEYED, 404, 409, *BODY),
    )
    async def route(
        acc_id: AccPath, body: ReasonIn, state: State, authorization: Authorization = None
    ) -> AccreditationOut:
        actor = await authenticate(state, authorization)
        async with transaction(state.sessions) as session:
            row = await change(session, acc_id, body.reason, actor=actor)
            return AccreditationOut.of(row, utc_now())


_change_route("suspend", service.suspend, "Suspend (admin, or an assessor of the scheme)")
_change_route("reinstate", service.reinstate, "Reinstate a suspended one")
_change_route("revoke", service.revoke, "Revoke (admin, or an assessor of the scheme)")
_change_route("withdraw", service.withdraw, "Withdraw (the member itself, admin or registrar)")


# --- recognitions ----------------------------------------------------------------------


def _terms(body: RecognitionVersionIn) -> service.RecognitionTerms:
    return service.RecognitionTerms(
        kinds=body.kinds,
        level_mapping={str(source): str(target) for source, target in body.level_mapping.items()},
        valid_from=moment(body.valid_from, field="valid_from") if body.valid_from else None,
        valid_until=moment(body.valid_until, field="valid_until"),
    )


@router.post(
    "/recognitions",
    status_code=201,
    response_model=RecognitionOut,
    summary="Recognise another ecosystem's scheme (admin); signed by central",
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def create_recognition(
    body: RecognitionCreate, state: State, authorization: Authorization = None
) -> RecognitionOut:
    actor = await authenticate(state, authorization)
    terms = _terms(body)
    async with transaction(state.sessions) as session:
        recognition = await service.create_recognition(
            session,
            ecosystem=body.ecosystem,
            scheme=body.scheme,
            terms=terms,
            reason=body.reason,
            instance=state.settings.instance,
            key=lambda: recognition_key(state),
            actor=actor,
        )
        return RecognitionOut.of(recognition, utc_now())


@router.post(
    "/recognitions/{rec_id}/versions",
    status_code=201,
    response_model=RecognitionOut,
    summary="New terms: the current version is revoked as the new one is granted",
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def new_recognition_version(
    rec_id: RecPath, body: RecognitionVersionIn, state: State, authorization: Authorization = None
) -> RecognitionOut:
    actor = await authenticate(state, authorization)
    terms = _terms(body)
    async with transaction(state.sessions) as session:
        recognition = await service.new_version(
            session,
            rec_id,
            terms,
            body.reason,
            instance=state.settings.instance,
            key=lambda: recognition_key(state),
            actor=actor,
        )
        return RecognitionOut.of(recognition, utc_now())


@router.post(
    "/recognitions/{rec_id}/revoke",
    response_model=RecognitionOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def revoke_recognition(
    rec_id: RecPath, body: ReasonIn, state: State, authorization: Authorization = None
) -> RecognitionOut:
    actor = await authenticate(state, authorization)
    async with transaction(state.sessions) as session:
        recognition = await service.revoke_recognition(session, rec_id, body.reason, actor=actor)
        return RecognitionOut.of(recognition, utc_now())


@router.get("/recognitions", response_model=list[RecognitionOut], responses=problem_responses(422))
async def list_recognitions(state: State, ecosystem: Ecosystem = None) -> list[RecognitionOut]:
    now = utc_now()
    async with transaction(state.sessions) as session:
        rows = await service.list_recognitions(session, ecosystem=ecosystem)
        return [RecognitionOut.of(r, now) for r in rows]


@router.get(
    "/recognitions/{rec_id}", response_model=RecognitionOut, responses=problem_responses(404, 422)
)
async def get_recognition(rec_id: RecPath, state: State) -> RecognitionOut:
    async with transaction(state.sessions) as session:
        return RecognitionOut.of(await service.get_recognition(session, rec_id), utc_now())
