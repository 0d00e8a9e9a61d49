"""The signed PDF of each seeded document type against a real central (its instance CA, its
TSA at /tsa, a ``doc`` certificate enrolled with a one-time token): rendered in Persian and
English, signed PAdES B-T, trusted by poppler's pdfsig through an NSS database holding only the
instance CA, accepted by pyHanko's validator with its timestamp, its QR read back from the page
rasterised at 150 dpi and turned by 5°, its attachments read back; one changed byte, an
appended revision or a foreign signer is refused.

The artefacts are real: the VC-JWT signed with the doc key, its timestamp from central's TSA,
the QR (COSE_Sign1 with its own timestamp) read back from the page and verified.

The TSA does not touch central's database, so central runs on SQLite only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import zxingcpp
from cryptography import x509 as cx509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from central_process import CentralProcess, start_central, stop_central
from documents.samples import SAMPLES
from support import free_port
from zistboom.core.crypto import keys, x509
from zistboom.core.crypto.pades import asn1_certificate
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.errors import (
    CryptoError,
    DocumentError,
    TimestampUnavailableError,
    ValidationError,
)
from zistboom.core.iran import generate_legal_entity_id
from zistboom.documents import qr, vc
from zistboom.documents.pdf import (
    CREDENTIAL_ATTACHMENT,
    TIMESTAMP_ATTACHMENT,
    RenderInput,
    async_pdf_signature,
    async_sign_pdf,
    pdf_attachments,
    pdf_signature,
    render_pdf,
    sign_pdf,
)
from zistboom.documents.timestamps import imprint_of_signature, request_timestamp, trusted_time
from zistboom.documents.types import load_seed_types
from zistboom.registries.seed_organisations import seed_organisation
from zistboom.web.formatting import DateFormatter
from zistboom.web.i18n import EN, Catalogue

ISSUERS = {
    "birth-certificate-extract": "civil-registration",
    "business-licence": "companies-registration",
    "tax-clearance": "tax",
    "land-ownership-deed": "deeds-registration",
    "residence-permit": "foreign-nationals-bureau",
    "health-insurance-card": "health-insurance",
}
HOLDERS = {
    "birth-certificate-extract": "IR0499370899",
    "business-licence": "10380284790",
    "tax-clearance": "IR0499370899",
    "land-ownership-deed": "IR0499370899",
    "residence-permit": "FN946538763832",
    "health-insurance-card": "IR0499370899",
}
# Words of each document that pdftotext must give back: the type's names and the subject's.
WORDS = {
    "birth-certificate-extract": ["زهرا", "احمدی", "کاشان", "Zahra", "Ahmadi"],
    "business-licence": ["شرکت", "نمونه", "پارس", "Pars Sample Company"],
    "tax-clearance": ["زهرا", "احمدی", "Zahra Ahmadi"],
    "land-ownership-deed": ["مسکونی", "Residential"],
    "residence-permit": ["حمیرا", "صافی", "افغانستان", "Humaira", "Safi", "Afghanistan"],
    "health-insurance-card": ["زهرا", "احمدی", "Zahra Ahmadi", "Iran Health Insurance"],
}
TYPES = {definition.code: definition for definition in load_seed_types()}
ISSUED_AT = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # 1 Farvardin 1404, 00:30 in Tehran
EN_DATES = DateFormatter(EN, Catalogue.load())
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Authority:
    """The running central, the instance CA in a file and in an NSS database, and one
    issuer's document-signing key with its ``doc`` certificate."""

    central: CentralProcess
    ca: cx509.Certificate
    nss_dir: Path
    member_id: str
    key: keys.PrivateKey
    cert: cx509.Certificate
    chain: list[cx509.Certificate]

    @property
    def tsa_url(self) -> str:
        return f"{self.central.url}/tsa"


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authority]:
    folder = tmp_path_factory.mktemp("pdf")
    central = start_central(folder / "central", None)
    try:
        ca = x509.load_certificate(httpx.get(f"{central.url}/api/v1/ca/certificate").text)
        organisation = seed_organisation("civil-registration")
        with central.admin as admin:
            member = admin.post(
                "/api/v1/members",
                json={
                    "member_class": "GOV",
                    "code": generate_legal_entity_id(__import__("random").Random(9)),
                    "name_fa": organisation.name_fa,
                    "name_en": organisation.name_en,
                    "kind": "agency",
                    "contact_national_code": "0499370899",
                },
            )
            assert member.status_code == 201, member.text
            member_id = member.json()["id"]
            token = admin.post(
                "/api/v1/enrolment-tokens", json={"member_id": member_id, "kind": "doc"}
            )
            assert token.status_code == 201, token.text
        key = keys.ensure_private_key(folder / "issuer" / "doc.key")
        cert, chain = asyncio.run(
            enrol_certificate(central.url, token.json()["token"], key, kind="doc")
        )
        assert x509.certificate_kind(cert) == "doc"
        nss_dir = folder / "nss"
        nss_dir.mkdir()
        (folder / "ca.pem").write_text(x509.certificate_pem(ca))
        created = run("certutil", "-N", "-d", nss_dir, "--empty-password")
        assert created.returncode == 0, created.stderr
        added = run("certutil", "-A", "-d", nss_dir, "-n", "ca", "-t", "CT,C,C", "-i",
                    folder / "ca.pem")  # fmt: skip
        assert added.returncode == 0, added.stderr
        yield Authority(central, ca, nss_dir, member_id, key, cert, chain)
    finally:
        stop_central(central.process)


@dataclass
class Issued:
    document: RenderInput
    unsigned: bytes
    signed: bytes
    signature: bytes
    """The VC-JWT's raw signature, which its timestamp token imprints."""


async def issue(authority: Authority, code: str, client: httpx.AsyncClient) -> Issued:
    """The artefacts an issuer makes for a document of ``code``: the VC-JWT, its timestamp,
    the QR with its own timestamp, the PDF rendered from them and signed."""
    definition = TYPES[code]
    organisation = seed_organisation(ISSUERS[code])
    valid_until = None if definition.validity is None else ISSUED_AT + definition.validity
    claims = vc.document_claims(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer_member=authority.member_id,
        issuer_name=organisation.name_en,
        holder=HOLDERS[code],
        type_code=code,
        subject=SAMPLES[code],
        valid_from=ISSUED_AT,
        valid_until=valid_until,
        iat=ISSUED_AT,
        hub_url="https://hub.example",
        list_id=secrets.token_hex(8),
        status_index=48213,
    )
    credential = vc.parse_credential(
        vc.sign_credential(claims, authority.key, [authority.cert, *authority.chain])
    )
    imprint = imprint_of_signature(credential.signature)
    token = await request_timestamp(authority.tsa_url, imprint, cert_req=True, client=client)
    issued_at = trusted_time(token, imprint, [], ca_certificates=[authority.ca])
    signed_qr = qr.sign_qr(qr.QrRecord.from_credential(credential), authority.key, authority.cert)
    qr_token = await request_timestamp(
        authority.tsa_url, imprint_of_signature(signed_qr.signature), cert_req=False, client=client
    )
    document = RenderInput.from_credential(
        credential,
        document_type=definition,
        issuer_name_fa=organisation.name_fa,
        issuer_name_en=organisation.name_en,
        issued_at=issued_at,
        qr_text=signed_qr.with_timestamp(qr_token),
        pull_link=f"https://hub.example/p/{secrets.token_urlsafe(16)}",
        timestamp_token=token,
    )
    unsigned = render_pdf(document)
    signed = await async_sign_pdf(
        unsigned, authority.key, authority.cert, authority.chain, authority.tsa_url
    )
    return Issued(document, unsigned, signed, credential.signature)


@pytest.fixture(scope="module")
def issued(authority: Authority) -> dict[str, Issued]:
    async def all_types() -> dict[str, Issued]:
        async with httpx.AsyncClient(timeout=30) as client:
            return {code: await issue(authority, code, client) for code in sorted(TYPES)}

    return asyncio.run(all_types())


def written(tmp_path: Path, data: bytes, name: str = "document.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def extracted_text(path: Path) -> str:
    text = run("pdftotext", path, "-").stdout
    return BIDI_CONTROLS.sub("", text)


def as_extracted(word: str) -> str:
    # poppler reverses the characters a ligature glyph stands for when it reorders a
    # right-to-left run, so the lam-alef ligature comes out as alef-lam.
    return word.replace("لا", "ال")


@pytest.mark.parametrize("code", sorted(TYPES))
def test_each_type_renders_one_page_in_persian_and_english(
    issued: dict[str, Issued], code: str, tmp_path: Path
) -> None:
    path = written(tmp_path, issued[code].signed)
    info = run("pdfinfo", path).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), info
    text = extracted_text(path)
    definition = TYPES[code]
    assert definition.name_en in text
    for word in [*definition.name_fa.replace("(", " ").replace(")", " ").split(), *WORDS[code]]:
        assert as_extracted(word) in text, (word, text)
    document = issued[code].document
    # pdftotext drops the hyphen where a line breaks at one.
    squeezed = re.sub(r"[\s-]", "", text)
    assert document.credential_id.replace("-", "") in squeezed
    assert document.pull_link in text
    # The Persian half in Jalali dates with Persian digits, the English one in Gregorian.
    assert "۱۴۰۴" in text and "فروردین" in text
    assert "21 March 2025, 00:30 Tehran time" in text  # valid from
    # Issued at the TSA's time, not the credential's iat.
    assert EN_DATES.moment(document.issued_at) in text.replace("\n", " ")
    assert issued[code].document.issuer_name_en in text


def test_no_expiry_is_said_in_both_languages(issued: dict[str, Issued], tmp_path: Path) -> None:
    text = extracted_text(written(tmp_path, issued["land-ownership-deed"].signed))
    assert "No expiry date" in text and as_extracted("بدون") in text


@pytest.mark.parametrize("code", sorted(TYPES))
def test_pdfsig_trusts_the_signature_with_the_instance_ca(
    authority: Authority, issued: dict[str, Issued], code: str, tmp_path: Path
) -> None:
    checked = run("pdfsig", "-nssdir", authority.nss_dir, written(tmp_path, issued[code].signed))
    output = checked.stdout + checked.stderr
    assert "Signature is Valid." in output, output
    assert "Certificate is Trusted." in output, output
    assert "ETSI.CAdES.detached" in output, output
    assert "Total document signed" in output, output


def test_pdfsig_does_not_trust_it_without_the_ca(issued: dict[str, Issued], tmp_path: Path) -> None:
    empty = tmp_path / "nss"
    empty.mkdir()
    assert run("certutil", "-N", "-d", empty, "--empty-password").returncode == 0
    checked = run("pdfsig", "-nssdir", empty, written(tmp_path, issued["tax-clearance"].signed))
    assert "Signature is Valid." in checked.stdout
    assert "Certificate is Trusted." not in checked.stdout


@pytest.mark.parametrize("code", sorted(TYPES))
def test_pyhanko_accepts_the_signature_and_its_timestamp(
    authority: Authority, issued: dict[str, Issued], code: str
) -> None:
    report = pdf_signature(issued[code].signed, [authority.ca])
    assert report.valid, report.reason
    assert report.signer_member == authority.member_id
    assert report.signed_at is not None
    assert abs(datetime.now(UTC) - report.signed_at) < timedelta(minutes=10)
    # The same, asked of pyHanko's own validator directly.
    reader = PdfFileReader(io.BytesIO(issued[code].signed))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[asn1_certificate(authority.ca)])
    status = validate_pdf_signature(signature, context)
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.valid and status.timestamp_validity.trusted
    assert status.timestamp_validity.timestamp == report.signed_at
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


@pytest.mark.parametrize("code", sorted(TYPES))
def test_the_qr_reads_back_from_the_page_at_150_dpi_turned_5_degrees(
    issued: dict[str, Issued], code: str, tmp_path: Path
) -> None:
    path = written(tmp_path, issued[code].signed)
    rasterised = run("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", path,
                     tmp_path / "page")  # fmt: skip
    assert rasterised.returncode == 0, rasterised.stderr
    (png,) = tmp_path.glob("page*.png")
    page = Image.open(png).convert("L")
    # QR codes only, as the verifier reads them (qr.read_qr_image): zxing's other formats can
    # take a run of the page's text for a one-dimensional barcode.
    upright = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in upright] == [issued[code].document.qr_text]
    corners = upright[0].position
    width_cm = (corners.top_right.x - corners.top_left.x) / 150 * 2.54
    assert width_cm >= 8.0, width_cm
    turned = page.rotate(5, expand=True, fillcolor=255)
    (read,) = [
        r.text for r in zxingcpp.read_barcodes(turned, formats=zxingcpp.BarcodeFormat.QRCode)
    ]
    assert read == issued[code].document.qr_text
    # And it is the document's signed QR.
    payload = qr.decode_qr(read)
    qr.verify_qr_signature(payload)
    assert payload.record.credential_id == issued[code].document.credential_id
    assert payload.record.subject == SAMPLES[code]


def test_the_credential_and_its_timestamp_are_attached(
    authority: Authority, issued: dict[str, Issued], tmp_path: Path
) -> None:
    for code, one in issued.items():
        attached = pdf_attachments(one.signed)
        assert attached == {
            CREDENTIAL_ATTACHMENT: one.document.credential.encode("ascii"),
            TIMESTAMP_ATTACHMENT: one.document.timestamp_token,
        }, code
        assert pdf_attachments(one.unsigned) == attached
    # Poppler lists them too, and openssl accepts the attached token for the credential.
    one = issued["residence-permit"]
    path = written(tmp_path, one.signed)
    listed = run("pdfdetach", "-list", path).stdout
    assert "credential.jwt" in listed and "credential.tst" in listed
    (tmp_path / "t.der").write_bytes(pdf_attachments(one.signed)[TIMESTAMP_ATTACHMENT])
    (tmp_path / "sig.bin").write_bytes(one.signature)
    (tmp_path / "ca.pem").write_text(x509.certificate_pem(authority.ca))
    verified = subprocess.run(
        ["openssl", "ts", "-verify", "-in", "t.der", "-token_in", "-data", "sig.bin",
         "-CAfile", "ca.pem"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr


def changed_byte(pdf: bytes, marker: bytes) -> bytes:
    """``pdf`` with one byte changed inside the signed part (in the first ``marker``)."""
    position = pdf.index(marker) + len(marker) // 2
    altered = bytearray(pdf)
    altered[position] ^= 0x01
    return bytes(altered)


def test_one_changed_byte_is_refused(
    authority: Authority, issued: dict[str, Issued], tmp_path: Path
) -> None:
    signed = issued["business-licence"].signed
    assert b"WeasyPrint" in signed
    tampered = changed_byte(signed, b"WeasyPrint")
    report = pdf_signature(tampered, [authority.ca])
    assert not report.valid
    assert "changed after signing" in report.reason
    checked = run("pdfsig", "-nssdir", authority.nss_dir, written(tmp_path, tampered))
    assert "Signature is Valid." not in checked.stdout, checked.stdout
    assert "Signature Validation: Digest Mismatch." in checked.stdout, checked.stdout


def test_a_revision_after_the_signature_is_refused(
    authority: Authority, issued: dict[str, Issued], tmp_path: Path
) -> None:
    signed = issued["business-licence"].signed
    # An incremental update after signing (here: the document's language changed).
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    updated = io.BytesIO()
    writer.write(updated)
    report = pdf_signature(updated.getvalue(), [authority.ca])
    assert not report.valid
    assert "does not cover the whole file" in report.reason
    checked = run("pdfsig", "-nssdir", authority.nss_dir, written(tmp_path, updated.getvalue()))
    assert "Total document signed" not in checked.stdout, checked.stdout
    # Bytes appended without a revision are not covered either.
    report = pdf_signature(signed + b"\n% appended\n", [authority.ca])
    assert not report.valid and "does not cover the whole file" in report.reason
    # And a signed document is not signed once more.
    with pytest.raises(DocumentError, match="signed already"):
        sign_pdf(signed, authority.key, authority.cert, authority.chain, authority.tsa_url)


def test_a_signer_outside_the_instance_ca_is_refused(
    authority: Authority, issued: dict[str, Issued], tmp_path: Path
) -> None:
    other_ca_key = keys.generate_private_key()
    other_ca = x509.create_ca_certificate(other_ca_key, common_name="Another CA")
    key = keys.generate_private_key()
    now = datetime.now(UTC)
    cert = x509.issue_certificate(
        ca_key=other_ca_key, ca_cert=other_ca, public_key=key.public_key(),
        subject=x509.subject_name(common_name=authority.member_id,
                                  serial_number=authority.member_id),
        kind="doc", serial=x509.random_serial(), not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=1),
    )  # fmt: skip
    signed = sign_pdf(issued["tax-clearance"].unsigned, key, cert, [other_ca], authority.tsa_url)
    report = pdf_signature(signed, [authority.ca])
    assert not report.valid
    assert "does not chain to the instance CA" in report.reason
    assert "no certificate chain found" in report.reason
    checked = run("pdfsig", "-nssdir", authority.nss_dir, written(tmp_path, signed))
    assert "Certificate is Trusted." not in checked.stdout


def test_what_is_no_signed_pdf_is_reported_not_raised(
    authority: Authority, issued: dict[str, Issued]
) -> None:
    assert pdf_signature(b"hello", [authority.ca]).reason.endswith("does not start with %PDF-")
    unsigned = pdf_signature(issued["tax-clearance"].unsigned, [authority.ca])
    assert not unsigned.valid and unsigned.reason == "the PDF carries no signature"
    broken = pdf_signature(b"%PDF-1.7\n" + secrets.token_bytes(200), [authority.ca])
    assert not broken.valid and "cannot be read" in broken.reason


def test_signing_needs_the_tsa_and_the_certificate_of_the_key(
    authority: Authority, issued: dict[str, Issued]
) -> None:
    unsigned = issued["tax-clearance"].unsigned
    closed = f"http://127.0.0.1:{free_port()}/tsa"
    with pytest.raises(TimestampUnavailableError, match="gave no timestamp"):
        sign_pdf(unsigned, authority.key, authority.cert, authority.chain, closed)
    with pytest.raises(CryptoError, match="does not belong to the signing certificate"):
        sign_pdf(
            unsigned, keys.generate_private_key(), authority.cert, authority.chain,
            authority.tsa_url,
        )  # fmt: skip


def test_rendering_is_deterministic(issued: dict[str, Issued]) -> None:
    one = issued["health-insurance-card"]
    assert render_pdf(one.document) == one.unsigned
    moved = render_pdf(replace(one.document, pull_link="https://hub.example/p/other"))
    assert moved != one.unsigned


async def test_inside_an_event_loop(authority: Authority, issued: dict[str, Issued]) -> None:
    signed = issued["residence-permit"].signed
    report = await async_pdf_signature(signed, [authority.ca])
    assert report.valid, report.reason
    # The synchronous function still works from a coroutine (on a loop of its own).
    assert pdf_signature(signed, [authority.ca]) == report


def test_the_page_is_made_from_the_credential_of_its_type(issued: dict[str, Issued]) -> None:
    one = issued["residence-permit"].document
    credential = vc.parse_credential(one.credential)
    with pytest.raises(DocumentError, match="is a residence-permit, not a tax-clearance"):
        RenderInput.from_credential(
            credential,
            document_type=TYPES["tax-clearance"],
            issuer_name_fa=one.issuer_name_fa,
            issuer_name_en=one.issuer_name_en,
            issued_at=one.issued_at,
            qr_text=one.qr_text,
            pull_link=one.pull_link,
            timestamp_token=one.timestamp_token,
        )
    assert one.holder == "FN946538763832" and one.status_list.index == 48213
    assert one.status_list.url.endswith(f"/status-lists/{one.status_list.list_id}/revocation")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_a_damaged_file_is_reported_never_raised(
    authority: Authority, issued: dict[str, Issued], data: st.DataObject
) -> None:
    original = issued["birth-certificate-extract"].signed
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 3))):
        damaged[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    report = pdf_signature(bytes(damaged), [authority.ca])
    assert report.reason
    changed = [i for i, (a, b) in enumerate(zip(original, damaged, strict=True)) if a != b]
    if report.valid:
        # Only the signature container's padding (between the two signed ranges, after the
        # CMS) may change unnoticed.
        ranges = re.search(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)\s*\]", original)
        assert ranges is not None
        gap = range(int(ranges[2]), int(ranges[3]))
        assert all(i in gap for i in changed), changed
    with contextlib.suppress(ValidationError):
        pdf_attachments(bytes(damaged))
