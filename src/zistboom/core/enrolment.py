"""Enrolment with central's CA (ZB-STD-002 §11.2), for any component that holds its own key: a
gateway (``auth``, ``sign``), a document issuer or hub (``doc``).

The key never leaves its holder: only a CSR signed with it is sent, with the operator's one-time
token. The answer is checked as §11.2 asks of the holder (the certificate carries the holder's
public key, is of the kind asked for and chains to the CA certificate sent with it); whether that
CA is the instance's (the one of the global configuration) is the caller's to check.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from cryptography import x509 as cx509

from zistboom.core.crypto import keys, x509
from zistboom.core.crypto.keys import ensure_private_key
from zistboom.core.errors import ConfigurationError, CryptoError, ValidationError

__all__ = ["ENROL_PATH", "enrol_certificate", "ensure_private_key"]

ENROL_PATH = "/api/v1/ca/enrol"


async def enrol_certificate(
    central_url: str,
    token: str,
    key: keys.PrivateKey,
    *,
    kind: x509.CertificateKind,
    client: httpx.AsyncClient | None = None,
) -> tuple[cx509.Certificate, list[cx509.Certificate]]:
    """Exchange ``token`` and a CSR of ``key`` for a certificate of ``kind``.

    Returns the certificate and its chain above it (``[CA certificate]``: the instance has no
    intermediates), so ``[cert, *chain]`` is an ``x5c``. :class:`ConfigurationError` when central
    cannot be reached or refuses (with central's reason), or when its answer does not hold.
    """
    if client is None:
        async with httpx.AsyncClient(timeout=30) as own:
            return await _enrol(own, central_url, token, key, kind)
    return await _enrol(client, central_url, token, key, kind)


async def _enrol(
    client: httpx.AsyncClient,
    central_url: str,
    token: str,
    key: keys.PrivateKey,
    kind: x509.CertificateKind,
) -> tuple[cx509.Certificate, list[cx509.Certificate]]:
    url = central_url.rstrip("/") + ENROL_PATH
    # The CA sets the subject itself; the CSR's name is only a label.
    csr = x509.create_csr(key, common_name=kind).decode()
    try:
        response = await client.post(url, json={"token": token, "csr": csr, "kind": kind})
    except httpx.HTTPError as error:
        raise ConfigurationError(f"central at {url} could not be reached: {error}") from error
    if response.status_code != 201:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ConfigurationError(f"central refused the {kind} enrolment: {detail}")
    try:
        body = response.json()
        certificate = x509.load_certificate(body["certificate"])
        ca_certificate = x509.load_certificate(body["ca_certificate"])
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise ConfigurationError(
            f"central's answer to the {kind} enrolment holds no certificate and CA certificate"
        ) from error
    _check_issued(certificate, ca_certificate, key, kind)
    return certificate, [ca_certificate]


def _check_issued(
    certificate: cx509.Certificate,
    ca_certificate: cx509.Certificate,
    key: keys.PrivateKey,
    kind: x509.CertificateKind,
) -> None:
    try:
        issued_key = x509.certificate_public_key(certificate)
    except CryptoError as error:
        raise ConfigurationError(f"the enrolled certificate is refused: {error.detail}") from error
    if keys.public_key_der(issued_key) != keys.public_key_der(key.public_key()):
        raise ConfigurationError("central issued a certificate for another key than ours")
    try:
        x509.verify_certificate(certificate, ca_certificate, at=datetime.now(UTC), kind=kind)
    except CryptoError as error:
        raise ConfigurationError(f"the enrolled certificate is refused: {error.detail}") from error
