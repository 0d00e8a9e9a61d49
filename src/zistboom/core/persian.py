"""Persian text and the Jalali calendar: digit conversion, text normalisation, and the one
formatter and parser that every date shown to (or typed by) a person goes through.

Calendar arithmetic is delegated to jdatetime (its leap-year rule matches the official
calendar: 1403 is a leap year, 1404 is not). This module only adds the platform's textual forms
on top of it and turns jdatetime's ``ValueError`` into a precise :class:`ValidationError`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Final, Literal

import jdatetime

from zistboom.core.errors import ValidationError

ASCII_DIGITS: Final = "0123456789"
PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9 (Extended Arabic-Indic)
ARABIC_INDIC_DIGITS: Final = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669

JALALI_MONTHS_FA: Final = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
JALALI_MONTHS_EN: Final = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)

_TO_ASCII: Final = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, ASCII_DIGITS * 2)
_TO_PERSIAN: Final = str.maketrans(ASCII_DIGITS + ARABIC_INDIC_DIGITS, PERSIAN_DIGITS * 2)

ZWNJ: Final = "\u200c"

# The last Jalali year jdatetime (and Python's date, which ends in 9999) can represent.
JALALI_MAX_YEAR: Final = 9377

# Characters normalize_text deletes outright: invisible format/bidi controls other than ZWNJ,
# the kashida (tatweel) and the eight Arabic harakat.
_DELETED: Final = frozenset(
    [
        "\u00ad",  # soft hyphen
        "\u061c",  # Arabic letter mark
        "\u0640",  # kashida / tatweel
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u2060",  # word joiner
        "\ufeff",  # zero-width no-break space / BOM
        *(chr(c) for c in range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
        *(chr(c) for c in range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
        *(chr(c) for c in range(0x064B, 0x0653)),  # fathatan .. sukun (harakat, shadda)
    ]
)
_DELETE_TABLE: Final = {ord(c): None for c in _DELETED}
# The same characters as the body of a regex character class (alike in Python, ECMA-262 and
# Rust), for documents that state which texts normalize_text leaves something of.
DELETED_CHARACTERS: Final = "".join(f"\\u{ord(c):04x}" for c in sorted(_DELETED))

_LETTER_MAP: Final = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> keheh (Persian kaf)
    }
)

_ZWNJ_RUN: Final = re.compile(ZWNJ + "{2,}")

_JALALI_DATE: Final = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")

DigitsMode = Literal["ascii", "keep"]


def normalize_digits(text: str) -> str:
    """Replace Persian (۰-۹) and Arabic-Indic (٠-٩) digits with ASCII; nothing else changes."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    """Replace ASCII and Arabic-Indic digits with Persian digits (۰-۹); nothing else changes."""
    return text.translate(_TO_PERSIAN)


def normalize_text(text: str, *, digits: DigitsMode = "ascii") -> str:
    """Normalise a short Persian text field (name, title, address) for storage and comparison.

    The rules, applied in this order:

    1. Delete invisible controls: zero-width space (U+200B), zero-width joiner (U+200D),
       word joiner (U+2060), BOM (U+FEFF), soft hyphen (U+00AD), the direction marks LRM/RLM
       (U+200E/U+200F) and the Arabic letter mark (U+061C), the bidi embeddings, overrides and
       isolates (U+202A..U+202E, U+2066..U+2069). ZWNJ (U+200C) is *not* deleted here.
    2. Delete the kashida (U+0640) and the Arabic harakat U+064B..U+0652 (tanwin, fatha, damma,
       kasra, shadda, sukun). Maddah and hamza above/below (U+0653..U+0655) are kept: they are
       part of letters such as آ, أ, ؤ, ئ and the ezafe mark of ۀ.
    3. Unicode NFC, so a decomposed ا + U+0653 becomes آ and ي + U+0654 becomes ئ.
    4. Letters: Arabic yeh ي (U+064A) and alef maksura ى (U+0649) become Persian yeh ی (U+06CC);
       Arabic kaf ك (U+0643) becomes keheh ک (U+06A9). Teh marbuta ة is *kept*: in Persian it
       marks Arabic loanwords whose spelling is legitimately different (e.g. «دائرةالمعارف»),
       so folding it into ه would merge distinct spellings.
    5. Digits: with ``digits="ascii"`` Persian and Arabic-Indic digits become ASCII; with
       ``digits="keep"`` they are left as written.
    6. ZWNJ: runs of ZWNJ become one; a ZWNJ is kept only between two letters (the character
       before it, ignoring combining marks, and the one after it are Unicode letters); ZWNJ next
       to a space, a digit, punctuation, or at either end is dropped.
    7. Whitespace: every run of Unicode whitespace (including newlines and no-break spaces)
       becomes one ASCII space, and the ends are stripped. This function is therefore for
       single-line fields, not for multi-paragraph text.
    8. Unicode NFC again, because dropping a ZWNJ can put a combining mark next to a base it
       composes with.

    Arabic presentation forms (U+FB50..U+FEFF) are not folded: that would need NFKC, which also
    rewrites unrelated characters. The result is idempotent: ``normalize_text(normalize_text(t))
    == normalize_text(t)``.
    """
    text = text.translate(_DELETE_TABLE)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_LETTER_MAP)
    if digits == "ascii":
        text = normalize_digits(text)
    text = _place_zwnj(text)
    text = " ".join(text.split())
    return unicodedata.normalize("NFC", text)


def _place_zwnj(text: str) -> str:
    text = _ZWNJ_RUN.sub(ZWNJ, text)
    if ZWNJ not in text:
        return text
    kept: list[str] = []
    for index, char in enumerate(text):
        if char != ZWNJ or (_letter_before(text, index) and _is_letter(text, index + 1)):
            kept.append(char)
    return "".join(kept)


def _letter_before(text: str, index: int) -> bool:
    # Skip combining marks back to the base character they sit on.
    position = index - 1
    while position >= 0 and unicodedata.category(text[position]).startswith("M"):
        position -= 1
    return _is_letter(text, position)


def _is_letter(text: str, position: int) -> bool:
    return 0 <= position < len(text) and unicodedata.category(text[position]).startswith("L")


# --- Jalali calendar -------------------------------------------------------------------------


def _jalali_parts(d: date) -> tuple[int, int, int]:
    day = d.date() if isinstance(d, datetime) else d
    j = jdatetime.date.fromgregorian(date=day)
    return int(j.year), int(j.month), int(j.day)


def is_jalali_leap_year(year: int) -> bool:
    """Whether the Jalali ``year`` has 366 days (Esfand has 30 days)."""
    if not 1 <= year <= JALALI_MAX_YEAR:
        raise ValidationError(
            f"Jalali year {year} is out of range 1..{JALALI_MAX_YEAR}", field="date"
        )
    return bool(jdatetime.date(year, 1, 1).isleap())


def jalali_month_length(year: int, month: int) -> int:
    """Days in a Jalali month: 31 for months 1-6, 30 for 7-11, and 29 or 30 for Esfand."""
    if not 1 <= month <= 12:
        raise ValidationError(
            f"month {month} is out of range: a Jalali month is 1..12", field="date"
        )
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_jalali_leap_year(year) else 29


def from_jalali(year: int, month: int, day: int, *, field: str = "date") -> date:
    """The Gregorian date of Jalali ``year/month/day``; ValidationError when it does not exist."""
    shown = f"{year:04d}/{month:02d}/{day:02d}"
    if not 1 <= year <= JALALI_MAX_YEAR:
        raise ValidationError(
            f"year {year} in '{shown}' is out of range 1..{JALALI_MAX_YEAR}", field=field
        )
    if not 1 <= month <= 12:
        raise ValidationError(
            f"month {month} is out of range in '{shown}': a Jalali month is 1..12", field=field
        )
    length = jalali_month_length(year, month)
    if not 1 <= day <= length:
        reason = f"{JALALI_MONTHS_EN[month - 1]} {year} has {length} days"
        if month == 12:
            leap = "a leap year" if is_jalali_leap_year(year) else "not a leap year"
            reason += f" ({year} is {leap})"
        raise ValidationError(f"day {day} is out of range in '{shown}': {reason}", field=field)
    gregorian = jdatetime.date(year, month, day).togregorian()
    return date(int(gregorian.year), int(gregorian.month), int(gregorian.day))


def parse_jalali(text: str, *, field: str = "date") -> date:
    """Parse a Jalali date typed as ``YYYY/MM/DD`` or ``YYYY-MM-DD`` into a Gregorian date.

    Persian and Arabic-Indic digits are accepted, month and day may have one or two digits,
    surrounding whitespace is ignored, and the two separators must be the same.
    """
    cleaned = normalize_digits(text.strip())
    match = _JALALI_DATE.fullmatch(cleaned)
    if match is None:
        raise ValidationError(
            f"'{text}' is not a Jalali date: expected YYYY/MM/DD or YYYY-MM-DD, e.g. 1404/05/15",
            field=field,
        )
    year, month, day = int(match[1]), int(match[3]), int(match[4])
    return from_jalali(year, month, day, field=field)


def to_jalali_iso(d: date) -> str:
    """The Jalali date in ISO-like form with ASCII digits: ``1404-05-15``."""
    year, month, day = _jalali_parts(d)
    return f"{year:04d}-{month:02d}-{day:02d}"


def format_jalali(d: date, *, persian_digits: bool = True, with_time: bool = False) -> str:
    """The short Jalali form shown to people: ``۱۴۰۴/۰۵/۱۵`` (with ``with_time``: ``… ۱۴:۳۰``).

    The time is shown as it is in ``d``: convert an aware datetime to Asia/Tehran first.
    """
    year, month, day = _jalali_parts(d)
    text = f"{year:04d}/{month:02d}/{day:02d}"
    if with_time:
        if not isinstance(d, datetime):
            raise ValidationError(
                "with_time=True needs a datetime, got a date without a time", field="date"
            )
        text += f" {d.hour:02d}:{d.minute:02d}"
    return to_persian_digits(text) if persian_digits else text


def format_jalali_long(d: date, *, persian_digits: bool = True) -> str:
    """The long Jalali form: ``۱۵ مرداد ۱۴۰۴`` (day without a leading zero, Persian month name)."""
    year, month, day = _jalali_parts(d)
    text = f"{day} {JALALI_MONTHS_FA[month - 1]} {year}"
    return to_persian_digits(text) if persian_digits else text


def add_jalali_months(d: date, months: int) -> date:
    """Add (or, when negative, subtract) whole Jalali months, clamping the day to the month.

    1404-05-15 + 6 months is 1404-11-15; 1404-06-31 + 1 month is 1404-07-30.
    """
    year, month, day = _jalali_parts(d)
    new_year, month_index = divmod(year * 12 + (month - 1) + months, 12)
    new_month = month_index + 1
    new_day = min(day, jalali_month_length(new_year, new_month))
    return from_jalali(new_year, new_month, new_day)
