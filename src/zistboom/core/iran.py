"""Iranian identifiers: validation, canonical forms, check digits, and synthetic generators.

Each ``validate_*`` function normalises its input (Persian and Arabic-Indic digits to ASCII,
surrounding whitespace removed, plus the per-identifier rules in its docstring), checks it, and
returns the canonical string; on failure it raises :class:`ValidationError` naming the field and
saying exactly what is wrong. ``is_valid_*`` are boolean wrappers. ``generate_*`` produce valid
synthetic values for demo and test data from a caller-supplied :class:`random.Random`.

No library covering these national rules with precise error messages was available, so the
checks (each a few lines of arithmetic) are written here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Final

from zistboom.core.errors import ValidationError
from zistboom.core.persian import normalize_digits

NATIONAL_CODE_LENGTH: Final = 10
LEGAL_ENTITY_ID_LENGTH: Final = 11
POSTAL_CODE_LENGTH: Final = 10
IBAN_LENGTH: Final = 26
IBAN_COUNTRY: Final = "IR"
# The foreign nationals' identifier has no published rule: it is opaque, and these bounds only
# keep obviously broken input out. The registry is the source of truth.
FOREIGN_NATIONAL_ID_MIN_LENGTH: Final = 6
FOREIGN_NATIONAL_ID_MAX_LENGTH: Final = 16

_LEGAL_ENTITY_WEIGHTS: Final = (29, 27, 23, 19, 17)
_DIGITS: Final = re.compile(r"[0-9]+")
_POSTAL_FIRST_FIVE_REFUSED: Final = frozenset("02")


def _shown(value: object) -> str:
    # Quote input in messages, but never echo an oversized input back whole.
    text = repr(value)
    return text if len(text) <= 120 else f"{text[:100]}… ({len(text)} characters)"


def _cleaned(value: str) -> str:
    return normalize_digits(value.strip())


def _first_non_digit(value: str) -> str | None:
    return next((char for char in value if char not in "0123456789"), None)


def _require_digits(value: str, *, label: str, field: str) -> None:
    if not value:
        raise ValidationError(f"{label} is empty", field=field)
    bad = _first_non_digit(value)
    if bad is not None:
        raise ValidationError(
            f"{label} may contain only digits, found {_shown(bad)} in {_shown(value)}", field=field
        )


# --- National code (کد ملی) ------------------------------------------------------------------


def national_code_check_digit(first9: str) -> int:
    """The check digit for the first nine digits of a national code.

    ``s = Σ d[i]·(10−i)`` for i = 0..8 and ``r = s mod 11``; the check digit is ``r`` when
    ``r < 2`` and ``11 − r`` otherwise.
    """
    if len(first9) != 9 or not _DIGITS.fullmatch(first9):
        raise ValidationError(
            f"expected nine ASCII digits, got {_shown(first9)}", field="national_code"
        )
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(first9)) % 11
    return remainder if remainder < 2 else 11 - remainder


def validate_national_code(value: str, *, field: str = "national_code") -> str:
    """A person's 10-digit national code (کد ملی), canonical with ASCII digits.

    Legacy values of 8 or 9 digits (leading zeros dropped) are padded with zeros to 10. Only
    surrounding whitespace is ignored: inner spaces or dashes are refused. Ten equal digits are
    refused even though some of them pass the checksum.
    """
    code = _cleaned(value)
    _require_digits(code, label="national code", field=field)
    if len(code) in (8, 9):
        code = code.zfill(NATIONAL_CODE_LENGTH)
    if len(code) != NATIONAL_CODE_LENGTH:
        raise ValidationError(
            f"national code must have 10 digits (8 or 9 are padded with leading zeros), "
            f"got {len(code)} digits: {_shown(code)}",
            field=field,
        )
    if len(set(code)) == 1:
        raise ValidationError(
            f"national code {_shown(code)} is refused: all ten digits are equal", field=field
        )
    expected = national_code_check_digit(code[:9])
    if int(code[9]) != expected:
        raise ValidationError(
            f"national code {_shown(code)} has a wrong check digit: "
            f"expected {expected}, got {code[9]}",
            field=field,
        )
    return code


def generate_national_code(rng: random.Random) -> str:
    """A random national code that :func:`validate_national_code` accepts."""
    # No retry loops in the generators: a seeded or Hypothesis-driven Random may keep
    # returning the same value, so rule-breaking draws are repaired instead of redrawn.
    body = [rng.choice("0123456789") for _ in range(9)]
    if len(set(body)) == 1:
        body[0] = str((int(body[0]) + 1) % 10)
    first9 = "".join(body)
    return first9 + str(national_code_check_digit(first9))


# --- Legal-entity national ID (شناسه ملی) ----------------------------------------------------


def legal_entity_check_digit(first10: str) -> int:
    """The check digit for the first ten digits of a legal-entity national ID.

    ``k = d[9] + 2``; ``s = Σ (d[i] + k)·w[i mod 5]`` for i = 0..9 with weights 29, 27, 23, 19,
    17; ``r = s mod 11``, and 0 when ``r`` is 10.
    """
    if len(first10) != 10 or not _DIGITS.fullmatch(first10):
        raise ValidationError(
            f"expected ten ASCII digits, got {_shown(first10)}", field="legal_entity_id"
        )
    k = int(first10[9]) + 2
    total = sum((int(digit) + k) * _LEGAL_ENTITY_WEIGHTS[i % 5] for i, digit in enumerate(first10))
    remainder = total % 11
    return 0 if remainder == 10 else remainder


def validate_legal_entity_id(value: str, *, field: str = "legal_entity_id") -> str:
    """An organisation's 11-digit legal-entity national ID (شناسه ملی), canonical ASCII digits.

    Refused besides a wrong check digit: the all-zero number, and numbers whose digits 3..8
    (counting from 0) are all zero. Only surrounding whitespace is ignored.
    """
    code = _cleaned(value)
    _require_digits(code, label="legal-entity ID", field=field)
    if len(code) != LEGAL_ENTITY_ID_LENGTH:
        raise ValidationError(
            f"legal-entity ID must have 11 digits, got {len(code)} digits: {_shown(code)}",
            field=field,
        )
    if code[3:9] == "000000":
        raise ValidationError(
            f"legal-entity ID {_shown(code)} is refused: its fourth to ninth digits are all zero",
            field=field,
        )
    expected = legal_entity_check_digit(code[:10])
    if int(code[10]) != expected:
        raise ValidationError(
            f"legal-entity ID {_shown(code)} has a wrong check digit: "
            f"expected {expected}, got {code[10]}",
            field=field,
        )
    return code


def generate_legal_entity_id(rng: random.Random) -> str:
    """A random legal-entity ID that :func:`validate_legal_entity_id` accepts."""
    body = [rng.choice("0123456789") for _ in range(10)]
    if body[3:9] == ["0"] * 6:
        body[3] = rng.choice("123456789")
    first10 = "".join(body)
    return first10 + str(legal_entity_check_digit(first10))


# --- Postal code (کد پستی) -------------------------------------------------------------------


def validate_postal_code(value: str, *, field: str = "postal_code") -> str:
    """A 10-digit postal code, canonical without the dash.

    Accepted written forms: ``1234567890`` and ``12345-67890`` (one dash after the fifth digit).
    The shape rules (no 0 or 2 among the first five digits, fifth digit not 5, first four
    digits not all equal) are only a pre-filter: a code that passes may still not exist; the
    national address registry is the source of truth.
    """
    code = _cleaned(value)
    if len(code) == 11 and code[5] == "-":
        code = code[:5] + code[6:]
    _require_digits(code, label="postal code", field=field)
    if len(code) != POSTAL_CODE_LENGTH:
        raise ValidationError(
            f"postal code must have 10 digits, got {len(code)} digits: {_shown(code)}", field=field
        )
    bad = next((d for d in code[:5] if d in _POSTAL_FIRST_FIVE_REFUSED), None)
    if bad is not None:
        raise ValidationError(
            f"postal code {_shown(code)} is refused: the first five digits may not contain {bad}",
            field=field,
        )
    if code[4] == "5":
        raise ValidationError(
            f"postal code {_shown(code)} is refused: the fifth digit may not be 5", field=field
        )
    if len(set(code[:4])) == 1:
        raise ValidationError(
            f"postal code {_shown(code)} is refused: the first four digits may not all be equal",
            field=field,
        )
    return code


def generate_postal_code(rng: random.Random) -> str:
    """A random postal code that :func:`validate_postal_code` accepts."""
    allowed = "13456789"
    first4 = [rng.choice(allowed) for _ in range(4)]
    if len(set(first4)) == 1:
        first4[3] = rng.choice(allowed.replace(first4[0], ""))
    fifth = rng.choice("1346789")
    rest = "".join(rng.choice("0123456789") for _ in range(5))
    return "".join(first4) + fifth + rest


# --- Mobile number -------------------------------------------------------------------------


def validate_mobile(value: str, *, field: str = "mobile") -> str:
    """An Iranian mobile number, canonical as ``09`` followed by nine digits.

    Accepted written forms: ``09xxxxxxxxx``, ``+989xxxxxxxxx``, ``00989xxxxxxxxx`` and
    ``989xxxxxxxxx``; spaces and dashes between digit groups are ignored.
    """
    number = _cleaned(value).replace(" ", "").replace("-", "")
    if not number:
        raise ValidationError("mobile number is empty", field=field)
    if number.startswith("+") and not number.startswith("+98"):
        raise ValidationError(
            f"mobile number {_shown(value.strip())} must start with 09, +989, 00989 or 989",
            field=field,
        )
    if number.startswith("+98"):
        national = "0" + number[3:]
    elif number.startswith("0098"):
        national = "0" + number[4:]
    elif number.startswith("98") and len(number) == 12:
        national = "0" + number[2:]
    else:
        national = number
    _require_digits(national, label="mobile number", field=field)
    if not national.startswith("09"):
        raise ValidationError(
            f"mobile number {_shown(value.strip())} must start with 09, +989, 00989 or 989",
            field=field,
        )
    if len(national) != 11:
        raise ValidationError(
            f"mobile number must be 09 followed by 9 digits, got {len(national) - 2} digits "
            f"after 09 in {_shown(value.strip())}",
            field=field,
        )
    return national


def generate_mobile(rng: random.Random) -> str:
    """A random mobile number in canonical form (``09`` + nine digits)."""
    return "09" + "".join(rng.choice("0123456789") for _ in range(9))


# --- IBAN (شبا) ------------------------------------------------------------------------------


def _iban_number(rearranged: str) -> int:
    # ISO 13616: letters become two-digit numbers, A=10 .. Z=35.
    return int("".join(str(int(char, 36)) for char in rearranged))


def iban_check_digits(bban: str, country: str = IBAN_COUNTRY) -> str:
    """The two ISO 13616 check digits for ``country`` and ``bban`` (mod 97-10)."""
    if not re.fullmatch(r"[A-Z]{2}", country) or not re.fullmatch(r"[0-9A-Z]+", bban):
        raise ValidationError(
            f"cannot compute IBAN check digits for country {_shown(country)} "
            f"and BBAN {_shown(bban)}",
            field="iban",
        )
    return f"{98 - _iban_number(bban + country + '00') % 97:02d}"


def validate_iban(value: str, *, field: str = "iban") -> str:
    """An Iranian IBAN (شبا), canonical as 26 characters: ``IR``, two check digits, 22 digits.

    Whitespace anywhere is removed (IBANs are usually written in groups of four) and letters
    are upper-cased before the checks; the check is ISO 13616 mod 97 == 1.
    """
    iban = "".join(normalize_digits(value).split()).upper()
    if not iban:
        raise ValidationError("IBAN is empty", field=field)
    if not iban.startswith(IBAN_COUNTRY):
        raise ValidationError(
            f"IBAN must start with {IBAN_COUNTRY} (only Iranian IBANs are accepted), "
            f"got {_shown(iban[:2])}",
            field=field,
        )
    bad = _first_non_digit(iban[2:])
    if bad is not None:
        raise ValidationError(
            f"IBAN may contain only digits after {IBAN_COUNTRY}, "
            f"found {_shown(bad)} in {_shown(iban)}",
            field=field,
        )
    if len(iban) != IBAN_LENGTH:
        raise ValidationError(
            f"IBAN must have 26 characters (IR and 24 digits), got {len(iban)}: {_shown(iban)}",
            field=field,
        )
    if _iban_number(iban[4:] + iban[:4]) % 97 != 1:
        expected = iban_check_digits(iban[4:], IBAN_COUNTRY)
        raise ValidationError(
            f"IBAN {_shown(iban)} has wrong check digits: expected {expected}, got {iban[2:4]}",
            field=field,
        )
    return iban


def generate_iban(rng: random.Random, bank_code: str | None = None) -> str:
    """A random Iranian IBAN that :func:`validate_iban` accepts.

    ``bank_code`` is the three-digit bank identifier that follows the check digits (for
    example ``"017"``); a random one is used when it is None.
    """
    if bank_code is None:
        bank_code = "0" + "".join(rng.choice("0123456789") for _ in range(2))
    elif not re.fullmatch(r"[0-9]{3}", bank_code):
        raise ValidationError(
            f"bank code must be three ASCII digits, got {_shown(bank_code)}", field="bank_code"
        )
    bban = bank_code + "".join(rng.choice("0123456789") for _ in range(19))
    return IBAN_COUNTRY + iban_check_digits(bban) + bban


# --- Foreign nationals' identifier (شناسه فراگیر اتباع خارجی) ---------------------------------


def validate_foreign_national_id(value: str, *, field: str = "foreign_national_id") -> str:
    """A foreign national's identifier: opaque, 6 to 16 digits, leading zeros significant.

    No public check rule is known, so only the shape is checked; the foreign nationals registry
    is the source of truth. Only surrounding whitespace is ignored.
    """
    number = _cleaned(value)
    _require_digits(number, label="foreign national ID", field=field)
    if not FOREIGN_NATIONAL_ID_MIN_LENGTH <= len(number) <= FOREIGN_NATIONAL_ID_MAX_LENGTH:
        raise ValidationError(
            f"foreign national ID must have {FOREIGN_NATIONAL_ID_MIN_LENGTH} to "
            f"{FOREIGN_NATIONAL_ID_MAX_LENGTH} digits, got {len(number)} digits: {_shown(number)}",
            field=field,
        )
    return number


def generate_foreign_national_id(rng: random.Random) -> str:
    """A random 12-digit foreign national ID (first digit not zero)."""
    return rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(11))


# --- Boolean variants ------------------------------------------------------------------------


def _accepts(validator: Callable[[str], str], value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def is_valid_national_code(value: str) -> bool:
    return _accepts(validate_national_code, value)


def is_valid_legal_entity_id(value: str) -> bool:
    return _accepts(validate_legal_entity_id, value)


def is_valid_postal_code(value: str) -> bool:
    return _accepts(validate_postal_code, value)


def is_valid_mobile(value: str) -> bool:
    return _accepts(validate_mobile, value)


def is_valid_iban(value: str) -> bool:
    return _accepts(validate_iban, value)


def is_valid_foreign_national_id(value: str) -> bool:
    return _accepts(validate_foreign_national_id, value)
