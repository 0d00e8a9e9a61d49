"""Sending the notices the timeline queued (``service.add_event``): a worker in every window
process takes the notices that are due, renders each in the person's language
(``window/notices``) and sends it by e-mail or SMS; a notice that could not be sent is tried
again later, and given up after ``MAX_ATTEMPTS`` with its last error kept. A notice is claimed
(its ``next_attempt_at`` moved forward) before it is sent, so two replicas do not send it
twice at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError
from zistboom.window.applications import repository, rounds, service
from zistboom.window.applications.models import Application, Notice, TimelineEvent
from zistboom.window.notices.render import NoticeFacts, NoticeKind, NoticeRenderer
from zistboom.window.notices.sender import NoticeNotSent, NoticeSender
from zistboom.window.settings import WindowSettings

log = logging.getLogger("zistboom.window.notices")

BATCH: Final = 50
LEASE: Final = timedelta(seconds=60)
MAX_ATTEMPTS: Final = 10


def kind_of(event_kind: str) -> NoticeKind:
    try:
        return NoticeKind(event_kind)
    except ValueError:
        return NoticeKind("status-changed")


async def facts_of(
    session: AsyncSession, application: Application, event: TimelineEvent, base_url: str
) -> NoticeFacts:
    definition = service.definition_of(application)
    agency = event.agency or application.agency
    names = await repository.agencies(session, [agency])
    found = names.get(agency)
    return NoticeFacts(
        tracking_code=application.tracking_code,
        service_name_fa=definition.name_fa,
        service_name_en=definition.name_en,
        agency_name_fa=found.name_fa if found else agency,
        agency_name_en=found.name_en if found else agency,
        status=application.state,
        at=event.at,
        link=f"{base_url}/applications/{application.id}",
        reasons=tuple(str(reason) for reason in event.detail.get("reasons", ())),
    )


class NoticeWorker:
    """Sends due notices until stopped."""

    def __init__(
        self,
        settings: WindowSettings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        sender: NoticeSender | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.sender = sender or NoticeSender(settings)
        self.renderer = NoticeRenderer()

    async def run(self) -> None:
        await rounds.run_rounds(self.tick, self.settings.handover_poll_seconds, "notice")

    async def tick(self) -> bool:
        now = self.clock()
        async with transaction(self.sessions) as session:
            due = await repository.due_notices(session, now, BATCH)
            claimed = [n.id for n in await rounds.claim(session, Notice, due, now, LEASE)]
        await asyncio.gather(*(self._send(notice_id) for notice_id in claimed))
        return len(due) == BATCH

    async def _send(self, notice_id: int) -> None:
        async with transaction(self.sessions) as session:
            notice = await session.get_one(Notice, notice_id)
            application = await session.get_one(Application, notice.application_id)
            event = await session.get_one(TimelineEvent, notice.event_id)
            facts = await facts_of(session, application, event, self.settings.base_url)
            channel, address, locale, kind = (
                notice.channel,
                notice.address,
                notice.locale,
                notice.kind,
            )
        error: str | None = None
        permanent = False
        try:
            rendered = self.renderer.render(kind_of(kind), locale, facts)
            if channel == "email" and not self.settings.smtp_host:
                error, permanent = "no SMTP server is configured (ZB_SMTP_HOST)", True
            elif channel == "email":
                await self.sender.send_email(address, rendered)
            else:
                await self.sender.send_sms(address, rendered)
        except NoticeNotSent as failure:
            error, permanent = failure.detail, failure.permanent
        except ZistboomError as failure:  # a notice that cannot be rendered is not retried
            error, permanent = failure.detail, True
        now = self.clock()
        async with transaction(self.sessions) as session:
            notice = await session.get_one(Notice, notice_id)
            notice.attempts += 1
            if error is None:
                notice.state = "sent"
                notice.sent_at = now
                notice.last_error = None
            else:
                notice.last_error = error
                if permanent or notice.attempts >= MAX_ATTEMPTS:
                    notice.state = "failed"
                else:
                    wait = self.settings.notice_retry_seconds * min(2 ** (notice.attempts - 1), 64)
                    notice.next_attempt_at = now + timedelta(seconds=wait)
        if error is not None:
            log.warning("notice not sent", extra={"notice": notice_id, "channel": channel})
