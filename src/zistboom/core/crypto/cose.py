"""COSE_Sign1 (RFC 9052 §4.2) with ES256, the signed envelope of the offline QR.

cbor2 does the CBOR and pyca/cryptography the ECDSA; this module owns the policy: the algorithm
is ES256 (``alg`` -7 in the protected header) and nothing else, the signature is the raw
``r || s`` of RFC 9053 §2.1, the message is tagged 18, and every failure is a
:class:`~zistboom.core.errors.CryptoError` naming the check. pycose is not used: it exports a
private key's numbers into a dictionary to sign, 1.1 cannot decode with cbor2 6 (which gives a
tag's content as a tuple), and a Sign1 message is a four-element array whose Sig_structure is
written out in :func:`_to_be_signed`. tests/core/test_crypto_cose.py checks both directions
against pycose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from zistboom.core.crypto.keys import PrivateKey, PublicKey, key_type_of
from zistboom.core.errors import CryptoError

__all__ = ["ALG", "ES256", "SIGN1_TAG", "CoseSign1", "decode_sign1", "sign_sign1", "verify_sign1"]

ALG: Final = 1
ES256: Final = -7
SIGN1_TAG: Final = 18
_COORDINATE = 32


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A COSE_Sign1: the protected header as the signed bytes and as a map, the unprotected
    header, the payload and the raw ES256 signature (r||s, 64 bytes)."""

    protected: bytes
    protected_header: dict[int, Any]
    payload: bytes
    signature: bytes
    unprotected: dict[int, Any] = field(default_factory=dict)

    def with_unprotected(self, unprotected: Mapping[int, Any]) -> CoseSign1:
        """The same signed message with another unprotected header (it is not signed)."""
        return CoseSign1(
            self.protected, self.protected_header, self.payload, self.signature, dict(unprotected)
        )

    def encode(self) -> bytes:
        return cbor2.dumps(
            cbor2.CBORTag(
                SIGN1_TAG, [self.protected, self.unprotected, self.payload, self.signature]
            )
        )


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    # RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _p256(key: PrivateKey | PublicKey) -> None:
    if key_type_of(key) != "ec-p256":
        raise CryptoError("COSE_Sign1 here is ES256: the key must be EC P-256")


def sign_sign1(
    payload: bytes, key: PrivateKey, *, protected: Mapping[int, Any] | None = None
) -> CoseSign1:
    """Sign ``payload`` ES256; ``protected`` adds header parameters (``alg`` is set here and a
    different one is an error)."""
    _p256(key)
    assert isinstance(key, ec.EllipticCurvePrivateKey)  # _p256 refused anything else
    header = {ALG: ES256, **(protected or {})}
    if header[ALG] != ES256:
        raise CryptoError(f"COSE alg {header[ALG]!r} cannot override ES256 (-7)")
    protected_bytes = cbor2.dumps(header)
    der = key.sign(_to_be_signed(protected_bytes, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")
    return CoseSign1(protected_bytes, header, payload, signature)


def decode_sign1(data: bytes) -> CoseSign1:
    """Read a tagged COSE_Sign1 with an ES256 protected header; the signature is NOT checked."""
    try:
        message = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise CryptoError(f"not CBOR: {exc}") from None
    if not isinstance(message, cbor2.CBORTag) or message.tag != SIGN1_TAG:
        raise CryptoError("not a COSE_Sign1 (CBOR tag 18)")
    parts = message.value  # cbor2 decodes a tag's content immutably: a tuple, frozendicts
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise CryptoError("a COSE_Sign1 is an array of four elements")
    protected, unprotected, payload, signature = parts
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise CryptoError("COSE_Sign1 protected header, payload and signature must be bytes")
    if not isinstance(unprotected, Mapping):
        raise CryptoError("COSE_Sign1 unprotected header must be a map")
    try:
        header = cbor2.loads(protected)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise CryptoError(f"COSE protected header is not CBOR: {exc}") from None
    if not isinstance(header, dict):
        raise CryptoError("COSE protected header is not a map")
    if header.get(ALG) != ES256:
        raise CryptoError(f"COSE alg {header.get(ALG)!r} is not allowed; only ES256 (-7) is")
    if ALG in unprotected:
        raise CryptoError("COSE alg must be protected, not in the unprotected header")
    if len(signature) != 2 * _COORDINATE:
        raise CryptoError(f"an ES256 signature is 64 bytes, this one {len(signature)}")
    return CoseSign1(protected, header, payload, signature, dict(unprotected))


def verify_sign1(message: CoseSign1, public_key: PublicKey) -> None:
    """Check ``message``'s signature with ``public_key``; :class:`CryptoError` if it fails."""
    _p256(public_key)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    r = int.from_bytes(message.signature[:_COORDINATE], "big")
    s = int.from_bytes(message.signature[_COORDINATE:], "big")
    try:
        public_key.verify(
            encode_dss_signature(r, s),
            _to_be_signed(message.protected, message.payload),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        raise CryptoError("COSE_Sign1 signature does not verify with the given key") from None
