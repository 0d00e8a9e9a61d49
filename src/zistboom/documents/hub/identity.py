"""The hub as a member that signs: its document-signing key (``DATA_DIR/doc.key``, 0600,
generated there and never sent anywhere) and its ``doc`` certificate from central
(``DATA_DIR/doc.pem``: the certificate, then the CA certificate), enrolled with a one-time
token. It signs the consent records of shares."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509 as cx509

from zistboom.core.crypto import keys, x509
from zistboom.core.enrolment import enrol_certificate, ensure_private_key
from zistboom.core.errors import ConfigurationError, CryptoError
from zistboom.documents.hub.settings import CERTIFICATE_FILE, KEY_FILE


@dataclass(frozen=True, slots=True)
class HubIdentity:
    member_id: str
    key: keys.PrivateKey
    certificate: cx509.Certificate
    chain: tuple[cx509.Certificate, ...]
    """Above the certificate: the CA certificate."""

    @property
    def x5c(self) -> list[str]:
        """The ``x5c`` header value: base64 DER, the hub's certificate first."""
        return [
            base64.b64encode(x509.certificate_der(cert)).decode("ascii")
            for cert in (self.certificate, *self.chain)
        ]

    @classmethod
    def load(cls, data_dir: Path, member_id: str) -> HubIdentity:
        """The key and certificate in ``data_dir``; :class:`ConfigurationError` naming what
        is missing or does not fit (another member's certificate, another key's, not ``doc``)."""
        key_path, cert_path = data_dir / KEY_FILE, data_dir / CERTIFICATE_FILE
        if not key_path.exists() or not cert_path.exists():
            raise ConfigurationError(
                f"{data_dir} holds no document-signing key and certificate ({KEY_FILE}, "
                f"{CERTIFICATE_FILE}): run `zistboom documents hub init` with a doc enrolment "
                "token from central",
                field="doc_certificate",
            )
        key = keys.load_private_key(key_path)
        certificates = _pem_certificates(cert_path.read_text("ascii"))
        certificate, *chain = certificates
        _check(certificate, chain, key, member_id, cert_path)
        return cls(member_id, key, certificate, tuple(chain))


async def enrol(data_dir: Path, *, central_url: str, token: str, member_id: str) -> None:
    """Create the key (if there is none) and exchange ``token`` for its ``doc`` certificate."""
    key = ensure_private_key(data_dir / KEY_FILE)
    certificate, chain = await enrol_certificate(central_url, token, key, kind="doc")
    _check(certificate, chain, key, member_id, data_dir / CERTIFICATE_FILE)
    text = "".join(x509.certificate_pem(cert) for cert in (certificate, *chain))
    (data_dir / CERTIFICATE_FILE).write_text(text, "ascii")


def _pem_certificates(text: str) -> list[cx509.Certificate]:
    marker = "-----END CERTIFICATE-----"
    blocks = [block + marker for block in text.split(marker) if "-----BEGIN" in block]
    if not blocks:
        raise ConfigurationError(f"no certificate in {CERTIFICATE_FILE}", field="doc_certificate")
    return [x509.load_certificate(block.strip() + "\n") for block in blocks]


def _check(
    certificate: cx509.Certificate,
    chain: list[cx509.Certificate],
    key: keys.PrivateKey,
    member_id: str,
    path: Path,
) -> None:
    if keys.public_key_der(x509.certificate_public_key(certificate)) != keys.public_key_der(
        key.public_key()
    ):
        raise ConfigurationError(f"{path} is not the certificate of {KEY_FILE}'s key")
    if not chain:
        raise ConfigurationError(f"{path} holds no CA certificate after the hub's own")
    try:
        x509.verify_certificate(
            certificate, chain[0], at=datetime.now(UTC), kind="doc", identity=member_id
        )
    except CryptoError as error:
        raise ConfigurationError(f"{path}: {error.detail}", field="doc_certificate") from error
