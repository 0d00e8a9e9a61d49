"""A throwaway instance PKI for the document-format tests: the instance CA, central's TSA and
document-signing certificates for members, plus a document's claims as an issuer would build
them. Real keys, real certificates, real RFC 3161 tokens; nothing is mocked."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from zistboom.core.crypto.keys import PrivateKey, generate_private_key
from zistboom.core.crypto.timestamp import (
    create_timestamp_request,
    create_timestamp_response,
    timestamp_token_from_response,
)
from zistboom.core.crypto.x509 import (
    CertificateKind,
    create_ca_certificate,
    issue_certificate,
    random_serial,
    subject_name,
)
from zistboom.documents import profile, vc

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
"""A fixed moment the tests issue at (certificates are valid around it)."""
ISSUER = "IR-DEMO/GOV/10380284790"
OTHER_MEMBER = "IR-DEMO/GOV/12147922321"
HOLDER = "IR0012345679"
HUB = "https://hub.demo.zistboom.ir"
LIST_ID = "6f1c2b9e-0d4a-4c1e-9a53-2f4e8d7b1a60"

# Six subject fields of Persian text, of the lengths names and places usually have.
PERSIAN_SUBJECT: dict[str, Any] = {
    "given_name_fa": "زهرا",
    "family_name_fa": "رضایی",
    "father_name_fa": "علی‌اکبر",
    "birth_city": "کاشان",
    "birth_province_fa": "اصفهان",
    "registration_office_fa": "ثبت احوال کاشان",
}
# A birth-certificate extract as the seeded type has it: eleven fields, Persian and English.
FULL_SUBJECT: dict[str, Any] = {
    "national_code": "0012345679",
    "given_name_fa": "زهرا",
    "given_name_en": "Zahra",
    "family_name_fa": "محمدی‌نژاد",
    "family_name_en": "Mohammadi-Nejad",
    "sex": "F",
    "birth_date": "1996-09-11",
    "birth_province": "isfahan",
    "birth_city": "خمینی‌شهر",
    "father_national_code": "1234567891",
    "mother_national_code": "0499370899",
}


@dataclass
class Signer:
    member: str
    key: PrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate]


@dataclass
class Pki:
    """The instance CA and central's TSA, valid a year either side of :data:`T0`."""

    ca_key: PrivateKey = field(default_factory=generate_private_key)
    ca_cert: x509.Certificate = field(init=False)
    tsa_key: PrivateKey = field(default_factory=generate_private_key)
    tsa_cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.ca_cert = create_ca_certificate(
            self.ca_key,
            common_name="IR-DEMO Instance CA",
            now=T0 - timedelta(days=400),
            validity=timedelta(days=3650),
        )
        self.tsa_cert = self.certificate(
            self.tsa_key, "tsa", common_name="IR-DEMO Timestamping Authority", member=None
        )

    def certificate(
        self,
        key: PrivateKey,
        kind: CertificateKind,
        *,
        member: str | None,
        common_name: str = "Document signing",
        not_before: datetime = T0 - timedelta(days=365),
        not_after: datetime = T0 + timedelta(days=365 * 6),
    ) -> x509.Certificate:
        return issue_certificate(
            ca_key=self.ca_key,
            ca_cert=self.ca_cert,
            public_key=key.public_key(),
            subject=subject_name(
                common_name=common_name,
                organization="Civil Registration" if member else None,
                serial_number=member,
            ),
            kind=kind,
            serial=random_serial(),
            not_before=not_before,
            not_after=not_after,
        )

    def signer(self, member: str = ISSUER, kind: CertificateKind = "doc", **dates: Any) -> Signer:
        key = generate_private_key()
        cert = self.certificate(key, kind, member=member, **dates)
        return Signer(member, key, cert, [cert, self.ca_cert])

    def timestamp(self, signature: bytes, at: datetime, *, cert_req: bool = True) -> bytes:
        """central's TSA's token over SHA-256 of ``signature``, with genTime ``at``."""
        request = create_timestamp_request(hashlib.sha256(signature).digest(), cert_req=cert_req)
        response = create_timestamp_response(
            request, tsa_key=self.tsa_key, tsa_cert=self.tsa_cert, serial=random_serial(), now=at
        )
        return timestamp_token_from_response(response)


def claims(
    signer: Signer,
    *,
    type_code: str = "birth-certificate-extract",
    subject: dict[str, Any] | None = None,
    valid_from: datetime = T0,
    valid_until: datetime | None = T0 + timedelta(days=3650),
    iat: datetime = T0,
    status_index: int = 94_567,
    holder: str = HOLDER,
) -> dict[str, Any]:
    return vc.document_claims(
        credential_id=profile.credential_urn(uuid.UUID("0b7d6f0e-3c59-4d1a-8f25-5a8c1e9b7d42")),
        issuer_member=signer.member,
        issuer_name="سازمان ثبت احوال کشور",
        holder=holder,
        type_code=type_code,
        subject=dict(PERSIAN_SUBJECT if subject is None else subject),
        valid_from=valid_from,
        valid_until=valid_until,
        iat=iat,
        hub_url=HUB,
        list_id=LIST_ID,
        status_index=status_index,
    )
