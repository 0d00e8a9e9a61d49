"""Trusted time for documents (ZB-STD-008): the RFC 3161 timestamp an issuer obtains from
central's TSA over a document's signature, and the time a verifier takes from it.

The imprint is the SHA-256 of the raw signature octets (for a VC-JWT the base64url-decoded third
part, for the QR the COSE signature), so the token binds the signature and, through it, all that
was signed. That token's ``genTime``, never a time the issuer states, is the time of issue for
every check. The ASN.1 and CMS work is ``core.crypto.timestamp``'s; this module owns the policy:
what is imprinted, which answers are refused, and which certificates a token is checked against.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

import httpx
from cryptography import x509

from zistboom.core.crypto import timestamp
from zistboom.core.errors import (
    CryptoError,
    DocumentError,
    TimestampUnavailableError,
    ValidationError,
)

QUERY_MEDIA_TYPE = "application/timestamp-query"
REPLY_MEDIA_TYPE = "application/timestamp-reply"


def imprint_of_signature(signature: bytes) -> bytes:
    """The digest a document's timestamp imprints: SHA-256 of the raw signature octets."""
    if not signature:
        raise DocumentError("there is no signature to timestamp", field="signature")
    return hashlib.sha256(signature).digest()


async def request_timestamp(
    tsa_url: str, digest: bytes, *, cert_req: bool, client: httpx.AsyncClient
) -> bytes:
    """Ask the TSA at ``tsa_url`` to timestamp ``digest`` (SHA-256); the DER TimeStampToken.

    ``cert_req`` true puts the TSA certificate into the token, so that ``openssl ts -verify``
    needs only the CA (the VC-JWT's token); false keeps it small (the QR's). The answer must
    imprint ``digest`` with the query's nonce. A rejection is a :class:`DocumentError` with the
    TSA's reason; a TSA that cannot be reached or answers with anything but an RFC 3161 reply is
    :class:`TimestampUnavailableError`.
    """
    nonce = secrets.randbits(64)
    try:
        query = timestamp.create_timestamp_request(digest, nonce=nonce, cert_req=cert_req)
    except ValidationError as error:
        raise DocumentError(
            f"cannot timestamp this digest: {error.detail}", field="digest"
        ) from None
    try:
        response = await client.post(
            tsa_url,
            content=query,
            headers={"Content-Type": QUERY_MEDIA_TYPE, "Accept": REPLY_MEDIA_TYPE},
        )
    except httpx.HTTPError as error:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} could not be reached: {error!r}"
        ) from error
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type != REPLY_MEDIA_TYPE:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} answered HTTP {response.status_code} with "
            f"{media_type or 'no media type'}, not an RFC 3161 reply"
        )
    try:
        answer = timestamp.timestamp_response_status(response.content)
    except CryptoError as error:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} answered with no RFC 3161 reply: {error.detail}"
        ) from None
    if not answer.granted or answer.token is None:
        raise DocumentError(
            f"central's TSA refused to timestamp the signature: {answer.describe()}",
            field="timestamp",
        )
    _check_answer(answer.token, digest, nonce, cert_req, tsa_url)
    return answer.token


def _check_answer(token: bytes, digest: bytes, nonce: int, cert_req: bool, tsa_url: str) -> None:
    # RFC 3161 §2.4.2: the client checks that the token answers its own query.
    try:
        info = timestamp.timestamp_token_info(token)
    except CryptoError as error:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} granted a token that cannot be read: {error.detail}"
        ) from None
    if (info.hash_algorithm, info.imprint) != ("sha256", digest):
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} timestamped another digest than the one asked for"
        )
    if info.nonce != nonce:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} answered with another nonce than the query's"
        )
    if cert_req and not info.carries_certificates:
        raise TimestampUnavailableError(
            f"central's TSA at {tsa_url} left its certificate out although certReq asked for it"
        )


def trusted_time(
    token_der: bytes,
    digest: bytes,
    tsa_certificates: Sequence[x509.Certificate],
    *,
    ca_certificates: Sequence[x509.Certificate],
) -> datetime:
    """Verify a TimeStampToken over ``digest`` and return its ``genTime`` (UTC), the trusted time.

    The token must imprint ``digest`` under the instance policy, be signed by a ``tsa``
    certificate of an instance CA in ``ca_certificates`` valid at ``genTime`` (the one in the
    token, or for a token without one the one of ``tsa_certificates`` it names, as the global
    configuration lists them), and name that certificate in signing-certificate-v2. A
    :class:`DocumentError` says which of these does not hold.
    """
    if not ca_certificates:
        raise DocumentError(
            "no instance CA certificate to check the timestamp against", field="timestamp"
        )
    refusals: list[CryptoError] = []
    for ca_certificate in ca_certificates:
        try:
            return timestamp.verify_timestamp_token(
                token_der,
                digest=digest,
                ca_cert=ca_certificate,
                tsa_certificates=tsa_certificates,
            )
        except CryptoError as error:
            refusals.append(error)
    # With several CAs, the telling refusal is the one from the CA that did issue the signer.
    telling = next(
        (e for e in refusals if "not issued by the instance CA" not in e.detail), refusals[0]
    )
    raise DocumentError(f"the trusted time is refused: {telling.detail}", field="timestamp")
