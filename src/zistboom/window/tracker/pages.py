"""The tracker's page, ``GET /me/data-tracker``: who read the signed-in person's data, when,
through which service and why, newest first, with a filter sent by GET (it changes nothing,
so it carries no CSRF token). Only for a signed-in person, and only about them: the subject is
the session's, never the query's. A filter that cannot be read is shown at its field (422)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError
from zistboom.core.identifiers import ServiceId, SubsystemId
from zistboom.web.i18n import Locale
from zistboom.window import identity_repository
from zistboom.window.identity_pages import viewer_of
from zistboom.window.state import state_of
from zistboom.window.tracker import service
from zistboom.window.tracker.entries import EntryKind
from zistboom.window.tracker.filter_form import read_filter
from zistboom.window.tracker.service import Tracker

PATH: Final = "/me/data-tracker"

pages = APIRouter(tags=["pages"], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class MemberNames:
    """The names of the members the page mentions, from the window's agencies; a member the
    window does not know is shown by its id."""

    known: dict[str, tuple[str, str]]

    def of(self, member_id: str | None, locale: Locale) -> str:
        if member_id is None:
            return ""
        names = self.known.get(member_id)
        if names is None:
            return member_id
        return names[0] if locale.code == "fa" else names[1]


def member_of(identifier: str) -> str:
    """The member of a subsystem or service id (itself when it is neither)."""
    for kind in (ServiceId, SubsystemId):
        try:
            return str(kind.parse(identifier).member)
        except ZistboomError:
            continue
    return identifier


def _mentioned(tracker: Tracker) -> Iterable[str]:
    yield from tracker.readers
    for entry in tracker.entries:
        if entry.reader_member:
            yield entry.reader_member
        yield member_of(entry.service)
    for failed in tracker.unreadable:
        yield member_of(failed.source)


@pages.get(PATH, response_class=HTMLResponse)
async def data_tracker(
    request: Request,
    kind: Annotated[str, Query(max_length=40)] = "",
    reader: Annotated[str, Query(max_length=300)] = "",
    purpose: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(alias="from", max_length=40)] = "",
    until: Annotated[str, Query(alias="to", max_length=40)] = "",
) -> Response:
    """The signed-in person's data tracker."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse(f"/signin?return_to={PATH}", status_code=303)
    state = state_of(request)
    form = read_filter(kind=kind, reader=reader, purpose=purpose, since=since, until=until)
    tracker = Tracker((), (), ())
    if not form.errors:
        async with transaction(state.sessions) as session:
            registries = await service.registry_services(session)
        sources = service.sources_for(state.exchange, state.settings, registries, state.sessions)
        tracker = await service.tracker_of(
            viewer, sources, form.chosen, seconds_each=state.settings.exchange_timeout_seconds
        )
    async with transaction(state.sessions) as session:
        agencies = await identity_repository.agencies_named(
            session, sorted(set(_mentioned(tracker)))
        )
    names = MemberNames({m: (a.name_fa, a.name_en) for m, a in agencies.items()})
    return state.pages.page(
        request, "tracker.html", status_code=422 if form.errors else 200, tracker=tracker,
        entered=form.entered, errors=form.errors, kinds=list(EntryKind), names=names,
        member_of=member_of,
    )  # fmt: skip
