"""The seed's records beyond the population: addresses, legal entities, land parcels, foreign
nationals and taxpayers, each generated as a stream from its index.

A record names another registry's record only through the O(1) numbering of
:mod:`zistboom.registries.seed_numbering`: a director is ``person_code(plan.adult(draw))``, a
parcel's postal code is address ``k``'s, a company's province is its address's. So the references
hold without a lookup table, and a registry's records can be regenerated on their own.

Shareholders: only direct holdings are recorded (a holding through another company is that
company's). A holder is ``state`` when it is a GOV or PUB member (holder kind ``member``) or a
company flagged ``state_owned``; persons and all other companies are private. Every government
agency and public body in the registry is itself flagged ``state_owned``, so "state" is always
the holder's own flag.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from zistboom.registries.seed_names import (
    ALLEYS,
    COMPANY_BRANDS,
    COMPANY_NAME_FORMS,
    COMPANY_SECTORS,
    NATIONALITIES,
    STREET_FORM,
    STREETS,
    Nationality,
)
from zistboom.registries.seed_numbering import (
    GAMMA,
    PROVINCE_SLOTS,
    REFERENCE,
    YEAR,
    Days,
    Record,
    SeedPlan,
    draw,
    generated_company_id,
    mix,
    number,
    ordinal,
    person_code,
    postal_code,
    stream,
)

ADDRESSES_SALT: Final = 2
COMPANIES_SALT: Final = 3
LAND_SALT: Final = 4
FOREIGN_SALT: Final = 5
TAX_SALT: Final = 6

STATE_BODY_TYPES: Final = ("government-agency", "public-non-government-body")
# Generated companies: every twentieth (index ≡ 7) is state-owned, every twentieth (≡ 13) a
# non-commercial institute, the rest private by draw.
_STATE_OWNED_RESIDUE: Final = 7
_INSTITUTE_RESIDUE: Final = 13
_PRIVATE_TYPES: Final = (
    *("private-joint-stock",) * 5,
    *("limited-liability",) * 3,
    "cooperative",
    "public-joint-stock",
)
_DIRECTOR_ROLES: Final = {
    "private-joint-stock": ("ceo", "chair", "vice-chair", "board-member", "board-member"),
    "public-joint-stock": ("ceo", "chair", "vice-chair", "board-member", "board-member"),
    "limited-liability": ("ceo", "board-member"),
    "cooperative": ("ceo", "chair", "board-member"),
    "state-owned-company": ("ceo", "chair", "board-member"),
    "non-commercial-institute": ("ceo", "board-member"),
    "government-agency": ("head",),
    "public-non-government-body": ("head",),
}
_MIN_DIRECTORS: Final = {"private-joint-stock": 3, "public-joint-stock": 5, "cooperative": 3}
# (fewest, most, share of company holders in 4) per form that has shareholders
_HOLDERS: Final = {
    "private-joint-stock": (2, 4, 1),
    "public-joint-stock": (3, 6, 2),
    "limited-liability": (2, 3, 0),
    "cooperative": (3, 7, 0),
}
_STATUSES: Final = (*("active",) * 85, *("suspended",) * 5, *("dissolved",) * 10)
_TAX_STATUS: Final = {"active": "active", "suspended": "suspended", "dissolved": "inactive"}
_FOUNDED_1975: Final = ordinal(1975)


@dataclass(frozen=True, slots=True)
class Holding:
    """One direct shareholding, as recorded in a company's ``shareholders``."""

    holder_kind: str  # person | company | member
    holder_id: str
    share_percent: float
    state: bool


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A legal entity the seed must contain as it is (the demo's members, the registries'
    owners, the ecosystem operators); generated companies follow them."""

    national_id: str
    name_fa: str
    name_en: str
    entity_type: str
    state_owned: bool
    registered_on: str  # ISO date
    shareholders: tuple[Holding, ...] = ()


def company_id(entities: Sequence[LegalEntity], index: int) -> str:
    """The legal-entity ID of company ``index``: a fixed entity's, else the generated one."""
    return entities[index].national_id if index < len(entities) else generated_company_id(index)


def company_state_owned(entities: Sequence[LegalEntity], index: int) -> bool:
    if index < len(entities):
        return entities[index].state_owned
    return index % 20 == _STATE_OWNED_RESIDUE


def company_status(plan: SeedPlan, index: int) -> str:
    """A company's status, recomputable by the tax registry without the company's record."""
    if index < plan.fixed_companies:
        return "active"
    return _STATUSES[(draw(stream(plan.seed, COMPANIES_SALT), index) >> 8) % len(_STATUSES)]


def address_province(plan: SeedPlan, index: int) -> str:
    """The province code of address ``index``."""
    h = draw(stream(plan.seed, ADDRESSES_SALT), index)
    return PROVINCE_SLOTS[h % len(PROVINCE_SLOTS)].code


# --- addresses ---------------------------------------------------------------------------


def addresses(plan: SeedPlan) -> Iterator[Record]:
    key = stream(plan.seed, ADDRESSES_SALT)
    for j in range(plan.addresses):
        h = draw(key, j)
        province = PROVINCE_SLOTS[h % len(PROVINCE_SLOTS)]
        cities = province.cities
        # six in ten addresses are in the provincial capital
        city = (
            cities[0]
            if len(cities) == 1 or (h >> 12) % 10 < 6
            else cities[1 + (h >> 16) % (len(cities) - 1)]
        )
        street = STREET_FORM.format(
            street=STREETS[(h >> 20) % len(STREETS)].fa, alley=ALLEYS[(h >> 26) % len(ALLEYS)].fa
        )
        spread = mix(h ^ GAMMA)  # about ±4 km around the city centre
        record: Record = {
            "postal_code": postal_code(j),
            "province": province.code,
            "city": city.fa,
            "street": street,
            "plaque": 1 + (h >> 32) % 250,
            "location": {
                "lat": round(city.lat + (spread % 2001 - 1000) * 0.00004, 6),
                "lon": round(city.lon + ((spread >> 16) % 2001 - 1000) * 0.00004, 6),
            },
        }
        if (h >> 44) % 2:
            record["unit"] = 1 + (h >> 45) % 30
        yield record


# --- legal entities ----------------------------------------------------------------------


def _shares(weights: Sequence[int]) -> list[float]:
    # Whole percents in proportion to the weights, the rounding remainder to the first holder.
    total = sum(weights)
    shares = [100 * w // total for w in weights]
    shares[0] += 100 - sum(shares)
    return [float(s) for s in shares]


def _directors(plan: SeedPlan, entity_type: str, h: int) -> list[Record]:
    roles = _DIRECTOR_ROLES[entity_type]
    fewest = _MIN_DIRECTORS.get(entity_type, 1)
    count = fewest + h % (len(roles) - fewest + 1)
    chosen: list[Record] = []
    seen: set[int] = set()
    for slot in range(count):
        person = plan.adult(mix(h + slot * GAMMA))
        if person not in seen:
            seen.add(person)
            chosen.append({"national_code": person_code(person), "role": roles[slot]})
    return chosen


def _generated_shareholders(
    plan: SeedPlan, entities: Sequence[LegalEntity], index: int, entity_type: str, h: int
) -> list[Record]:
    fixed = len(entities)
    if entity_type == "state-owned-company":
        members = [e.national_id for e in entities if e.entity_type in STATE_BODY_TYPES]
        first = members[h % len(members)]
        second = members[(h >> 8) % len(members)]
        if second == first:
            return [_holding("member", first, 100.0, state=True)]
        return [_holding("member", first, 60.0, state=True),
                _holding("member", second, 40.0, state=True)]  # fmt: skip
    if entity_type not in _HOLDERS:
        return []
    fewest, most, company_quarters = _HOLDERS[entity_type]
    wanted = fewest + h % (most - fewest + 1)
    holders: dict[str, tuple[str, bool]] = {}
    for slot in range(wanted):
        v = mix(h ^ (slot + 1) * GAMMA)
        if v % 4 < company_quarters:
            other = fixed + (v >> 8) % (plan.companies - fixed)
            if other == index:
                continue
            holders[generated_company_id(other)] = ("company", company_state_owned(entities, other))
        else:
            holders[person_code(plan.adult(v >> 8))] = ("person", False)
    if not holders:
        holders[person_code(plan.adult(h >> 8))] = ("person", False)
    weights = [1 + (h >> (4 * slot)) % 9 for slot in range(len(holders))]
    return [
        _holding(kind, holder, share, state=state)
        for (holder, (kind, state)), share in zip(holders.items(), _shares(weights), strict=True)
    ]


def _holding(kind: str, holder_id: str, share: float, *, state: bool) -> Record:
    return {"holder_kind": kind, "holder_id": holder_id, "share_percent": share, "state": state}


def _generated_type(index: int, h: int) -> str:
    residue = index % 20
    if residue == _STATE_OWNED_RESIDUE:
        return "state-owned-company"
    if residue == _INSTITUTE_RESIDUE:
        return "non-commercial-institute"
    return _PRIVATE_TYPES[h % len(_PRIVATE_TYPES)]


def _generated_name(entity_type: str, h: int) -> tuple[str, str]:
    form = COMPANY_NAME_FORMS[
        "cooperative" if entity_type == "cooperative"
        else "institute" if entity_type == "non-commercial-institute"
        else "company"
    ]  # fmt: skip
    sector = COMPANY_SECTORS[(h >> 24) % len(COMPANY_SECTORS)]
    brand = COMPANY_BRANDS[(h >> 32) % len(COMPANY_BRANDS)]
    brand2 = COMPANY_BRANDS[(h >> 40) % len(COMPANY_BRANDS)]
    return (
        form.fa.format(sector=sector.fa, brand=brand.fa, brand2=brand2.fa),
        form.en.format(sector=sector.en, brand=brand.en, brand2=brand2.en),
    )


def companies(plan: SeedPlan, entities: Sequence[LegalEntity]) -> Iterator[Record]:
    """The legal-entities registry: the fixed entities, then generated companies."""
    key = stream(plan.seed, COMPANIES_SALT)
    days = Days()
    for c in range(plan.companies):
        h = draw(key, c)
        h2 = mix(h ^ GAMMA)
        office = (h2 >> 20) % plan.addresses
        if c < len(entities):
            entity = entities[c]
            entity_type, state_owned = entity.entity_type, entity.state_owned
            name_fa, name_en, status = entity.name_fa, entity.name_en, "active"
            registered = entity.registered_on
            shareholders = [
                _holding(s.holder_kind, s.holder_id, s.share_percent, state=s.state)
                for s in entity.shareholders
            ]
        else:
            entity_type = _generated_type(c, h)
            state_owned = entity_type == "state-owned-company"
            name_fa, name_en = _generated_name(entity_type, h)
            status = _STATUSES[(h >> 8) % len(_STATUSES)]
            registered = days[_FOUNDED_1975 + (h >> 48) % (REFERENCE - 400 - _FOUNDED_1975)][0]
            shareholders = _generated_shareholders(plan, entities, c, entity_type, h2)
        record: Record = {
            "national_id": company_id(entities, c),
            "name_fa": name_fa,
            "name_en": name_en,
            "type": entity_type,
            "status": status,
            "registration_date": registered,
            "state_owned": state_owned,
            "postal_code": postal_code(office),
            "province": address_province(plan, office),
            "directors": _directors(plan, entity_type, h2 >> 8),
        }
        if shareholders:
            record["shareholders"] = shareholders
        yield record


# --- land parcels ------------------------------------------------------------------------

_USAGES: Final = (
    *("residential",) * 55,
    *("commercial",) * 15,
    *("agricultural",) * 15,
    *("industrial",) * 5,
    *("administrative",) * 5,
    *("mixed",) * 5,
)
_AREA_M2: Final = {
    "residential": (60, 600),
    "commercial": (20, 800),
    "agricultural": (1_000, 200_000),
    "industrial": (500, 30_000),
    "administrative": (200, 8_000),
    "mixed": (100, 2_000),
}
_CO_OWNER_SHARES: Final = ((50.0, 50.0), (75.0, 25.0), (62.5, 37.5))
_REGISTERED_1980: Final = ordinal(1980)


def land_parcels(plan: SeedPlan) -> Iterator[Record]:
    """One parcel per address ``k`` (there are fewer parcels than addresses), owned by one
    adult, a middle-generation couple, or three siblings and in-laws."""
    key = stream(plan.seed, LAND_SALT)
    days = Days()
    for k in range(plan.land_parcels):
        h = draw(key, k)
        h2 = mix(h ^ GAMMA)
        usage = _USAGES[h % len(_USAGES)]
        low, high = _AREA_M2[usage]
        registered = _REGISTERED_1980 + (h >> 32) % (REFERENCE - _REGISTERED_1980)
        iso, jalali = days[registered]
        kind = h2 % 10
        if kind < 6:
            owners = [(plan.adult(h2 >> 4), 100.0)]
        else:
            base = 10 * ((h2 >> 4) % plan.families)
            if kind < 9:
                couple = (2, 3) if (h2 >> 60) & 1 else (4, 5)
                shares = _CO_OWNER_SHARES[(h2 >> 56) % len(_CO_OWNER_SHARES)]
                owners = [(base + couple[0], shares[0]), (base + couple[1], shares[1])]
            else:
                owners = [(base + 2, 50.0), (base + 3, 25.0), (base + 4, 25.0)]
        yield {
            "parcel_id": f"{k // 40 + 1}-{k % 40 + 1}",
            "deed_number": jalali[:4] + number("deed_serial", k, 14),
            "postal_code": postal_code(k),
            "area_m2": round(low + (h >> 8) % ((high - low) * 100) / 100, 2),
            "usage": usage,
            "owners": [
                {"national_code": person_code(person), "share_percent": share}
                for person, share in owners
            ],
            "registered_on": iso,
        }


# --- foreign nationals -------------------------------------------------------------------

_NATIONALITY_SLOTS: Final[tuple[Nationality, ...]] = tuple(
    n for n in NATIONALITIES for _ in range(n.weight)
)
_REFUGEE_NATIONALITIES: Final = frozenset({"AFG", "IRQ"})
_REFUGEE_PERMITS: Final = (*("amayesh",) * 5, *("residence",) * 2, "work", "family", "student")
_OTHER_PERMITS: Final = (*("residence",) * 3, *("work",) * 3, "student", "family", "investor")
_BORN_1950: Final = ordinal(1950)


def foreign_nationals(plan: SeedPlan) -> Iterator[Record]:
    key = stream(plan.seed, FOREIGN_SALT)
    days = Days()
    for k in range(plan.foreign_nationals):
        h = draw(key, k)
        h2 = mix(h ^ GAMMA)
        nationality = _NATIONALITY_SLOTS[h % len(_NATIONALITY_SLOTS)]
        male = (h >> 10) & 1 == 1
        names = nationality.male if male else nationality.female
        given = names[(h >> 11) % len(names)]
        family = nationality.family[(h >> 20) % len(nationality.family)]
        permits = _REFUGEE_PERMITS if nationality.code in _REFUGEE_NATIONALITIES else _OTHER_PERMITS
        valid_from = REFERENCE - h2 % (4 * YEAR)
        yield {
            "foreign_national_id": number("foreign_national_id", k, 12),
            "given_name_fa": given.fa,
            "given_name_en": given.en,
            "family_name_fa": family.fa,
            "family_name_en": family.en,
            "sex": "M" if male else "F",
            "nationality": nationality.code,
            "birth_date": days[_BORN_1950 + (h >> 28) % (70 * YEAR)][0],
            "residence_permit_number": number("permit_number", k, 8),
            "permit_type": permits[(h >> 48) % len(permits)],
            "permit_valid_from": days[valid_from][0],
            "permit_valid_until": days[valid_from + YEAR * (1 + (h2 >> 16) % 3) - 1][0],
        }


# --- taxpayers ---------------------------------------------------------------------------


def taxpayers(plan: SeedPlan, entities: Sequence[LegalEntity]) -> Iterator[Record]:
    """Every company, then the son and the daughter of each full family (roles 2 and 4)."""
    key = stream(plan.seed, TAX_SALT)
    days = Days()
    for j in range(plan.taxpayers):
        h = draw(key, j)
        if j < plan.companies:
            taxpayer, kind = company_id(entities, j), "company"
            status = _TAX_STATUS[company_status(plan, j)]
        else:
            q = j - plan.companies
            taxpayer, kind = person_code(10 * (q // 2) + 2 + 2 * (q % 2)), "person"
            status = "active" if (h >> 4) % 100 < 95 else "suspended"
        debt = 0 if h % 100 < 70 else 1000 * ((h >> 8) % 5_000_000)
        record: Record = {
            "tax_file_number": number("tax_file_number", j, 12),
            "taxpayer_id": taxpayer,
            "taxpayer_kind": kind,
            "status": status,
            "outstanding_debt_rial": debt,
        }
        if debt == 0 and status == "active" and (h >> 40) % 10 < 8:
            record["last_clearance_date"] = days[REFERENCE - (h >> 44) % (2 * YEAR)][0]
        yield record
