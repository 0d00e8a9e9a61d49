"""Handing tasks over to agencies as reliable messages (ZB-STD-009) through the operator's
gateway, and following them to the agency.

The task is in the window's database from the submission on; this worker, in every window
process, submits each task due for hand-over to ``/messages/v1/{agency's inbox}/{task service}``
with the task's id as ``Idempotency-Key`` (a submission repeated after a crash is the same
message), then follows the message's status resource: ``received`` (the agency's gateway gave
its signed receipt) and ``delivered`` (the agency's system has it) go on the timeline, and the
person is told. A replica claims a task by moving its ``next_attempt_at`` forward (a lease)
before it calls the gateway, so two replicas do not call for the same task at once."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.identifiers import ServiceId
from zistboom.window.applications import repository, rounds, service
from zistboom.window.applications.models import Application, Task
from zistboom.window.settings import WindowSettings

log = logging.getLogger("zistboom.window.handover")

LEASE: Final = timedelta(seconds=30)
BATCH: Final = 50
MAX_BACKOFF_SECONDS: Final = 300.0
TASK_MEDIA_TYPE: Final = "application/json"
REACHED: Final = {"received": 2, "delivered": 3, "processed": 4, "rejected": 4}


async def payload_of(session: AsyncSession, task: Task, settings: WindowSettings) -> dict[str, Any]:
    """What the agency receives: the application, the consented data with its sources, what
    the person typed (self-declared), the form, and the documents shared with it."""
    application = await session.get_one(Application, task.application_id)
    definition = service.definition_of(application)
    reads = {read.id: read for read in await repository.reads_of(session, application.id)}
    data = []
    for item in await repository.items_of(session, application.id):
        read = reads.get(item.read_id) if item.read_id is not None else None
        if item.choice == "confirmed" and read is not None and item.value_json is not None:
            data.append({
                "registry": item.registry_service, "field": item.field,
                "value": json.loads(item.value_json), "self_declared": False,
                "source": {"agency": str(ServiceId.parse(item.registry_service).subsystem.member),
                           "read_at": read.at.isoformat(), "message_id": read.message_id,
                           "record": read.record_key, "purpose": read.purpose},
            })  # fmt: skip
        else:
            data.append({
                "registry": item.registry_service, "field": item.field,
                "value": item.typed_value, "self_declared": True, "source": None,
            })  # fmt: skip
    hub = settings.hub_lockers_service.rsplit("/", 1)[0] if settings.hub_lockers_service else None
    shares = [
        {"document_type": share.document_type, "share_id": share.share_id,
         "service": f"{hub}/shared-documents" if hub else None,
         "path": f"/shares/{share.share_id}/document", "purpose": share.purpose,
         "expires_at": share.expires_at.isoformat()}
        for share in await repository.shares_of(session, application.id)
    ]  # fmt: skip
    return {
        "type": "zistboom.window.task",
        "version": 1,
        "task": {"id": task.id, "step": task.step_key, "agency": task.agency,
                 "due_at": task.due_at.isoformat() if task.due_at else None},
        "application": {
            "id": application.id, "tracking_code": application.tracking_code,
            "service": {"agency": application.agency, "code": application.service_code,
                        "name_fa": definition.name_fa, "name_en": definition.name_en},
            "applicant": application.subject,
            "submitted_at": _iso(application.submitted_at),
            "purpose": service.purpose(application),
        },
        "data": data,
        "form": application.form_values,
        "shares": shares,
    }  # fmt: skip


class HandoverWorker:
    """Submits and follows hand-overs until stopped."""

    def __init__(
        self,
        settings: WindowSettings,
        sessions: async_sessionmaker[AsyncSession],
        exchange: httpx.AsyncClient,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.exchange = exchange
        self.clock = clock

    async def run(self) -> None:
        await rounds.run_rounds(self.tick, self.settings.handover_poll_seconds, "hand-over")

    async def tick(self) -> bool:
        """One round; True when it had a full batch (more may be waiting)."""
        now = self.clock()
        async with transaction(self.sessions) as session:
            due = await repository.due_handovers(session, now, BATCH)
            claimed = [
                (task.id, task.handover_state)
                for task in await rounds.claim(session, Task, due, now, LEASE)
            ]
        await asyncio.gather(*(self._one(task_id, state) for task_id, state in claimed))
        return len(due) == BATCH

    async def _one(self, task_id: str, state: str) -> None:
        if state == "queued":
            await self._submit(task_id)
        else:
            await self._follow(task_id)

    def _destination(self, task: Task, inbox: str) -> str:
        return f"{task.agency}/{inbox}/{self.settings.task_service_code}"

    async def _submit(self, task_id: str) -> None:
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            agencies = await repository.agencies(session, [task.agency])
            inbox = agencies[task.agency].inbox_subsystem if task.agency in agencies else None
            if inbox is None:
                task.handover_state = "no-inbox"
                task.next_attempt_at = None
                return
            body = json.dumps(await payload_of(session, task, self.settings), ensure_ascii=False)
            application = await session.get_one(Application, task.application_id)
            user = application.subject
            purpose = service.purpose(application)
        destination = self._destination(task, inbox)
        headers = {
            "X-Road-Client": self.settings.subsystem_id,
            "Idempotency-Key": task_id,
            "Content-Type": TASK_MEDIA_TYPE,
            "X-Road-UserId": user,
            "X-Road-Purpose": purpose,
        }
        try:
            answer = await self.exchange.post(
                f"/messages/v1/{destination}", content=body.encode(), headers=headers
            )
        except httpx.HTTPError as error:
            await self._retry(task_id, f"the gateway did not answer ({type(error).__name__})")
            return
        if answer.status_code != 202:
            error_type = answer.headers.get("X-Road-Error", "")
            reason = f"{answer.status_code} {error_type}: {answer.text[:300]}"
            final = answer.status_code in (400, 403, 404, 409, 413, 422)
            await self._retry(task_id, reason, final=final)
            return
        message_id = str(answer.json().get("id"))
        now = self.clock()
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            task.handover_state = "submitted"
            task.message_id = message_id
            task.attempts += 1
            task.last_error = None
            task.next_attempt_at = now + timedelta(seconds=self.settings.handover_poll_seconds)
            task.updated_at = now
            application = await session.get_one(Application, task.application_id)
            await service.add_event(
                session, application, "task-sent", now, agency=task.agency,
                step_key=task.step_key, detail={"message_id": message_id}, notify=False,
            )  # fmt: skip
        log.info("task handed over", extra={"task": task_id, "message_id": message_id})

    async def _follow(self, task_id: str) -> None:
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            message_id = task.message_id
        try:
            answer = await self.exchange.get(
                f"/messages/v1/outbox/{message_id}",
                headers={"X-Road-Client": self.settings.subsystem_id},
            )
        except httpx.HTTPError as error:
            await self._later(task_id, f"the gateway did not answer ({type(error).__name__})")
            return
        if answer.status_code != 200:
            await self._later(task_id, f"{answer.status_code}: {answer.text[:300]}")
            return
        status = answer.json()
        now = self.clock()
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            application = await session.get_one(Application, task.application_id)
            reached = REACHED.get(str(status.get("status")), 0)
            if reached >= REACHED["received"] and task.handover_state == "submitted":
                task.handover_state = "received"
                await service.add_event(
                    session, application, "task-received", _at(status, "received_at", now),
                    agency=task.agency, step_key=task.step_key,
                )  # fmt: skip
            if reached >= REACHED["delivered"] and task.handover_state == "received":
                task.handover_state = "delivered"
                await service.add_event(
                    session, application, "task-delivered", _at(status, "delivered_at", now),
                    agency=task.agency, step_key=task.step_key, notify=False,
                )  # fmt: skip
            if status.get("status") in ("failed", "cancelled"):
                task.handover_state = "failed"
                task.last_error = str(status.get("reason"))
                await service.add_event(
                    session, application, "task-failed", now, agency=task.agency,
                    step_key=task.step_key, detail={"reason": status.get("reason")}, notify=False,
                )  # fmt: skip
            task.updated_at = now
            following = task.handover_state in ("submitted", "received")
            task.next_attempt_at = (
                now + timedelta(seconds=self.settings.handover_poll_seconds) if following else None
            )

    async def _retry(self, task_id: str, reason: str, *, final: bool = False) -> None:
        now = self.clock()
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            task.attempts += 1
            task.last_error = reason
            task.updated_at = now
            if final:
                task.handover_state = "failed"
                task.next_attempt_at = None
                application = await session.get_one(Application, task.application_id)
                await service.add_event(
                    session, application, "task-failed", now, agency=task.agency,
                    step_key=task.step_key, detail={"reason": reason}, notify=False,
                )  # fmt: skip
            else:
                task.next_attempt_at = now + _backoff(task.attempts)
        log.warning("hand-over not accepted", extra={"task": task_id, "reason": reason})

    async def _later(self, task_id: str, reason: str) -> None:
        now = self.clock()
        async with transaction(self.sessions) as session:
            task = await session.get_one(Task, task_id)
            task.last_error = reason
            task.next_attempt_at = now + _backoff(2)


def _backoff(attempts: int) -> timedelta:
    seconds = min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 10))
    return timedelta(seconds=seconds * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)


def _at(status: dict[str, Any], name: str, default: datetime) -> datetime:
    value = status.get(name)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return default
    return default


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
