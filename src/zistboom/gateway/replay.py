"""The provider gateway's replay memory (ZB-STD-004 §5.8): every request signature it accepts
is claimed, by its key and nonce, in the gateway's database before anything is forwarded, so a
signed request is carried out once, whichever replica receives it and across restarts.

- A claim is a unique row (the SHA-256 of ``keyid`` and ``nonce``) with an expiry. Claiming a
  pair whose row is still alive fails: :class:`ReplayedMessage`. A row lives until the
  signature can no longer be fresh: ``created + max_skew + 1`` is the first whole second at
  which the freshness check (``now − max_skew ≤ created``, ``now`` in whole seconds) refuses
  it, and one second more covers a verifier whose clock reads the second before; rows are
  purged after that, in the background.
- Claims are committed **asynchronously** (PostgreSQL ``synchronous_commit = off``, SQLite
  ``synchronous = OFF`` in WAL mode): a crash of the database machine may forget the last
  claims, never reorder them. What may be forgotten opens no window, because after a start the
  gateway refuses every request signed before it started (:meth:`ReplayMemory.check_started`),
  and a claim whose ``created`` lies ahead of the gateway's clock, the one case that rule does
  not cover, is committed synchronously.
- Like the message log's writer, one task writes the claims queued so far in one statement on
  a connection of its own, through the driver (asyncpg; ``sqlite3`` on its own thread), so a
  busy gateway pays one round trip per group. A pair claimed by this process is refused again
  from memory without asking the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import BigInteger, LargeBinary
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.core import exchange as xr
from zistboom.core.database import sqlite_commit_taking_turns
from zistboom.core.errors import ConfigurationError
from zistboom.gateway.models import Base

log = logging.getLogger(__name__)

MAX_GROUP: Final = 1000
# Seconds a claim outlives the last second in which its signature is fresh (see above).
_MARGIN: Final = 2
_SQLITE_BUSY_TIMEOUT: Final = 30.0
CLAIMS_APPLICATION: Final = "zistboom replay memory"


class ReplayClaim(Base):
    """A request signature a provider gateway accepted, until it can no longer be fresh."""

    __tablename__ = "replay_claims"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    """SHA-256 of ``keyid``, a line feed and ``nonce``."""
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    """Unix time (s) from which the row may be purged and the pair claimed again."""


TABLE: Final = ReplayClaim.__tablename__


@dataclass(frozen=True, slots=True)
class _Claim:
    digest: bytes
    expires_at: int
    durable: bool
    """Committed synchronously: its ``created`` is ahead of the clock."""


_Waiter = tuple[_Claim, "asyncio.Future[bool]"]


class _ClaimWriter(ABC):
    """Inserts one group of claims in one transaction; answers, per claim, whether it was new."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def claim(self, claims: Sequence[_Claim], now: int) -> set[bytes]:
        """The digests that were claimed now (absent or expired before)."""

    @abstractmethod
    async def purge(self, now: int) -> int: ...

    @abstractmethod
    async def close(self) -> None: ...


class _PostgresClaimWriter(_ClaimWriter):
    _CLAIM: Final = (
        f"INSERT INTO {TABLE} (digest, expires_at) "  # noqa: S608  (constants only)
        "SELECT * FROM unnest($1::bytea[], $2::bigint[]) "
        "ON CONFLICT (digest) DO UPDATE SET expires_at = EXCLUDED.expires_at "
        f"WHERE {TABLE}.expires_at < $3 RETURNING digest"
    )
    _PURGE: Final = f"DELETE FROM {TABLE} WHERE expires_at < $1"  # noqa: S608

    def __init__(self, dsn: str, server_settings: dict[str, str]) -> None:
        self._dsn = dsn
        self._server_settings = {**server_settings, "synchronous_commit": "off"}
        self._connection: Any = None  # asyncpg.Connection; asyncpg has no type hints

    async def connect(self) -> None:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._dsn, server_settings=self._server_settings
            )

    async def claim(self, claims: Sequence[_Claim], now: int) -> set[bytes]:
        await self.connect()
        connection = self._connection
        args = ([c.digest for c in claims], [c.expires_at for c in claims], now)
        try:
            if any(c.durable for c in claims):
                async with connection.transaction():
                    await connection.execute("SET LOCAL synchronous_commit = on")
                    rows = await connection.fetch(self._CLAIM, *args)
            else:
                rows = await connection.fetch(self._CLAIM, *args)
        except BaseException:
            self._connection = None
            connection.terminate()
            raise
        return {bytes(row[0]) for row in rows}

    async def purge(self, now: int) -> int:
        await self.connect()
        status: str = await self._connection.execute(self._PURGE, now)
        return int(status.rsplit(" ", 1)[-1])

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class _SqliteClaimWriter(_ClaimWriter):
    _CLAIM: Final = (
        f"INSERT INTO {TABLE} (digest, expires_at) VALUES (?, ?) "  # noqa: S608
        "ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at "
        f"WHERE {TABLE}.expires_at < ?"
    )
    _PURGE: Final = f"DELETE FROM {TABLE} WHERE expires_at < ?"  # noqa: S608

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def connect(self) -> None:
        await self._run(self._connect)

    async def claim(self, claims: Sequence[_Claim], now: int) -> set[bytes]:
        claimed: set[bytes] = await self._run(self._claim, claims, now)
        return claimed

    async def purge(self, now: int) -> int:
        purged: int = await self._run(self._purge, now)
        return purged

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(thread, self._close)
        finally:
            thread.shutdown(wait=False)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="replay-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def _connect(self) -> None:
        if self._connection is not None:
            return
        connection = sqlite3.connect(self._path, timeout=_SQLITE_BUSY_TIMEOUT)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA busy_timeout=0")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _write(self, work: Callable[[sqlite3.Connection], Any], durable: bool) -> Any:
        """Run ``work`` and commit, taking turns for the write lock as the message log's
        writer does; a durable write syncs (``synchronous=FULL``) for that commit only."""
        self._connect()
        connection = self._connection
        assert connection is not None
        try:
            if durable:
                connection.execute("PRAGMA synchronous=FULL")
            return sqlite_commit_taking_turns(connection, work, timeout=_SQLITE_BUSY_TIMEOUT)
        except BaseException:
            self._close()
            raise
        finally:
            if durable and self._connection is not None:
                self._connection.execute("PRAGMA synchronous=OFF")

    def _claim(self, claims: Sequence[_Claim], now: int) -> set[bytes]:
        def work(connection: sqlite3.Connection) -> set[bytes]:
            claimed = set()
            for claim in claims:
                if connection.execute(self._CLAIM, (claim.digest, claim.expires_at, now)).rowcount:
                    claimed.add(claim.digest)
            return claimed

        claimed: set[bytes] = self._write(work, any(c.durable for c in claims))
        return claimed

    def _purge(self, now: int) -> int:
        purged: int = self._write(
            lambda connection: connection.execute(self._PURGE, (now,)).rowcount, False
        )
        return purged

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _claim_writer(engine: AsyncEngine) -> _ClaimWriter:
    url = engine.url
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return _PostgresClaimWriter(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            {} if "application_name" in url.query else {"application_name": CLAIMS_APPLICATION},
        )
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            raise ConfigurationError(
                "the replay memory needs a SQLite database file or PostgreSQL: in memory it "
                "would be forgotten at every restart"
            )
        return _SqliteClaimWriter(database)
    raise ConfigurationError(f"the replay memory cannot use {url.drivername} databases")


def claim_digest(key_id: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{key_id}\n{nonce}".encode()).digest()


class ReplayMemory:
    """Claims of accepted request signatures, shared by the replicas of one gateway."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_skew: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._writer = _claim_writer(engine)
        self.max_skew = max_skew
        self._clock = clock
        self.started_at: int | None = None
        """The whole second from which requests are accepted (None until started)."""
        self._queue: asyncio.Queue[_Waiter | None] = asyncio.Queue()
        # Pairs this process claimed, with their expiry: refused without a round trip.
        self._recent: dict[bytes, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._purged_at = 0.0

    async def start(self) -> None:
        """Connect, then wait for the next whole second: requests signed before it are refused
        (:meth:`check_started`), so no claim lost before this start can be replayed."""
        await self._writer.connect()
        now = self._clock()
        self.started_at = math.floor(now) + 1
        await asyncio.sleep(self.started_at - now)
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._write_loop(), name="replay-memory")

    async def stop(self) -> None:
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        await self._writer.close()

    def check_started(self, created: int) -> None:
        """Refuse a signature created before this gateway started (ZB-STD-004 §5.8)."""
        assert self.started_at is not None, "the replay memory is not started"
        if created < self.started_at:
            raise xr.ReplayedMessage(
                f"the request was signed at {created}, before this gateway started "
                f"({self.started_at}); send it again with a new signature"
            )

    async def claim(self, key_id: str, nonce: str, created: int) -> None:
        """Claim the signature (``keyid``, ``nonce``) once; :class:`ReplayedMessage` if it was
        claimed before and can still be fresh."""
        if self._task is None:
            raise xr.ServerInternalError("the replay memory is not running")
        now = self._clock()
        digest = claim_digest(key_id, nonce)
        known = self._recent.get(digest)
        if known is not None and known >= now:
            raise xr.ReplayedMessage(f"message {nonce} was already received")
        claim = _Claim(digest, created + self.max_skew + 1 + _MARGIN, durable=created > now)
        self._recent[digest] = claim.expires_at
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((claim, future))
        try:
            claimed = await future
        except BaseException:
            # Not known to be claimed: a second try must reach the database again.
            self._recent.pop(digest, None)
            raise
        if not claimed:
            raise xr.ReplayedMessage(f"message {nonce} was already received")

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    await self._write(group)
                    return
                group.append(item)
            await self._write(group)
            if self._clock() - self._purged_at >= self.max_skew:
                await self._purge()

    async def _write(self, group: list[_Waiter]) -> None:
        claims: list[_Claim] = []
        waiters: list[_Waiter] = []
        duplicates: list[_Waiter] = []
        seen: set[bytes] = set()
        for claim, future in group:
            (duplicates if claim.digest in seen else waiters).append((claim, future))
            if claim.digest not in seen:
                seen.add(claim.digest)
                claims.append(claim)
        for _claim, future in duplicates:  # a second copy sent at once: the first one wins
            if not future.done():
                future.set_result(False)
        try:
            claimed = await self._writer.claim(claims, int(self._clock()))
        except Exception as error:
            log.exception("replay memory: claims could not be written")
            for _claim, future in waiters:
                if not future.done():
                    future.set_exception(
                        xr.ServerInternalError(
                            f"the request could not be recorded against replays: {error}"
                        )
                    )
            return
        for claim, future in waiters:
            if not future.done():
                future.set_result(claim.digest in claimed)

    async def _purge(self) -> None:
        now = self._clock()
        self._purged_at = now
        for digest in [d for d, expires in self._recent.items() if expires < now]:
            del self._recent[digest]
        try:
            await self._writer.purge(int(now))
        except Exception:
            log.exception("replay memory: expired claims could not be purged")
