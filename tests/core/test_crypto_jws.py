"""JWS compact serialization: round trips, refusals, and interoperability with pyca/cryptography."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from zistboom.core.crypto.jws import (
    algorithm_for,
    jwk_to_public_key,
    public_key_to_jwk,
    sign_jws,
    unverified_header,
    verify_jws,
)
from zistboom.core.crypto.keys import PrivateKey, generate_private_key, public_key_der
from zistboom.core.errors import CryptoError

B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PAYLOAD = '{"message":"سلام","n":1}'.encode()

# Module-level keys keep the property test free of function-scoped fixtures.
EC_KEY = generate_private_key("ec-p256")
ED_KEY = generate_private_key("ed25519")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def replace_char(token: str, index: int) -> str:
    """``token`` with the character at ``index`` replaced by a different base64url character."""
    old = token[index]
    new = B64URL_ALPHABET[(B64URL_ALPHABET.index(old) + 1) % 64]
    return token[:index] + new + token[index + 1 :]


@pytest.fixture(params=["ec-p256", "ed25519"])
def key(request: pytest.FixtureRequest) -> PrivateKey:
    return EC_KEY if request.param == "ec-p256" else ED_KEY


def test_algorithm_follows_the_key() -> None:
    assert algorithm_for(EC_KEY) == "ES256"
    assert algorithm_for(EC_KEY.public_key()) == "ES256"
    assert algorithm_for(ED_KEY) == "EdDSA"
    assert algorithm_for(ED_KEY.public_key()) == "EdDSA"


def test_other_keys_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(CryptoError, match="secp384r1"):
        algorithm_for(p384)
    with pytest.raises(CryptoError, match="RSA"):
        sign_jws(PAYLOAD, rsa_key)  # type: ignore[arg-type]


def test_round_trip(key: PrivateKey) -> None:
    token = sign_jws(PAYLOAD, key, headers={"typ": "example+jws", "kid": "k1"})
    header, payload = verify_jws(token, key.public_key())
    assert payload == PAYLOAD
    assert header == {"alg": algorithm_for(key), "typ": "example+jws", "kid": "k1"}
    assert unverified_header(token) == header


def test_signature_verifies_without_joserfc(key: PrivateKey) -> None:
    """Checked with pyca/cryptography on the RFC 7515 signing input, so the output is standard."""
    token = sign_jws(PAYLOAD, key, headers={"typ": "example+jws"})
    header_segment, payload_segment, signature_segment = token.split(".")
    assert json.loads(b64url_decode(header_segment)) == {
        "alg": algorithm_for(key),
        "typ": "example+jws",
    }
    assert b64url_decode(payload_segment) == PAYLOAD
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    signature = b64url_decode(signature_segment)
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert len(signature) == 64  # raw r || s, RFC 7518 §3.4
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        der = encode_dss_signature(r, s)
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        with pytest.raises(InvalidSignature):
            public.verify(der, signing_input + b"x", ec.ECDSA(hashes.SHA256()))
    else:
        assert len(signature) == 64
        public.verify(signature, signing_input)
        with pytest.raises(InvalidSignature):
            public.verify(signature, signing_input + b"x")


def sign_by_hand(key: PrivateKey, header: dict[str, object], payload: bytes) -> str:
    """A compact JWS built from RFC 7515/7518 with pyca/cryptography only."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(payload)}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


def test_token_signed_without_joserfc_verifies(key: PrivateKey) -> None:
    """The other direction: a token built by hand from the RFCs is accepted."""
    token = sign_by_hand(key, {"alg": algorithm_for(key), "typ": "JOSE"}, PAYLOAD)
    header, verified = verify_jws(token, key.public_key())
    assert verified == PAYLOAD
    assert header == {"alg": algorithm_for(key), "typ": "JOSE"}


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_a_changed_character_is_refused(key: PrivateKey, segment: int) -> None:
    token = sign_jws(PAYLOAD, key)
    start = sum(len(part) + 1 for part in token.split(".")[:segment])
    tampered = replace_char(token, start + 5)
    assert tampered != token
    with pytest.raises(CryptoError) as caught:
        verify_jws(tampered, key.public_key())
    if segment == 1:
        assert "signature does not verify" in caught.value.detail


def test_a_changed_payload_byte_is_refused(key: PrivateKey) -> None:
    header, _, signature = sign_jws(PAYLOAD, key).split(".")
    forged = b64url(PAYLOAD.replace(b'"n":1', b'"n":2'))
    with pytest.raises(CryptoError, match="signature does not verify"):
        verify_jws(f"{header}.{forged}.{signature}", key.public_key())


def test_a_changed_header_is_refused(key: PrivateKey) -> None:
    _, payload, signature = sign_jws(PAYLOAD, key, headers={"kid": "k1"}).split(".")
    forged = b64url(json.dumps({"alg": algorithm_for(key), "kid": "k2"}).encode())
    with pytest.raises(CryptoError, match="signature does not verify"):
        verify_jws(f"{forged}.{payload}.{signature}", key.public_key())


def test_wrong_key_is_refused(key: PrivateKey) -> None:
    token = sign_jws(PAYLOAD, key)
    other = generate_private_key("ec-p256" if algorithm_for(key) == "ES256" else "ed25519")
    with pytest.raises(CryptoError, match="signature does not verify"):
        verify_jws(token, other.public_key())


def test_key_of_another_type_is_refused() -> None:
    token = sign_jws(PAYLOAD, EC_KEY)
    with pytest.raises(CryptoError, match="does not match the verifying key"):
        verify_jws(token, ED_KEY.public_key())


def test_algorithm_outside_the_allowed_list_is_refused() -> None:
    token = sign_jws(PAYLOAD, EC_KEY)
    with pytest.raises(CryptoError, match="'ES256' is not allowed"):
        verify_jws(token, EC_KEY.public_key(), algorithms=("EdDSA",))


def test_alg_none_is_refused(key: PrivateKey) -> None:
    header = b64url(json.dumps({"alg": "none"}).encode())
    token = f"{header}.{b64url(PAYLOAD)}."
    with pytest.raises(CryptoError, match="'none' is not allowed"):
        verify_jws(token, key.public_key())
    # Even a caller who lists it does not get it.
    with pytest.raises(CryptoError, match="'none' is not allowed"):
        verify_jws(token, key.public_key(), algorithms=("none", "ES256", "EdDSA"))


def test_hs256_with_the_public_key_as_secret_is_refused(key: PrivateKey) -> None:
    """The classic key-confusion forgery: HMAC keyed with the verifier's public key."""
    secret = public_key_der(key.public_key())
    header = b64url(json.dumps({"alg": "HS256"}).encode())
    payload = b64url(PAYLOAD)
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64url(mac)}"
    with pytest.raises(CryptoError, match="'HS256' is not allowed"):
        verify_jws(token, key.public_key())
    with pytest.raises(CryptoError, match="'HS256'"):
        verify_jws(token, key.public_key(), algorithms=("HS256", "ES256", "EdDSA"))


def test_unknown_critical_header_is_refused(key: PrivateKey) -> None:
    header = {"alg": algorithm_for(key), "crit": ["zb-new"], "zb-new": 1}
    token = sign_by_hand(key, header, PAYLOAD)
    with pytest.raises(CryptoError, match="malformed JWS"):
        verify_jws(token, key.public_key())
    # The same token without the critical extension verifies: the refusal is about "crit".
    plain = sign_by_hand(key, {"alg": algorithm_for(key), "zb-new": 1}, PAYLOAD)
    assert verify_jws(plain, key.public_key())[1] == PAYLOAD


def test_caller_cannot_choose_the_algorithm() -> None:
    with pytest.raises(CryptoError, match="follows from the key"):
        sign_jws(PAYLOAD, EC_KEY, headers={"alg": "none"})
    with pytest.raises(CryptoError, match="follows from the key"):
        sign_jws(PAYLOAD, ED_KEY, headers={"alg": "ES256"})
    # Naming the right one is harmless.
    token = sign_jws(PAYLOAD, EC_KEY, headers={"alg": "ES256"})
    assert unverified_header(token)["alg"] == "ES256"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.AA",
        b64url(b"[1,2]") + ".e30.AA",
        b64url(b'{"typ":"x"}') + ".e30.AA",
        "eyJhbGciOiJFUzI1NiJ9.سلام.AA",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(CryptoError, match="malformed JWS"):
        unverified_header(token)
    with pytest.raises(CryptoError, match="malformed JWS"):
        verify_jws(token, EC_KEY.public_key())


@settings(max_examples=150, deadline=None)
@given(data=st.data(), key=st.sampled_from([EC_KEY, ED_KEY]))
def test_no_single_character_change_verifies(data: st.DataObject, key: PrivateKey) -> None:
    token = sign_jws(PAYLOAD, key, headers={"typ": "example+jws"})
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from(B64URL_ALPHABET + "."))
    tampered = token[:index] + replacement + token[index + 1 :]
    if tampered == token:
        return
    with pytest.raises(CryptoError):
        verify_jws(tampered, key.public_key())


def test_jwk_round_trip(key: PrivateKey) -> None:
    public = key.public_key()
    jwk = public_key_to_jwk(public)
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        assert jwk == {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    assert public_key_der(jwk_to_public_key(jwk)) == public_key_der(public)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "not supported"),
        ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "not supported"),
        ({"kty": "OKP", "crv": "X25519", "x": b64url(bytes(32))}, "not supported"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "not supported"),
        ({"kty": "EC", "crv": "P-256", "x": b64url(bytes(32))}, "invalid EC JWK"),
        ({"kty": "EC", "crv": "P-256", "x": b64url(bytes(32)), "y": 5}, "must be strings"),
    ],
)
def test_unsupported_jwks_are_refused(jwk: dict[str, object], message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        jwk_to_public_key(jwk)


def test_point_off_the_curve_is_refused() -> None:
    jwk = public_key_to_jwk(EC_KEY.public_key())
    y = int.from_bytes(b64url_decode(str(jwk["y"])), "big")
    off_curve = {**jwk, "y": b64url(((y + 1) % 2**256).to_bytes(32, "big"))}
    with pytest.raises(CryptoError, match="invalid EC JWK"):
        jwk_to_public_key(off_curve)


def test_private_jwk_is_refused() -> None:
    jwk = {**public_key_to_jwk(ED_KEY.public_key()), "d": b64url(bytes(32))}
    with pytest.raises(CryptoError, match="private key material"):
        jwk_to_public_key(jwk)
