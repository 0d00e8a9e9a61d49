"""The pages of applying once and following an application: routes that parse the request,
find the signed-in person's own application (``service.owned``), call the rules of
``service.py``, the registry reads of ``pulls.py`` and the locker, and render the step the
application is at. Every form is CSRF-protected; a page that needs a signed-in person sends
the browser to sign in first. The lookup by tracking code needs no sign-in and shows no
personal data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from zistboom.core.database import transaction
from zistboom.core.errors import NotFoundError, ValidationError, ZistboomError
from zistboom.core.identifiers import MemberId, ServiceId
from zistboom.web.csrf import CsrfProtection
from zistboom.web.i18n import Locale, request_locale
from zistboom.window.applications import pulls, repository, service, timeline
from zistboom.window.applications.models import Application
from zistboom.window.catalogue import service as catalogue
from zistboom.window.catalogue.pages import Names, agency_names, owner_of
from zistboom.window.identity_pages import PersonPage, to_sign_in, viewer_of
from zistboom.window.locker.service import locker_client
from zistboom.window.sessions import Viewer
from zistboom.window.state import WindowState, state_of
from zistboom.window.tracking import format_tracking_code, is_valid_tracking_code


def field_label(state: WindowState, locale: Locale, name: str) -> str:
    """A registry field's label from the messages, else its name."""
    key = f"apply.field.{name}"
    if key in state.pages.catalogue.keys():  # noqa: SIM118 (a Catalogue, not a dict)
        return state.pages.catalogue.text(locale, key)
    return name


def _shown(value_json: str | None) -> str:
    if value_json is None:
        return ""
    value = json.loads(value_json)
    if isinstance(value, list):
        return "، ".join(
            " ".join(str(v) for v in entry.values()) if isinstance(entry, dict) else str(entry)
            for entry in value
        )
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


async def _names(state: WindowState, session: Any, application: Application | None = None) -> Names:
    rows = await catalogue.agencies(session)
    return agency_names(rows)


def router(protection: CsrfProtection) -> APIRouter:
    csrf = [Depends(protection.verify)]
    routes = APIRouter(include_in_schema=False)

    @routes.post(
        "/services/{instance}/{member_class}/{member_code}/{code}/apply", dependencies=csrf
    )
    async def apply(
        request: Request, instance: str, member_class: str, member_code: str, code: str
    ) -> Response:
        """Start an application for the service (a draft)."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request, f"/services/{instance}/{member_class}/{member_code}/{code}")
        state = state_of(request)
        try:
            member = str(MemberId.parse(f"{instance}/{member_class}/{member_code}"))
        except ZistboomError as error:
            raise NotFoundError(f"there is no such agency: {error.detail}") from None
        async with transaction(state.sessions) as session:
            stored = await catalogue.public_definition(session, member, code)
            application = await service.start(
                session, viewer.subject, member, stored.definition, state.clock()
            )
        return RedirectResponse(f"/applications/{application.id}", status_code=303)

    @routes.get("/applications", response_class=HTMLResponse)
    async def my_applications(request: Request, viewer: PersonPage) -> Response:
        state = state_of(request)
        async with transaction(state.sessions) as session:
            found = await repository.applications_of(session, viewer.subject)
            names = await _names(state, session)
        return state.pages.page(
            request, "applications.html", applications=found, names=names,
            definition_of=service.definition_of, code=format_tracking_code,
        )  # fmt: skip

    @routes.get("/applications/{application_id}", response_class=HTMLResponse)
    async def application_page(
        request: Request, viewer: PersonPage, application_id: str
    ) -> Response:
        return await _render(request, viewer, application_id)

    @routes.post("/applications/{application_id}/request", dependencies=csrf)
    async def request_data(request: Request, viewer: PersonPage, application_id: str) -> Response:
        """The explicit request: read my data (with the keys I give), or I type it."""
        state = state_of(request)
        form = await request.form()
        choice = str(form.get("choice", ""))
        asked = {
            str(key)[len("asked-"):]: str(value)
            for key, value in form.multi_items() if str(key).startswith("asked-")
        }  # fmt: skip
        if choice == "type":
            async with transaction(state.sessions) as session:
                application = await service.owned(session, viewer.subject, application_id)
                await service.choose_to_type(session, application, state.clock())
            return _back(application_id)
        if choice != "fetch":
            raise ValidationError("choose to have your data read, or to type it", field="choice")
        async with transaction(state.sessions) as session:
            application = await service.owned(session, viewer.subject, application_id)
            definition = service.definition_of(application)
            problems = service.asked_key_problems(definition, asked)
            if problems:
                return await _render(request, viewer, application_id, asked=asked,
                                     asked_problems=problems, status_code=422)  # fmt: skip
            planned = service.prepare_reads(application, asked)
            subject, purpose = application.subject, service.purpose(application)
        pulled = await pulls.read_all(
            state.exchange, planned, client=state.settings.subsystem_id, applicant=subject,
            purpose=purpose, registry_version=state.settings.registry_version,
            now=state.clock(),
        )  # fmt: skip
        async with transaction(state.sessions) as session:
            application = await service.owned(session, viewer.subject, application_id)
            application.asked_keys = {k: v.strip() for k, v in asked.items() if v.strip()}
            await service.record_reads(session, application, pulled, state.clock())
        return _back(application_id)

    @routes.post("/applications/{application_id}/choices", dependencies=csrf)
    async def choices(request: Request, viewer: PersonPage, application_id: str) -> Response:
        """Use, or not, each item read."""
        state = state_of(request)
        form = await request.form()
        chosen: dict[int, str] = {}
        for key, value in form.multi_items():
            if str(key).startswith("item-") and str(key)[5:].isdigit():
                chosen[int(str(key)[5:])] = str(value)
        try:
            async with transaction(state.sessions) as session:
                application = await service.owned(session, viewer.subject, application_id)
                await service.decide(session, application, chosen, state.clock())
        except ValidationError as error:
            return await _render(request, viewer, application_id, status_code=422,
                                 choice_error=error.field, chosen=chosen)  # fmt: skip
        return _back(application_id)

    @routes.post("/applications/{application_id}/documents", dependencies=csrf)
    async def share_document(
        request: Request,
        viewer: PersonPage,
        application_id: str,
        document_type: Annotated[str, Form(max_length=64)],
        document_id: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        """Share a document of my locker with the responsible agency, for the application."""
        state = state_of(request)
        if not document_id:
            return await _render(request, viewer, application_id, status_code=422,
                                 document_error=document_type)  # fmt: skip
        async with transaction(state.sessions) as session:
            application = await service.owned(session, viewer.subject, application_id)
            if document_type not in service.needed_documents(application):
                raise ValidationError(
                    f"the service needs no {document_type}", field="document_type"
                )
            recipient = service.responsible_agency(service.definition_of(application))
            purpose, until = service.share_terms(application, state.clock(), max_days=365)
        shared = await locker_client(state.settings, state.exchange).share(
            viewer.subject, document_id, recipient, purpose, until
        )
        async with transaction(state.sessions) as session:
            application = await service.owned(session, viewer.subject, application_id)
            await service.record_share(
                session, application, document_type=document_type, document_id=document_id,
                share_id=shared.id, recipient=recipient, expires_at=shared.expires_at,
                now=state.clock(),
            )  # fmt: skip
        return _back(application_id)

    @routes.post("/applications/{application_id}/submit", dependencies=csrf)
    async def submit(request: Request, viewer: PersonPage, application_id: str) -> Response:
        """The form, checked; then submitted: the tracking code at once."""
        state = state_of(request)
        form = await request.form()
        raw = {str(k): str(v) for k, v in form.multi_items() if str(k).startswith("f-")}
        raw_form = {k[2:]: v for k, v in raw.items()}
        typed = {
            int(str(k)[5:]): str(v)
            for k, v in form.multi_items()
            if str(k).startswith("item-") and str(k)[5:].isdigit()
        }
        try:
            async with transaction(state.sessions) as session:
                application = await service.owned(session, viewer.subject, application_id)
                await service.submit(session, application, raw_form, typed, state.clock())
        except service.FormRefusedError as refused:
            return await _render(request, viewer, application_id, status_code=422,
                                 problems=refused.problems, raw_form=raw_form,
                                 typed=typed)  # fmt: skip
        return RedirectResponse(f"/applications/{application_id}?submitted=1", status_code=303)

    @routes.post("/applications/{application_id}/abandon", dependencies=csrf)
    async def abandon(request: Request, viewer: PersonPage, application_id: str) -> Response:
        state = state_of(request)
        async with transaction(state.sessions) as session:
            application = await service.owned(session, viewer.subject, application_id)
            await service.abandon(application, state.clock())
        return RedirectResponse("/applications", status_code=303)

    @routes.get("/me/consents", response_class=HTMLResponse)
    async def my_consents(request: Request, viewer: PersonPage) -> Response:
        state = state_of(request)
        async with transaction(state.sessions) as session:
            found = await repository.consents_of(session, viewer.subject)
            names = await _names(state, session)
        locale = request_locale(request)
        return state.pages.page(
            request, "consents.html", consents=found, names=names,
            label=lambda name: field_label(state, locale, name), owner=owner_of,
        )  # fmt: skip

    @routes.get("/track", response_class=HTMLResponse)
    async def track_form(request: Request) -> Response:
        state = state_of(request)
        return state.pages.page(
            request, "track.html", status=None, failure=None, code="", identifier=""
        )

    @routes.post("/track", response_class=HTMLResponse, dependencies=csrf)
    async def track(
        request: Request,
        tracking_code: Annotated[str, Form(max_length=64)] = "",
        identifier: Annotated[str, Form(max_length=32)] = "",
    ) -> Response:
        """The status and dates of an application, by tracking code and identifier."""
        state = state_of(request)
        address = request.client.host if request.client else "unknown"
        failure: str | None = None
        code = 200
        if not is_valid_tracking_code(tracking_code):
            # A mistyped code (its check digit says so) is told at once, without a lookup.
            return state.pages.page(
                request, "track.html", status_code=422, status=None, names=None,
                failure="malformed", code=tracking_code, identifier="", fmt=format_tracking_code,
            )  # fmt: skip
        try:
            async with transaction(state.sessions) as session:
                status = await timeline.lookup(
                    session, tracking_code=tracking_code, identifier=identifier,
                    address=address, now=state.clock(),
                    per_code=state.settings.tracking_lookups_per_code,
                    per_address=state.settings.tracking_lookups_per_address,
                )  # fmt: skip
                names = await _names(state, session)
        except timeline.TooManyLookupsError as error:
            status, names, failure, code = None, None, error.code, error.status
        if failure is None and status is None:
            failure, code = "not-found", 404
        return state.pages.page(
            request, "track.html", status_code=code, status=status, names=names,
            failure=failure, code=tracking_code, identifier="", fmt=format_tracking_code,
        )  # fmt: skip

    return routes


def _back(application_id: str) -> RedirectResponse:
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


async def _render(
    request: Request,
    viewer: Viewer,
    application_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The application's page at its step: request, preview, documents, form, or (submitted)
    its tracking code and timeline."""
    state = state_of(request)
    locale = request_locale(request)
    async with transaction(state.sessions) as session:
        application = await service.owned(session, viewer.subject, application_id)
        definition = service.definition_of(application)
        items = await repository.items_of(session, application.id)
        reads = await repository.reads_of(session, application.id)
        shares = await repository.shares_of(session, application.id)
        tasks = await repository.tasks_of(session, application.id)
        events = await repository.timeline_of(session, application.id)
        names = await _names(state, session)
    documents: Sequence[Any] = ()
    locker_failure = None
    if application.state == "draft" and application.stage == "documents":
        try:
            documents = await locker_client(state.settings, state.exchange).documents(
                viewer.subject
            )
        except ZistboomError as error:
            locker_failure = error.detail
    template = (
        "application.html" if application.state != "draft" else f"apply_{application.stage}.html"
    )
    values: dict[str, Any] = {
        "asked": {},
        "asked_problems": {},
        "choice_error": None,
        "chosen": {},
        "document_error": None,
        "problems": {},
        "raw_form": application.form_values or {},
        "typed": {},
    }
    values.update(extra)
    latest_reads = {read.source_index: read for read in reads}
    return state.pages.page(
        request, template, status_code=status_code, application=application, d=definition,
        items=items, reads=latest_reads, shares=shares, tasks=tasks, events=events,
        names=names, owner=owner_of, label=lambda name: field_label(state, locale, name),
        shown=_shown, documents=documents, locker_failure=locker_failure,
        code=format_tracking_code, just_submitted=request.query_params.get("submitted") == "1",
        known_keys=state.pages.catalogue.keys(),
        registry_code=lambda registry: ServiceId.parse(registry).service_code,
        **values,
    )  # fmt: skip
