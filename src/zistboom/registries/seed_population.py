"""The seed's population: the civil registry's persons, in families of ten, and the health
insurance registry's insured persons drawn from them.

Person ``i`` belongs to family ``i // 10`` and has role ``i % 10`` in it:

====  ==========================================================
role  who
====  ==========================================================
0, 1  grandfather and grandmother (born 1930-1956, no parents recorded)
2, 4  their son and daughter (parents 0 and 1)
3     the son's wife, 5 the daughter's husband (no parents recorded)
6, 7  children of 2 and 3
8, 9  children of 4 and 5
====  ==========================================================

So parents always have lower indices (they exist whenever the child does) and are at least 20
years older. Married couples point at each other; a couple whose partner is missing (the last,
partial family) or who divorced has no spouse. In some families one grandparent has died; the
other is then widowed. The middle generation (roles 2-5) is always alive and adult: the other
registries take their directors, owners and taxpayers from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from zistboom.registries.seed_names import FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES
from zistboom.registries.seed_numbering import (
    PROVINCE_SLOTS,
    REFERENCE,
    YEAR,
    Days,
    Record,
    SeedPlan,
    draw,
    number,
    ordinal,
    person_code,
    stream,
)

_BORN_1930: Final = ordinal(1930)
PERSONS_SALT: Final = 1
INSURED_SALT: Final = 7
NOBODY_DIED: Final = -1  # the dead role of a family where everyone is alive


def dead_role(family_draw: int, family: int) -> int:
    """Which grandparent of a family has died (0 or 1), or NOBODY_DIED (-1).

    The demo's person is in family 0, where both grandparents are alive."""
    if family == 0:
        return NOBODY_DIED
    share = family_draw % 100
    return 0 if share < 14 else 1 if share < 22 else NOBODY_DIED


class _Role(NamedTuple):
    """One place in a family of ten (see the module docstring)."""

    anchors: tuple[int, ...]  # born some years after (or around) the latest of these roles
    offset: int  # years after the anchors' latest birth (or after 1930 without anchors)
    span: int  # years over which the birth is spread
    parents: tuple[int, int] | None  # (father, mother)
    partner: int | None
    sex: str | None  # None: drawn
    surname: int  # 0 the family's, 1 the daughter's husband's, -1 a name of one's own
    married_in: bool  # born elsewhere: a province of one's own


_ROLES: Final = (
    _Role((), 0, 20, None, 1, "M", 0, False),
    _Role((0,), -3, 10, None, 0, "F", -1, False),
    _Role((0, 1), 20, 12, (0, 1), 3, "M", 0, False),
    _Role((2,), -5, 8, None, 2, "F", -1, True),
    _Role((0, 1), 20, 12, (0, 1), 5, "F", 0, False),
    _Role((4,), -9, 10, None, 4, "M", 1, True),
    _Role((2, 3), 20, 10, (2, 3), None, None, 0, False),
    _Role((2, 3), 20, 10, (2, 3), None, None, 0, False),
    _Role((4, 5), 20, 10, (5, 4), None, None, 1, False),
    _Role((4, 5), 20, 10, (5, 4), None, None, 1, False),
)


def persons(plan: SeedPlan) -> Iterator[Record]:
    """The civil registry's records, in index order, one family of ten at a time."""
    key = stream(plan.seed, PERSONS_SALT)
    days = Days()
    count = plan.persons
    for family in range((count + 9) // 10):
        base = 10 * family
        present = min(10, count - base)
        h = draw(key, family)
        dead = dead_role(h, family)
        home = PROVINCE_SLOTS[(h >> 8) % len(PROVINCE_SLOTS)]
        # which couples divorced: 2-3 and 4-5 (never in family 0, the demo's person is married)
        divorced = (False, family != 0 and (h >> 16) % 100 < 8,
                    family != 0 and (h >> 24) % 100 < 8)  # fmt: skip
        surnames = (FAMILY_NAMES[(h >> 32) % len(FAMILY_NAMES)],
                    FAMILY_NAMES[(h >> 40) % len(FAMILY_NAMES)])  # fmt: skip
        codes = [person_code(base + role) for role in range(present)]
        born = [0] * present
        for role in range(present):
            spec = _ROLES[role]
            d = draw(h, role)
            start = max((born[a] for a in spec.anchors), default=_BORN_1930)
            born[role] = start + spec.offset * YEAR + d % (spec.span * YEAR)
            sex = spec.sex or ("M" if d & 1 else "F")
            names = MALE_GIVEN_NAMES if sex == "M" else FEMALE_GIVEN_NAMES
            given = names[(d >> 8) % len(names)]
            surname = (
                surnames[spec.surname] if spec.surname >= 0
                else FAMILY_NAMES[(d >> 16) % len(FAMILY_NAMES)]
            )  # fmt: skip
            province = PROVINCE_SLOTS[(d >> 24) % len(PROVINCE_SLOTS)] if spec.married_in else home
            iso, jalali = days[born[role]]
            record: Record = {
                "national_code": codes[role],
                "given_name_fa": given.fa,
                "given_name_en": given.en,
                "family_name_fa": surname.fa,
                "family_name_en": surname.en,
                "sex": sex,
                "birth_date": iso,
                "birth_date_jalali": jalali,
                "birth_province": province.code,
                "birth_city": province.cities[(d >> 32) % len(province.cities)].fa,
            }
            if spec.parents is not None:
                record["father_national_code"] = codes[spec.parents[0]]
                record["mother_national_code"] = codes[spec.parents[1]]
            status, partner = _marriage(role, present, dead, divorced)
            record["marital_status"] = status
            if partner is not None:
                record["spouse_national_code"] = codes[partner]
            record["alive"] = role != dead
            if role == dead:
                # at sixty or later, and before the reference day
                earliest = born[role] + 60 * YEAR
                record["death_date"] = days[earliest + (d >> 40) % (REFERENCE - earliest)][0]
            yield record


def _marriage(
    role: int, present: int, dead: int, divorced: tuple[bool, bool, bool]
) -> tuple[str, int | None]:
    """The marital status and the spouse (only between two living partners, mutual)."""
    partner = _ROLES[role].partner
    if partner is None or partner >= present:
        return "single", None
    couple = min(role, partner) // 2  # 0 the grandparents, 1 the couple 2-3, 2 the couple 4-5
    if couple == 0 and dead != NOBODY_DIED:
        return ("married" if role == dead else "widowed"), None  # the dead died married
    if divorced[couple]:
        return "divorced", None
    return "married", partner


def uninsured_role(family_draw: int, family: int) -> int:
    """The one person of each family without health insurance: the dead grandparent, else the
    youngest child (role 9), so that nine in ten persons are insured."""
    dead = dead_role(family_draw, family)
    return 9 if dead == NOBODY_DIED else dead


def insured_count(plan: SeedPlan) -> int:
    key = stream(plan.seed, PERSONS_SALT)
    full, rest = divmod(plan.persons, 10)
    last = full  # the partial family's index
    uninsured = 1 if rest and uninsured_role(draw(key, last), last) < rest else 0
    return 9 * full + rest - uninsured


_COVERAGE_BY_ROLE: Final = (
    ("pensioner", "pensioner", "universal", "rural"),  # grandparents
    ("employee", "employee", "self-employed", "universal", "rural", "dependant"),  # middle
    ("dependant", "dependant", "dependant", "student"),  # children
)
_PROVIDERS: Final = ("iran-health", "iran-health", "iran-health", "social-security", "armed-forces")


def insured(plan: SeedPlan) -> Iterator[Record]:
    """The health insurance registry's records: every person the family rule insures."""
    person_key = stream(plan.seed, PERSONS_SALT)
    key = stream(plan.seed, INSURED_SALT)
    days = Days()
    count = plan.persons
    j = 0
    for family in range((count + 9) // 10):
        base = 10 * family
        skipped = uninsured_role(draw(person_key, family), family)
        for role in range(min(10, count - base)):
            if role == skipped:
                continue
            h = draw(key, j)
            coverage = _COVERAGE_BY_ROLE[0 if role < 2 else 1 if role < 6 else 2]
            lapsed = h % 100 < 7
            until = REFERENCE - 1 - (h >> 8) % 365 if lapsed else REFERENCE + 30 + (h >> 8) % 700
            yield {
                "insurance_number": number("insurance_number", j, 11),
                "national_code": person_code(base + role),
                "coverage": coverage[(h >> 20) % len(coverage)],
                "provider": _PROVIDERS[(h >> 28) % len(_PROVIDERS)],
                "valid_until": days[until][0],
            }
            j += 1
