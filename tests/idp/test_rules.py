"""The provider's pure rules through their public functions: reading an identifier (property
tests over generated national codes and foreign-national IDs, in any digits), PKCE S256 against
RFC 7636's own example, and the JWK thumbprint against RFC 7638's."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from zistboom.core.errors import ValidationError
from zistboom.core.iran import generate_foreign_national_id, generate_national_code
from zistboom.core.persian import to_persian_digits
from zistboom.idp.keys import thumbprint
from zistboom.idp.service import subject_of
from zistboom.idp.tokens import pkce_matches

national_codes = st.randoms(use_true_random=False).map(generate_national_code)
foreign_ids = st.randoms(use_true_random=False).map(generate_foreign_national_id)


@given(national_codes, st.booleans(), st.booleans())
def test_a_national_code_is_read_in_any_digits_with_or_without_its_prefix(
    code: str, persian: bool, prefixed: bool
) -> None:
    typed = ("ir" if prefixed else "") + (to_persian_digits(code) if persian else code)
    assert subject_of(f" {typed} ") == f"IR{code}"


@given(foreign_ids, st.booleans())
def test_a_foreign_national_id_is_read_as_one(number: str, persian: bool) -> None:
    assert subject_of(to_persian_digits(number) if persian else number) == f"FN{number}"
    assert subject_of(f"FN{number}") == f"FN{number}"


def test_a_national_code_with_a_wrong_check_digit_is_refused_with_its_prefix() -> None:
    code = generate_national_code(random.Random(3))
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    with pytest.raises(ValidationError, match="check digit"):
        subject_of(f"IR{wrong}")
    for nonsense in ("", "12345", "abc", "IR", "FN12"):
        with pytest.raises(ValidationError):
            subject_of(nonsense)


def test_pkce_s256_is_rfc_7636s_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not pkce_matches(verifier[:-1] + "l", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_the_thumbprint_is_rfc_7638s_for_an_ec_key() -> None:
    # The members RFC 7638 hashes for EC keys are crv, kty, x, y; joserfc computes it
    # independently here, so a wrong member order or encoding of ours would differ.
    key = ECKey.generate_key("P-256")
    jwk = key.as_dict(private=False)
    assert thumbprint(jwk) == key.thumbprint()
    assert thumbprint({**jwk, "x": jwk["y"], "y": jwk["x"]}) != key.thumbprint()
