"""The tracking code (کد رهگیری) of an application: what a person is given on submitting, reads
to a clerk over the phone and types to look the application up.

A code is 21 ASCII digits: 20 random ones, the first of them 1-9 (so the length never changes
and no leading zero is lost where the code is taken for a number), then one Verhoeff check
digit. The random part has 9 × 10^19 values, more than 2^66, so a code is not guessed.

Verhoeff, not Luhn: Luhn misses the adjacent swap 09 ↔ 90, while Verhoeff's dihedral-group
check catches every single-digit error and every adjacent transposition with one digit, where
ISO 7064 MOD 97-10 needs two. The arithmetic is python-stdnum's (``stdnum.verhoeff``); this
module owns the form of the code and what is refused.
"""

from __future__ import annotations

import random
import re
import secrets
from typing import Final

from stdnum import verhoeff

from zistboom.core.errors import ValidationError
from zistboom.core.persian import normalize_text

RANDOM_DIGITS: Final = 20
LENGTH: Final = RANDOM_DIGITS + 1
GROUPS: Final = (4, 4, 4, 4, 5)
FIELD: Final = "tracking_code"

# What people type between groups: spaces (normalize_text folds every kind into " "), and
# hyphen-minus, the Unicode hyphens and dashes, the minus sign and their full-width forms.
_SEPARATORS: Final = re.compile("[ \\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_DIGITS: Final = re.compile("[0-9]+")


def new_tracking_code(rng: random.Random | None = None) -> str:
    """A new code from ``rng`` (by default the operating system's random source, through
    ``secrets``; a seeded ``random.Random`` only in tests)."""
    source = rng or secrets.SystemRandom()
    body = str(source.randrange(10 ** (RANDOM_DIGITS - 1), 10**RANDOM_DIGITS))
    return body + verhoeff.calc_check_digit(body)


def normalise_tracking_code(text: str) -> str:
    """The code in ``text`` as typed by a person (Persian or Arabic-Indic digits, spaces,
    dashes, invisible direction marks from a copied page) in its stored form, 21 ASCII digits;
    a ValidationError saying what is wrong when it is no tracking code."""
    cleaned = _SEPARATORS.sub("", normalize_text(text))
    if not cleaned:
        raise ValidationError("the tracking code is empty: type the 21 digits", field=FIELD)
    if not _DIGITS.fullmatch(cleaned):
        raise ValidationError(
            "a tracking code has only digits (and spaces or dashes between groups); "
            f"{text!r} has other characters",
            field=FIELD,
        )
    if len(cleaned) != LENGTH:
        raise ValidationError(
            f"a tracking code has {LENGTH} digits; {text!r} has {len(cleaned)}", field=FIELD
        )
    if cleaned[0] == "0" or not verhoeff.is_valid(cleaned):
        raise ValidationError(
            f"{text!r} is no tracking code: a digit is mistyped or two are swapped", field=FIELD
        )
    return cleaned


def is_valid_tracking_code(text: str) -> bool:
    """Whether ``text`` (as typed, see :func:`normalise_tracking_code`) is a tracking code."""
    try:
        normalise_tracking_code(text)
    except ValidationError:
        return False
    return True


def format_tracking_code(code: str, separator: str = "-") -> str:
    """The code in groups for reading, ``1234-5678-9012-3456-78901``, in ASCII digits (a
    Persian page converts them with its digits)."""
    digits = normalise_tracking_code(code)
    groups: list[str] = []
    start = 0
    for size in GROUPS:
        groups.append(digits[start : start + size])
        start += size
    return separator.join(groups)
