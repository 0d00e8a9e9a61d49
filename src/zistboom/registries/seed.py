"""The national seed: deterministic synthetic records for the seven base registries, the
organisations that own them, and the thirteen ecosystem operators with known shareholdings.

Everything is synthetic and every identifier has a valid check digit. The records of a registry
are a stream: ``SeedRegistry.records()`` regenerates them from ``(size, seed)`` every call and
never holds more than one family in memory, so the large seed (about 2.8 million records) runs in
constant memory. References between registries are computed, not looked up (see
:mod:`zistboom.registries.seed_numbering`).

The demo's organisations (:data:`seed_organisations.DEMO_ORGANISATIONS`) come first in the
legal-entities registry, then the registries' new owners, then the operators; the demo's person
(:data:`seed_organisations.PERSON`) is person 2: an adult, alive, married, with parents.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

from zistboom.core.errors import ValidationError
from zistboom.registries import seed_population, seed_records
from zistboom.registries.seed_numbering import SeedPlan, generated_company_id, person_code
from zistboom.registries.seed_organisations import (
    DEMO_ORGANISATIONS,
    NEW_OWNERS,
    SeedOrganisation,
    seed_organisation,
)
from zistboom.registries.seed_records import Holding, LegalEntity
from zistboom.registries.seed_schemas import DEFINITIONS

SMALL: Final = 10_000
LARGE: Final = 1_000_000
REGISTRY_SUBSYSTEM: Final = "registry"
DEFAULT_SEED: Final = 1404
PERSON_INDEX: Final = 2


@dataclass(frozen=True, slots=True)
class SeedOwner:
    """An organisation that owns a base registry, as an X-Road member with its subsystem."""

    key: str
    member_class: str
    code: str  # legal-entity ID
    name_fa: str
    name_en: str
    kind: str  # a central member kind: agency, public-body, company, ecosystem-operator
    subsystem: str


def _owner(organisation: SeedOrganisation) -> SeedOwner:
    o = organisation
    return SeedOwner(o.key, o.member_class, o.code, o.name_fa, o.name_en, o.kind,
                     REGISTRY_SUBSYSTEM)  # fmt: skip


OWNERS: Final = tuple(
    _owner(seed_organisation(key))
    for key in ("civil-registration", "companies-registration", "tax")
) + tuple(_owner(o) for o in NEW_OWNERS)

_FINANCE: Final = seed_organisation("finance-ecosystem")
# ecosystem key → (legal-entity ID, name_fa, name_en); finance is the demo's member.
_OPERATORS: Final = {
    "finance": (_FINANCE.code, _FINANCE.name_fa, _FINANCE.name_en),
    "tax": ("56060362014", "شرکت زیست‌بوم مالیاتی نمونه", "Sample Tax Ecosystem Company"),
    "energy": ("49338639645", "شرکت زیست‌بوم انرژی نمونه", "Sample Energy Ecosystem Company"),
    "health": ("62343453920", "شرکت زیست‌بوم سلامت نمونه", "Sample Health Ecosystem Company"),
    "cross-border-trade": ("30126323142", "شرکت زیست‌بوم تجارت فرامرزی نمونه",
                           "Sample Cross-border Trade Ecosystem Company"),
    "land": ("39849611766", "شرکت زیست‌بوم زمین نمونه", "Sample Land Ecosystem Company"),
    "supply-chain": ("84427593320", "شرکت زیست‌بوم زنجیره تامین نمونه",
                     "Sample Supply Chain Ecosystem Company"),
    "migrants-and-foreign-nationals": ("39684829927", "شرکت زیست‌بوم مهاجران و اتباع نمونه",
                                       "Sample Migrants and Foreign Nationals Ecosystem Company"),
    "human-resources": ("63744364595", "شرکت زیست‌بوم منابع انسانی نمونه",
                        "Sample Human Resources Ecosystem Company"),
    "support": ("42228106894", "شرکت زیست‌بوم پشتیبانی نمونه", "Sample Support Ecosystem Company"),
    "agriculture": ("47036881182", "شرکت زیست‌بوم کشاورزی نمونه",
                    "Sample Agriculture Ecosystem Company"),
    "tourism": ("80199002839", "شرکت زیست‌بوم گردشگری نمونه", "Sample Tourism Ecosystem Company"),
    "insurance": ("49756386092", "شرکت زیست‌بوم بیمه نمونه", "Sample Insurance Ecosystem Company"),
}  # fmt: skip

ECOSYSTEM_OPERATORS: Final[dict[str, str]] = {key: op[0] for key, op in _OPERATORS.items()}


def operator_company(ecosystem: str) -> tuple[str, str, str]:
    """The seeded operating company of ``ecosystem``: legal-entity ID, Persian and English name."""
    return _OPERATORS[ecosystem]


# The one operator whose private shareholding is below the programme's 51% (it is 50%: half
# state, so not a state-owned company either). Health's is exactly 51%.
BELOW_PRIVATE_THRESHOLD: Final = "energy"

_IT_AUTHORITY: Final = seed_organisation("it-authority").code
_WINDOW: Final = seed_organisation("single-window").code
_OWNER_CODE: Final = {owner.key: owner.code for owner in OWNERS}
# Holders by index: persons are middle-generation members of the first hundred families (alive
# adults for every size); companies are generated ones below 50 (every size has 50 companies);
# 27 and 47 are state-owned (index ≡ 7 mod 20), the others private.
_Spec = tuple[tuple[Literal["person", "company", "member"], int | str, float], ...]
_SHAREHOLDINGS: Final[dict[str, _Spec]] = {
    "finance": (("company", 23, 30.0), ("company", 24, 21.0), ("person", PERSON_INDEX, 5.0),
                ("person", 12, 14.0), ("member", _IT_AUTHORITY, 20.0), ("company", 27, 10.0)),
    "tax": (("company", 25, 35.0), ("person", 13, 25.0), ("member", _OWNER_CODE["tax"], 25.0),
            ("member", _IT_AUTHORITY, 15.0)),
    "energy": (("company", 28, 30.0), ("person", 22, 20.0), ("company", 47, 30.0),
               ("member", _IT_AUTHORITY, 20.0)),
    "health": (("company", 30, 31.0), ("person", 24, 20.0),
               ("member", _OWNER_CODE["health-insurance"], 29.0), ("member", _IT_AUTHORITY, 20.0)),
    "cross-border-trade": (("company", 31, 40.0), ("company", 34, 25.0), ("member", _WINDOW, 35.0)),
    "land": (("company", 36, 45.0), ("person", 35, 10.0),
             ("member", _OWNER_CODE["deeds-registration"], 30.0), ("member", _IT_AUTHORITY, 15.0)),
    "supply-chain": (("company", 38, 50.0), ("company", 41, 30.0), ("member", _IT_AUTHORITY, 20.0)),
    "migrants-and-foreign-nationals": (
        ("company", 44, 40.0), ("person", 43, 15.5),
        ("member", _OWNER_CODE["foreign-nationals-bureau"], 24.5), ("member", _IT_AUTHORITY, 20.0)),
    "human-resources": (("person", 52, 30.0), ("company", 49, 30.0), ("company", 23, 10.0),
                        ("member", _IT_AUTHORITY, 30.0)),
    "support": (("company", 24, 60.0), ("person", 64, 6.0), ("member", _WINDOW, 34.0)),
    "agriculture": (("company", 25, 33.0), ("company", 28, 20.0), ("person", 75, 10.0),
                    ("company", 27, 17.0), ("member", _IT_AUTHORITY, 20.0)),
    "tourism": (("company", 30, 51.5), ("person", 83, 20.0), ("member", _IT_AUTHORITY, 28.5)),
    "insurance": (("company", 31, 40.0), ("company", 34, 12.0), ("person", 92, 10.0),
                  ("member", _OWNER_CODE["health-insurance"], 18.0),
                  ("member", _IT_AUTHORITY, 20.0)),
}  # fmt: skip
_FOUNDED: Final = {"GOV": "1979-04-01", "PUB": "2001-03-21", "COM": "2025-08-20"}
_STATE_CLASSES: Final = {"GOV": "government-agency", "PUB": "public-non-government-body"}


def _holding(kind: str, ref: int | str, share: float) -> Holding:
    if kind == "person":
        return Holding("person", person_code(int(ref)), share, state=False)
    if kind == "company":
        state = seed_records.company_state_owned((), int(ref))
        return Holding("company", generated_company_id(int(ref)), share, state=state)
    return Holding("member", str(ref), share, state=True)


def _member_entity(
    member_class: str, code: str, name_fa: str, name_en: str, kind: str
) -> LegalEntity:
    if kind == "company" and member_class == "GOV":
        return LegalEntity(code, name_fa, name_en, "state-owned-company", True, "1990-03-21")
    if member_class in _STATE_CLASSES:
        return LegalEntity(code, name_fa, name_en, _STATE_CLASSES[member_class], True,
                           _FOUNDED[member_class])  # fmt: skip
    return LegalEntity(code, name_fa, name_en, "private-joint-stock", False, _FOUNDED["COM"])


def _fixed_entities() -> tuple[LegalEntity, ...]:
    entities = [
        _member_entity(o.member_class, o.code, o.name_fa, o.name_en, o.kind)
        for o in DEMO_ORGANISATIONS
    ] + [
        _member_entity(o.member_class, o.code, o.name_fa, o.name_en, o.kind)
        for o in OWNERS if o.code not in {org.code for org in DEMO_ORGANISATIONS}
    ]  # fmt: skip
    index = {entity.national_id: i for i, entity in enumerate(entities)}
    for ecosystem, (code, name_fa, name_en) in _OPERATORS.items():
        holdings = tuple(_holding(*spec) for spec in _SHAREHOLDINGS[ecosystem])
        operator = LegalEntity(code, name_fa, name_en, "private-joint-stock", False,
                               _FOUNDED["COM"], holdings)  # fmt: skip
        if code in index:
            entities[index[code]] = operator
        else:
            entities.append(operator)
    return tuple(entities)


FIXED_ENTITIES: Final = _fixed_entities()


@dataclass(frozen=True, slots=True)
class SeedRegistry:
    """One base registry of the seed: its definition, its owner's key, and its records.

    ``records()`` regenerates the same ``count`` records, in the same order, on every call."""

    code: str
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    owner: str
    ecosystem: str
    schema: dict[str, Any]
    count: int
    records: Callable[[], Iterator[dict[str, Any]]]


def national_registries(
    *, size: Literal["small", "large"] | int, seed: int = DEFAULT_SEED
) -> list[SeedRegistry]:
    """The seven base registries for ``size`` persons (small 10,000; large 1,000,000; or the
    number given, 1,000 to 100,000,000), in dependency order: a registry refers only to those
    before it (persons, addresses, companies, land parcels, foreign nationals, taxpayers, insured).
    """
    if size == "small":
        persons = SMALL
    elif size == "large":
        persons = LARGE
    elif isinstance(size, int) and not isinstance(size, bool):
        persons = size
    else:
        raise ValidationError(
            f"size must be 'small', 'large' or a number of persons, got {size!r}", field="size"
        )
    plan = SeedPlan(persons=persons, seed=seed, fixed_companies=len(FIXED_ENTITIES))
    streams: dict[str, tuple[int, Callable[[], Iterator[dict[str, Any]]]]] = {
        "persons": (plan.persons, lambda: seed_population.persons(plan)),
        "addresses": (plan.addresses, lambda: seed_records.addresses(plan)),
        "companies": (plan.companies, lambda: seed_records.companies(plan, FIXED_ENTITIES)),
        "land-parcels": (plan.land_parcels, lambda: seed_records.land_parcels(plan)),
        "foreign-nationals": (plan.foreign_nationals, lambda: seed_records.foreign_nationals(plan)),
        "taxpayers": (plan.taxpayers, lambda: seed_records.taxpayers(plan, FIXED_ENTITIES)),
        "insured": (seed_population.insured_count(plan), lambda: seed_population.insured(plan)),
    }
    return [
        SeedRegistry(d.code, d.name_fa, d.name_en, d.description_fa, d.description_en, d.owner,
                     d.ecosystem, copy.deepcopy(d.schema), *streams[d.code])
        for d in DEFINITIONS
    ]  # fmt: skip
