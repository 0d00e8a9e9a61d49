"""The signed-in person's own applications and consents as JSON (``/api/v1/me/…``), for the
window's own pages and for apps acting in the person's session: the same records the pages
show, read with the session cookie. Another person's application is not found (404), and a
call without a session is refused (401); both as problem details. Read-only: acting on an
application goes through its CSRF-protected forms."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses
from zistboom.window.applications import repository, service
from zistboom.window.applications.models import (
    Application,
    ApplicationItem,
    ApplicationShare,
    RegistryRead,
    Task,
    TimelineEvent,
)
from zistboom.window.identity_models import Consent
from zistboom.window.identity_pages import signed_in
from zistboom.window.sessions import Viewer
from zistboom.window.state import state_of

Person = Annotated[Viewer, Depends(signed_in)]
ApplicationPath = Annotated[
    str, Path(min_length=1, max_length=64, description="the application's id")
]


class ApplicationOut(BaseModel):
    id: str
    tracking_code: str = Field(description="21 digits, the last a Verhoeff check digit")
    agency: str = Field(description="the agency responsible for the service")
    service_code: str
    service_name_fa: str
    service_name_en: str
    state: str = Field(description="draft, submitted, completed, rejected or abandoned")
    stage: str = Field(description="where a draft is: request, preview, documents or form")
    created_at: datetime
    submitted_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, application: Application) -> ApplicationOut:
        definition = service.definition_of(application)
        return cls(
            id=application.id, tracking_code=application.tracking_code,
            agency=application.agency, service_code=application.service_code,
            service_name_fa=definition.name_fa, service_name_en=definition.name_en,
            state=application.state, stage=application.stage,
            created_at=application.created_at, submitted_at=application.submitted_at,
            ended_at=application.ended_at,
        )  # fmt: skip


class ItemOut(BaseModel):
    field: str
    registry: str = Field(description="the base registry's service it is read from")
    choice: str = Field(description="pending, confirmed, declined or not-read")
    value: Any = Field(default=None, description="as read, or as typed when self-declared")
    self_declared: bool = Field(description="typed by the person rather than read")
    read_at: datetime | None = Field(description="when the registry answered")
    message_id: str | None = Field(description="the exchange's id of the read")


class ShareOut(BaseModel):
    document_type: str
    document_id: str
    share_id: str
    recipient: str
    purpose: str
    expires_at: datetime


class TaskOut(BaseModel):
    step: str
    agency: str
    state: str
    handover: str = Field(description="none, queued, submitted, received, delivered, failed…")
    due_at: datetime | None


class EventOut(BaseModel):
    at: datetime
    kind: str
    agency: str | None
    step: str | None


class ApplicationDetail(ApplicationOut):
    items: list[ItemOut]
    shares: list[ShareOut]
    tasks: list[TaskOut]
    timeline: list[EventOut]


class ConsentOut(BaseModel):
    id: int
    service: str | None
    application_id: str | None
    purpose: str
    items: list[Any]
    sources: list[Any]
    choice: str = Field(description="confirmed, declined or partly")
    at: datetime

    @classmethod
    def of(cls, consent: Consent) -> ConsentOut:
        return cls(
            id=consent.id, service=consent.service, application_id=consent.application_id,
            purpose=consent.purpose, items=list(consent.items), sources=list(consent.sources),
            choice=consent.choice, at=consent.at,
        )  # fmt: skip


def _item(item: ApplicationItem, reads: dict[int, RegistryRead]) -> ItemOut:
    read = reads.get(item.read_id) if item.read_id is not None else None
    typed = item.choice in ("declined", "not-read")
    value: Any = item.typed_value
    if not typed:
        value = json.loads(item.value_json) if item.value_json is not None else None
    return ItemOut(
        field=item.field, registry=item.registry_service, choice=item.choice, value=value,
        self_declared=typed, read_at=read.at if read else None,
        message_id=read.message_id if read else None,
    )  # fmt: skip


def _detail(
    application: Application,
    items: list[ItemOut],
    shares: list[ApplicationShare],
    tasks: list[Task],
    events: list[TimelineEvent],
) -> ApplicationDetail:
    return ApplicationDetail(
        **ApplicationOut.of(application).model_dump(),
        items=items,
        shares=[
            ShareOut(document_type=s.document_type, document_id=s.document_id,
                     share_id=s.share_id, recipient=s.recipient, purpose=s.purpose,
                     expires_at=s.expires_at)
            for s in shares
        ],
        tasks=[
            TaskOut(step=t.step_key, agency=t.agency, state=t.state, handover=t.handover_state,
                    due_at=t.due_at)
            for t in tasks
        ],
        timeline=[EventOut(at=e.at, kind=e.kind, agency=e.agency, step=e.step_key) for e in events],
    )  # fmt: skip


api = APIRouter(prefix="/api/v1/me", tags=["the person's applications"])


@api.get(
    "/applications",
    summary="My applications, the newest first",
    response_model=list[ApplicationOut],
    responses=problem_responses(401),
)
async def my_applications(request: Request, person: Person) -> list[ApplicationOut]:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        found = await repository.applications_of(session, person.subject)
    return [ApplicationOut.of(a) for a in found]


@api.get(
    "/applications/{application_id}",
    summary="One of my applications: its data and sources, shares, tasks and timeline",
    response_model=ApplicationDetail,
    responses=problem_responses(401, 404),
)
async def my_application(
    application_id: ApplicationPath, request: Request, person: Person
) -> ApplicationDetail:
    """Another person's application is not found, as one that does not exist."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        application = await service.owned(session, person.subject, application_id)
        reads = {r.id: r for r in await repository.reads_of(session, application.id)}
        items = [_item(i, reads) for i in await repository.items_of(session, application.id)]
        shares = list(await repository.shares_of(session, application.id))
        tasks = list(await repository.tasks_of(session, application.id))
        events = list(await repository.timeline_of(session, application.id))
    return _detail(application, items, shares, tasks, events)


@api.get(
    "/consents",
    summary="My consents to the use of my data, the newest first",
    response_model=list[ConsentOut],
    responses=problem_responses(401),
)
async def my_consents(request: Request, person: Person) -> list[ConsentOut]:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        found = await repository.consents_of(session, person.subject)
    return [ConsentOut.of(c) for c in found]
