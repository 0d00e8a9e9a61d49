"""How the national seed numbers its records: the size plan, the per-record pseudo-random draws,
the O(1) bijections from a record's index to its identifier, and the seed's calendar.

Every registry can name the i-th person or the c-th company without a lookup table, because the
identifier is an affine map of the index modulo the identifier's space (the multiplier coprime
to the modulus, so distinct indices give distinct identifiers) followed by the check digit.

The draws are SplitMix64 (Steele, Lea and Flood 2014): one multiply-xorshift hash of (stream,
index). It is used instead of ``random.Random(seed + i)`` because seeding a Mersenne Twister per
record costs about 8 µs, half of the 16 µs budget a record has at 60,000 records/s; and a
stateless hash lets a record recompute a value another record was built from (a block's dead
grandparent, a company's status) in O(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from zistboom.core.errors import ValidationError
from zistboom.core.persian import to_jalali_iso
from zistboom.registries.seed_names import PROVINCES, Province

Record = dict[str, Any]

# The day the seed describes, 1404-07-01: after the directive (1404-05-15), so the ecosystem
# operators exist; nobody is born, dies or registers anything after it.
REFERENCE_DAY: Final = date(2025, 9, 23)
REFERENCE: Final = REFERENCE_DAY.toordinal()
YEAR: Final = 365  # days; the seed's spans need not follow leap years

# Each province as many times as its population weight, so a draw modulo the length picks one
# in proportion to its population.
PROVINCE_SLOTS: Final[tuple[Province, ...]] = tuple(p for p in PROVINCES for _ in range(p.weight))

MASK64: Final = (1 << 64) - 1
GAMMA: Final = 0x9E3779B97F4A7C15

MIN_PERSONS: Final = 1_000
# The ten repeated-digit national codes (refused though they pass the checksum) have preimages
# at or beyond this index under the persons' map, so every index below it gives a valid code.
MAX_PERSONS: Final = 100_000_000

# persons: the first nine digits are (A·i + B) mod 10^9; B puts the demo's person at index 2.
_PERSON_A: Final = 844_463_183
_PERSON_B: Final = 361_010_723
_PERSON_SPACE: Final = 10**9
# companies beyond the fixed entities: the first ten digits come from (A·c + B) mod 9·10^9,
# decoded so that the fourth digit is 1..9 (digits 3..8 are never all zero).
_COMPANY_A: Final = 7_410_774_173
_COMPANY_B: Final = 1_723_358_226
_COMPANY_SPACE: Final = 9 * 10**9
# postal codes: 28,616 valid five-digit prefixes times 10^5 suffixes.
_POSTAL_A: Final = 1_047_298_813
_POSTAL_B: Final = 1_303_097_534
_POSTAL_PREFIXES: Final = (8**4 - 8) * 7
_POSTAL_SPACE: Final = _POSTAL_PREFIXES * 10**5
_POSTAL_DIGITS: Final = "13456789"  # no 0 or 2 among the first five digits
_POSTAL_FIFTH: Final = "1346789"  # ... and the fifth is not 5

NumberKind = Literal[
    "foreign_national_id", "tax_file_number", "insurance_number", "permit_number", "deed_serial"
]
_NUMBER_MAPS: Final[dict[NumberKind, tuple[int, int, int, int]]] = {
    # name: (multiplier, offset, modulus, lowest value); values are lowest + (A·j + B) mod m
    "foreign_national_id": (564_896_869_631, 846_538_763_832, 9 * 10**11, 10**11),
    "tax_file_number": (502_977_701_077, 609_936_477_387, 9 * 10**11, 10**11),
    "insurance_number": (73_657_007_761, 17_676_055_842, 9 * 10**10, 10**10),
    "permit_number": (97_053_177, 93_081_943, 10**8, 0),
    "deed_serial": (18_114_782_522_909, 61_549_821_792_750, 10**14, 0),
}

_LEGAL_ENTITY_WEIGHTS: Final = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def _chunk_weights(weights: tuple[int, int, int]) -> tuple[int, ...]:
    # The weighted digit sum of every three-digit chunk, so a checksum is three table lookups.
    return tuple(
        (t // 100) * weights[0] + (t // 10 % 10) * weights[1] + (t % 10) * weights[2]
        for t in range(1000)
    )


_NC_HIGH: Final = _chunk_weights((10, 9, 8))
_NC_MID: Final = _chunk_weights((7, 6, 5))
_NC_LOW: Final = _chunk_weights((4, 3, 2))
_LE_1: Final = _chunk_weights((29, 27, 23))
_LE_2: Final = _chunk_weights((19, 17, 29))
_LE_3: Final = _chunk_weights((27, 23, 19))
# Σ (d[i] + k)·w = Σ d[i]·w + k·Σ w, with Σ w over the ten positions:
_LE_WEIGHT_SUM: Final = sum(_LEGAL_ENTITY_WEIGHTS)


class Days(dict[int, tuple[str, str]]):
    """Day ordinal → (ISO date, Jalali ISO date), converted once per day: a seed of a million
    persons has only some 30,000 distinct birth days."""

    def __missing__(self, ordinal: int) -> tuple[str, str]:
        day = date.fromordinal(ordinal)
        value = (day.isoformat(), to_jalali_iso(day))
        self[ordinal] = value
        return value


def ordinal(year: int) -> int:
    """The day ordinal of 1 January of ``year``."""
    return date(year, 1, 1).toordinal()


def mix(value: int) -> int:
    """The SplitMix64 finaliser: 64 well-mixed bits from any 64-bit value."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def stream(seed: int, salt: int) -> int:
    """The key of one registry's draws for ``seed``; ``salt`` tells the registries apart."""
    return mix((seed * 0x100000001B3 + salt * GAMMA) & MASK64)


def draw(key: int, index: int) -> int:
    """The 64-bit draw of record ``index`` in the stream ``key``."""
    return mix((key + (index + 1) * GAMMA) & MASK64)


def person_code(index: int) -> str:
    """The national code of person ``index`` (valid, distinct for indices below MAX_PERSONS)."""
    first9 = (_PERSON_A * index + _PERSON_B) % _PERSON_SPACE
    total = _NC_HIGH[first9 // 1_000_000] + _NC_MID[first9 // 1000 % 1000] + _NC_LOW[first9 % 1000]
    remainder = total % 11
    return f"{first9:09d}{remainder if remainder < 2 else 11 - remainder}"


def generated_company_id(index: int) -> str:
    """The legal-entity ID of generated company ``index`` (valid, distinct per index)."""
    k = (_COMPANY_A * index + _COMPANY_B) % _COMPANY_SPACE
    rest, low6 = divmod(k, 1_000_000)
    top, fourth = divmod(rest, 9)
    first10 = top * 10_000_000 + (fourth + 1) * 1_000_000 + low6
    last = first10 % 10
    total = (
        _LE_1[first10 // 10_000_000]
        + _LE_2[first10 // 10_000 % 1000]
        + _LE_3[first10 // 10 % 1000]
        + last * _LEGAL_ENTITY_WEIGHTS[9]
        + (last + 2) * _LE_WEIGHT_SUM
    )
    remainder = total % 11
    return f"{first10:010d}{0 if remainder == 10 else remainder}"


def postal_code(index: int) -> str:
    """The postal code of address ``index``: it follows the shape rules and is distinct."""
    k = (_POSTAL_A * index + _POSTAL_B) % _POSTAL_SPACE
    prefix, suffix = divmod(k, 100_000)
    quad, fifth = divmod(prefix, 7)
    # Skip the eight base-8 numbers whose four digits are equal (0, 585, 1170, ...).
    value = quad + quad // 584 + 1
    digits = _POSTAL_DIGITS
    return (
        f"{digits[value >> 9]}{digits[value >> 6 & 7]}{digits[value >> 3 & 7]}{digits[value & 7]}"
        f"{_POSTAL_FIFTH[fifth]}{suffix:05d}"
    )


def number(kind: NumberKind, index: int, width: int) -> str:
    """A distinct ``width``-digit number for record ``index`` of ``kind`` (see _NUMBER_MAPS)."""
    multiplier, offset, modulus, lowest = _NUMBER_MAPS[kind]
    return f"{lowest + (multiplier * index + offset) % modulus:0{width}d}"


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """How many records each registry gets for ``persons`` persons, and the seed of the draws.

    persons N; companies N/20 (the fixed legal entities first); addresses N/3; land parcels N/5;
    foreign nationals N/20; taxpayers: every company and two adults of each family of ten.
    """

    persons: int
    seed: int
    fixed_companies: int  # the legal entities that come before the generated companies

    def __post_init__(self) -> None:
        if not MIN_PERSONS <= self.persons <= MAX_PERSONS:
            raise ValidationError(
                f"the seed needs {MIN_PERSONS:,} to {MAX_PERSONS:,} persons, got {self.persons:,}",
                field="size",
            )

    @property
    def families(self) -> int:
        """Complete families of ten (the last, partial one is not counted)."""
        return self.persons // 10

    @property
    def companies(self) -> int:
        return self.persons // 20

    @property
    def addresses(self) -> int:
        return self.persons // 3

    @property
    def land_parcels(self) -> int:
        return self.persons // 5

    @property
    def foreign_nationals(self) -> int:
        return self.persons // 20

    @property
    def taxpayers(self) -> int:
        return self.companies + 2 * self.families

    def adult(self, value: int) -> int:
        """A living adult chosen by ``value``: a middle-generation member of a full family."""
        return 10 * (value % self.families) + 2 + (value >> 48) % 4
