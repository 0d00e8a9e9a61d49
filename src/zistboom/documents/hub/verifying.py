"""Verification through the hub: the public ``POST /credentials/verify``, the page and pull
links. The algorithm is ``documents/verification.py``'s (the same the CLI runs offline); the hub
gives it its context, resolves its own pull links (and no other URL: it fetches nothing a
visitor names), and records each verification of a document it holds as an access event of the
holder (the actor ``public``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from zistboom.core.database import transaction
from zistboom.documents import verification
from zistboom.documents.hub import access, document_types, repository, verification_context
from zistboom.documents.hub.errors import UnknownPullLink
from zistboom.documents.hub.models import Document
from zistboom.documents.hub.state import HubState

PULL_PATH = "/p/"


@dataclass(frozen=True, slots=True)
class Outcome:
    report: verification.VerificationReport
    document: Document | None
    """The locker entry of the verified document, when the hub holds it."""


def pull_token_of(state: HubState, link: str) -> str:
    """The token of one of this hub's pull links; :class:`UnknownPullLink` for anything else."""
    parts = urlsplit(link.strip())
    own = urlsplit(state.settings.base_url)
    if (parts.scheme, parts.netloc) not in (("", ""), (own.scheme, own.netloc)):
        raise UnknownPullLink(
            f"{link} is not a link of this hub ({state.settings.base_url}{PULL_PATH}…): the hub "
            "verifies its own links and fetches no other address",
            field="pullLink",
        )
    path = parts.path
    prefix = urlsplit(state.settings.base_url).path.rstrip("/") + PULL_PATH
    if not path.startswith(prefix) or "/" in path[len(prefix) :] or len(path) == len(prefix):
        raise UnknownPullLink(f"{link} is not a pull link ({prefix}<token>)", field="pullLink")
    return path[len(prefix) :]


def is_pull_link(state: HubState, text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(state.settings.base_url + PULL_PATH) or stripped.startswith(
        PULL_PATH
    )


async def _document_of_pull_token(state: HubState, token: str) -> Document:
    async with transaction(state.sessions) as session:
        document = await repository.document_by_pull_token(session, token)
    if document is None:
        raise UnknownPullLink("this hub gave out no such pull link", field="pullLink")
    return document


async def verify_pull_link(state: HubState, link: str) -> Outcome:
    document = await _document_of_pull_token(state, pull_token_of(state, link))
    presented = verification.read_form(document.credential)
    return await _verify(state, replace(presented, form="pull-link"))


async def verify_input(
    state: HubState, data: str | bytes, *, timestamp_token: bytes | None = None
) -> Outcome:
    """Verify a VC-JWT, QR text, PDF or image (or, as text, one of this hub's pull links)."""
    if isinstance(data, str) and is_pull_link(state, data):
        return await verify_pull_link(state, data)
    return await _verify(state, verification.read_form(data, timestamp_token=timestamp_token))


async def _verify(state: HubState, presented: verification.Presented) -> Outcome:
    report = await verification.verify(presented, verification_context.HubContext(state))
    document = None
    if report.record is not None:
        async with transaction(state.sessions) as session:
            document = await repository.document(session, report.record.id)
            if document is not None:
                access.record(
                    session,
                    access.Event(document.holder, "verified", state.clock(), document.id),
                    None,
                )
    return Outcome(report, document)


async def type_names(state: HubState) -> dict[str, tuple[str, str]]:
    async with transaction(state.sessions) as session:
        return await document_types.names(session)
