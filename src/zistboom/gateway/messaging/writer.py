"""Group commit for the message path. Every write of a message's way through a gateway (its
submission, claims, receipts, retries, the inbox with its duplicates, pushes, delivery and its
notice) is an operation queued to one task that owns one database connection; the task commits
everything queued so far in one transaction, each kind of operation in one or a few statements
for the whole group. A busy gateway pays a commit, and a statement per kind, for a group of
messages rather than several transactions per message; an idle one commits each operation at
once, as before.

Operations in one group were all in progress together (none had returned to its caller), so any
order between them is one they could have run in: the group runs them kind by kind, in the
order the handlers are given. A handler decides an operation's outcome in Python (``done``, or
``refuse`` with an error for that operation alone, changing nothing for it); a statement that
fails rolls the whole group back, and its operations are then run again one at a time, so that
one bad operation fails alone. Results reach the callers only after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from zistboom.core.database import utc_now

log = logging.getLogger("zistboom.gateway.messaging")

# Operations of one transaction at most (a statement's IN lists are chunked further below).
MAX_GROUP = 512


@dataclass(slots=True, eq=False)
class Op:
    kind: str
    args: Any
    future: asyncio.Future[Any]


@dataclass(slots=True)
class Group:
    """The transaction of one group: its time, the transitions its handlers recorded, and the
    outcome of each operation."""

    now: datetime
    transitions: list[dict[str, Any]] = field(default_factory=list)
    results: dict[Op, Any] = field(default_factory=dict)
    errors: dict[Op, BaseException] = field(default_factory=dict)

    def transition(self, box: str, message_id: str, status: str, detail: str | None = None) -> None:
        self.transitions.append(
            {
                "box": box,
                "message_id": message_id,
                "status": status,
                "at": self.now,
                "detail": detail,
            }
        )

    def done(self, op: Op, value: Any = None) -> None:
        self.results[op] = value

    def refuse(self, op: Op, error: BaseException) -> None:
        self.errors[op] = error


Handler = Callable[[AsyncConnection, list[Op], Group], Awaitable[None]]


class GroupWriter:
    """One connection of ``engine`` and one task committing queued operations in groups. It
    starts with the first operation and stops with :meth:`close`."""

    def __init__(
        self, engine: AsyncEngine, handlers: Mapping[str, Handler], transitions: Table
    ) -> None:
        self.engine = engine
        self.handlers = dict(handlers)
        self.transitions = transitions
        self._queue: deque[Op] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connection: AsyncConnection | None = None
        self._closed = False
        self.groups = 0
        self.operations = 0

    async def call(self, kind: str, args: Any) -> Any:
        if self._closed:
            raise RuntimeError("the message store is closed")
        if kind not in self.handlers:
            raise ValueError(f"no handler for {kind!r}")
        loop = asyncio.get_running_loop()
        op = Op(kind, args, loop.create_future())
        self._queue.append(op)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="messages-writer")
        self._wake.set()
        return await op.future

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue:
            op = self._queue.popleft()
            if not op.future.done():
                op.future.set_exception(RuntimeError("the message store was closed"))
        await self._discard()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                count = min(len(self._queue), MAX_GROUP)
                ops = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._commit(ops)
                except asyncio.CancelledError:
                    for op in ops:
                        if not op.future.done():
                            op.future.set_exception(RuntimeError("the message store was closed"))
                    raise

    async def _commit(self, ops: list[Op]) -> None:
        try:
            group = await self._transaction(ops)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if len(ops) > 1:
                log.debug(
                    "a group of %d message operations failed (%s): one at a time", len(ops), error
                )
                for op in ops:
                    await self._commit([op])
                return
            [op] = ops
            if not op.future.done():
                op.future.set_exception(error)
            return
        self.groups += 1
        self.operations += len(ops)
        for op in ops:
            if op.future.done():  # the caller was cancelled; the work is committed all the same
                continue
            if op in group.errors:
                op.future.set_exception(group.errors[op])
            else:
                op.future.set_result(group.results.get(op))

    async def _transaction(self, ops: list[Op]) -> Group:
        if self._connection is None or self._connection.closed:
            self._connection = await self.engine.connect()
        connection = self._connection
        group = Group(utc_now())
        by_kind: dict[str, list[Op]] = {}
        for op in ops:
            by_kind.setdefault(op.kind, []).append(op)
        try:
            async with connection.begin():
                for kind, handler in self.handlers.items():
                    if kind in by_kind:
                        await handler(connection, by_kind[kind], group)
                if group.transitions:
                    await connection.execute(insert(self.transitions), group.transitions)
        except BaseException:
            # The connection may be broken; a new one serves the next group.
            await self._discard()
            raise
        return group

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
