"""Central's public catalogue as the window sees it: read page by page from
``GET /api/v1/catalogue`` and kept for :attr:`CentralCatalogue.refresh_seconds`, so that a
service page shows its provider's names, the service's ecosystem and its accreditation without
asking central each time. When central cannot be reached the answer says so (``reachable``
False) and pages render without the accreditation; the failure is remembered only briefly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger("zistboom.window.catalogue")
PAGE: Final = 100
Clock = Callable[[], datetime]
MAX_PAGES: Final = 100


class _Accreditation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    resource: str
    scheme: str
    status: Literal["current", "lapsed"]
    message: str


class CatalogueEntry(BaseModel):
    """The part of one of central's catalogue entries the window shows."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    service_id: str
    member_id: str
    member_name_fa: str
    member_name_en: str
    ecosystem: str | None
    accreditation: _Accreditation | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    reachable: bool
    entries: dict[str, CatalogueEntry] = field(default_factory=dict)

    def entry(self, service_id: str | None) -> CatalogueEntry | None:
        return self.entries.get(service_id) if service_id else None


class CentralCatalogue:
    """The cached catalogue of central, read through ``client`` (base URL central's)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        refresh_seconds: float = 60.0,
        retry_seconds: float = 10.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.retry_seconds = retry_seconds
        self._snapshot: Snapshot | None = None
        self._read_at: datetime | None = None
        self._lock = asyncio.Lock()

    def _fresh(self, now: datetime) -> bool:
        if self._snapshot is None or self._read_at is None:
            return False
        life = self.refresh_seconds if self._snapshot.reachable else self.retry_seconds
        return now - self._read_at < timedelta(seconds=life)

    async def snapshot(self) -> Snapshot:
        async with self._lock:
            now = self.clock()
            if not self._fresh(now):
                self._snapshot = await self._read()
                self._read_at = now
            assert self._snapshot is not None
            return self._snapshot

    async def _read(self) -> Snapshot:
        if not str(self.client.base_url).strip("/"):
            return Snapshot(reachable=False)
        entries: dict[str, CatalogueEntry] = {}
        try:
            for page in range(MAX_PAGES):
                response = await self.client.get(
                    "/api/v1/catalogue", params={"limit": PAGE, "offset": page * PAGE}
                )
                response.raise_for_status()
                rows = response.json()
                if not isinstance(rows, list):
                    raise ValueError("central's catalogue is not a list")
                for row in rows:
                    entry = CatalogueEntry.model_validate(row)
                    entries[entry.service_id] = entry
                if len(rows) < PAGE:
                    break
        except (httpx.HTTPError, ValueError, ValidationError) as error:
            log.warning("central's catalogue could not be read: %s", error)
            return Snapshot(reachable=False)
        return Snapshot(reachable=True, entries=entries)
