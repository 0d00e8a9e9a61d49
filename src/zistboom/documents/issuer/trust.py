"""What the issuer trusts and reads from central: the global configuration, verified against
the anchor ``init`` stored (the TSA's URL and certificates, the CA), and the trust list it names
(the issuer's own accreditations, checked before it signs and again at the trusted time), each
with the last good copy on disk, as gateways keep them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography import x509 as cx509

from zistboom.core import globalconf as gc
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto import x509
from zistboom.core.errors import GlobalConfError, TrustListError
from zistboom.core.trustlist import TrustListClient

log = logging.getLogger("zistboom.documents.issuer.trust")
CONF_CACHE = "global-conf"
TRUST_LIST_CACHE = "trust-list"


class TrustSources:
    """The global configuration and the trust list, refreshed by :meth:`refresh`."""

    def __init__(
        self, anchor: gc.Anchor, cache_dir: Path, *, clock: Callable[[], datetime] = gc.utc_now
    ) -> None:
        self.conf_client = gc.GlobalConfClient(anchor, cache_dir / CONF_CACHE, clock=clock)
        self.trust_lists = TrustListClient(
            anchor.instance, cache_dir / TRUST_LIST_CACHE, clock=clock
        )
        self._index: TrustIndex | None = None
        self._generation = -1

    async def start(self) -> None:
        """Take the copies on disk, then what central serves now (a failure is logged: the
        copies may still be current, and the next refresh tries again)."""
        try:
            conf = self.conf_client.load_cached()
            if conf is not None and conf.trust_list is not None:
                self.trust_lists.load_cached(conf.trust_list.key_fingerprint)
        except (GlobalConfError, TrustListError) as error:
            log.warning("cached copy not used: %s", error.detail)
        await self.refresh()

    async def refresh(self) -> None:
        try:
            conf = await self.conf_client.refresh()
        except GlobalConfError as error:
            log.warning("global configuration not refreshed: %s", error.detail)
            return
        try:
            await self.trust_lists.follow(conf.trust_list)
        except TrustListError as error:
            log.warning("trust list not taken: %s", error.detail)

    async def close(self) -> None:
        await self.conf_client.aclose()
        await self.trust_lists.aclose()

    @property
    def conf(self) -> gc.GlobalConf:
        """The current configuration; :class:`GlobalConfRefused` when there is none usable."""
        return self.conf_client.current

    def tsa_certificates(self) -> list[cx509.Certificate]:
        return [x509.load_certificate(pem) for pem in self.conf.tsa_certificates]

    def ca_certificates(self) -> list[cx509.Certificate]:
        return [x509.load_certificate(pem) for pem in self.conf.ca_certificates]

    def index(self) -> TrustIndex:
        """The current trust list arranged for checks; :class:`TrustListRefused` when none is
        held or it is past its next update."""
        trust_list = self.trust_lists.current
        if self._index is None or self._generation != self.trust_lists.generation:
            self._index = TrustIndex(trust_list)
            self._generation = self.trust_lists.generation
        return self._index
