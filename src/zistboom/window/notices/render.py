"""Writing a notice to a person: its subject, plain text, HTML and SMS text, in Persian or
English, from the message catalogues ``notices/messages/{fa,en}.yaml`` and the HTML template
``notices/templates/notice.html``. Moments go through the web layer's one formatter (Jalali in
Tehran time with Persian digits on a Persian notice).

What an SMS may say is fixed here, not left to the catalogue: its message is filled with the
tracking code, the service's name and the status only, so a catalogue line that asked for more
(the agency, the link, the agency's note) is a ConfigurationError rather than a leak. A subject
gets the same three."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from zistboom.core.errors import ValidationError
from zistboom.web.formatting import DateFormatter, tehran_time
from zistboom.web.i18n import Catalogue, Locale, LocaleCode, locale_named
from zistboom.window.tracking import format_tracking_code, normalise_tracking_code

MESSAGE_SOURCES: Final = (
    ("zistboom.web", "messages"),
    ("zistboom.window.notices", "messages"),
)
STATUS_PREFIX: Final = "notice.status."
DECISIONS: Final = frozenset({"approved", "rejected"})


class NoticeKind(enum.Enum):
    """What happened to an application that a person is told of."""

    SUBMITTED = "submitted"
    TASK_RECEIVED = "task-received"
    MORE_INFORMATION_REQUESTED = "more-information-requested"
    ANSWERED = "answered"
    DECIDED = "decided"
    DOCUMENT_ISSUED = "document-issued"
    STATUS_CHANGED = "status-changed"


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice tells, in both languages where a name has two; ``status`` is a key of
    ``notice.status`` in the catalogue, ``at`` an aware moment (UTC), ``reasons`` the agency's
    note as its official wrote it (shown in either language as written)."""

    tracking_code: str
    service_name_fa: str
    service_name_en: str
    agency_name_fa: str
    agency_name_en: str
    status: str
    at: datetime
    link: str
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        normalise_tracking_code(self.tracking_code)  # a ValidationError naming the code
        tehran_time(self.at)  # refuses a naive moment
        if not self.link.startswith(("https://", "http://")):
            raise ValidationError(
                f"a notice's link is an http(s) address; {self.link!r} is not", field="link"
            )

    def service_name(self, locale: Locale) -> str:
        return self.service_name_fa if locale.code == "fa" else self.service_name_en

    def agency_name(self, locale: Locale) -> str:
        return self.agency_name_fa if locale.code == "fa" else self.agency_name_en


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    """A notice written in one language: the e-mail's subject, text and HTML, and the SMS."""

    locale: LocaleCode
    subject: str
    text: str
    html: str
    sms: str


@dataclass(frozen=True, slots=True)
class _Parts:
    """What the HTML template is given (the same lines the text is made of)."""

    locale: LocaleCode
    direction: str
    subject: str
    greeting: str
    body: str
    facts: tuple[str, ...]
    reasons_label: str
    reasons: tuple[str, ...]
    link: str
    link_label: str
    footer: str


class NoticeRenderer:
    """The catalogues and the template, loaded once; keep one and render every notice with it."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or Catalogue.merged(MESSAGE_SOURCES)
        known = self.catalogue.keys()  # a Catalogue is not itself iterable
        self.statuses = frozenset(
            key.removeprefix(STATUS_PREFIX) for key in known if key.startswith(STATUS_PREFIX)
        )
        self._templates = Environment(
            loader=PackageLoader("zistboom.window.notices", "templates"),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            auto_reload=False,
        )

    def render(self, kind: NoticeKind, locale: str, facts: NoticeFacts) -> RenderedNotice:
        """The notice of ``kind`` in ``locale`` (``fa`` or ``en``) telling ``facts``."""
        language = locale_named(locale)
        if language is None:
            raise ValidationError(
                f"notices are written in fa or en, not {locale!r}", field="locale"
            )
        self._check(kind, facts)
        text = self.catalogue.text
        formatter = DateFormatter(language, self.catalogue)
        status = text(language, STATUS_PREFIX + facts.status)
        code = formatter.digits(format_tracking_code(facts.tracking_code))
        service = facts.service_name(language)
        agency = facts.agency_name(language)
        at = formatter.moment(facts.at)
        prefix = f"notice.kind.{kind.value}."
        parts = _Parts(
            locale=language.code,
            direction=language.direction,
            subject=text(
                language, prefix + "subject", tracking_code=code, service=service, status=status
            ),
            greeting=text(language, "notice.greeting"),
            body=text(
                language,
                prefix + "body",
                tracking_code=code,
                service=service,
                status=status,
                agency=agency,
                at=at,
                link=facts.link,
            ),
            facts=(
                text(language, "notice.facts.tracking_code", tracking_code=code),
                text(language, "notice.facts.service", service=service),
                text(language, "notice.facts.agency", agency=agency),
                text(language, "notice.facts.status", status=status),
                text(language, "notice.facts.at", at=at),
            ),
            reasons_label=text(language, "notice.reasons"),
            reasons=facts.reasons,
            link=facts.link,
            link_label=text(language, "notice.link_label"),
            footer=text(language, "notice.footer"),
        )
        # ASCII digits, ungrouped: a phone offers to copy a plain number.
        sms = text(
            language,
            prefix + "sms",
            tracking_code=facts.tracking_code,
            service=service,
            status=status,
        )
        return RenderedNotice(
            locale=language.code,
            subject=parts.subject,
            text=_plain_text(parts, text(language, "notice.link", link=facts.link)),
            html=self._templates.get_template("notice.html").render(notice=parts),
            sms=sms,
        )

    def _check(self, kind: NoticeKind, facts: NoticeFacts) -> None:
        if facts.status not in self.statuses:
            raise ValidationError(
                f"no notice status {facts.status!r}; the catalogue has "
                + ", ".join(sorted(self.statuses)),
                field="status",
            )
        if kind is NoticeKind.DECIDED and facts.status not in DECISIONS:
            raise ValidationError(
                f"a decision is approved or rejected, not {facts.status!r}", field="status"
            )


def _plain_text(parts: _Parts, link_line: str) -> str:
    lines = [parts.greeting, "", parts.body, "", *parts.facts, ""]
    if parts.reasons:
        lines += [parts.reasons_label, *(f"- {reason}" for reason in parts.reasons), ""]
    lines += [link_line, "", parts.footer]
    return "\n".join(lines) + "\n"


def render_notice(kind: NoticeKind, locale: str, facts: NoticeFacts) -> RenderedNotice:
    """One notice, loading the catalogues for it; for many, keep a :class:`NoticeRenderer`."""
    return NoticeRenderer().render(kind, locale, facts)
