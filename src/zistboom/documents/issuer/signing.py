"""The agency's document-signing key (``DATA_DIR/doc.key``, 0600, made by ``init`` and never
read by anything but this object) with its certificate and the chain to the instance CA, and
the three things signed with it: the VC-JWT (and status list credentials), the QR's
COSE_Sign1 and the PDF's PAdES signature. The signing itself is the shared formats'."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509 as cx509

from zistboom.core.crypto import keys, x509
from zistboom.core.errors import ConfigurationError
from zistboom.documents import pdf, qr, vc
from zistboom.documents.issuer.settings import IssuerSettings


@dataclass(frozen=True, slots=True)
class DocumentSigner:
    member_id: str
    certificate: cx509.Certificate
    chain: tuple[cx509.Certificate, ...]
    """The certificate's issuers, up to and including the instance CA."""
    _key: keys.PrivateKey = field(repr=False)

    @classmethod
    def load(cls, settings: IssuerSettings) -> DocumentSigner:
        """The key and certificates ``init`` stored; a certificate that is not the member's
        document-signing certificate, or not for this key, is refused."""
        missing = [
            p for p in (settings.key_path, settings.certificate_path, settings.chain_path)
            if not p.exists()
        ]  # fmt: skip
        if missing:
            raise ConfigurationError(
                f"{settings.data_dir} holds no document-signing key and certificate "
                f"({', '.join(p.name for p in missing)} missing): run "
                "`zistboom documents issuer init` first"
            )
        key = keys.load_private_key(settings.key_path)
        certificate = x509.load_certificate(settings.certificate_path.read_bytes())
        chain = tuple(_certificates(settings.chain_path.read_text()))
        if x509.certificate_kind(certificate) != "doc":
            raise ConfigurationError(
                f"{settings.certificate_path} is not a document-signing certificate"
            )
        if x509.certificate_identity(certificate) != settings.member_id:
            raise ConfigurationError(
                f"{settings.certificate_path} is issued to "
                f"{x509.certificate_identity(certificate)}, not to {settings.member_id}"
            )
        if keys.public_key_der(key.public_key()) != keys.public_key_der(
            x509.certificate_public_key(certificate)
        ):
            raise ConfigurationError(
                f"{settings.certificate_path} is not the certificate of doc.key"
            )
        return cls(settings.member_id, certificate, chain, key)

    @property
    def x5c(self) -> list[cx509.Certificate]:
        return [self.certificate, *self.chain]

    def sign(self, claims: dict[str, Any]) -> str:
        """A credential (a document or a status list) as ``application/vc+jwt``."""
        return vc.sign_credential(claims, self._key, self.x5c)

    def sign_qr(self, record: qr.QrRecord) -> qr.SignedQr:
        """The QR's COSE_Sign1, waiting for its timestamp (``SignedQr.with_timestamp``)."""
        return qr.sign_qr(record, self._key, self.certificate)

    async def sign_pdf(self, document: bytes, tsa_url: str) -> bytes:
        """The PDF signed PAdES B-T, the signature timestamped by central's TSA."""
        return await pdf.async_sign_pdf(document, self._key, self.certificate, self.chain, tsa_url)


def _certificates(pem_text: str) -> list[cx509.Certificate]:
    marker = "-----END CERTIFICATE-----"
    return [
        x509.load_certificate(part.strip() + "\n" + marker + "\n")
        for part in pem_text.split(marker)
        if part.strip()
    ]
