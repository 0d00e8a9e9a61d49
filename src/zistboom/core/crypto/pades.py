"""The instance's keys and certificates in the form pyHanko signs and validates PDFs with.

pyHanko works on asn1crypto objects: its ``SimpleSigner`` takes a PKCS#8 ``PrivateKeyInfo``, and
its validation contexts take asn1crypto certificates. The private key is converted here, so that
raw key material is handled in ``core/crypto`` only (``documents/pdf.py`` never sees it); the
signer object keeps the key in memory for one signing and is not written anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from zistboom.core.crypto.keys import PrivateKey, key_type_of, public_key_der
from zistboom.core.crypto.x509 import certificate_der, certificate_public_key
from zistboom.core.errors import CryptoError


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """``cert`` as the asn1crypto certificate pyHanko works with."""
    return asn1_x509.Certificate.load(certificate_der(cert))


def pdf_signer(
    key: PrivateKey, cert: x509.Certificate, chain: Sequence[x509.Certificate]
) -> SimpleSigner:
    """A pyHanko signer for ``key``, whose certificate is ``cert`` and ``chain`` above it (the
    CA certificate, embedded in the signature so a verifier can build the path).

    :class:`CryptoError` when ``cert`` is not the certificate of ``key``.
    """
    key_type_of(key)
    if public_key_der(key.public_key()) != public_key_der(certificate_public_key(cert)):
        raise CryptoError("the signing key does not belong to the signing certificate")
    private_key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SimpleSigner(
        signing_cert=asn1_certificate(cert),
        signing_key=private_key_info,
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [asn1_certificate(issuer) for issuer in chain]
        ),
    )
