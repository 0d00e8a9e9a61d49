"""The issuers' status lists (Bitstring Status List v1.0), held as their issuers signed them and
served unchanged at ``/status-lists/<list_id>/<purpose>``.

A list is taken only from the member that signed it (its ``doc`` certificate naming the calling
member, valid at the list's ``validFrom`` as verifiers check it), only at the URL it names, never
dated ahead, and only when it is newer than the one held (a later ``validFrom``): an older list,
replayed or delayed, would undo a revocation. The same list sent
twice is accepted and changes nothing. A list id belongs to the member that first published it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import transaction
from zistboom.core.errors import DocumentError, NotFoundError
from zistboom.documents import profile, statuslist
from zistboom.documents.hub import repository, signers
from zistboom.documents.hub.errors import NotTheIssuer, OlderStatusList, StatusListRefused
from zistboom.documents.hub.models import StatusList
from zistboom.documents.hub.service import Caller
from zistboom.documents.hub.state import HubState

MAX_LIST_BYTES = 4 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=5)


def _iso(moment: datetime) -> str:
    return profile.rfc3339(moment)


def parse(raw: bytes, *, expected_url: str) -> statuslist.ParsedStatusList:
    """The list credential in a body, read and decoded; :class:`StatusListRefused` if not."""
    if len(raw) > MAX_LIST_BYTES:
        raise StatusListRefused(f"a status list is at most {MAX_LIST_BYTES} bytes", field="/")
    try:
        token = raw.decode("ascii").strip()
        parsed = statuslist.parse_status_list(token)
    except UnicodeDecodeError:
        raise StatusListRefused("the body is not a VC-JWT (ASCII)", field="/") from None
    except DocumentError as error:
        raise StatusListRefused(error.detail, field="/") from None
    if parsed.list_url != expected_url:
        raise StatusListRefused(
            f"the list names itself {parsed.list_url}, not {expected_url} where it is published",
            field="/id",
        )
    return parsed


async def publish(
    state: HubState, caller: Caller, list_id: str, purpose: profile.StatusPurpose, raw: bytes
) -> tuple[StatusList, bool]:
    """Take the list if it holds and is newer; the list held and whether it was replaced."""
    parsed = parse(
        raw, expected_url=profile.status_list_url(state.settings.base_url, list_id, purpose)
    )
    if parsed.issuer_member != caller.member:
        raise NotTheIssuer(
            f"the list is issued by {parsed.issuer_member}; {caller.member} may publish only its "
            "own lists",
            field="X-Road-Client",
        )
    now = state.clock()
    if parsed.valid_from > now + CLOCK_SKEW:
        # A list dated ahead would make every list the issuer signs until then "older".
        raise StatusListRefused(
            f"the list is valid from {_iso(parsed.valid_from)}, later than now "
            f"({_iso(now)}): sign it with the time of signing",
            field="/validFrom",
        )
    try:
        # As verifiers check it: the signer's certificate at the list's validFrom.
        signers.check_signed_by(parsed, caller.member, state.sources, at=parsed.valid_from)
    except DocumentError as error:
        raise StatusListRefused(error.detail, field=error.field) from None
    async with transaction(state.sessions) as session:
        return await _replace(session, parsed, list_id, purpose, caller.member, now)


async def _replace(
    session: AsyncSession,
    parsed: statuslist.ParsedStatusList,
    list_id: str,
    purpose: str,
    member: str,
    now: datetime,
) -> tuple[StatusList, bool]:
    owners = {row.issuer for row in await repository.status_lists_of_list(session, list_id)}
    if owners - {member}:
        raise NotTheIssuer(
            f"status list {list_id} is {', '.join(sorted(owners))}'s; choose another list id",
            field="list_id",
        )
    held = await repository.status_list_for_update(session, list_id, purpose)
    if held is None:
        held = StatusList(
            list_id=list_id,
            purpose=purpose,
            issuer=member,
            credential=parsed.token,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
            received_at=now,
        )
        session.add(held)
        return held, False
    if held.credential == parsed.token:
        return held, False
    if parsed.valid_from <= held.valid_from:
        raise OlderStatusList(
            f"the hub holds list {list_id}/{purpose} valid from {_iso(held.valid_from)}; this one "
            f"is valid from {_iso(parsed.valid_from)}: a list is replaced only by a newer one",
            field="/validFrom",
            held_valid_from=_iso(held.valid_from),
        )
    held.credential = parsed.token
    held.valid_from = parsed.valid_from
    held.valid_until = parsed.valid_until
    held.received_at = now
    return held, True


async def held(session: AsyncSession, list_id: str, purpose: str) -> StatusList:
    found = await repository.status_list(session, list_id, purpose)
    if found is None:
        raise NotFoundError(f"the hub holds no status list {list_id}/{purpose}", field="list_id")
    return found
