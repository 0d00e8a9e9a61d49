"""The window's notices to people about their applications: ``render`` writes one in Persian
or English (subject, text, HTML, SMS) from the catalogues in ``messages/``; ``sender`` sends it
by e-mail or SMS through ``core/notify.py``. The durable outbox that decides when to send and
retries is the caller's."""

from zistboom.window.notices.render import (
    NoticeFacts,
    NoticeKind,
    NoticeRenderer,
    RenderedNotice,
    render_notice,
)
from zistboom.window.notices.sender import NoticeNotSent, NoticeSender

__all__ = [
    "NoticeFacts",
    "NoticeKind",
    "NoticeNotSent",
    "NoticeRenderer",
    "NoticeSender",
    "RenderedNotice",
    "render_notice",
]
