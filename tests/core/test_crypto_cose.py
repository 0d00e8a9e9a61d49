"""COSE_Sign1 with ES256 (core/crypto/cose.py) against an independent implementation, pycose:
each verifies what the other signs, and what is not ES256 is refused."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import Algorithm
from pycose.keys import CoseKey
from pycose.messages import Sign1Message

from zistboom.core.crypto import cose
from zistboom.core.crypto.keys import generate_private_key
from zistboom.core.errors import CryptoError

PAYLOAD = cbor2.dumps({1: "IR-DEMO/GOV/10380284790", -70001: {"t": "tax-clearance"}})


def _pycose_key(private: bool) -> tuple[ec.EllipticCurvePrivateKey, CoseKey]:
    key = generate_private_key()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    if private:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key, CoseKey.from_pem_private_key(pem.decode())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, CoseKey.from_pem_public_key(pem.decode())


def test_pycose_verifies_what_we_sign() -> None:
    key, public = _pycose_key(private=False)
    signed = cose.sign_sign1(PAYLOAD, key, protected={33: b"leaf"})
    # pycose 1.1 expects the list cbor2 5 gave for a tag's content; cbor2 6 gives a tuple.
    tagged = cbor2.loads(signed.with_unprotected({-70002: b"token"}).encode())
    assert tagged.tag == 18
    parts = list(tagged.value)
    parts[1] = dict(parts[1])
    message = Sign1Message.from_cose_obj(parts, allow_unknown_attributes=True)
    message.key = public
    assert message.verify_signature()
    assert message.payload == PAYLOAD
    cose.verify_sign1(cose.decode_sign1(signed.encode()), key.public_key())


def test_we_verify_what_pycose_signs_and_refuse_a_change() -> None:
    key, private = _pycose_key(private=True)
    message = Sign1Message(phdr={Algorithm: Es256}, payload=PAYLOAD, key=private)
    decoded = cose.decode_sign1(message.encode())
    cose.verify_sign1(decoded, key.public_key())
    changed = cose.CoseSign1(
        decoded.protected, decoded.protected_header, PAYLOAD + b"\x00", decoded.signature
    )
    with pytest.raises(CryptoError, match="does not verify"):
        cose.verify_sign1(changed, key.public_key())
    with pytest.raises(CryptoError, match="does not verify"):
        cose.verify_sign1(decoded, generate_private_key().public_key())


def test_only_es256_is_signed_or_read() -> None:
    with pytest.raises(CryptoError, match="EC P-256"):
        cose.sign_sign1(PAYLOAD, generate_private_key("ed25519"))
    with pytest.raises(CryptoError, match="cannot override"):
        cose.sign_sign1(PAYLOAD, generate_private_key(), protected={1: -35})
    signature = b"\x01" * 64
    for protected, unprotected, reason in (
        ({1: -35}, {}, "only ES256"),
        ({}, {1: -7}, "only ES256"),
        ({1: -7}, {1: -7}, "must be protected"),
    ):
        data = cbor2.dumps(
            cbor2.CBORTag(18, [cbor2.dumps(protected), unprotected, PAYLOAD, signature])
        )
        with pytest.raises(CryptoError, match=reason):
            cose.decode_sign1(data)
    for data, reason in (
        (b"\xff", "not CBOR"),
        (cbor2.dumps([1, 2, 3, 4]), "tag 18"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "four elements"),
        (cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7}), {}, PAYLOAD, b"\x01"])), "64 bytes"),
    ):
        with pytest.raises(CryptoError, match=reason):
            cose.decode_sign1(data)
