"""The VC-JWT profile (documents/vc.py): what it signs verifies with plain cryptography, what it
reads is exactly the profile, and everything else is refused with a DocumentError that says why."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from document_formats import HOLDER, ISSUER, T0, Pki, Signer, claims
from zistboom.core.crypto.jws import sign_jws
from zistboom.core.crypto.keys import b64url_decode, b64url_encode, generate_private_key
from zistboom.core.crypto.x509 import certificate_der
from zistboom.core.errors import DocumentError, ValidationError
from zistboom.documents import profile, vc


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def signer(pki: Pki) -> Signer:
    return pki.signer()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return orjson.loads(b64url_decode(header)), orjson.loads(b64url_decode(payload)), signature


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: str = "A" * 86) -> str:
    return ".".join(
        (b64url_encode(orjson.dumps(header)), b64url_encode(orjson.dumps(payload)), signature)
    )


def test_a_signed_document_reads_back_and_verifies_with_plain_cryptography(signer: Signer) -> None:
    document = claims(signer)
    token = vc.sign_credential(document, signer.key, signer.chain)

    header, payload, _ = _parts(token)
    assert list(header) == ["alg", "typ", "cty", "x5c"]
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt" and header["cty"] == "vc"
    # x5c: standard base64 of the DER, leaf first (RFC 7515 §4.1.6).
    assert [base64.b64decode(c) for c in header["x5c"]] == [
        certificate_der(c) for c in signer.chain
    ]
    assert payload == document

    parsed = vc.parse_credential(token)
    vc.verify_signature(parsed)
    assert parsed.credential_id == document["id"]
    assert parsed.issuer_member == ISSUER and parsed.holder == HOLDER
    assert parsed.type_code == "birth-certificate-extract"
    assert parsed.valid_from == T0 and parsed.valid_until == T0 + timedelta(days=3650)
    assert parsed.iat == T0
    assert parsed.chain[0] == signer.cert and parsed.leaf == signer.cert
    assert "id" not in parsed.subject and parsed.subject["given_name_fa"] == "زهرا"
    assert parsed.document.status_index == 94_567
    assert parsed.document.status_entry("suspension").statusListCredential.endswith("/suspension")

    # The raw signature is r||s over the signing input: cryptography alone agrees.
    assert len(parsed.signature) == 64
    r, s = (int.from_bytes(parsed.signature[i : i + 32], "big") for i in (0, 32))
    public = signer.cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(encode_dss_signature(r, s), parsed.signing_input, ec.ECDSA(hashes.SHA256()))


def test_a_changed_byte_breaks_the_signature(signer: Signer) -> None:
    token = vc.sign_credential(claims(signer), signer.key, signer.chain)
    header, payload, signature = token.split(".")
    document = orjson.loads(b64url_decode(payload))
    document["credentialSubject"]["given_name_fa"] = "زهره"
    tampered = f"{header}.{b64url_encode(orjson.dumps(document))}.{signature}"
    with pytest.raises(DocumentError, match="signature does not verify"):
        vc.verify_signature(vc.parse_credential(tampered))

    flipped = bytearray(b64url_decode(signature))
    flipped[5] ^= 0x01
    with pytest.raises(DocumentError, match="signature does not verify"):
        vc.verify_signature(vc.parse_credential(f"{header}.{payload}.{b64url_encode(flipped)}"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h.update(alg="ES384"), "alg"),
        (lambda h: h.update(alg="none"), "alg"),
        (lambda h: h.update(alg="HS256"), "alg"),
        (lambda h: h.pop("x5c"), "x5c"),
        (lambda h: h.update(x5c=[]), "x5c"),
        (lambda h: h.update(typ="JWT"), "typ"),
        (lambda h: h.update(typ="vc+ld+json+jwt"), "typ"),
        (lambda h: h.update(cty="json"), "cty"),
        (lambda h: h.update(kid="doc-1"), "kid"),
        (lambda h: h.update(crit=["b64"], b64=False), "crit"),
    ],
)
def test_headers_outside_the_profile_are_refused(signer: Signer, change: Any, reason: str) -> None:
    header, payload, signature = _parts(
        vc.sign_credential(claims(signer), signer.key, signer.chain)
    )
    change(header)
    with pytest.raises(DocumentError, match="header is refused") as caught:
        vc.parse_credential(_forge(header, payload, signature))
    assert reason in caught.value.detail


def test_x5c_must_be_standard_base64_of_certificates(signer: Signer) -> None:
    header, payload, signature = _parts(
        vc.sign_credential(claims(signer), signer.key, signer.chain)
    )
    der = certificate_der(signer.cert)
    assert base64.b64encode(der) != base64.urlsafe_b64encode(der)  # the test can tell them apart
    url_safe = dict(header, x5c=[base64.urlsafe_b64encode(der).decode()])
    with pytest.raises(DocumentError, match="standard base64"):
        vc.parse_credential(_forge(url_safe, payload, signature))
    garbage = dict(header, x5c=[base64.b64encode(b"not a certificate").decode()])
    with pytest.raises(DocumentError, match=r"x5c\[0\] is not a certificate"):
        vc.parse_credential(_forge(garbage, payload, signature))


def _without(key: str) -> Any:
    return lambda c: c.pop(key)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c.update({"@context": [profile.DOCUMENTS_CONTEXT]}), "VC 2.0"),
        (
            lambda c: c.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}),
            "VC 2.0",
        ),
        (
            lambda c: c.update(type=["ZbDocument", "BirthCertificateExtract"]),
            "VerifiableCredential",
        ),
        (_without("issuer"), "issuer"),
        (_without("credentialSubject"), "credentialSubject"),
        (_without("validFrom"), "validFrom"),
        (lambda c: c.update(validFrom=1764583200), "validFrom"),
        (lambda c: c.update(validFrom="2026-12-01T10:00:00"), "validFrom"),
        (lambda c: c.update(validUntil="2026-11-30T10:00:00Z"), "after validFrom"),
    ],
)
def test_claims_that_are_not_a_vc_2_are_refused(signer: Signer, change: Any, reason: str) -> None:
    header, payload, _ = _parts(vc.sign_credential(claims(signer), signer.key, signer.chain))
    change(payload)
    # Signed properly: the refusal is about the claims, not the signature.
    token = sign_jws(orjson.dumps(payload), signer.key, headers={k: header[k] for k in header})
    with pytest.raises(DocumentError, match=r"not a VC 2\.0") as caught:
        vc.parse_credential(token)
    assert reason in caught.value.detail
    with pytest.raises(DocumentError):
        vc.sign_credential(payload, signer.key, signer.chain)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c.update(nbf=1764583200), "nbf"),
        (lambda c: c["issuer"].update(url="https://example.org"), "url"),
        (lambda c: c.update(type=["VerifiableCredential", "ZbDocument", "TaxClearance"]), "type"),
        (lambda c: c.update(id="urn:uuid:not-a-uuid"), "urn:uuid"),
        (lambda c: c["issuer"].update(id="did:web:example.org"), "urn:zb:member"),
        (lambda c: c["credentialSubject"].update(id="urn:zb:holder:IR0012345678"), "check digit"),
        (lambda c: c["credentialSubject"].pop("id"), "credentialSubject.id"),
        (lambda c: c["credentialStatus"].pop(), "credentialStatus"),
        (lambda c: c["credentialStatus"][1].update(statusListIndex="7"), "statusListCredential#"),
        (lambda c: c["credentialStatus"][0].update(statusListIndex="007"), "decimal"),
        (lambda c: c.update(iat="1764583200"), "iat"),
        (lambda c: c["credentialSchema"].update(type="ShaclValidator2017"), "JsonSchema"),
    ],
)
def test_documents_outside_the_profile_are_refused(
    signer: Signer, change: Any, reason: str
) -> None:
    document = claims(signer)
    vc.parse_credential(vc.sign_credential(document, signer.key, signer.chain))  # sane start
    changed = copy.deepcopy(document)
    change(changed)
    token = sign_jws(
        orjson.dumps(changed),
        signer.key,
        headers=_parts(vc.sign_credential(document, signer.key, signer.chain))[0],
    )
    with pytest.raises(DocumentError, match="ZbDocument of ZB-STD-008") as caught:
        vc.parse_credential(token)
    assert reason in caught.value.detail
    with pytest.raises(DocumentError):
        vc.sign_credential(changed, signer.key, signer.chain)


def test_signing_refuses_a_key_that_is_not_the_leafs(pki: Pki, signer: Signer) -> None:
    with pytest.raises(DocumentError, match="does not belong to the leaf"):
        vc.sign_credential(claims(signer), generate_private_key(), signer.chain)
    with pytest.raises(DocumentError, match="ES256"):
        vc.sign_credential(claims(signer), generate_private_key("ed25519"), signer.chain)
    with pytest.raises(DocumentError, match="chain"):
        vc.sign_credential(claims(signer), signer.key, [])
    with pytest.raises(ValidationError, match="'id'"):
        claims(signer, subject={"id": "urn:zb:holder:IR0012345679"})


def test_malformed_tokens_are_document_errors() -> None:
    for token in ("", "a.b", "a.b.c.d", "ناخوانا.b.c", "e30.e30.e30", "x" * 300_000):
        with pytest.raises(DocumentError):
            vc.parse_credential(token)


# A subject field: short keys, any text (Persian included) or small numbers.
_fields = st.dictionaries(
    st.text(st.characters(categories=["Ll", "Lu"]), min_size=1, max_size=12).filter(
        lambda k: k != "id"
    ),
    st.one_of(st.text(max_size=40), st.integers(-(10**9), 10**9), st.booleans()),
    max_size=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=_fields, index=st.integers(0, 2**20 - 1))
def test_any_subject_round_trips(signer: Signer, subject: dict[str, Any], index: int) -> None:
    token = vc.sign_credential(
        claims(signer, subject=subject, status_index=index), signer.key, signer.chain
    )
    parsed = vc.parse_credential(token)
    vc.verify_signature(parsed)
    assert parsed.subject == subject and parsed.document.status_index == index


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_one_changed_character_is_refused(signer: Signer, data: st.DataObject) -> None:
    token = vc.sign_credential(claims(signer), signer.key, signer.chain)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.").filter(
            lambda c: c != token[position]
        )
    )
    changed = token[:position] + replacement + token[position + 1 :]
    try:
        parsed = vc.parse_credential(changed)
        vc.verify_signature(parsed)
    except DocumentError:
        return
    # Base64url's last character carries spare bits: a change there may decode to the same bytes.
    assert b64url_decode(changed.split(".")[2]) == b64url_decode(token.split(".")[2])
    assert changed.split(".")[:2] == token.split(".")[:2]


def test_the_profiles_names() -> None:
    assert profile.type_name("birth-certificate-extract") == "BirthCertificateExtract"
    assert profile.credential_types("tax-clearance") == [
        "VerifiableCredential",
        "ZbDocument",
        "TaxClearance",
    ]
    assert profile.member_of_issuer(profile.issuer_urn(ISSUER)) == ISSUER
    for holder in (HOLDER, "FN123456789012", "10380284790"):  # person, foreign national, business
        assert profile.holder_of(profile.holder_urn(holder)) == holder
    for bad in ("IR0012345678", "10000000001", "XX12", "FN12"):
        with pytest.raises(ValidationError):
            profile.validate_holder_id(bad)
    with pytest.raises(DocumentError, match="urn:zb:holder:"):
        profile.holder_of("urn:zb:member:" + ISSUER)
    credential_id = profile.new_credential_id()
    assert profile.uuid_of_credential(credential_id).version == 4
    with pytest.raises(DocumentError, match="canonical"):
        profile.uuid_of_credential(credential_id.upper())
    assert profile.rfc3339(T0) == "2026-12-01T10:00:00Z"
    assert (
        profile.status_list_url("https://hub/", "L1", "suspension")
        == "https://hub/status-lists/L1/suspension"
    )
    with pytest.raises(ValidationError, match="lowercase"):
        profile.type_name("Birth_Certificate")
