"""JSON Web Signatures (RFC 7515) in compact serialization, and public keys as JWKs (RFC 7517).

joserfc does the encoding and the signature arithmetic; this module owns the policy around it:

- the algorithm follows from the key (ES256 for EC P-256, EdDSA for Ed25519) and a caller
  cannot choose another one;
- a token verifies only with an algorithm that is both allowed and the one the verifying key
  needs, so ``none``, HMAC and every key-confusion trick are refused before any arithmetic;
- every failure is a :class:`~zistboom.core.errors.CryptoError` whose message says which check
  failed (malformed token, algorithm, signature).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry

from zistboom.core.crypto.keys import KeyType, PrivateKey, PublicKey, key_type_of
from zistboom.core.errors import CryptoError

__all__ = [
    "algorithm_for",
    "jwk_to_public_key",
    "public_key_to_jwk",
    "sign_jws",
    "unverified_header",
    "verify_jws",
]

ES256 = "ES256"
EDDSA = "EdDSA"
SUPPORTED_ALGORITHMS: tuple[str, ...] = (ES256, EDDSA)
_ALGORITHM_OF_KEY_TYPE: dict[KeyType, str] = {"ec-p256": ES256, "ed25519": EDDSA}


class _Registry(JWSRegistry):
    """joserfc's registry with our size limits and without its own algorithm preferences.

    The defaults (128 kB payload) are too small for a global configuration of a whole country;
    the algorithm choice is made by :func:`verify_jws` before joserfc sees the token, so joserfc's
    RFC 9864 deprecation warning for ``EdDSA`` would only be noise here.
    """

    max_header_length = 16 * 1024
    max_payload_length = 32 * 1024 * 1024
    max_signature_length = 1024

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in self.algorithms or (self.allowed is not None and name not in self.allowed):
            raise CryptoError(f"JWS algorithm {name!r} is not allowed")
        return self.algorithms[name]


def _registry(algorithm: str) -> _Registry:
    # Unknown header parameters are allowed (RFC 7515 §4: ignore what you do not understand),
    # but a "crit" one we do not understand still fails inside joserfc.
    return _Registry(algorithms=[algorithm], strict_check_header=False)


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The JWS ``alg`` a key signs with: ``ES256`` for EC P-256, ``EdDSA`` for Ed25519."""
    return _ALGORITHM_OF_KEY_TYPE[key_type_of(key)]  # CryptoError for any other key


def _joserfc_key(key: PrivateKey | PublicKey) -> ECKey | OKPKey:
    if isinstance(key, EllipticCurvePrivateKey | EllipticCurvePublicKey):
        return ECKey.import_key(key)
    return OKPKey.import_key(key)


def sign_jws(payload: bytes, key: PrivateKey, *, headers: Mapping[str, Any] | None = None) -> str:
    """Sign ``payload`` and return the compact serialization.

    ``headers`` are merged into the protected header; ``alg`` is always set from the key, and
    passing a different ``alg`` is an error rather than being silently replaced.
    """
    algorithm = algorithm_for(key)
    extra = dict(headers or {})
    given = extra.pop("alg", algorithm)
    if given != algorithm:
        raise CryptoError(
            f"the JWS algorithm follows from the key ({algorithm}); header alg {given!r} "
            "cannot override it"
        )
    protected: dict[str, Any] = {"alg": algorithm, **extra}
    try:
        return jws.serialize_compact(
            protected, payload, _joserfc_key(key), registry=_registry(algorithm)
        )
    except JoseError as err:
        raise CryptoError(f"cannot sign JWS: {err}") from err


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, decoded but NOT verified.

    Use it only to find out which key should verify the token.
    """
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError as err:
        raise CryptoError("malformed JWS: the token contains non-ASCII characters") from err
    if raw.count(b".") != 2:
        raise CryptoError(
            "malformed JWS: a compact serialization has exactly three dot-separated parts"
        )
    try:
        signature = jws.extract_compact(raw, registry=_Registry())
    except (JoseError, ValueError) as err:
        raise CryptoError(f"malformed JWS: {err}") from err
    header = signature.protected
    if not isinstance(header, dict):
        raise CryptoError("malformed JWS: the protected header is not a JSON object")
    if not isinstance(header.get("alg"), str):
        raise CryptoError("malformed JWS: the protected header has no 'alg' string")
    return dict(header)


def verify_jws(
    token: str,
    public_key: PublicKey,
    *,
    algorithms: Collection[str] = SUPPORTED_ALGORITHMS,
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS with ``public_key``; return its protected header and payload.

    The token's ``alg`` must be in ``algorithms`` and must be the algorithm of ``public_key``
    (see :func:`algorithm_for`), so ``none`` and HMAC tokens never verify.
    """
    header = unverified_header(token)
    algorithm = header["alg"]
    expected = algorithm_for(public_key)
    if algorithm not in algorithms or algorithm not in SUPPORTED_ALGORITHMS:
        raise CryptoError(
            f"JWS algorithm {algorithm!r} is not allowed (allowed: {', '.join(sorted(algorithms))})"
        )
    if algorithm != expected:
        raise CryptoError(
            f"JWS algorithm {algorithm!r} does not match the verifying key, which uses {expected}"
        )
    try:
        signature = jws.deserialize_compact(
            token, _joserfc_key(public_key), registry=_registry(algorithm)
        )
    except BadSignatureError as err:
        raise CryptoError("JWS signature does not verify with the given key") from err
    except (JoseError, ValueError) as err:
        raise CryptoError(f"malformed JWS: {err}") from err
    return dict(signature.protected), signature.payload


def public_key_to_jwk(key: PublicKey) -> dict[str, Any]:
    """The public JWK of an EC P-256 or Ed25519 key (members ``kty``, ``crv``, ``x`` [, ``y``])."""
    algorithm_for(key)  # refuses other curves and key types
    jwk = _joserfc_key(key).as_dict(private=False)
    return {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}


def jwk_to_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """Parse a public JWK: EC on P-256 or OKP on Ed25519, nothing else."""
    kty = jwk.get("kty")
    crv = jwk.get("crv")
    if "d" in jwk:
        raise CryptoError("JWK holds private key material ('d'); only public keys are accepted")
    if (kty, crv) not in {("EC", "P-256"), ("OKP", "Ed25519")}:
        raise CryptoError(
            f"JWK kty={kty!r} crv={crv!r} is not supported; use EC P-256 or OKP Ed25519"
        )
    members = {name: value for name, value in jwk.items() if name in ("kty", "crv", "x", "y")}
    if not all(isinstance(value, str) for value in members.values()):
        raise CryptoError("JWK members kty, crv, x and y must be strings")
    try:
        key = (ECKey if kty == "EC" else OKPKey).import_key(members)
        public = key.public_key
    except (JoseError, ValueError, KeyError, TypeError) as err:
        raise CryptoError(f"invalid {kty} JWK: {err}") from err
    if not isinstance(public, EllipticCurvePublicKey | Ed25519PublicKey):
        raise CryptoError(f"JWK does not hold a supported public key ({type(public).__name__})")
    return public
