"""The seven national base registries the seed fills: each one's schema in the registry
contract's JSON Schema 2020-12 subset, with its names, owner and ecosystem.

Flags follow the contract: ``x-key`` on the one identifying field, ``x-searchable`` on what a
caller filters on (names, dates, status, province, city...), ``x-personal`` on personal data,
``x-subject`` on the fields that name the persons or entities a record is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from zistboom.registries.seed_names import NATIONALITIES, PROVINCES

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
NATIONAL_CODE: Final = "^[0-9]{10}$"
LEGAL_ENTITY_ID: Final = "^[0-9]{11}$"
POSTAL_CODE: Final = "^[13-9]{4}[1346-9][0-9]{5}$"  # the full rules are in core.iran
JALALI_DATE: Final = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

Field = dict[str, Any]


def _flags(field: Field, flags: dict[str, bool]) -> Field:
    for name, on in flags.items():
        if on:
            field[f"x-{name}"] = True
    return field


def text(
    title: str, description: str, *, pattern: str | None = None, max_length: int | None = None,
    key: bool = False, unique: bool = False, searchable: bool = False, personal: bool = False,
    subject: bool = False,
) -> Field:  # fmt: skip
    field: Field = {"type": "string", "title": title, "description": description}
    if pattern is not None:
        field["pattern"] = pattern
    if max_length is not None:
        field["maxLength"] = max_length
    return _flags(field, {"key": key, "unique": unique, "searchable": searchable,
                          "personal": personal, "subject": subject})  # fmt: skip


def day(title: str, description: str, *, searchable: bool = False, personal: bool = False) -> Field:
    field: Field = {"type": "string", "format": "date", "title": title, "description": description}
    return _flags(field, {"searchable": searchable, "personal": personal})


def code_list(
    title: str, description: str, labels: dict[str, tuple[str, str]], *,
    searchable: bool = False, personal: bool = False,
) -> Field:  # fmt: skip
    field: Field = {
        "type": "string",
        "title": title,
        "description": description,
        "enum": list(labels),
        "x-code-list": {code: {"fa": fa, "en": en} for code, (fa, en) in labels.items()},
    }
    return _flags(field, {"searchable": searchable, "personal": personal})


def _scalar(kind: str, title: str, description: str, **bounds: Any) -> Field:
    flags: dict[str, bool] = {
        name: bounds.pop(name) for name in ("searchable", "personal") if name in bounds
    }
    return _flags({"type": kind, "title": title, "description": description, **bounds}, flags)


def _schema(
    title: str, description: str, properties: dict[str, Field], required: list[str]
) -> Field:
    return {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


PROVINCE_LABELS: Final = {p.code: (p.fa, p.en) for p in PROVINCES}
SEX: Final = {"F": ("زن", "Female"), "M": ("مرد", "Male")}

PERSONS_SCHEMA: Final = _schema(
    "ثبت احوال: اشخاص",
    "Civil registry: one record per person with a national code",
    {
        "national_code": text("کد ملی", "The person's national code (check digit valid)",
                              pattern=NATIONAL_CODE, key=True, subject=True, personal=True),
        "given_name_fa": text("نام", "Given name in Persian", max_length=100,
                              searchable=True, personal=True),
        "given_name_en": text("نام (لاتین)", "Given name transliterated", max_length=100,
                              searchable=True, personal=True),
        "family_name_fa": text("نام خانوادگی", "Family name in Persian", max_length=100,
                               searchable=True, personal=True),
        "family_name_en": text("نام خانوادگی (لاتین)", "Family name transliterated",
                               max_length=100, searchable=True, personal=True),
        "sex": code_list("جنسیت", "Sex as registered", SEX, searchable=True, personal=True),
        "birth_date": day("تاریخ تولد", "Birth date (Gregorian)", searchable=True, personal=True),
        "birth_date_jalali": text("تاریخ تولد (شمسی)", "The same birth date in the Jalali calendar",
                                  pattern=JALALI_DATE, personal=True),
        "birth_province": code_list("استان محل تولد", "Province of birth", PROVINCE_LABELS,
                                    searchable=True, personal=True),
        "birth_city": text("شهر محل تولد", "City of birth, in Persian", max_length=100,
                           searchable=True, personal=True),
        "father_national_code": text("کد ملی پدر", "Father's national code; absent when the "
                                     "father is not in the registry", pattern=NATIONAL_CODE,
                                     personal=True),
        "mother_national_code": text("کد ملی مادر", "Mother's national code; absent when the "
                                     "mother is not in the registry", pattern=NATIONAL_CODE,
                                     personal=True),
        "marital_status": code_list("وضعیت تأهل", "Marital status", {
            "single": ("مجرد", "Single"), "married": ("متأهل", "Married"),
            "divorced": ("مطلقه", "Divorced"), "widowed": ("همسر فوت‌شده", "Widowed"),
        }, searchable=True, personal=True),
        "spouse_national_code": text("کد ملی همسر", "Current spouse's national code (the spouse's "
                                     "record names this person back)", pattern=NATIONAL_CODE,
                                     personal=True),
        "alive": _scalar("boolean", "در قید حیات", "False once a death is registered",
                         searchable=True, personal=True),
        "death_date": day("تاریخ فوت", "Date of death, when registered", searchable=True,
                          personal=True),
    },
    ["national_code", "given_name_fa", "given_name_en", "family_name_fa", "family_name_en", "sex",
     "birth_date", "birth_date_jalali", "birth_province", "birth_city", "marital_status", "alive"],
)  # fmt: skip
# The searches the window and agencies make on persons: a family name (prefix) with a birth-date
# range, in either script (ZB-STD-006: compound search indexes).
PERSONS_SCHEMA["x-search-indexes"] = [
    ["family_name_fa", "birth_date"],
    ["family_name_en", "birth_date"],
]

ENTITY_TYPES: Final = {
    "private-joint-stock": ("سهامی خاص", "Private joint-stock company"),
    "public-joint-stock": ("سهامی عام", "Public joint-stock company"),
    "limited-liability": ("با مسئولیت محدود", "Limited liability company"),
    "cooperative": ("تعاونی", "Cooperative"),
    "state-owned-company": ("شرکت دولتی", "State-owned company"),
    "non-commercial-institute": ("موسسه غیرتجاری", "Non-commercial institute (NGO)"),
    "government-agency": ("دستگاه اجرایی", "Government agency"),
    "public-non-government-body": ("نهاد عمومی غیردولتی", "Public non-government body"),
}

COMPANIES_SCHEMA: Final = _schema(
    "ثبت شرکت‌ها: اشخاص حقوقی",
    "Legal-entities registry: companies, institutes, agencies and public bodies by national ID",
    {
        "national_id": text("شناسه ملی", "The legal entity's national ID (check digit valid)",
                            pattern=LEGAL_ENTITY_ID, key=True, subject=True),
        "name_fa": text("نام", "Registered name in Persian", max_length=200, searchable=True),
        "name_en": text("نام (لاتین)", "Registered name in English", max_length=200,
                        searchable=True),
        "type": code_list("نوع شخص حقوقی", "Legal form", ENTITY_TYPES, searchable=True),
        "status": code_list("وضعیت", "Registration status", {
            "active": ("فعال", "Active"), "suspended": ("تعلیق", "Suspended"),
            "dissolved": ("منحل", "Dissolved"),
        }, searchable=True),
        "registration_date": day("تاریخ ثبت", "Date of registration", searchable=True),
        "state_owned": _scalar("boolean", "دولتی", "Owned or controlled by the state: every "
                               "agency and public body, and companies with a state majority",
                               searchable=True),
        "postal_code": text("کد پستی اقامتگاه", "Postal code of the registered office (in the "
                            "national address registry)", pattern=POSTAL_CODE, searchable=True),
        "province": code_list("استان", "Province of the registered office", PROVINCE_LABELS,
                              searchable=True),
        "directors": {
            "type": "array", "title": "مدیران", "maxItems": 50,
            "description": "Directors and the head, as registered",
            "items": {"type": "object", "properties": {
                "national_code": text("کد ملی", "The director's national code",
                                      pattern=NATIONAL_CODE),
                "role": code_list("سمت", "Role", {
                    "head": ("رئیس", "Head"), "ceo": ("مدیرعامل", "Chief executive"),
                    "chair": ("رئیس هیئت مدیره", "Chair of the board"),
                    "vice-chair": ("نایب رئیس هیئت مدیره", "Vice-chair of the board"),
                    "board-member": ("عضو هیئت مدیره", "Board member"),
                }),
            }, "required": ["national_code", "role"], "additionalProperties": False},
            "x-subject": "national_code", "x-personal": True,
        },
        "shareholders": {
            "type": "array", "title": "سهامداران", "maxItems": 1000,
            "description": "Direct holdings only (percentages sum to 100); 'state' is true for a "
                           "GOV or PUB member or a company flagged state_owned",
            "items": {"type": "object", "properties": {
                "holder_kind": code_list("نوع سهامدار", "Who holds the share", {
                    "person": ("شخص حقیقی", "Person"),
                    "company": ("شرکت", "Company in this registry"),
                    "member": ("دستگاه یا نهاد عمومی", "GOV or PUB member"),
                }),
                "holder_id": text("شناسه سهامدار", "National code or legal-entity ID",
                                  pattern="^[0-9]{10,11}$"),
                "share_percent": _scalar("number", "درصد سهم", "Share of the capital, percent",
                                         exclusiveMinimum=0, maximum=100),
                "state": _scalar("boolean", "دولتی", "Whether the holder is state"),
            }, "required": ["holder_kind", "holder_id", "share_percent", "state"],
               "additionalProperties": False},
            "x-subject": "holder_id", "x-personal": True,
        },
    },
    ["national_id", "name_fa", "name_en", "type", "status", "registration_date", "state_owned"],
)  # fmt: skip

ADDRESSES_SCHEMA: Final = _schema(
    "نشانی‌های ملی",
    "National address registry: one record per postal code",
    {
        "postal_code": text("کد پستی", "Ten-digit postal code (core.iran shape rules)",
                            pattern=POSTAL_CODE, key=True),
        "province": code_list("استان", "Province", PROVINCE_LABELS, searchable=True),
        "city": text("شهر", "City, in Persian", max_length=100, searchable=True),
        "street": text("خیابان و کوچه", "Street and alley, in Persian", max_length=300,
                       searchable=True),
        "plaque": _scalar("integer", "پلاک", "House number", minimum=1, searchable=True),
        "unit": _scalar("integer", "واحد", "Unit within the building", minimum=1),
        "location": {
            "type": "object", "x-geo-point": True, "title": "موقعیت",
            "description": "WGS 84 point of the entrance",
            "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}},
            "required": ["lat", "lon"], "additionalProperties": False,
        },
    },
    ["postal_code", "province", "city", "street", "plaque", "location"],
)  # fmt: skip

LAND_PARCELS_SCHEMA: Final = _schema(
    "املاک ثبتی",
    "Land registry: registered parcels with their deeds and owners",
    {
        "parcel_id": text("پلاک ثبتی", "Registration plaque, main-sub", key=True,
                          pattern="^[0-9]{1,7}-[0-9]{1,5}$"),
        "deed_number": text("شماره سند", "Electronic deed number (Jalali year + serial)",
                            pattern="^[0-9]{18}$", unique=True, searchable=True),
        "postal_code": text("کد پستی", "The parcel's postal code (in the national address "
                            "registry)", pattern=POSTAL_CODE, searchable=True),
        "area_m2": _scalar("number", "مساحت (مترمربع)", "Area in square metres",
                           exclusiveMinimum=0, searchable=True),
        "usage": code_list("کاربری", "Permitted use", {
            "residential": ("مسکونی", "Residential"), "commercial": ("تجاری", "Commercial"),
            "agricultural": ("کشاورزی", "Agricultural"), "industrial": ("صنعتی", "Industrial"),
            "administrative": ("اداری", "Administrative"), "mixed": ("مختلط", "Mixed use"),
        }, searchable=True),
        "owners": {
            "type": "array", "title": "مالکان", "minItems": 1, "maxItems": 50,
            "description": "Owners and their shares (sum 100)",
            "items": {"type": "object", "properties": {
                "national_code": text("کد ملی", "The owner's national code",
                                      pattern=NATIONAL_CODE),
                "share_percent": _scalar("number", "درصد مالکیت", "Share of the parcel, percent",
                                         exclusiveMinimum=0, maximum=100),
            }, "required": ["national_code", "share_percent"], "additionalProperties": False},
            "x-subject": "national_code", "x-personal": True,
        },
        "registered_on": day("تاریخ ثبت", "Date the current deed was registered",
                             searchable=True),
    },
    ["parcel_id", "deed_number", "postal_code", "area_m2", "usage", "owners", "registered_on"],
)  # fmt: skip

FOREIGN_NATIONALS_SCHEMA: Final = _schema(
    "اتباع خارجی",
    "Foreign nationals registry: identity and residence permits",
    {
        "foreign_national_id": text("شناسه فراگیر اتباع", "Foreign national's identifier",
                                    pattern="^[0-9]{6,16}$", key=True, subject=True,
                                    personal=True),
        "given_name_fa": text("نام", "Given name in Persian script", max_length=100,
                              searchable=True, personal=True),
        "given_name_en": text("نام (لاتین)", "Given name in Latin script", max_length=100,
                              searchable=True, personal=True),
        "family_name_fa": text("نام خانوادگی", "Family name in Persian script", max_length=100,
                               searchable=True, personal=True),
        "family_name_en": text("نام خانوادگی (لاتین)", "Family name in Latin script",
                               max_length=100, searchable=True, personal=True),
        "sex": code_list("جنسیت", "Sex", SEX, searchable=True, personal=True),
        "nationality": code_list("تابعیت", "Nationality (ISO 3166-1 alpha-3)",
                                 {n.code: (n.fa, n.en) for n in NATIONALITIES},
                                 searchable=True, personal=True),
        "birth_date": day("تاریخ تولد", "Birth date", searchable=True, personal=True),
        "residence_permit_number": text("شماره پروانه اقامت", "Current residence permit",
                                        pattern="^[0-9]{8}$", unique=True, personal=True),
        "permit_type": code_list("نوع پروانه", "Kind of the current permit", {
            "amayesh": ("کارت آمایش", "Amayesh card"),
            "residence": ("پروانه اقامت", "Residence permit"),
            "work": ("پروانه کار", "Work permit"), "student": ("اقامت تحصیلی", "Student"),
            "family": ("اقامت خانوادگی", "Family"),
            "investor": ("اقامت سرمایه‌گذاری", "Investor"),
        }, searchable=True, personal=True),
        "permit_valid_from": day("اعتبار از", "First day of the permit", personal=True),
        "permit_valid_until": day("اعتبار تا", "Last day of the permit", searchable=True,
                                  personal=True),
    },
    ["foreign_national_id", "given_name_fa", "given_name_en", "family_name_fa", "family_name_en",
     "sex", "nationality", "birth_date", "residence_permit_number", "permit_type",
     "permit_valid_from", "permit_valid_until"],
)  # fmt: skip
# Foreign-national IDs are 6 to 16 digits: typed as such, never taken for a national code.
FOREIGN_NATIONALS_SCHEMA["properties"]["foreign_national_id"]["x-subject-kind"] = "foreign-national"

TAXPAYERS_SCHEMA: Final = _schema(
    "مودیان مالیاتی",
    "Taxpayers registry: tax files of persons and legal entities",
    {
        "tax_file_number": text("شماره پرونده مالیاتی", "Tax file number", key=True,
                                pattern="^[0-9]{12}$"),
        "taxpayer_id": text("شناسه مودی", "National code (person) or legal-entity ID (company)",
                            pattern="^[0-9]{10,11}$", unique=True, searchable=True,
                            subject=True, personal=True),
        "taxpayer_kind": code_list("نوع مودی", "Person or legal entity", {
            "person": ("شخص حقیقی", "Person"), "company": ("شخص حقوقی", "Legal entity"),
        }, searchable=True),
        "status": code_list("وضعیت پرونده", "Status of the tax file", {
            "active": ("فعال", "Active"), "suspended": ("معلق", "Suspended"),
            "inactive": ("غیرفعال", "Inactive"),
        }, searchable=True),
        "outstanding_debt_rial": _scalar("integer", "بدهی قطعی (ریال)",
                                         "Outstanding final tax debt in rial", minimum=0,
                                         searchable=True, personal=True),
        "last_clearance_date": day("تاریخ آخرین مفاصاحساب", "Date of the last tax clearance",
                                   searchable=True),
    },
    ["tax_file_number", "taxpayer_id", "taxpayer_kind", "status", "outstanding_debt_rial"],
)  # fmt: skip

INSURED_SCHEMA: Final = _schema(
    "بیمه‌شدگان درمان",
    "Health insurance registry: basic health coverage of persons",
    {
        "insurance_number": text("شماره بیمه", "Insurance number", key=True,
                                 pattern="^[0-9]{11}$"),
        "national_code": text("کد ملی", "The insured person's national code",
                              pattern=NATIONAL_CODE, unique=True, searchable=True, subject=True,
                              personal=True),
        "coverage": code_list("نوع پوشش", "Basis of the coverage", {
            "employee": ("شاغل", "Employee"), "self-employed": ("خویش‌فرما", "Self-employed"),
            "dependant": ("افراد تحت تکفل", "Dependant"), "pensioner": ("بازنشسته", "Pensioner"),
            "student": ("دانشجو", "Student"), "universal": ("بیمه همگانی", "Universal coverage"),
            "rural": ("روستاییان و عشایر", "Villagers and nomads"),
        }, searchable=True, personal=True),
        "provider": code_list("بیمه‌گر پایه", "The basic insurer that covers the person", {
            "iran-health": ("سازمان بیمه سلامت ایران", "Iran Health Insurance Organization"),
            "social-security": ("سازمان تأمین اجتماعی", "Social Security Organization"),
            "armed-forces": ("سازمان خدمات درمانی نیروهای مسلح",
                             "Armed Forces Medical Services Organization"),
        }, searchable=True, personal=True),
        "valid_until": day("اعتبار تا", "Last day of the coverage", searchable=True,
                           personal=True),
    },
    ["insurance_number", "national_code", "coverage", "provider", "valid_until"],
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RegistryDefinition:
    """A registry's identity: its short code, names, owner (a seed owner's key), ecosystem."""

    code: str
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    owner: str
    ecosystem: str
    schema: dict[str, Any]


# "national" marks the base registries every ecosystem reads; it is not one of the thirteen.
NATIONAL: Final = "national"

DEFINITIONS: Final = (
    RegistryDefinition(
        "persons", "ثبت احوال", "Civil registry",
        "اشخاص دارای کد ملی، والدین، همسر و رویدادهای ولادت و فوت",
        "Persons with a national code, their parents, spouse, birth and death",
        "civil-registration", NATIONAL, PERSONS_SCHEMA,
    ),
    RegistryDefinition(
        "addresses", "نشانی‌های ملی", "National address registry",
        "نشانی و موقعیت هر کد پستی", "The address and location of every postal code",
        "national-post", NATIONAL, ADDRESSES_SCHEMA,
    ),
    RegistryDefinition(
        "companies", "اشخاص حقوقی", "Legal-entities registry",
        "شرکت‌ها، موسسات، دستگاه‌ها و نهادها با مدیران و سهامداران مستقیم",
        "Companies, institutes, agencies and public bodies with their directors and direct "
        "shareholders",
        "companies-registration", NATIONAL, COMPANIES_SCHEMA,
    ),
    RegistryDefinition(
        "land-parcels", "املاک ثبتی", "Land registry",
        "پلاک‌های ثبتی، اسناد و مالکان آن‌ها", "Registered parcels, their deeds and owners",
        "deeds-registration", "land", LAND_PARCELS_SCHEMA,
    ),
    RegistryDefinition(
        "foreign-nationals", "اتباع خارجی", "Foreign nationals registry",
        "هویت و پروانه اقامت اتباع خارجی", "Foreign nationals' identity and residence permits",
        "foreign-nationals-bureau", "migrants-and-foreign-nationals", FOREIGN_NATIONALS_SCHEMA,
    ),
    RegistryDefinition(
        "taxpayers", "مودیان مالیاتی", "Taxpayers registry",
        "پرونده‌های مالیاتی اشخاص حقیقی و حقوقی", "Tax files of persons and legal entities",
        "tax", "tax", TAXPAYERS_SCHEMA,
    ),
    RegistryDefinition(
        "insured", "بیمه‌شدگان درمان", "Health insurance registry",
        "پوشش بیمه پایه درمان اشخاص", "Persons' basic health insurance coverage",
        "health-insurance", "insurance", INSURED_SCHEMA,
    ),
)  # fmt: skip

SCHEMAS: Final = {definition.code: definition.schema for definition in DEFINITIONS}
