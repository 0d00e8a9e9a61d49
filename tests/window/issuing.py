"""Documents as an issuer makes them, for the apply world: the civil agency's ``doc`` key
enrolled at central's CA with a one-time token, the trust list that accredits the agency as a
national document issuer, and a birth-certificate extract signed with that key: its VC-JWT, its
timestamp from central's TSA, its QR (with its own timestamp) and its PAdES PDF, as the body of
a deposit at the hub."""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from federation import Federation
from trust_list_central import Content, accreditation, change, scheme
from zistboom.core.crypto import keys
from zistboom.core.enrolment import enrol_certificate
from zistboom.documents import pdf, profile, qr, timestamps, vc
from zistboom.documents.types import load_seed_types

DOCUMENT_TYPE = "birth-certificate-extract"
CIVIL_NAME = ("سازمان ثبت احوال کشور", "National Organization for Civil Registration")


class Holder(Protocol):
    @property
    def subject(self) -> str: ...

    @property
    def record(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Signer:
    member: str
    key: keys.PrivateKey
    chain: list[Any]


def doc_token(federation: Federation, member: str) -> str:
    with federation.admin() as client:
        answer = client.post("/api/v1/enrolment-tokens", json={"member_id": member, "kind": "doc"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def doc_signer(federation: Federation, member: str) -> Signer:
    key = keys.generate_private_key()
    cert, chain = asyncio.run(
        enrol_certificate(federation.central.url, doc_token(federation, member), key, kind="doc")
    )
    return Signer(member, key, [cert, *chain])


def birth_certificate(signer: Signer, holder: Holder, hub_url: str, tsa_url: str) -> dict[str, Any]:
    """A birth-certificate extract as the civil agency's issuer makes it: the VC-JWT, its
    timestamp, the QR (its own timestamp) and the signed PDF; the deposit's body."""
    definition = next(t for t in load_seed_types() if t.code == DOCUMENT_TYPE)
    now = datetime.now(UTC).replace(microsecond=0)
    subject = {
        k: holder.record[k] for k in definition.json_schema["properties"] if k in holder.record
    }
    claims = vc.document_claims(
        credential_id=profile.new_credential_id(), issuer_member=signer.member,
        issuer_name=CIVIL_NAME[1], holder=holder.subject, type_code=DOCUMENT_TYPE,
        subject=subject, valid_from=now, valid_until=now + timedelta(days=3650), iat=now,
        hub_url=hub_url, list_id="civil-1", status_index=4242,
    )  # fmt: skip
    credential = vc.parse_credential(vc.sign_credential(claims, signer.key, signer.chain))
    pull_token = secrets.token_urlsafe(32)

    async def stamped() -> tuple[bytes, str, bytes]:
        async with httpx.AsyncClient(timeout=30) as client:
            imprint = timestamps.imprint_of_signature(credential.signature)
            token = await timestamps.request_timestamp(tsa_url, imprint, cert_req=True,
                                                       client=client)  # fmt: skip
            signed_qr = qr.sign_qr(qr.QrRecord.from_credential(credential), signer.key,
                                   signer.chain[0])  # fmt: skip
            qr_token = await timestamps.request_timestamp(
                tsa_url, timestamps.imprint_of_signature(signed_qr.signature), cert_req=False,
                client=client,
            )  # fmt: skip
            qr_text = signed_qr.with_timestamp(qr_token)
            unsigned = pdf.render_pdf(
                pdf.RenderInput.from_credential(
                    credential,
                    document_type=definition,
                    issuer_name_fa=CIVIL_NAME[0],
                    issuer_name_en=CIVIL_NAME[1],
                    issued_at=now,
                    qr_text=qr_text,
                    pull_link=f"{hub_url}/p/{pull_token}",
                    timestamp_token=token,
                )
            )
            signed = await pdf.async_sign_pdf(
                unsigned, signer.key, signer.chain[0], signer.chain[1:], tsa_url
            )
            return token, qr_text, signed

    token, qr_text, signed_pdf = asyncio.run(stamped())
    return {
        "credential": credential.token,
        "timestampToken": base64.b64encode(token).decode(),
        "qr": qr_text,
        "pdf": base64.b64encode(signed_pdf).decode(),
        "pullToken": pull_token,
    }


def issuer_content(member: str, since: datetime) -> Content:
    document_issuer = scheme("national", "document-issuer", since=since, actions=("issue",))
    return Content(
        schemes=[document_issuer],
        accreditations=[
            accreditation(
                1, document_issuer.code, member, level="high",
                changes=[change("granted", since)], valid_until=since + timedelta(days=365),
            )
        ],
    )  # fmt: skip
