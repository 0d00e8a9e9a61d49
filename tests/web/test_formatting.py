"""The one date formatter and the message catalogue: Jalali dates with Persian digits on Persian
pages, Gregorian ones on English pages, Tehran time across midnight UTC, weeks from Saturday."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.core.persian import from_jalali
from zistboom.web.formatting import DateFormatter, iranian_week, iranian_weekday, tehran_time
from zistboom.web.i18n import EN, FA, Catalogue

CATALOGUE = Catalogue.load()
FA_DATES = DateFormatter(FA, CATALOGUE)
EN_DATES = DateFormatter(EN, CATALOGUE)
ASCII_DIGIT = re.compile(r"[0-9]")

# Written out here rather than taken from core.persian, so a wrong table there fails this test.
MONTHS_FA = (
    "فروردین اردیبهشت خرداد تیر مرداد شهریور مهر آبان آذر دی بهمن اسفند".split()  # noqa: SIM905
)


def test_a_persian_date_is_jalali_with_persian_digits() -> None:
    assert FA_DATES.day(date(2025, 8, 6)) == "۱۵ مرداد ۱۴۰۴"
    assert FA_DATES.day(date(2025, 8, 6), style="short") == "۱۴۰۴/۰۵/۱۵"
    assert FA_DATES.digits("IR0012345678") == "IR۰۰۱۲۳۴۵۶۷۸"
    assert FA_DATES.digits(147.5) == "۱۴۷٫۵" and FA_DATES.digits(50.0) == "۵۰"
    assert EN_DATES.digits(147.5) == "147.5" and EN_DATES.digits(50.0) == "50"


def test_an_english_date_is_gregorian_unless_jalali_is_asked_for() -> None:
    assert EN_DATES.day(date(2025, 8, 6)) == "6 August 2025"
    assert EN_DATES.day(date(2025, 8, 6), style="short") == "2025-08-06"
    assert EN_DATES.day(date(2025, 8, 6), calendar="jalali") == "15 Mordad 1404"
    assert EN_DATES.digits(1404) == "1404"


@pytest.mark.parametrize("month", range(1, 13))
def test_each_jalali_month_has_its_persian_name(month: int) -> None:
    first_day = from_jalali(1403, month, 1)
    assert FA_DATES.day(first_day) == f"۱ {MONTHS_FA[month - 1]} ۱۴۰۳"


def test_a_moment_is_shown_in_tehran_time_across_midnight_utc() -> None:
    # 21:00 UTC on 20 March 2025 is 00:30 on 21 March in Tehran: Nowruz, 1 Farvardin 1404,
    # while the UTC date is still the last day of 1403.
    nowruz = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)
    assert FA_DATES.moment(nowruz) == "۱ فروردین ۱۴۰۴، ساعت ۰۰:۳۰"
    assert EN_DATES.moment(nowruz) == "21 March 2025, 00:30 Tehran time"
    assert FA_DATES.weekday(nowruz) == "جمعه"
    before = nowruz - timedelta(minutes=31)
    assert FA_DATES.moment(before) == "۳۰ اسفند ۱۴۰۳، ساعت ۲۳:۵۹"
    assert FA_DATES.day(before, style="short") == "۱۴۰۳/۱۲/۳۰"
    # The same moment given in another zone is the same Tehran time.
    assert FA_DATES.moment(nowruz.astimezone(timezone(timedelta(hours=-5)))) == (
        "۱ فروردین ۱۴۰۴، ساعت ۰۰:۳۰"
    )


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        FA_DATES.moment(datetime(2025, 3, 20, 21, 0))
    with pytest.raises(ValidationError, match="no time zone"):
        tehran_time(datetime(2025, 3, 20, 21, 0))


def test_an_iranian_week_runs_from_saturday_to_friday() -> None:
    friday = date(2025, 3, 21)
    assert iranian_week(friday) == (date(2025, 3, 15), date(2025, 3, 21))
    assert iranian_weekday(date(2025, 3, 15)) == 0
    assert [FA_DATES.weekday(date(2025, 3, 15) + timedelta(days=n)) for n in range(7)] == [
        "شنبه",
        "یکشنبه",
        "دوشنبه",
        "سه‌شنبه",
        "چهارشنبه",
        "پنجشنبه",
        "جمعه",
    ]
    assert EN_DATES.weekday(date(2025, 3, 15)) == "Saturday"


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2500, 1, 1)))
def test_persian_output_never_has_an_ascii_digit(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    for text in (FA_DATES.moment(aware), FA_DATES.day(aware, style="short")):
        assert not ASCII_DIGIT.search(text), text
    assert ASCII_DIGIT.search(EN_DATES.moment(aware))


def test_the_catalogues_have_the_same_keys_and_refuse_unknown_ones() -> None:
    assert "calendar.moment" in CATALOGUE.keys()  # noqa: SIM118
    assert CATALOGUE.text(FA, "document.status_entry", list="a", index=3) == (
        "فهرست وضعیت a، شماره 3"
    )
    with pytest.raises(ConfigurationError, match=r"no message 'nothing\.here'"):
        CATALOGUE.text(FA, "nothing.here")
    with pytest.raises(ConfigurationError, match="cannot be filled"):
        CATALOGUE.text(EN, "document.status_entry", list="a")
    with pytest.raises(ConfigurationError, match=r"only.in (fa|en)"):
        Catalogue({"fa": {"a": "الف", "b": "ب"}, "en": {"a": "A"}})
