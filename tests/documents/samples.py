"""A valid subject of each seeded document type, written out (synthetic; identifiers with valid
check digits), shared by the tests of the types and of their PDFs."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "birth-certificate-extract": {
        "national_code": "0499370899",
        "given_name_fa": "زهرا",
        "given_name_en": "Zahra",
        "family_name_fa": "احمدی",
        "family_name_en": "Ahmadi",
        "sex": "F",
        "birth_date": "1995-04-12",
        "birth_province": "isfahan",
        "birth_city": "کاشان",
        "father_national_code": "1234567891",
    },
    "business-licence": {
        "national_id": "10380284790",
        "name_fa": "شرکت نمونه پارس",
        "name_en": "Pars Sample Company",
        "legal_form": "private-joint-stock",
        "registration_status": "active",
        "registration_date": "2012-06-30",
        "postal_code": "1434863111",
        "province": "tehran",
        "activity_fa": "خدمات نرم‌افزاری",
        "activity_en": "Software services",
    },
    "tax-clearance": {
        "taxpayer_id": "0499370899",
        "taxpayer_kind": "person",
        "tax_file_number": "709936477387",
        "file_status": "active",
        "outstanding_debt_rial": 0,
        "taxpayer_name_fa": "زهرا احمدی",
        "taxpayer_name_en": "Zahra Ahmadi",
    },
    "land-ownership-deed": {
        "parcel_id": "1542-17",
        "deed_number": "140312345678901234",
        "postal_code": "5733697534",
        "area_m2": 147.5,
        "usage": "residential",
        "owners": [
            {"national_code": "0499370899", "share_percent": 50},
            {"national_code": "1234567891", "share_percent": 50},
        ],
        "registered_on": "2016-01-08",
    },
    "residence-permit": {
        "foreign_national_id": "946538763832",
        "given_name_fa": "حمیرا",
        "given_name_en": "Humaira",
        "family_name_fa": "صافی",
        "family_name_en": "Safi",
        "sex": "F",
        "nationality": "AFG",
        "birth_date": "1964-03-27",
        "permit_number": "93081943",
        "permit_type": "residence",
        "permit_valid_from": "2025-02-25",
        "permit_valid_until": "2026-02-24",
    },
    "health-insurance-card": {
        "insurance_number": "27676055842",
        "national_code": "0499370899",
        "coverage": "employee",
        "provider": "iran-health",
        "coverage_valid_until": "2027-04-02",
        "insured_name_fa": "زهرا احمدی",
        "insured_name_en": "Zahra Ahmadi",
    },
}
