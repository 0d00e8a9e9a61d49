"""What the hub's rules share: the caller the gateway vouches for, the holder acted for, the
clock. Each concern is its own module, which the routes call:

- ``document_types.py``: the registry of document types (seeded, registered by the operator);
- ``deposits.py``: an issuer's deposit into a holder's locker;
- ``status_lists.py``: the issuers' signed status lists, replaced only by newer ones;
- ``lockers.py``: who may act for which holder, and the locker's reads;
- ``shares.py``: shares with signed consent records, their revocation and the recipient's fetch;
- ``access.py``: the access events a holder lists;
- ``verifying.py``: verification through the hub (public verify, pull links, the page) over
  ``verification_context.py``, which answers the algorithm from ``sources.py`` and the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from zistboom.core.identifiers import SubsystemId, parse_client_header

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Caller:
    """A client as the hub's gateway vouches for it (``X-Road-*`` headers)."""

    client: str
    """``INSTANCE/CLASS/CODE[/SUBSYSTEM]``."""
    member: str
    """The client's member, ``INSTANCE/CLASS/CODE``."""
    member_code: str
    user_id: str | None = None
    purpose: str | None = None
    message_id: str | None = None

    @classmethod
    def of(
        cls,
        client: str,
        *,
        user_id: str | None = None,
        purpose: str | None = None,
        message_id: str | None = None,
    ) -> Caller:
        parsed = parse_client_header(client)
        member = parsed.member if isinstance(parsed, SubsystemId) else parsed
        return cls(
            client=str(parsed),
            member=str(member),
            member_code=member.member_code,
            user_id=user_id or None,
            purpose=purpose or None,
            message_id=message_id or None,
        )


@dataclass(frozen=True, slots=True)
class Acting:
    """A caller acting for ``holder``: a person (through the window) or a business."""

    caller: Caller
    holder: str
