"""The catalogue's pages: the search (``/services``, without JavaScript), a service's page
(``/services/{instance}/{class}/{code}/{service}``: what the person gets, the data read from
which registry and why, the documents, the form, fees, days, steps, and the provider's
accreditation from central) and the parallel-systems report. Persian by default, English with
``?lang=en``; the words are in ``messages/``, the markup in ``templates/``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from zistboom.core.database import transaction
from zistboom.core.errors import NotFoundError, ZistboomError
from zistboom.core.identifiers import MemberId, ServiceId
from zistboom.core.persian import to_persian_digits
from zistboom.core.problems import problem_responses
from zistboom.web.i18n import Locale, request_locale
from zistboom.window.catalogue import service
from zistboom.window.catalogue.central_catalogue import Snapshot
from zistboom.window.catalogue.definitions import AUDIENCES, ECOSYSTEMS, ServiceDefinition
from zistboom.window.catalogue.parallel import parallel_systems
from zistboom.window.identity_models import Agency
from zistboom.window.state import state_of

PAGE_SIZE: Final = 10
ARABIC_THOUSANDS_SEPARATOR: Final = "\u066c"

pages = APIRouter(tags=["pages"])


def rials(amount: int, locale: Locale) -> str:
    """``amount`` grouped by thousands, in the page's digits: ۳٬۰۰۰٬۰۰۰ or 3,000,000."""
    text = f"{amount:,}"
    if locale.persian_digits:
        return to_persian_digits(text.replace(",", ARABIC_THOUSANDS_SEPARATOR))
    return text


@dataclass(frozen=True, slots=True)
class Names:
    """The agencies' names the pages show, from the window's agencies, else central's."""

    agencies: dict[str, tuple[str, str]]

    def of(self, member_id: str, locale: Locale) -> str:
        names = self.agencies.get(member_id)
        if names is None:
            return member_id
        return names[0] if locale.code == "fa" else names[1]


def agency_names(rows: Sequence[Agency], snapshot: Snapshot | None = None) -> Names:
    """The window's agencies' names over those central's catalogue gives its members."""
    entries = snapshot.entries.values() if snapshot else ()
    agencies = {e.member_id: (e.member_name_fa, e.member_name_en) for e in entries}
    agencies |= {row.member_id: (row.name_fa, row.name_en) for row in rows}
    return Names(agencies)


def owner_of(registry: str) -> str:
    try:
        return str(ServiceId.parse(registry).member)
    except ZistboomError:
        return registry


def _steps(definition: ServiceDefinition, names: Names, locale: Locale) -> list[dict[str, Any]]:
    """The steps as the page shows them: names in the page's language, agencies by name."""
    by_key = {step.key: step for step in definition.steps}

    def name(key: str) -> str:
        step = by_key[key]
        return step.name_fa if locale.code == "fa" else step.name_en

    return [
        {
            "name": name(step.key),
            "agencies": [names.of(member, locale) for member in step.agencies],
            "deadline_days": step.deadline_days,
            "after": [name(key) for key in step.after],
        }
        for step in definition.steps
    ]


def service_path(agency: str, code: str) -> str:
    return f"/services/{MemberId.parse(agency).to_path()}/{code}"


@pages.get("/services", response_class=HTMLResponse, responses=problem_responses(422))
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    ecosystem: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=200)] = "",
    audience: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The catalogue's search: results ranked, with their count and pages."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        index = await state.catalogue_search.of_session(session)
        agencies = await service.agencies(session)
    results = index.search(
        q,
        ecosystem=ecosystem if ecosystem in ECOSYSTEMS else None,
        agency=agency or None,
        audience=audience if audience in AUDIENCES else None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    last = max(1, -(-results.total // PAGE_SIZE))
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def page_url(number: int) -> str:
        return "/services?" + urlencode([*kept, ("page", str(number))])

    names = agency_names(agencies)
    return state.pages.page(
        request,
        "catalogue_search.html",
        q=q,
        ecosystem=ecosystem,
        agency=agency,
        audience=audience,
        ecosystems=ECOSYSTEMS,
        audiences=AUDIENCES,
        agencies=agencies,
        results=results,
        page_number=page,
        last_page=last,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < last else None,
        names=names,
        service_path=service_path,
    )


@pages.get(
    "/services/{instance}/{member_class}/{member_code}/{code}",
    response_class=HTMLResponse,
    responses=problem_responses(404),
)
async def service_page(
    request: Request, instance: str, member_class: str, member_code: str, code: str
) -> HTMLResponse:
    """One service, everything a person needs to know before applying."""
    state = state_of(request)
    try:
        member = str(MemberId.parse(f"{instance}/{member_class}/{member_code}"))
    except ZistboomError as error:
        raise NotFoundError(f"there is no such agency: {error.detail}") from None
    async with transaction(state.sessions) as session:
        stored = await service.public_definition(session, member, code)
        agencies = await service.agencies(session)
    snapshot = await state.central_catalogue.snapshot()
    locale = request_locale(request)
    names = agency_names(agencies, snapshot)
    return state.pages.page(
        request,
        "catalogue_service.html",
        stored=stored,
        d=stored.definition,
        names=names,
        owner=owner_of,
        central=snapshot,
        provider=snapshot.entry(stored.definition.provider_service),
        rials=lambda amount: rials(amount, locale),
        steps=_steps(stored.definition, names, locale),
        service_url=request.url.path,
        apply_url=request.url.path + "/apply",
    )


@pages.get("/parallel-systems", response_class=HTMLResponse)
async def parallel_page(request: Request) -> HTMLResponse:
    """The report of parallel systems: services that duplicate one another."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        definitions = await service.all_definitions(session)
        agencies = await service.agencies(session)
    return state.pages.page(
        request,
        "catalogue_parallel.html",
        findings=parallel_systems(definitions),
        names=agency_names(agencies),
        service_path=service_path,
        percent=lambda share: round(share * 100),
    )
