"""Trust-registry queries in the shape of the Trust over IP Trust Registry Query Protocol v2
(ZB-STD-007): ``POST /trqp/authorization`` ("is this entity accredited to do this, at this
time?") and ``POST /trqp/recognition`` ("does this ecosystem recognise that scheme for this
kind?"), public, answered with JSON or, on ``Accept: application/jwt``, as a compact JWS signed
by the trust-list key.

Answers come from the trust list central last issued (its in-memory
:class:`~zistboom.core.accreditation.TrustIndex`), never from a database query: the list is
re-issued on every change and holds every history, so a past ``context.time`` is answered from it
too. An absent record is a denial (``authorized: false`` with the reason), not an error. So is a
query to another ``authority_id``: this registry answers for its own instance only, and a
well-formed question about an authority it keeps no records of is an absent record, not a
malformed one. Malformed queries are 400 problem details naming the field, as TRQP asks (central's
own API answers 422 for the same kind of mistake).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from zistboom.accreditation.publication import Issued, TrustListPublisher, TrustLists
from zistboom.core.accreditation import Answer, Requirement, TrustIndex
from zistboom.core.database import utc_now
from zistboom.core.errors import MalformedRequestError
from zistboom.core.globalconf import UTCDateTime
from zistboom.core.problems import PROBLEM_SCHEMA_REF, problem_responses

__all__ = [
    "JWT_MEDIA_TYPE",
    "JWT_TYPE",
    "AuthorizationAnswer",
    "AuthorizationQuery",
    "RecognitionAnswer",
    "RecognitionQuery",
    "answer_authorization",
    "answer_recognition",
    "router",
]

JWT_MEDIA_TYPE = "application/jwt"
JWT_TYPE = "zb-trqp+jwt"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_CODE = r"[a-z0-9][a-z0-9-]{0,63}"


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-05-05T12:00:00Z")
    return value


Rfc3339 = Annotated[UTCDateTime, BeforeValidator(_rfc3339_text)]
Resource = Annotated[
    str,
    Field(
        pattern=f"^{_CODE}:{_CODE}$",
        description="`<ecosystem>:<kind of service>`",
        examples=["tax:e-invoice-provider"],
    ),
]
EntityId = Annotated[
    str,
    Field(
        pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+(/[^/\s]+){0,2}$",
        max_length=255,
        description="a member `INSTANCE/CLASS/CODE`, one of its subsystems or services",
        examples=["IR-DEMO/COM/10101010101/invoicing"],
    ),
]
AuthorityId = Annotated[
    str,
    Field(
        pattern=r"^[^/\s]+$",
        max_length=64,
        description="the accreditation authority: this instance",
        examples=["IR-DEMO"],
    ),
]


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueryContext(_Query):
    time: Rfc3339 | None = Field(
        default=None, description="the moment asked about (RFC 3339); now when absent"
    )


class AuthorizationQuery(_Query):
    entity_id: EntityId
    authority_id: AuthorityId
    action: Literal["provide", "issue", "assess"]
    resource: Resource
    context: QueryContext | None = None


class RecognitionQuery(_Query):
    entity_id: Resource = Field(
        description="the other ecosystem's scheme, as `<ecosystem>:<kind>`",
        examples=["finance:payment-facilitator"],
    )
    authority_id: AuthorityId
    action: Literal["recognize"]
    resource: Resource = Field(
        description="the recognising ecosystem and the kind there",
        examples=["cross-border-trade:payment-facilitator"],
    )
    context: QueryContext | None = None


class _Answer(BaseModel):
    entity_id: str
    authority_id: str
    action: str
    resource: str
    time_requested: datetime
    time_evaluated: datetime
    message: str
    records: list[dict[str, Any]] = Field(
        description="the trust-list records the answer rests on, each with `type` and "
        "`status_at_time`"
    )
    trust_list_sequence: int


class AuthorizationAnswer(_Answer):
    authorized: bool


class RecognitionAnswer(_Answer):
    recognized: bool


# --- the answers ------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _scheme_code(index: TrustIndex, resource: str) -> str | None:
    ecosystem, kind = resource.split(":", 1)
    for scheme in index.schemes.values():
        if (scheme.ecosystem, scheme.kind) == (ecosystem, kind):
            return scheme.code
    return None


def _body(
    query: AuthorizationQuery | RecognitionQuery,
    verdict: str,
    answer: Answer,
    *,
    at: datetime,
    now: datetime,
    sequence: int,
) -> dict[str, Any]:
    return {
        "entity_id": query.entity_id,
        "authority_id": query.authority_id,
        "action": query.action,
        "resource": query.resource,
        verdict: answer.holds,
        "time_requested": _iso(at),
        "time_evaluated": _iso(now),
        "message": answer.message,
        "records": list(answer.records),
        "trust_list_sequence": sequence,
    }


def _other_authority(instance: str, authority_id: str) -> Answer:
    return Answer(
        False,
        f"this registry is the accreditation authority for {instance} only; it keeps no "
        f"records of authority {authority_id}",
    )


def answer_authorization(
    issued: Issued, query: AuthorizationQuery, *, instance: str, now: datetime
) -> dict[str, Any]:
    """Whether ``query.entity_id`` may ``query.action`` ``query.resource`` at the time asked."""
    at = query.context.time if query.context and query.context.time else now
    index = issued.index
    if query.authority_id != instance:
        answer = _other_authority(instance, query.authority_id)
    elif query.action == "assess" and query.entity_id.count("/") != 2:
        member = "/".join(query.entity_id.split("/")[:3])
        answer = Answer(
            False,
            f"assessor authority is held by a member, not by {query.entity_id}: ask about {member}",
        )
    elif query.action == "assess":
        code = _scheme_code(index, query.resource)
        answer = (
            index.may_assess(query.entity_id, code, at)
            if code is not None
            else Answer(False, f"no scheme covers {query.resource}: nobody assesses under it")
        )
    else:
        ecosystem, kind = query.resource.split(":", 1)
        answer = index.authorize(
            query.entity_id, Requirement(ecosystem, kind, "basic", query.action), at
        )
    return _body(
        query, "authorized", answer, at=at, now=now, sequence=issued.signed.document.sequence
    )


def answer_recognition(
    issued: Issued, query: RecognitionQuery, *, instance: str, now: datetime
) -> dict[str, Any]:
    """Whether ``query.resource``'s ecosystem recognises the scheme ``query.entity_id`` names
    for the kind in ``query.resource``, at the time asked."""
    at = query.context.time if query.context and query.context.time else now
    index = issued.index
    if query.authority_id != instance:
        answer = _other_authority(instance, query.authority_id)
    else:
        code = _scheme_code(index, query.entity_id)
        ecosystem, kind = query.resource.split(":", 1)
        answer = (
            index.recognize(ecosystem, code, kind, at)
            if code is not None
            else Answer(False, f"no scheme covers {query.entity_id}: there is nothing to recognise")
        )
    return _body(
        query, "recognized", answer, at=at, now=now, sequence=issued.signed.document.sequence
    )


# --- HTTP -------------------------------------------------------------------------------------


def _field_of(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"
    parts = [str(part) for part in error.get("loc", ()) if part != "body"]
    return ".".join(parts) or "body"


class _QueryRoute(APIRoute):
    """Malformed queries are 400 here (TRQP), not FastAPI's 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                errors = list(error.errors())
                first = errors[0] if errors else {}
                field = _field_of(first)
                detail = "; ".join(f"{_field_of(e)}: {e.get('msg', 'invalid')}" for e in errors)
                raise MalformedRequestError(
                    f"malformed query: {detail or 'unreadable body'}", field=field
                ) from None

        return route


def _wants_jwt(request: Request) -> bool:
    """Whether ``Accept`` names ``application/jwt`` (with a quality above 0)."""
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.partition(";")
        if media.strip().lower() != JWT_MEDIA_TYPE:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


def _respond(request: Request, trust_lists: TrustListPublisher, answer: dict[str, Any]) -> Response:
    payload = orjson.dumps(answer)
    if _wants_jwt(request):
        token = trust_lists.sign_statement(payload, typ=JWT_TYPE)
        return Response(token, media_type=JWT_MEDIA_TYPE)
    return Response(payload, media_type="application/json")


def _responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "description": "the answer (JSON), or the same answer as a compact JWS signed by "
            "the trust-list key when `Accept: application/jwt` is sent",
            "content": {JWT_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **problem_responses(400),
        # Declared so that FastAPI does not document its 422, which these routes never answer.
        "4XX": {
            "description": "another client error (an unknown path or method)",
            "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        },
    }


router = APIRouter(prefix="/trqp", tags=["trust registry"], route_class=_QueryRoute)


@router.post(
    "/authorization",
    summary="TRQP authorization query: is the entity accredited for the resource at the time?",
    response_class=Response,
    responses=_responses(AuthorizationAnswer),
)
async def authorization(
    query: AuthorizationQuery, request: Request, trust_lists: TrustLists
) -> Response:
    now = utc_now()
    answer = answer_authorization(trust_lists.issued, query, instance=trust_lists.instance, now=now)
    return _respond(request, trust_lists, answer)


@router.post(
    "/recognition",
    summary="TRQP recognition query: does the ecosystem recognise the other's scheme?",
    response_class=Response,
    responses=_responses(RecognitionAnswer),
)
async def recognition(
    query: RecognitionQuery, request: Request, trust_lists: TrustLists
) -> Response:
    now = utc_now()
    answer = answer_recognition(trust_lists.issued, query, instance=trust_lists.instance, now=now)
    return _respond(request, trust_lists, answer)
