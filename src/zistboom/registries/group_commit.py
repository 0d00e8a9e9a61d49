"""Reads that log personal-data usage, carried out in shared transactions (group commit).

Every read of a personal record writes its usage entries in the same transaction as the answer
is produced, and the answer leaves only after that transaction commits. One transaction per read
costs a BEGIN, a COMMIT and a session each; here the reads waiting at a moment share one: the
writer takes up to ``max_batch`` jobs, runs them one after the other in one transaction, writes
their usage entries with one INSERT, commits, and only then hands each its answer (or its
error). A job that fails (a 404, a bad body) keeps none of its usage entries and the others
commit as they are; a failure of the transaction itself fails every job of the batch, none of
which has answered.
Measured with ``bench/registries.py``: see the issue's note for the figures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError
from zistboom.registries import repository

T = TypeVar("T")
Job = Callable[[AsyncSession], Awaitable[Any]]
log = logging.getLogger("zistboom.registries.group_commit")


class GroupCommit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 64) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="registry-group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self, job: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """The job's result once its transaction has committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            async with transaction(self._sessions) as session:
                session.info[repository.USAGE_BUFFER] = []
                for job, future in batch:
                    buffered = len(session.info[repository.USAGE_BUFFER])
                    try:
                        outcomes.append((future, await job(session), None))
                    except ZistboomError as error:
                        # Nothing of a failed job is written (its usage rows included).
                        del session.info[repository.USAGE_BUFFER][buffered:]
                        outcomes.append((future, None, error))
                await repository.flush_usage(session)
        except Exception as error:  # the transaction failed: no job of it answers
            log.exception("a group of %d reads failed to commit", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value, refusal in outcomes:
            if future.done():  # its request went away meanwhile
                continue
            if refusal is not None:
                future.set_exception(refusal)
            else:
                future.set_result(value)
