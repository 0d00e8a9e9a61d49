"""The gateway's message log: durable, hash-chained records of every message it exchanges, sealed
into Merkle batches timestamped by the instance TSA, and exported as evidence bundles.

- :class:`MessageLog` is the writer. ``append`` returns once the record is committed; one
  background task commits everything queued so far in one transaction (group commit), so a busy
  gateway pays one commit per group, not per message. Every record names the gateway that
  logged it (its gateway id, inside the record hash), so that the records of two gateways never
  share a (gateway, instance, seq). Each gateway replica has its own
  ``instance`` name and its own chain (seq 1, 2, 3 ... and prev_hash links), so replicas sharing a
  database never wait for each other's chain tail.
- Every ``batch_interval`` the records of the instance not yet sealed become the leaves of an
  RFC 9162 Merkle tree whose root is timestamped (RFC 3161) by the TSA; the batch, its token and
  the records' batch ids are written in one transaction. While the TSA cannot be reached the
  records stay unsealed and :meth:`MessageLog.timestamping_ok` turns false after the grace
  period: the gateway then refuses new messages.
- :func:`export_bundle` gathers records, batches, inclusion proofs and certificates into an
  evidence bundle (ZB-STD-005, built and verified by :mod:`zistboom.core.evidence`) that states
  what it covers: every record of a message, or whole runs of each chain for a time range.

The hot path writes through the database driver on one connection owned by the writer task,
because the per-group overhead of SQLAlchemy's pool, transaction and type processing was most of
the cost of a commit:

- PostgreSQL (asyncpg): one statement per group in PostgreSQL's implicit transaction, so a group
  is written whole or not at all in one round trip: a prepared INSERT run with ``executemany``
  for small groups, ``COPY`` (``copy_records_to_table``) from :data:`COPY_FROM` records on,
  whichever measured faster for its size. The connection is opened from the engine's URL (the
  engine's ``connect_args`` are not used) and opened again after any failure.
- SQLite (the stdlib ``sqlite3`` module on a thread of its own): one ``executemany`` and commit
  per group, in one hand-off to that thread; WAL journal. ``sqlite_synchronous="FULL"`` (the
  default) syncs the WAL at every commit, so a record that ``append`` returned survives a power
  loss as well as a crash of the process or of the operating system. ``"NORMAL"`` syncs only at
  checkpoints: committed records survive a crash of the process, but a power loss or kernel
  crash may take back the last commits, records of messages already answered. An in-memory
  SQLite database is refused: a second connection would not see it, and evidence held in memory
  is lost at exit.

The headers are stored as their canonical JSON (sorted keys, no whitespace, UTF-8: the bytes the
record hash covers); reading them back as JSON gives the same object. The sealer and
:func:`export_bundle` use SQLAlchemy Core; the ORM classes below declare the tables for both and
for migrations.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast, get_args

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import orjson
from cryptography import x509
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.core.crypto.keys import sha256
from zistboom.core.crypto.merkle import MerkleTree, merkle_root
from zistboom.core.crypto.timestamp import (
    create_timestamp_request,
    timestamp_token_from_response,
    verify_timestamp_token,
)
from zistboom.core.database import sqlite_commit_taking_turns, utc_now
from zistboom.core.errors import (
    ConfigurationError,
    CryptoError,
    NotFoundError,
    ValidationError,
    ZistboomError,
)
from zistboom.core.evidence import (
    GENESIS_HASH,
    BundleBatch,
    BundleRecord,
    Kind,
    RecordContent,
    Side,
    build_bundle,
)
from zistboom.core.evidence_coverage import (
    Coverage,
    CoveredRecord,
    RecordKey,
    message_coverage,
    range_coverage,
)
from zistboom.core.identifiers import GatewayId
from zistboom.gateway.models import Base

log = logging.getLogger(__name__)

TIMESTAMP_QUERY: Final = "application/timestamp-query"
# A group commit takes at most this many queued records; the rest wait for the next one.
MAX_GROUP: Final = 1000
# After a failed timestamping the next attempt comes sooner than the interval.
RETRY_INTERVAL: Final = 10.0
TSA_TIMEOUT: Final = 30.0
_MAX_REPLY: Final = 64 * 1024
_ID = BigInteger().with_variant(Integer(), "sqlite")
# PostgreSQL groups of this many records or more are written with COPY, smaller ones with a
# prepared INSERT: measured here, COPY costs less from 8 records on (in time and in CPU of both
# processes), the INSERT less below.
COPY_FROM: Final = 8

SqliteSynchronous = Literal["NORMAL", "FULL"]
# How long a SQLite commit waits for the write lock (as core.database.create_engine's busy
# timeout), and how often the writer looks again meanwhile.
_SQLITE_BUSY_TIMEOUT: Final = 30.0
# The application_name of the writer's PostgreSQL connection.
WRITER_APPLICATION: Final = "zistboom message log"


class LogBatch(Base):
    """A Merkle batch: a run of one instance's records whose root the TSA timestamped."""

    __tablename__ = "log_batches"
    __table_args__ = (UniqueConstraint("instance", "first_seq"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    timestamp_token: Mapped[bytes] = mapped_column(LargeBinary)
    """The DER TimeStampToken (CMS ContentInfo) over SHA-256(root)."""
    timestamped_at: Mapped[datetime]
    """The token's genTime."""


class LogRecord(Base):
    """One logged HTTP message (request or response) of one instance's chain."""

    __tablename__ = "log_records"
    __table_args__ = (
        UniqueConstraint("instance", "seq"),
        # Unsealed records of an instance (batch_id IS NULL) and a batch's leaves, both by seq.
        Index("ix_log_records_instance_batch", "instance", "batch_id", "seq"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    gateway: Mapped[str | None] = mapped_column(Text)
    """The id of the gateway that logged the record; NULL for records logged before migration
    0004, whose hash does not cover it."""
    instance: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(index=True)
    message_id: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(String(8))
    side: Mapped[str] = mapped_column(String(8))
    client: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_digest: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("log_batches.id"))


_records = cast(Table, LogRecord.__table__)
_batches = cast(Table, LogBatch.__table__)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What the gateway logs about one HTTP message.

    ``headers`` holds the X-Road headers, ``content-type``, ``content-digest``, ``signature``,
    ``signature-input`` and ``zb-signer-certificate`` as sent or received, and for a request the
    absolute URI its signature covers under ``@target-uri`` (ZB-STD-005 §4). ``body`` is ``None``
    when body logging is off; ``body_digest`` (the message's Content-Digest) is always given.
    """

    message_id: str
    kind: Kind
    side: Side
    headers: Mapping[str, str]
    body_digest: str
    body: bytes | None = None
    client: str | None = None
    service: str | None = None
    method: str | None = None
    target: str | None = None
    status: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    """A committed record: where it sits in its instance's chain."""

    instance: str
    seq: int
    at: datetime
    record_hash: str


@dataclass(frozen=True, slots=True)
class SealedBatch:
    id: int
    instance: str
    first_seq: int
    last_seq: int
    root: bytes
    timestamped_at: datetime


_Waiter = tuple[LogEntry, "asyncio.Future[LoggedRecord]"]

# The columns the writer fills, in the order of its rows; id and batch_id are left to the database.
_RECORD_COLUMNS: Final = (
    "gateway",
    "instance",
    "seq",
    "at",
    "message_id",
    "kind",
    "side",
    "client",
    "service",
    "method",
    "target",
    "status",
    "headers",
    "body",
    "body_digest",
    "prev_hash",
    "record_hash",
)
_RecordRow = tuple[Any, ...]


def _insert_statement(placeholders: Sequence[str]) -> str:
    # Built once from the constants above; no value ever goes into the text.
    columns, values = ", ".join(_RECORD_COLUMNS), ", ".join(placeholders)
    return f"INSERT INTO {_records.name} ({columns}) VALUES ({values})"  # noqa: S608


class _RecordWriter(ABC):
    """Writes one group of records in one transaction on a connection of its own; after any
    failure nothing of the group is written and the next group gets a fresh connection."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    def at_value(self, at: datetime) -> object:
        """The ``at`` column's value, as SQLAlchemy's ``UTCDateTime`` would bind it."""

    @abstractmethod
    async def insert(self, rows: Sequence[_RecordRow]) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...


class _PostgresRecordWriter(_RecordWriter):
    _INSERT: Final = _insert_statement([f"${n}" for n in range(1, len(_RECORD_COLUMNS) + 1)])

    def __init__(self, dsn: str, server_settings: Mapping[str, str]) -> None:
        self._dsn = dsn
        self._server_settings = dict(server_settings)
        self._connection: Any = None  # asyncpg.Connection; asyncpg has no type hints

    async def connect(self) -> None:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._dsn, server_settings=self._server_settings
            )

    def at_value(self, at: datetime) -> object:
        return at

    async def insert(self, rows: Sequence[_RecordRow]) -> None:
        await self.connect()
        connection = self._connection
        try:
            # One statement, hence PostgreSQL's implicit transaction: all rows or none.
            if len(rows) < COPY_FROM:
                await connection.executemany(self._INSERT, rows)
            else:
                await connection.copy_records_to_table(
                    _records.name, records=rows, columns=_RECORD_COLUMNS
                )
        except BaseException:
            # Whatever state the connection is in, the next group starts on a new one.
            self._connection = None
            connection.terminate()
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class _SqliteRecordWriter(_RecordWriter):
    _INSERT: Final = _insert_statement(["?"] * len(_RECORD_COLUMNS))

    def __init__(self, path: str, synchronous: SqliteSynchronous) -> None:
        self._path = path
        self._synchronous = synchronous
        # Only this thread touches the connection.
        self._thread: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def connect(self) -> None:
        await self._run(self._connect)

    def at_value(self, at: datetime) -> object:
        # SQLAlchemy's SQLite DATETIME text: naive UTC with microseconds.
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    async def insert(self, rows: Sequence[_RecordRow]) -> None:
        await self._run(self._insert, rows)

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(thread, self._close)
        finally:
            thread.shutdown(wait=False)

    async def _run(self, function: Callable[..., None], *args: Any) -> None:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="messagelog-sqlite")
        await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def synchronous(self) -> str:
        """``PRAGMA synchronous`` as the writer's connection has it: ``FULL`` or ``NORMAL``."""
        values: list[str] = []
        await self._run(lambda: values.append(self._pragma_synchronous()))
        return values[0]

    def _pragma_synchronous(self) -> str:
        self._connect()
        assert self._connection is not None
        level = self._connection.execute("PRAGMA synchronous").fetchone()[0]
        return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))

    def _connect(self) -> None:
        if self._connection is not None:
            return
        connection = sqlite3.connect(self._path, timeout=_SQLITE_BUSY_TIMEOUT)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            # From here on _insert waits for the write lock itself (see there).
            connection.execute("PRAGMA busy_timeout=0")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _insert(self, rows: Sequence[_RecordRow]) -> None:
        self._connect()
        connection = self._connection
        assert connection is not None
        try:
            sqlite_commit_taking_turns(
                connection,
                lambda c: c.executemany(self._INSERT, rows),
                timeout=_SQLITE_BUSY_TIMEOUT,
            )
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()  # rolls back whatever was not committed


def _record_writer(engine: AsyncEngine, sqlite_synchronous: SqliteSynchronous) -> _RecordWriter:
    url = engine.url
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return _PostgresRecordWriter(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            # Shown in pg_stat_activity, unless the URL names the application itself.
            {} if "application_name" in url.query else {"application_name": WRITER_APPLICATION},
        )
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            raise ConfigurationError(
                "the message log needs a SQLite database file or PostgreSQL; an in-memory "
                "database would lose the evidence at exit"
            )
        return _SqliteRecordWriter(database, sqlite_synchronous)
    raise ConfigurationError(
        f"the message log cannot write to {url.drivername} databases: use "
        "sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    )


class MessageLog:
    """The message-log writer and sealer of one gateway instance (replica)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        gateway_id: str,
        instance: str,
        tsa_url: str,
        ca_cert: x509.Certificate | Callable[[], x509.Certificate],
        batch_interval: float = 60.0,
        timestamp_grace: float = 4 * 3600,
        max_batch: int = 10000,
        http: aiohttp.ClientSession | None = None,
        clock: Callable[[], datetime] = utc_now,
        sqlite_synchronous: SqliteSynchronous = "FULL",
    ) -> None:
        try:
            GatewayId.parse(gateway_id)
        except ValidationError as exc:
            raise ConfigurationError(
                "the message log needs the gateway's id (INSTANCE/CLASS/CODE/GATEWAY): "
                f"{exc.detail}"
            ) from None
        if not instance or len(instance) > 64:
            raise ConfigurationError("the message log's instance name must be 1 to 64 characters")
        if batch_interval <= 0 or timestamp_grace <= 0 or max_batch < 1:
            raise ConfigurationError(
                "batch_interval and timestamp_grace must be positive and max_batch at least 1"
            )
        if sqlite_synchronous not in get_args(SqliteSynchronous):
            raise ConfigurationError(
                f"sqlite_synchronous must be FULL or NORMAL, not {sqlite_synchronous!r}"
            )
        self.engine = engine
        self._record_writer = _record_writer(engine, sqlite_synchronous)
        self.gateway_id = gateway_id
        self.instance = instance
        self.tsa_url = tsa_url
        """Where timestamp queries go; the gateway updates it when the global configuration
        names another TSA."""
        self._ca_cert = ca_cert
        self.batch_interval = batch_interval
        self.timestamp_grace = timestamp_grace
        self.max_batch = max_batch
        self._http = http
        self._own_http = False
        self._clock = clock
        # None in the queue tells the writer to stop.
        self._queue: asyncio.Queue[_Waiter | None] = asyncio.Queue()
        self._seq = 0
        self._prev_hash = GENESIS_HASH
        self._oldest_unsealed_at: datetime | None = None
        self._seal_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._sealer: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Continue this instance's chain from the database and start writing and sealing."""
        if self._writer is not None:
            raise ConfigurationError(f"the message log of {self.instance} is already started")
        async with self.engine.connect() as connection:
            await self._load_tail(connection)
            self._oldest_unsealed_at = await self._oldest_unsealed(connection)
        try:
            await self._record_writer.connect()
        except BaseException:
            await self._record_writer.close()
            raise
        if self._http is None:
            self._http = aiohttp.ClientSession()
            self._own_http = True
        self._closing = False
        self._stopping.clear()
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name=f"messagelog-{self.instance}")
        self._sealer = asyncio.create_task(self._seal_loop(), name=f"messageseal-{self.instance}")

    async def stop(self) -> None:
        """Commit everything queued, then seal and timestamp what the TSA allows."""
        if self._writer is None or self._sealer is None:
            return
        self._closing = True
        self._queue.put_nowait(None)
        await self._writer
        self._stopping.set()
        await self._sealer
        try:
            await self.seal()
        except ZistboomError as exc:
            log.warning("message log %s: records left unsealed at stop: %s", self.instance, exc)
        finally:
            self._writer = self._sealer = None
            if self._own_http and self._http is not None:
                await self._http.close()
                self._http = None
                self._own_http = False

    async def sqlite_synchronous(self) -> str | None:
        """The ``PRAGMA synchronous`` level in effect on the writer's SQLite connection (``FULL``
        or ``NORMAL``); ``None`` on PostgreSQL."""
        writer = self._record_writer
        return await writer.synchronous() if isinstance(writer, _SqliteRecordWriter) else None

    # --- appending ---------------------------------------------------------------------------

    async def append(self, entry: LogEntry) -> LoggedRecord:
        """Log one message; returns once its record is durably committed.

        :class:`ValidationError` if the entry breaks ZB-STD-005 §3, :class:`ZistboomError` if the
        group it was committed with could not be written (then nothing of that group was).
        """
        if self._writer is None or self._closing:
            raise ConfigurationError(f"the message log of {self.instance} is not running")
        future: asyncio.Future[LoggedRecord] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((entry, future))
        return await future

    async def _write_loop(self) -> None:
        group: list[_Waiter] = []
        try:
            while True:
                item = await self._queue.get()
                stop = item is None
                group = [] if item is None else [item]
                while not stop and len(group) < MAX_GROUP:
                    try:
                        item = self._queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    if item is None:
                        stop = True
                    else:
                        group.append(item)
                if group:
                    try:
                        await self._commit(group)
                    except Exception as exc:  # a bug here must not leave waiters hanging
                        log.exception("message log %s: writer failed", self.instance)
                        for _, future in group:
                            if not future.done():
                                future.set_exception(
                                    ZistboomError(f"the message log could not log this: {exc}")
                                )
                    group = []
                if stop:
                    return
        except asyncio.CancelledError:
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not None:
                    group.append(item)
            for _, future in group:
                if not future.done():
                    future.set_exception(
                        ConfigurationError(f"the message log of {self.instance} was shut down")
                    )
            raise
        finally:
            try:
                await self._record_writer.close()
            except Exception as exc:  # nothing is left to write; the connection is dropped
                log.warning("message log %s: closing its connection: %s", self.instance, exc)

    async def _commit(self, group: Sequence[_Waiter]) -> None:
        rows: list[_RecordRow] = []
        results: list[tuple[asyncio.Future[LoggedRecord], LoggedRecord]] = []
        seq, prev_hash = self._seq, self._prev_hash
        at_value = self._record_writer.at_value
        for entry, future in group:
            try:
                content = self._content(entry, seq + 1, prev_hash)
                record_hash = content.record_hash()
                # The bytes of the headers inside the hashed canonical form, as text.
                headers = orjson.dumps(content.headers, option=orjson.OPT_SORT_KEYS).decode()
            except (ValidationError, TypeError, AttributeError) as exc:
                if not future.done():
                    future.set_exception(
                        exc
                        if isinstance(exc, ValidationError)
                        else ValidationError(f"not a log entry: {exc}")
                    )
                continue
            seq += 1
            prev_hash = record_hash
            rows.append(
                (
                    self.gateway_id,
                    self.instance,
                    seq,
                    at_value(content.at),
                    content.message_id,
                    content.kind,
                    content.side,
                    content.client,
                    content.service,
                    content.method,
                    content.target,
                    content.status,
                    headers,
                    entry.body,
                    content.body_digest,
                    content.prev_hash,
                    record_hash,
                )
            )
            results.append((future, LoggedRecord(self.instance, seq, content.at, record_hash)))
        if not rows:
            return
        try:
            await self._record_writer.insert(rows)
        except Exception as exc:  # whatever broke the commit, every waiter must hear of it
            log.error(
                "message log %s: commit of %d records failed: %s", self.instance, len(rows), exc
            )
            for future, _ in results:
                if not future.done():
                    future.set_exception(
                        ZistboomError(
                            f"the message log could not commit this record (one of {len(rows)} "
                            f"committed together): {exc}"
                        )
                    )
            await self._reload_tail()
            return
        self._seq, self._prev_hash = seq, prev_hash
        if self._oldest_unsealed_at is None:
            self._oldest_unsealed_at = results[0][1].at
        for future, record in results:
            if not future.done():
                future.set_result(record)

    def _content(self, entry: LogEntry, seq: int, prev_hash: str) -> RecordContent:
        headers = {name.lower(): value for name, value in entry.headers.items()}
        if len(headers) != len(entry.headers):
            raise ValidationError("two headers differ only in case", field="headers")
        return RecordContent(
            gateway=self.gateway_id,
            instance=self.instance,
            seq=seq,
            at=self._clock(),
            message_id=entry.message_id,
            kind=entry.kind,
            side=entry.side,
            client=entry.client,
            service=entry.service,
            method=entry.method,
            target=entry.target,
            status=entry.status,
            headers=headers,
            body_digest=entry.body_digest,
            prev_hash=prev_hash,
        )

    async def _load_tail(self, connection: AsyncConnection) -> None:
        last = (
            await connection.execute(
                select(_records.c.seq, _records.c.record_hash)
                .where(_records.c.instance == self.instance)
                .order_by(_records.c.seq.desc())
                .limit(1)
            )
        ).first()
        self._seq, self._prev_hash = (0, GENESIS_HASH) if last is None else (last[0], last[1])

    async def _reload_tail(self) -> None:
        # The database is the truth after a failed commit (it may even have committed).
        try:
            async with self.engine.connect() as connection:
                await self._load_tail(connection)
        except Exception as exc:  # keep the last known tail; the next commit retries
            log.error("message log %s: cannot re-read the chain tail: %s", self.instance, exc)

    # --- sealing and timestamping ------------------------------------------------------------

    @property
    def ca_certificate(self) -> x509.Certificate:
        return self._ca_cert if isinstance(self._ca_cert, x509.Certificate) else self._ca_cert()

    @property
    def oldest_unstamped_age(self) -> float:
        """Seconds since the oldest record not yet timestamped was logged; 0 when none is."""
        if self._oldest_unsealed_at is None:
            return 0.0
        return max(0.0, (self._clock() - self._oldest_unsealed_at).total_seconds())

    def timestamping_ok(self) -> bool:
        """False once a record has waited longer than the grace period for its timestamp: the
        gateway then refuses new messages (``TimestampingFailed``)."""
        return self.oldest_unstamped_age <= self.timestamp_grace

    async def _seal_loop(self) -> None:
        delay = self.batch_interval
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                return
            except TimeoutError:
                pass
            try:
                await self.seal()
                delay = self.batch_interval
            except Exception as exc:  # the loop must survive; records stay unsealed
                delay = min(self.batch_interval, RETRY_INTERVAL)
                log.warning(
                    "message log %s: sealing failed, retrying in %.0f s: %s",
                    self.instance,
                    delay,
                    exc,
                )

    async def seal(self) -> list[SealedBatch]:
        """Seal every committed, unsealed record of this instance into timestamped batches.

        :class:`ZistboomError` (:class:`CryptoError` for a reply that does not verify) if the TSA
        cannot timestamp; the records then stay unsealed.
        """
        sealed: list[SealedBatch] = []
        async with self._seal_lock:
            while True:
                async with self.engine.connect() as connection:
                    rows = (
                        await connection.execute(
                            select(_records.c.seq, _records.c.record_hash)
                            .where(
                                _records.c.instance == self.instance,
                                _records.c.batch_id.is_(None),
                            )
                            .order_by(_records.c.seq)
                            .limit(self.max_batch)
                        )
                    ).all()
                if not rows:
                    break
                # Commits land in seq order, so the unsealed records are one run; stop at a gap
                # all the same rather than seal a batch whose leaves are not consecutive.
                run = [rows[0]]
                for row in rows[1:]:
                    if row[0] != run[-1][0] + 1:
                        break
                    run.append(row)
                batch = await self._seal_run([(row[0], row[1]) for row in run])
                sealed.append(batch)
                await self._after_seal(batch.last_seq)
                if len(run) < self.max_batch:
                    break
        return sealed

    async def _seal_run(self, run: Sequence[tuple[int, str]]) -> SealedBatch:
        leaves = [bytes.fromhex(record_hash) for _, record_hash in run]
        # Up to max_batch hashes: off the event loop, which serves the gateway's traffic.
        root = await asyncio.to_thread(merkle_root, leaves)
        token, gen_time = await self._timestamp(root)
        first_seq, last_seq = run[0][0], run[-1][0]
        async with self.engine.begin() as connection:
            result = await connection.execute(
                insert(_batches).values(
                    instance=self.instance,
                    first_seq=first_seq,
                    last_seq=last_seq,
                    size=len(run),
                    root=root.hex(),
                    created_at=self._clock(),
                    timestamp_token=token,
                    timestamped_at=gen_time,
                )
            )
            batch_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            updated = await connection.execute(
                update(_records)
                .where(
                    _records.c.instance == self.instance,
                    _records.c.seq.between(first_seq, last_seq),
                    _records.c.batch_id.is_(None),
                )
                .values(batch_id=batch_id)
            )
            if updated.rowcount != len(run):
                raise ZistboomError(
                    f"sealing records {first_seq} to {last_seq} of {self.instance} touched "
                    f"{updated.rowcount} rows: is another process using the instance name "
                    f"{self.instance}? Every replica needs its own."
                )
        log.info(
            "message log %s: sealed records %d to %d (batch %d, timestamped %s)",
            self.instance,
            first_seq,
            last_seq,
            batch_id,
            gen_time.isoformat(),
        )
        return SealedBatch(batch_id, self.instance, first_seq, last_seq, root, gen_time)

    async def _after_seal(self, last_sealed: int) -> None:
        if self._seq <= last_sealed:
            # No await since the check: nothing can have been committed in between.
            self._oldest_unsealed_at = None
            return
        # Record last_sealed + 1 is committed (the tail is past it) and is the oldest unsealed.
        async with self.engine.connect() as connection:
            at = (
                await connection.execute(
                    select(_records.c.at).where(
                        _records.c.instance == self.instance, _records.c.seq == last_sealed + 1
                    )
                )
            ).scalar_one_or_none()
        self._oldest_unsealed_at = at

    async def _oldest_unsealed(self, connection: AsyncConnection) -> datetime | None:
        at: datetime | None = (
            await connection.execute(
                select(_records.c.at)
                .where(_records.c.instance == self.instance, _records.c.batch_id.is_(None))
                .order_by(_records.c.seq)
                .limit(1)
            )
        ).scalar_one_or_none()
        return at

    async def _timestamp(self, root: bytes) -> tuple[bytes, datetime]:
        """Timestamp SHA-256(root) at the TSA: the DER token and its verified genTime."""
        if self._http is None:
            raise ConfigurationError(f"the message log of {self.instance} is not started")
        digest = sha256(root)
        # A 64-bit nonce, as ZB-STD-002 §10.2 recommends.
        query = create_timestamp_request(digest, nonce=secrets.randbits(63) | 1 << 63)
        try:
            async with self._http.post(
                self.tsa_url,
                data=query,
                headers={"Content-Type": TIMESTAMP_QUERY},
                timeout=aiohttp.ClientTimeout(total=TSA_TIMEOUT),
            ) as response:
                reply = await response.content.read(_MAX_REPLY)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZistboomError(
                f"the TSA at {self.tsa_url} cannot be reached: {exc or type(exc).__name__}"
            ) from None
        if status != 200:
            try:
                timestamp_token_from_response(reply)
            except CryptoError as exc:
                raise CryptoError(
                    f"the TSA at {self.tsa_url} answered HTTP {status}: {exc.detail}"
                ) from None
            raise CryptoError(f"the TSA at {self.tsa_url} answered HTTP {status}")
        token = timestamp_token_from_response(reply)
        try:
            gen_time = verify_timestamp_token(token, digest=digest, ca_cert=self.ca_certificate)
        except CryptoError as exc:
            raise CryptoError(
                f"the TSA at {self.tsa_url} returned a token that does not verify: {exc.detail}"
            ) from None
        return token, gen_time


# --- export -----------------------------------------------------------------------------------


def _content_of(row: RowMapping) -> RecordContent:
    try:
        return RecordContent(
            gateway=row["gateway"],
            instance=row["instance"],
            seq=row["seq"],
            at=row["at"],
            message_id=row["message_id"],
            kind=row["kind"],
            side=row["side"],
            client=row["client"],
            service=row["service"],
            method=row["method"],
            target=row["target"],
            status=row["status"],
            headers=row["headers"],
            body_digest=row["body_digest"],
            prev_hash=row["prev_hash"],
        )
    except ValidationError as exc:
        raise ValidationError(
            f"record {row['seq']} of instance {row['instance']} in the database is malformed: "
            f"{exc.detail}",
            field=exc.field,
        ) from None


async def export_bundle(
    engine: AsyncEngine,
    *,
    message_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    certificates: Sequence[x509.Certificate],
    gateway_id: str | None = None,
    include_bodies: bool = True,
    now: datetime | None = None,
) -> bytes:
    """An evidence bundle of the records of ``message_id`` (its requests and responses, on every
    instance and side), or of the records logged in [``start``, ``end``).

    A message's bundle states that it covers that message with every record of it; a time
    range's bundle states, for each instance, the run of records from the first to the last
    logged in the range, and holds every record of that run. The request of every exported
    response is added so that the response's binding to it can be checked. ``certificates``
    should hold the instance CA certificate; signer and TSA certificates are added from the
    records and tokens. :class:`NotFoundError` when nothing matches.
    """
    if message_id is not None and (start is not None or end is not None):
        raise ValidationError("export either one message id or a time range, not both")
    if message_id is not None:
        condition = _records.c.message_id == message_id
    elif start is not None or end is not None:
        parts = []
        if start is not None:
            parts.append(_records.c.at >= start)
        if end is not None:
            parts.append(_records.c.at < end)
        condition = parts[0] if len(parts) == 1 else parts[0] & parts[1]
    else:
        raise ValidationError("export needs a message id or a time range", field="message_id")

    async with engine.connect() as connection:
        rows = list((await connection.execute(select(_records).where(condition))).mappings())
        if not rows:
            what = f"message id {message_id}" if message_id is not None else "that time range"
            raise NotFoundError(f"the message log holds no records for {what}")
        if message_id is None:
            rows = await _whole_runs(connection, rows)
        covered = [_covered(row) for row in rows]
        rows.extend(await _missing_requests(connection, rows))
        batch_ids = sorted({row["batch_id"] for row in rows if row["batch_id"] is not None})
        batch_rows = (
            list(
                (
                    await connection.execute(select(_batches).where(_batches.c.id.in_(batch_ids)))
                ).mappings()
            )
            if batch_ids
            else []
        )
        trees: dict[int, tuple[MerkleTree, int]] = {}
        for batch in batch_rows:
            leaves = (
                await connection.execute(
                    select(_records.c.record_hash)
                    .where(
                        _records.c.instance == batch["instance"],
                        _records.c.batch_id == batch["id"],
                    )
                    .order_by(_records.c.seq)
                )
            ).scalars()
            trees[batch["id"]] = (
                MerkleTree([bytes.fromhex(leaf) for leaf in leaves]),
                batch["first_seq"],
            )

    records = []
    for row in rows:
        batch_id = row["batch_id"]
        index = proof = None
        if batch_id is not None:
            tree, first_seq = trees[batch_id]
            index = row["seq"] - first_seq
            proof = tree.inclusion_proof(index)
        records.append(
            BundleRecord(
                content=_content_of(row),
                record_hash=row["record_hash"],
                body=row["body"] if include_bodies else None,
                batch=batch_id,
                index=index,
                proof=proof,
            )
        )
    batches = [
        BundleBatch(
            id=batch["id"],
            instance=batch["instance"],
            first_seq=batch["first_seq"],
            last_seq=batch["last_seq"],
            size=batch["size"],
            root=bytes.fromhex(batch["root"]),
            timestamp_token=batch["timestamp_token"],
            timestamped_at=batch["timestamped_at"],
        )
        for batch in batch_rows
    ]
    covers: Coverage = (
        message_coverage(covered, [message_id])
        if message_id is not None
        else range_coverage(record.key for record in covered)
    )
    return build_bundle(
        records,
        batches,
        covers=covers,
        certificates=certificates,
        exported_at=now or utc_now(),
        gateway_id=gateway_id,
    )


def _covered(row: RowMapping) -> CoveredRecord:
    return CoveredRecord(
        RecordKey(row["gateway"], row["instance"], row["seq"]),
        row["message_id"],
        row["kind"],
        row["side"],
    )


async def _whole_runs(connection: AsyncConnection, rows: Sequence[RowMapping]) -> list[RowMapping]:
    """Every record of each instance from the first to the last seq among ``rows``: a time
    range's records, with any record between them whose clock time fell outside the range."""
    bounds: dict[str, tuple[int, int]] = {}
    for row in rows:
        low, high = bounds.get(row["instance"], (row["seq"], row["seq"]))
        bounds[row["instance"]] = (min(low, row["seq"]), max(high, row["seq"]))
    runs: list[RowMapping] = []
    for instance, (low, high) in sorted(bounds.items()):
        runs.extend(
            (
                await connection.execute(
                    select(_records)
                    .where(_records.c.instance == instance, _records.c.seq.between(low, high))
                    .order_by(_records.c.seq)
                )
            ).mappings()
        )
    return runs


def _exchange_of(row: RowMapping) -> tuple[str | None, str, str, str]:
    return (row["gateway"], row["instance"], row["side"], row["message_id"])


async def _missing_requests(
    connection: AsyncConnection, rows: Sequence[RowMapping]
) -> list[RowMapping]:
    """The request records of exported responses whose request is not exported yet."""
    have = {_exchange_of(r) for r in rows if r["kind"] == "request"}
    wanted = {
        _exchange_of(r) for r in rows if r["kind"] == "response" and _exchange_of(r) not in have
    }
    if not wanted:
        return []
    found = (
        await connection.execute(
            select(_records).where(
                _records.c.kind == "request",
                _records.c.message_id.in_(sorted({key[3] for key in wanted})),
            )
        )
    ).mappings()
    return [row for row in found if _exchange_of(row) in wanted]
