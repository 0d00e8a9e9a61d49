"""Iranian identifier validators, check digits and generators."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    foreign_national_ids,
    ibans,
    legal_entity_ids,
    mobiles,
    national_codes,
    postal_codes,
)
from zistboom.core.errors import ValidationError
from zistboom.core.iran import (
    generate_foreign_national_id,
    generate_iban,
    generate_legal_entity_id,
    generate_mobile,
    generate_national_code,
    generate_postal_code,
    iban_check_digits,
    is_valid_foreign_national_id,
    is_valid_iban,
    is_valid_legal_entity_id,
    is_valid_mobile,
    is_valid_national_code,
    is_valid_postal_code,
    legal_entity_check_digit,
    national_code_check_digit,
    validate_foreign_national_id,
    validate_iban,
    validate_legal_entity_id,
    validate_mobile,
    validate_national_code,
    validate_postal_code,
)
from zistboom.core.persian import ARABIC_INDIC_DIGITS, to_persian_digits

DIGITS = "0123456789"


def arabic_indic(text: str) -> str:
    return text.translate(str.maketrans(DIGITS, ARABIC_INDIC_DIGITS))


def single_digit_changes(value: str, positions: range) -> list[tuple[int, str]]:
    """Every (position, changed value) with exactly one digit replaced by a different digit."""
    return [
        (i, value[:i] + digit + value[i + 1 :])
        for i in positions
        for digit in DIGITS
        if digit != value[i]
    ]


# --- National code ---------------------------------------------------------------------------


def test_national_code_worked_example() -> None:
    # s = 0·10 + 4·9 + 9·8 + 9·7 + 3·6 + 7·5 + 0·4 + 8·3 + 9·2 = 266; 266 mod 11 = 2; 11 − 2 = 9
    assert national_code_check_digit("049937089") == 9
    assert validate_national_code("0499370899") == "0499370899"


@pytest.mark.parametrize(
    "written",
    [
        "0499370899",
        "  0499370899\n",
        "499370899",  # legacy: leading zero dropped
        "۰۴۹۹۳۷۰۸۹۹",
        "٠٤٩٩٣٧٠٨٩٩",
        "۴۹۹۳۷۰۸۹۹",
    ],
)
def test_national_code_written_forms(written: str) -> None:
    assert validate_national_code(written) == "0499370899"


def test_national_code_pads_eight_digits() -> None:
    # 001234567: s = 1·8 + 2·7 + 3·6 + 4·5 + 5·4 + 6·3 + 7·2 = 112; 112 mod 11 = 2 → check 9
    assert national_code_check_digit("001234567") == 9
    assert validate_national_code("12345679") == "0012345679"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "national code is empty"),
        ("   ", "national code is empty"),
        ("1234567", "must have 10 digits (8 or 9 are padded with leading zeros), got 7 digits"),
        ("04993708991", "got 11 digits"),
        ("0499-370899", "may contain only digits, found '-'"),
        ("0499 370899", "may contain only digits, found ' '"),
        ("04993708a9", "may contain only digits, found 'a'"),
        ("0499370898", "has a wrong check digit: expected 9, got 8"),
        ("1111111111", "all ten digits are equal"),
        ("0000000000", "all ten digits are equal"),
    ],
)
def test_national_code_refusals(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_national_code(value)
    assert message in caught.value.detail
    assert caught.value.field == "national_code"
    assert not is_valid_national_code(value)


def test_oversized_input_is_not_echoed_whole() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_national_code("1" * 10_000)
    assert "got 10000 digits" in caught.value.detail
    assert len(caught.value.detail) < 300


def test_all_equal_digits_refused_even_though_checksum_passes() -> None:
    assert national_code_check_digit("111111111") == 1  # so the all-equal rule is what refuses


def test_national_code_field_name_is_passed_through() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_national_code("123", field="applicant.national_code")
    assert caught.value.field == "applicant.national_code"


@given(national_codes())
def test_generated_national_codes_validate(code: str) -> None:
    assert validate_national_code(code) == code
    assert validate_national_code(to_persian_digits(code)) == code
    assert validate_national_code(arabic_indic(code)) == code


@given(national_codes())
def test_national_code_changed_check_digit_is_refused(code: str) -> None:
    for _, changed in single_digit_changes(code, range(9, 10)):
        with pytest.raises(ValidationError, match="wrong check digit"):
            validate_national_code(changed)


@given(national_codes())
def test_national_code_changed_body_digit_only_survives_the_1_10_collision(code: str) -> None:
    # Weights 10..2 are non-zero mod 11, so any single change moves the remainder r; the
    # mapping r → check digit sends both r = 1 and r = 10 to 1, the only way a changed code
    # can still pass. So a surviving change implies check digit 1.
    for _, changed in single_digit_changes(code, range(9)):
        if is_valid_national_code(changed):
            assert code[9] == "1"


def test_national_code_collision_exists() -> None:
    # The property above is not vacuous: 3 → 5 in the first digit keeps this code valid.
    assert is_valid_national_code("3040119801")
    assert is_valid_national_code("5040119801")


# --- Legal-entity ID -------------------------------------------------------------------------


def test_legal_entity_worked_example() -> None:
    # k = 9 + 2 = 11; s = Σ (d[i] + 11)·w = 3432; 3432 mod 11 = 0 → check digit 0
    assert legal_entity_check_digit("1038028479") == 0
    assert validate_legal_entity_id("10380284790") == "10380284790"
    assert validate_legal_entity_id(" ۱۰۳۸۰۲۸۴۷۹۰ ") == "10380284790"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "legal-entity ID is empty"),
        ("1038028479", "must have 11 digits, got 10 digits"),
        ("103802847900", "got 12 digits"),
        ("1038028479O", "may contain only digits, found 'O'"),
        ("10380284791", "wrong check digit: expected 0, got 1"),
        ("00000000000", "fourth to ninth digits are all zero"),
    ],
)
def test_legal_entity_refusals(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_legal_entity_id(value)
    assert message in caught.value.detail
    assert caught.value.field == "legal_entity_id"
    assert not is_valid_legal_entity_id(value)


def test_legal_entity_zeros_in_positions_3_to_8_refused_despite_check_digit() -> None:
    first10 = "1230000004"
    code = first10 + str(legal_entity_check_digit(first10))
    with pytest.raises(ValidationError, match="fourth to ninth digits are all zero"):
        validate_legal_entity_id(code)


@given(legal_entity_ids())
def test_generated_legal_entity_ids_validate(code: str) -> None:
    assert validate_legal_entity_id(code) == code
    assert validate_legal_entity_id(to_persian_digits(code)) == code
    assert validate_legal_entity_id(arabic_indic(code)) == code


@given(legal_entity_ids())
def test_legal_entity_changed_check_digit_is_refused(code: str) -> None:
    for _, changed in single_digit_changes(code, range(10, 11)):
        with pytest.raises(ValidationError, match="wrong check digit"):
            validate_legal_entity_id(changed)


@given(legal_entity_ids())
def test_legal_entity_changed_body_digit_only_survives_the_0_10_collision(code: str) -> None:
    # Weights 29, 27, 23, 19, 17 are 7, 5, 1, 8, 6 mod 11, and changing d[9] by δ changes s
    # by 247·δ ≡ 5·δ: every single change moves r, and only r = 0 and r = 10 share a check
    # digit (0). A surviving change therefore implies check digit 0.
    for _, changed in single_digit_changes(code, range(10)):
        if is_valid_legal_entity_id(changed):
            assert code[10] == "0"


def test_legal_entity_collision_exists() -> None:
    assert is_valid_legal_entity_id("13944117710")
    assert is_valid_legal_entity_id("43944117710")


# --- Postal code -----------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["1345678901", "13456-78901", " ۱۳۴۵۶۷۸۹۰۱ ", "۱۳۴۵۶-۷۸۹۰۱"])
def test_postal_code_written_forms(written: str) -> None:
    assert validate_postal_code(written) == "1345678901"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "postal code is empty"),
        ("134567890", "must have 10 digits, got 9 digits"),
        ("1345-678901", "may contain only digits, found '-'"),
        ("1045678901", "first five digits may not contain 0"),
        ("1345278901", "first five digits may not contain 2"),
        ("1346578901", "fifth digit may not be 5"),
        ("7777678901", "first four digits may not all be equal"),
    ],
)
def test_postal_code_refusals(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_postal_code(value)
    assert message in caught.value.detail
    assert caught.value.field == "postal_code"
    assert not is_valid_postal_code(value)


@given(postal_codes())
def test_generated_postal_codes_validate(code: str) -> None:
    assert validate_postal_code(code) == code
    assert validate_postal_code(to_persian_digits(code)) == code
    assert validate_postal_code(f"{code[:5]}-{code[5:]}") == code


# --- Mobile ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "09121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "0912 123 4567",
        "0912-123-4567",
        "+98 912 123 4567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "+٩٨٩١٢١٢٣٤٥٦٧",
    ],
)
def test_mobile_written_forms(written: str) -> None:
    assert validate_mobile(written) == "09121234567"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "mobile number is empty"),
        ("+19121234567", "must start with 09, +989, 00989 or 989"),
        ("02112345678", "must start with 09"),
        ("+982112345678", "must start with 09"),
        ("0912123456", "09 followed by 9 digits, got 8 digits"),
        ("091212345678", "got 10 digits"),
        ("0912x234567", "may contain only digits, found 'x'"),
    ],
)
def test_mobile_refusals(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_mobile(value)
    assert message in caught.value.detail
    assert caught.value.field == "mobile"
    assert not is_valid_mobile(value)


@given(mobiles())
def test_generated_mobiles_validate_in_every_written_form(number: str) -> None:
    assert validate_mobile(number) == number
    assert validate_mobile("+98" + number[1:]) == number
    assert validate_mobile("0098" + number[1:]) == number
    assert validate_mobile("98" + number[1:]) == number
    assert validate_mobile(to_persian_digits(number)) == number


# --- IBAN ------------------------------------------------------------------------------------


def test_iban_check_digits_match_published_examples() -> None:
    # The ISO 13616 examples everyone uses; independent of our generator.
    assert iban_check_digits("WEST12345698765432", "GB") == "82"
    assert iban_check_digits("370400440532013000", "DE") == "89"


def test_iban_written_forms() -> None:
    iban = generate_iban(random.Random(7), bank_code="017")
    assert iban[4:7] == "017"
    grouped = " ".join(iban[i : i + 4] for i in range(0, 26, 4))
    assert validate_iban(grouped) == iban
    assert validate_iban(grouped.lower()) == iban
    assert validate_iban(to_persian_digits(iban)) == iban
    assert validate_iban(arabic_indic(iban)) == iban


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "IBAN is empty"),
        (
            "GB82WEST12345698765432",
            "must start with IR (only Iranian IBANs are accepted), got 'GB'",
        ),
        ("IR06029141777631706690743", "must have 26 characters (IR and 24 digits), got 25"),
        ("IR0602914177763170669074390", "got 27"),
        ("IR06029141777631706690743X", "may contain only digits after IR, found 'X'"),
        ("IR070291417776317066907439", "wrong check digits: expected 06, got 07"),
    ],
)
def test_iban_refusals(value: str, message: str) -> None:
    assert validate_iban("IR060291417776317066907439") == "IR060291417776317066907439"
    with pytest.raises(ValidationError) as caught:
        validate_iban(value)
    assert message in caught.value.detail
    assert caught.value.field == "iban"
    assert not is_valid_iban(value)


@given(ibans())
def test_generated_ibans_validate(iban: str) -> None:
    assert validate_iban(iban) == iban


@given(ibans())
def test_iban_any_single_digit_change_is_refused(iban: str) -> None:
    # Mod 97 catches every single substitution: the change is δ·10^p with 0 < |δ| < 97 and
    # 97 prime, never a multiple of 97.
    for _, changed in single_digit_changes(iban, range(2, 26)):
        assert not is_valid_iban(changed), changed


def test_generate_iban_refuses_a_malformed_bank_code() -> None:
    with pytest.raises(ValidationError, match="three ASCII digits") as caught:
        generate_iban(random.Random(1), bank_code="17")
    assert caught.value.field == "bank_code"


# --- Generators with an ordinary seeded Random -----------------------------------------------


@pytest.mark.parametrize(
    ("generate", "accepts"),
    [
        (generate_national_code, is_valid_national_code),
        (generate_legal_entity_id, is_valid_legal_entity_id),
        (generate_postal_code, is_valid_postal_code),
        (generate_mobile, is_valid_mobile),
        (generate_iban, is_valid_iban),
        (generate_foreign_national_id, is_valid_foreign_national_id),
    ],
)
def test_generators_only_produce_valid_values(
    generate: Callable[[random.Random], str], accepts: Callable[[str], bool]
) -> None:
    rng = random.Random(1404)
    values = [generate(rng) for _ in range(2000)]
    assert all(accepts(value) for value in values)
    assert len(set(values)) > 1900  # really random, not one value repeated


def test_generators_are_reproducible() -> None:
    assert generate_iban(random.Random(5)) == generate_iban(random.Random(5))
    assert generate_national_code(random.Random(5)) == generate_national_code(random.Random(5))


# --- Foreign nationals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("123456", "123456"), ("000123456", "000123456"), (" ۱۲۳۴۵۶۷۸۹۰۱۲ ", "123456789012")],
)
def test_foreign_national_id_written_forms(written: str, canonical: str) -> None:
    assert validate_foreign_national_id(written) == canonical


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "foreign national ID is empty"),
        ("12345", "must have 6 to 16 digits, got 5 digits"),
        ("1" * 17, "got 17 digits"),
        ("12345A", "may contain only digits, found 'A'"),
    ],
)
def test_foreign_national_id_refusals(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_foreign_national_id(value)
    assert message in caught.value.detail
    assert caught.value.field == "foreign_national_id"
    assert not is_valid_foreign_national_id(value)


@given(foreign_national_ids())
def test_generated_foreign_national_ids_validate(number: str) -> None:
    assert validate_foreign_national_id(number) == number


@given(st.text(alphabet=DIGITS, min_size=6, max_size=16))
def test_foreign_national_id_is_opaque(number: str) -> None:
    assert validate_foreign_national_id(number) == number
