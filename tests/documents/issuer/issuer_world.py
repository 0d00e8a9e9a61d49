"""The issuer tests' world: an instance CA made with core/crypto/x509.py, the agency's
document-signing key and certificate under it, and the issuer's database on a backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509 as cx509

from zistboom.core.crypto import keys, x509
from zistboom.core.iran import generate_legal_entity_id
from zistboom.documents.issuer.signing import DocumentSigner

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class InstancePki:
    ca_key: keys.PrivateKey
    ca_cert: cx509.Certificate

    @classmethod
    def create(cls) -> InstancePki:
        key = keys.generate_private_key()
        return cls(key, x509.create_ca_certificate(key, common_name="IR-TEST Instance CA"))

    def document_signer(self, member_id: str) -> DocumentSigner:
        """A document-signing key of ``member_id`` and its certificate from this CA."""
        key = keys.generate_private_key()
        now = datetime.now(UTC)
        certificate = x509.issue_certificate(
            ca_key=self.ca_key,
            ca_cert=self.ca_cert,
            public_key=key.public_key(),
            subject=x509.subject_name(
                common_name="Test agency", organization="Test agency", serial_number=member_id
            ),
            kind="doc",
            serial=x509.random_serial(),
            not_before=now - timedelta(minutes=5),
            not_after=now + timedelta(days=365),
        )
        return DocumentSigner(member_id, certificate, (self.ca_cert,), key)


def member_id(rng_seed: int | None = None) -> str:
    import random

    return f"IR-TEST/GOV/{generate_legal_entity_id(random.Random(rng_seed))}"
