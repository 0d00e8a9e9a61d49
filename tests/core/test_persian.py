"""Persian digits, text normalisation and the Jalali calendar."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zistboom.core.errors import ValidationError
from zistboom.core.persian import (
    ARABIC_INDIC_DIGITS,
    JALALI_MONTHS_EN,
    JALALI_MONTHS_FA,
    PERSIAN_DIGITS,
    add_jalali_months,
    format_jalali,
    format_jalali_long,
    from_jalali,
    is_jalali_leap_year,
    jalali_month_length,
    normalize_digits,
    normalize_text,
    parse_jalali,
    to_jalali_iso,
    to_persian_digits,
)

ZWNJ = "\u200c"
DIRECTIVE = date(2025, 8, 6)  # 1404-05-15

# --- Digits ----------------------------------------------------------------------------------


def test_digit_conversion() -> None:
    assert normalize_digits("۱۴۰۴/۰۵/۱۵ و ٠١٢٣٤٥٦٧٨٩") == "1404/05/15 و 0123456789"
    assert to_persian_digits("1404/05/15 ٣") == "۱۴۰۴/۰۵/۱۵ ۳"
    assert normalize_digits("abc") == "abc"


@given(st.text(alphabet="0123456789" + PERSIAN_DIGITS + ARABIC_INDIC_DIGITS + "ab/ "))
def test_digit_conversions_agree(text: str) -> None:
    ascii_form = normalize_digits(text)
    assert not set(ascii_form) & set(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS)
    assert normalize_digits(to_persian_digits(text)) == ascii_form
    assert to_persian_digits(ascii_form) == to_persian_digits(text)


# --- normalize_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كتاب", "کتاب"),  # Arabic kaf
        ("دائرة", "دائرة"),  # teh marbuta kept
        ("ســـلام", "سلام"),  # kashida
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("كِتابٌ", "کتاب"),  # tanwin
        ("ا\u0653ب", "آب"),  # decomposed maddah composes
        ("مسي\u0654له", "مسئله"),  # yeh + hamza above composes to ئ before yeh folding
        ("خانه\u0654", "خانه\u0654"),  # hamza above kept (ezafe)
        ("می" + ZWNJ + ZWNJ + ZWNJ + "خواهم", "می" + ZWNJ + "خواهم"),  # runs become one
        ("می" + ZWNJ + " خواهم", "می خواهم"),  # next to a space
        (ZWNJ + "سلام" + ZWNJ, "سلام"),  # at the ends
        ("۱۲" + ZWNJ + "تا", "12تا"),  # not between letters
        ("سلام\u200bدنیا", "سلامدنیا"),  # zero-width space
        ("سلام\u200dدنیا", "سلامدنیا"),  # zero-width joiner
        ("\u200fسلام\u200e", "سلام"),  # RLM / LRM
        ("\u202bسلام\u202c", "سلام"),  # embedding
        ("\u2067سلام\u2069", "سلام"),  # isolate
        ("\ufeffسلام", "سلام"),  # BOM
        ("  سلام \n\t دنیا\u00a0 ", "سلام دنیا"),  # whitespace
        ("کد ۱۲۳ و ٤٥٦", "کد 123 و 456"),  # digits to ASCII
        ("ها" + ZWNJ + "\u200b" + ZWNJ + "ی", "ها" + ZWNJ + "ی"),  # run after ZWSP removal
    ],
)
def test_normalize_text_rules(raw: str, normalised: str) -> None:
    assert normalize_text(raw) == normalised


def test_normalize_text_can_keep_digits() -> None:
    assert normalize_text("كد ۱۲۳ و ٤٥٦", digits="keep") == "کد ۱۲۳ و ٤٥٦"


def test_normalize_text_recomposes_after_dropping_a_zwnj() -> None:
    # The ZWNJ is dropped (no letter after it), which puts ا next to the maddah: NFC again.
    assert normalize_text("ا" + ZWNJ + "\u0653") == "آ"


TRICKY = (
    "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيىكةئؤأإآۀ"
    "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0653\u0654\u0655\u0670"
    "\u0640\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u2060\ufeff\u061c\u00ad\u00a0"
    " \t\n=<>\u0338\u0301e.-" + PERSIAN_DIGITS + ARABIC_INDIC_DIGITS + "0123456789"
)


@given(st.text(alphabet=TRICKY, max_size=40))
def test_normalize_text_is_idempotent_on_persian_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    kept = normalize_text(text, digits="keep")
    assert normalize_text(kept, digits="keep") == kept


@given(st.text())
def test_normalize_text_is_idempotent_on_any_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text(alphabet=TRICKY, max_size=40))
def test_normalize_text_output_invariants(text: str) -> None:
    result = normalize_text(text)
    assert result == result.strip()
    assert "  " not in result
    assert result == unicodedata.normalize("NFC", result)
    assert not set(result) & set("يىك\u0640\u200b\u200d\u200e\u200f\ufeff\u064e\u0651")
    assert not set(result) & set(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS)
    for index, char in enumerate(result):
        if char == ZWNJ:
            assert 0 < index < len(result) - 1
            assert unicodedata.category(result[index + 1]).startswith("L")


# --- Jalali: the programme's dates -----------------------------------------------------------


def test_directive_date() -> None:
    assert to_jalali_iso(DIRECTIVE) == "1404-05-15"
    assert parse_jalali("1404/05/15") == DIRECTIVE


def test_six_months_after_the_directive() -> None:
    later = add_jalali_months(DIRECTIVE, 6)
    assert later == date(2026, 2, 4)
    assert to_jalali_iso(later) == "1404-11-15"


def test_nine_months_after_the_directive() -> None:
    later = add_jalali_months(DIRECTIVE, 9)
    assert later == date(2026, 5, 5)
    assert to_jalali_iso(later) == "1405-02-15"


def test_last_day_of_1404() -> None:
    assert parse_jalali("1404/12/29") == date(2026, 3, 20)
    assert to_jalali_iso(date(2026, 3, 21)) == "1405-01-01"


def test_leap_years() -> None:
    assert not is_jalali_leap_year(1404)
    assert is_jalali_leap_year(1403)
    assert jalali_month_length(1404, 12) == 29
    assert jalali_month_length(1403, 12) == 30
    assert [jalali_month_length(1404, m) for m in range(1, 12)] == [31] * 6 + [30] * 5
    assert parse_jalali("1403/12/30") == date(2025, 3, 20)


# --- Jalali: formatting and parsing ----------------------------------------------------------


def test_format_jalali() -> None:
    assert format_jalali(DIRECTIVE) == "۱۴۰۴/۰۵/۱۵"
    assert format_jalali(DIRECTIVE, persian_digits=False) == "1404/05/15"
    moment = datetime(2025, 8, 6, 14, 5, 59)
    assert format_jalali(moment) == "۱۴۰۴/۰۵/۱۵"
    assert format_jalali(moment, with_time=True) == "۱۴۰۴/۰۵/۱۵ ۱۴:۰۵"
    assert format_jalali(moment, with_time=True, persian_digits=False) == "1404/05/15 14:05"


def test_format_jalali_with_time_needs_a_datetime() -> None:
    with pytest.raises(ValidationError, match="needs a datetime"):
        format_jalali(DIRECTIVE, with_time=True)


def test_format_jalali_long() -> None:
    assert format_jalali_long(DIRECTIVE) == "۱۵ مرداد ۱۴۰۴"
    assert format_jalali_long(date(2025, 3, 21), persian_digits=False) == "1 فروردین 1404"


def test_month_names() -> None:
    assert len(JALALI_MONTHS_FA) == len(JALALI_MONTHS_EN) == 12
    assert JALALI_MONTHS_EN[0] == "Farvardin"
    assert JALALI_MONTHS_EN[4] == "Mordad"
    assert JALALI_MONTHS_EN[11] == "Esfand"
    assert JALALI_MONTHS_FA[4] == "مرداد"
    assert JALALI_MONTHS_FA[11] == "اسفند"


@pytest.mark.parametrize(
    "written",
    ["1404/05/15", "1404-05-15", "1404/5/15", " ۱۴۰۴/۰۵/۱۵ ", "١٤٠٤-٠٥-١٥", "۱۴۰۴/۵/۱۵"],
)
def test_parse_jalali_written_forms(written: str) -> None:
    assert parse_jalali(written) == DIRECTIVE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1404/13/01", "month 13 is out of range in '1404/13/01': a Jalali month is 1..12"),
        ("1404/00/01", "month 0 is out of range"),
        ("1404/01/32", "day 32 is out of range in '1404/01/32': Farvardin 1404 has 31 days"),
        ("1404/07/31", "day 31 is out of range in '1404/07/31': Mehr 1404 has 30 days"),
        ("1404/05/00", "day 0 is out of range"),
        (
            "1404/12/30",
            "day 30 is out of range in '1404/12/30': Esfand 1404 has 29 days "
            "(1404 is not a leap year)",
        ),
        ("1404/05-15", "is not a Jalali date: expected YYYY/MM/DD or YYYY-MM-DD"),
        ("04/05/15", "is not a Jalali date"),
        ("1404.05.15", "is not a Jalali date"),
        ("", "is not a Jalali date"),
        ("0000/01/01", "year 0 in '0000/01/01' is out of range 1..9377"),
        ("9999/01/01", "year 9999"),
    ],
)
def test_parse_jalali_refusals(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_jalali(text)
    assert message in caught.value.detail
    assert caught.value.field == "date"


def test_parse_jalali_field_is_passed_through() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_jalali("1404/13/01", field="deadline")
    assert caught.value.field == "deadline"


def test_from_jalali() -> None:
    assert from_jalali(1404, 5, 15) == DIRECTIVE
    with pytest.raises(ValidationError, match="Esfand 1404 has 29 days"):
        from_jalali(1404, 12, 30)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(dates)
def test_jalali_round_trips(d: date) -> None:
    assert parse_jalali(to_jalali_iso(d)) == d
    assert parse_jalali(format_jalali(d)) == d
    assert parse_jalali(format_jalali(d, persian_digits=False)) == d


# --- Month arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("1404-06-31", 1, "1404-07-30"),  # clamped to Mehr's 30 days
        ("1403-12-30", 12, "1404-12-29"),  # leap Esfand to common Esfand
        ("1404-11-30", 1, "1404-12-29"),
        ("1404-05-15", -5, "1403-12-15"),
        ("1404-01-01", -1, "1403-12-01"),
        ("1404-05-15", 0, "1404-05-15"),
        ("1404-05-15", 24, "1406-05-15"),
    ],
)
def test_add_jalali_months(start: str, months: int, end: str) -> None:
    assert to_jalali_iso(add_jalali_months(parse_jalali(start), months)) == end


@given(dates, st.integers(min_value=-240, max_value=240))
def test_add_jalali_months_moves_the_month_and_clamps_the_day(d: date, months: int) -> None:
    year, month, day = (int(part) for part in to_jalali_iso(d).split("-"))
    result = add_jalali_months(d, months)
    new_year, new_month, new_day = (int(part) for part in to_jalali_iso(result).split("-"))
    assert (new_year * 12 + new_month) - (year * 12 + month) == months
    assert new_day == min(day, jalali_month_length(new_year, new_month))
