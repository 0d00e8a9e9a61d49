"""The provider gateway's side of accreditation (ZB-STD-004 §7.3, ZB-STD-007 §10 and §12.2):
its copy of the trust list, followed whenever the global configuration names a newer sequence,
and the check an access right with an accreditation requirement makes at call time.

The list and its verification are the contract in ``core/trustlist.py``; the rule is the one
check in ``core/accreditation.py``. This module only keeps the index current and turns a
failed check into the exchange's refusal, naming what was required and why it is not held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.errors import TrustListError
from zistboom.core.trustlist import TrustListClient, TrustListRefused

log = logging.getLogger("zistboom.gateway.accreditation")


class Accreditations:
    """A gateway's trust list and the accreditation check of its access rights."""

    def __init__(self, client: TrustListClient, *, clock: Callable[[], datetime] = gc.utc_now):
        self.client = client
        self._clock = clock
        self._index: TrustIndex | None = None
        self._generation = -1

    def load_cached(self, conf: gc.GlobalConf) -> None:
        """Take the copy on disk, if the configuration names a trust-list key it verifies with."""
        if conf.trust_list is None:
            return
        try:
            self.client.load_cached(conf.trust_list.key_fingerprint)
        except TrustListError as error:
            log.warning("cached trust list not used: %s", error.detail)

    async def follow(self, conf: gc.GlobalConf) -> None:
        """Fetch the list the configuration names, if it is newer than the one held."""
        try:
            await self.client.follow(conf.trust_list)
        except TrustListError as error:
            log.warning("trust list sequence not taken: %s", error.detail)
            return
        if self.client.last_error is not None:
            log.warning("trust list not refreshed: %s", self.client.last_error.detail)

    @property
    def sequence(self) -> int | None:
        held = self.client.held
        return held.sequence if held is not None else None

    def _current_index(self) -> TrustIndex:
        trust_list = self.client.current  # TrustListRefused: missing or past its next update
        if self._generation != self.client.generation or self._index is None:
            self._index = TrustIndex(trust_list)
            self._generation = self.client.generation
        return self._index

    def check(self, client_id: str, required: tuple[Requirement, ...]) -> None:
        """Pass if ``client_id`` holds any one of ``required`` now; refuse otherwise."""
        wanted = " or ".join(r.describe() for r in required)
        try:
            index = self._current_index()
        except TrustListRefused as error:
            raise xr.OutdatedTrustList(
                f"this call needs {wanted}, and the gateway cannot check it: {error.detail}"
            ) from None
        now = self._clock()
        reasons = []
        for requirement in required:
            answer = index.authorize(client_id, requirement, now)
            if answer.holds:
                return
            reasons.append(answer.message)
        raise xr.AccreditationRequired(
            f"{client_id} may call this only with {wanted} (trust list sequence "
            f"{index.trust_list.sequence}): {'; '.join(reasons)}"
        )
