"""The provider's ID-token signing key: an ECDSA P-256 key (ES256) in ``DATA_DIR/keys/`` (0600
file in a 0700 folder, through ``core.crypto.keys``), its public JWK and its ``kid``, the key's
JWK thumbprint (RFC 7638)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zistboom.core.crypto.jws import public_key_to_jwk
from zistboom.core.crypto.keys import (
    PrivateKey,
    PublicKey,
    b64url_encode,
    ensure_private_key,
    sha256,
)

ALGORITHM = "ES256"


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64url_encode(sha256(canonical.encode("utf-8")))


@dataclass(frozen=True, slots=True)
class SigningKey:
    private_key: PrivateKey
    public_key: PublicKey
    kid: str
    jwk: dict[str, Any]
    """The public JWK with ``kid``, ``alg`` and ``use``, as ``/jwks`` publishes it."""

    @classmethod
    def ensure(cls, path: Path) -> SigningKey:
        """The key in ``path``, created there on first use."""
        private_key = ensure_private_key(path, "ec-p256")
        public_key = private_key.public_key()
        jwk = public_key_to_jwk(public_key)
        kid = thumbprint(jwk)
        return cls(
            private_key, public_key, kid, {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}
        )
