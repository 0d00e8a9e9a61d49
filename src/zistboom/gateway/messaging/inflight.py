"""The deliveries (to peers, to information systems) a worker has in flight: started as tasks,
counted against the worker's bounds (how many, and how many bytes of bodies they hold),
cancelled together when the gateway stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class InFlight:
    def __init__(self, workers: int, budget_bytes: int) -> None:
        self.workers = workers
        self.budget_bytes = budget_bytes
        self.bytes = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def free(self) -> int:
        """How many more deliveries may start: none while the bodies in flight fill the byte
        budget (the next claim, of up to ``message_batch`` messages, may then overshoot it by
        its own bodies)."""
        if self.bytes >= self.budget_bytes:
            return 0
        return max(0, self.workers - len(self._tasks))

    def start(self, work: Coroutine[Any, Any, None], size: int = 0) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        self.bytes += size

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            self.bytes -= size

        task.add_done_callback(finished)

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
