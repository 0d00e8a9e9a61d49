"""The organisations of the seed (all synthetic, legal-entity IDs with valid check digits): the
demo federation's members and the base registries' owners. Plain data, so that both the seed
and the demo (``zistboom.demo.federation``, which builds its members from it) read one list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class SeedOrganisation:
    key: str
    member_class: str
    code: str
    """The legal-entity ID (شناسه ملی), also the X-Road member code."""
    name_fa: str
    name_en: str
    kind: str
    """A central member kind: agency, public-body, company, ecosystem-operator."""
    subsystem: str
    """Its subsystem in the demo (for a registry owner, the registries' subsystem)."""


# The demo's person: synthetic, with a valid check digit; person 2 of the seed.
PERSON: Final = "0499370899"

DEMO_ORGANISATIONS: Final = (
    SeedOrganisation("it-authority", "GOV", "10380284790", "سازمان فناوری اطلاعات ایران",
                     "Information Technology Organization of Iran", "agency", "portal"),
    SeedOrganisation("civil-registration", "GOV", "12147922321", "سازمان ثبت احوال کشور",
                     "National Organization for Civil Registration", "agency",
                     "population-registry"),
    SeedOrganisation("tax", "GOV", "60711446972", "سازمان امور مالیاتی کشور",
                     "Iranian National Tax Administration", "agency", "tax-services"),
    SeedOrganisation("companies-registration", "GOV", "16394841376", "اداره ثبت شرکت‌ها",
                     "Companies Registration Office", "agency", "company-registry"),
    SeedOrganisation("single-window", "PUB", "15222078494", "اپراتور پنجره واحد خدمات",
                     "Single Service Window Operator", "public-body", "window"),
    SeedOrganisation("finance-ecosystem", "COM", "88135404915", "شرکت زیست‌بوم مالی نمونه",
                     "Sample Finance Ecosystem Company", "ecosystem-operator",
                     "finance-platform"),
)  # fmt: skip

# Owners of base registries beyond the demo's first organisations.
NEW_OWNERS: Final = (
    SeedOrganisation("national-post", "GOV", "61661293678", "شرکت ملی پست جمهوری اسلامی ایران",
                     "Iran Post Company", "company", "registry"),
    SeedOrganisation("deeds-registration", "GOV", "10955232379", "سازمان ثبت اسناد و املاک کشور",
                     "Deeds and Properties Registration Organization", "agency", "registry"),
    SeedOrganisation("foreign-nationals-bureau", "GOV", "64934325164",
                     "اداره کل امور اتباع و مهاجرین خارجی",
                     "Bureau for Aliens and Foreign Immigrants' Affairs", "agency", "registry"),
    SeedOrganisation("health-insurance", "GOV", "20557039454", "سازمان بیمه سلامت ایران",
                     "Iran Health Insurance Organization", "agency", "registry"),
)  # fmt: skip


def seed_organisation(key: str) -> SeedOrganisation:
    return next(o for o in (*DEMO_ORGANISATIONS, *NEW_OWNERS) if o.key == key)
