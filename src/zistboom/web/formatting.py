"""The one date formatter of every person-facing page and document, over ``core/persian.py``.

Moments are shown in Asia/Tehran time: an aware datetime is converted before its date is taken,
so 2025-03-20T21:00Z is shown as 1 Farvardin 1404, 00:30 (Tehran is UTC+03:30), not as the UTC
date. A naive datetime is refused rather than guessed at. Persian pages use the Jalali calendar
and Persian digits; English ones use the Gregorian calendar unless asked for the Jalali one (the
English half of a document shows Gregorian dates beside the Persian half's Jalali ones). An
Iranian week runs from Saturday to Friday. Calendar arithmetic is jdatetime's, through
``core/persian.py``; the words (month and weekday names, the "at" of a time) are the catalogue's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from zistboom.core.errors import ValidationError
from zistboom.core.persian import (
    JALALI_MONTHS_EN,
    JALALI_MONTHS_FA,
    format_jalali,
    to_jalali_iso,
    to_persian_digits,
)
from zistboom.web.i18n import Catalogue, Locale

TEHRAN: Final = ZoneInfo("Asia/Tehran")
PERSIAN_DECIMAL_SEPARATOR: Final = "\u066b"  # ARABIC DECIMAL SEPARATOR, as Persian writes it

Calendar = Literal["jalali", "gregorian"]
Style = Literal["long", "short"]

# Python's weekday() counts from Monday; an Iranian week counts from Saturday.
_DAYS_AFTER_SATURDAY: Final = 2


def tehran_time(moment: datetime) -> datetime:
    """``moment`` in Asia/Tehran time; a naive datetime is refused (its zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            f"{moment.isoformat()} has no time zone; give an aware datetime (UTC) to be shown "
            "in Tehran time",
            field="moment",
        )
    return moment.astimezone(TEHRAN)


def iranian_weekday(day: date) -> int:
    """0 for Saturday (the first day of an Iranian week) to 6 for Friday."""
    return (day.weekday() + _DAYS_AFTER_SATURDAY) % 7


def iranian_week(day: date) -> tuple[date, date]:
    """The Saturday that starts ``day``'s week and the Friday that ends it."""
    start = day - timedelta(days=iranian_weekday(day))
    return start, start + timedelta(days=6)


class DateFormatter:
    """Dates, moments and numbers as one locale shows them."""

    def __init__(self, locale: Locale, catalogue: Catalogue) -> None:
        self.locale = locale
        self._catalogue = catalogue

    def digits(self, value: object) -> str:
        """``value`` as text, with Persian digits (and the Persian decimal separator, ٫) on a
        Persian page; a whole float loses its ``.0``."""
        if isinstance(value, float):
            text = repr(value).removesuffix(".0")
            if self.locale.persian_digits:
                text = text.replace(".", PERSIAN_DECIMAL_SEPARATOR)
        else:
            text = str(value)
        return to_persian_digits(text) if self.locale.persian_digits else text

    def day(
        self, value: date | datetime, *, style: Style = "long", calendar: Calendar | None = None
    ) -> str:
        """A day: ``۱ فروردین ۱۴۰۴`` / ``21 March 2025`` (long) or ``۱۴۰۴/۰۱/۰۱`` /
        ``2025-03-21`` (short). A datetime is taken in Tehran time first."""
        day = _day_of(value)
        chosen = calendar or ("jalali" if self.locale.code == "fa" else "gregorian")
        if chosen == "jalali":
            if style == "short":
                return format_jalali(day, persian_digits=self.locale.persian_digits)
            year, month, day_of_month = (int(part) for part in to_jalali_iso(day).split("-"))
            months = JALALI_MONTHS_FA if self.locale.code == "fa" else JALALI_MONTHS_EN
            return self.digits(f"{day_of_month} {months[month - 1]} {year}")
        if style == "short":
            return self.digits(day.isoformat())
        month_name = self._catalogue.text(self.locale, f"calendar.gregorian.{day.month}")
        return self.digits(f"{day.day} {month_name} {day.year}")

    def time(self, moment: datetime) -> str:
        """The Tehran time of day, ``۰۰:۳۰``."""
        local = tehran_time(moment)
        return self.digits(f"{local.hour:02d}:{local.minute:02d}")

    def moment(
        self, moment: datetime, *, style: Style = "long", calendar: Calendar | None = None
    ) -> str:
        """A moment with its Tehran date and time: ``۱ فروردین ۱۴۰۴، ساعت ۰۰:۳۰``."""
        return self._catalogue.text(
            self.locale,
            "calendar.moment",
            date=self.day(tehran_time(moment), style=style, calendar=calendar),
            time=self.time(moment),
        )

    def weekday(self, value: date | datetime) -> str:
        """The weekday's name (a datetime's in Tehran time)."""
        return self._catalogue.text(
            self.locale, f"calendar.weekday.{iranian_weekday(_day_of(value))}"
        )


def _day_of(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return tehran_time(value).date()
    return value
