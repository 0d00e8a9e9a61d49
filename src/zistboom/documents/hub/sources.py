"""What the hub knows from central, kept current in the background: the global configuration
(CA and TSA certificates, certificate revocations with their times, central's TSA; verified
against the anchor) and the trust list it names (accreditations with their history), each with
its last good copy on disk, so a restart without central still verifies, and says how old what
it used is.

A refresh that fails keeps the copy held; the verification report names each source with the
time it was last refreshed, and a check that needs a source the hub does not hold fails saying
so."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509 as cx509

from zistboom.core import globalconf as gc
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto import x509
from zistboom.core.errors import GlobalConfError, TrustListError
from zistboom.core.trustlist import TrustList, TrustListClient
from zistboom.documents.hub.settings import ANCHOR_FILE, CONF_CACHE, TRUST_LIST_CACHE

log = logging.getLogger("zistboom.documents.hub.sources")
GLOBAL_CONF = "global-configuration"
TRUST_LIST = "trust-list"


@dataclass(frozen=True, slots=True)
class Freshness:
    """A source and when the hub last took a good copy of it (``None``: never)."""

    name: str
    refreshed_at: datetime | None


class Sources:
    """The hub's global configuration and trust list clients, and their refresh loop."""

    def __init__(
        self,
        data_dir: Path,
        *,
        refresh_seconds: float,
        clock: Callable[[], datetime] = gc.utc_now,
    ) -> None:
        anchor = gc.Anchor.from_json((data_dir / ANCHOR_FILE).read_text())
        self.conf_client = gc.GlobalConfClient(anchor, data_dir / CONF_CACHE)
        self.trust_client = TrustListClient(anchor.instance, data_dir / TRUST_LIST_CACHE)
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._index: TrustIndex | None = None
        self._generation = -1
        self.conf_refreshed_at: datetime | None = None
        self.trust_refreshed_at: datetime | None = None

    async def start(self) -> None:
        """Take the copies on disk, try central once, then refresh in the background."""
        try:
            if self.conf_client.load_cached() is not None:
                self.conf_refreshed_at = _file_time(self.conf_client.cache_dir)
        except GlobalConfError as error:
            log.warning("cached global configuration not used: %s", error.detail)
        held = self._held_conf()
        if held is not None and held.trust_list is not None:
            try:
                if self.trust_client.load_cached(held.trust_list.key_fingerprint) is not None:
                    self.trust_refreshed_at = _file_time(self.trust_client.cache_dir)
            except TrustListError as error:
                log.warning("cached trust list not used: %s", error.detail)
        await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="hub-sources")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.conf_client.aclose()
        await self.trust_client.aclose()

    async def refresh(self) -> None:
        """One refresh of both; a failure is logged and the held copies stay."""
        try:
            conf = await self.conf_client.refresh()
        except GlobalConfError as error:
            log.warning("global configuration not refreshed: %s", error.detail)
            return
        if self.conf_client.last_error is None:
            self.conf_refreshed_at = self._clock()
        try:
            await self.trust_client.follow(conf.trust_list)
        except TrustListError as error:
            log.warning("trust list not taken: %s", error.detail)
            return
        if self.trust_client.last_error is None and self.trust_client.held is not None:
            self.trust_refreshed_at = self._clock()
        elif self.trust_client.last_error is not None:
            log.warning("trust list not refreshed: %s", self.trust_client.last_error.detail)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            await self.refresh()

    def _held_conf(self) -> gc.GlobalConf | None:
        try:
            return self.conf_client.current
        except GlobalConfError:
            return None

    # --- what verification reads ------------------------------------------------------------

    @property
    def conf(self) -> gc.GlobalConf | None:
        """The current (verified, unexpired) configuration, or none."""
        return self._held_conf()

    def ca_certificates(self) -> list[cx509.Certificate]:
        conf = self.conf
        return [x509.load_certificate(pem) for pem in conf.ca_certificates] if conf else []

    def tsa_certificates(self) -> list[cx509.Certificate]:
        conf = self.conf
        return [x509.load_certificate(pem) for pem in conf.tsa_certificates] if conf else []

    def revoked_at(self, serial: int) -> datetime | None:
        conf = self.conf
        return conf.revoked_at(serial) if conf is not None else None

    @property
    def trust_list(self) -> TrustList | None:
        """The held trust list, even past its next update: its history answers for a past
        time of issue all the same (its age is reported beside the answer)."""
        return self.trust_client.held

    def trust_index(self) -> TrustIndex | None:
        trust_list = self.trust_client.held
        if trust_list is None:
            return None
        if self._index is None or self._generation != self.trust_client.generation:
            self._index = TrustIndex(trust_list)
            self._generation = self.trust_client.generation
        return self._index

    def freshness(self) -> list[Freshness]:
        return [
            Freshness(GLOBAL_CONF, self.conf_refreshed_at),
            Freshness(TRUST_LIST, self.trust_refreshed_at),
        ]


def _file_time(cache_dir: Path) -> datetime | None:
    """When the newest file of a cache folder was written (the copy's last refresh)."""
    times = [path.stat().st_mtime for path in cache_dir.glob("*") if path.is_file()]
    if not times:
        return None
    return datetime.fromtimestamp(max(times)).astimezone(gc.utc_now().tzinfo)
