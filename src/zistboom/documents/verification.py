"""The verification of a document (ZB-STD-008 §verification), in any of its forms, as named checks.

:func:`read_form` tells the forms apart (a VC-JWT, a ``ZB1:`` QR text, a PDF, a PNG or JPEG
image of the QR); :func:`verify` runs the checks in their fixed order, each with a stable name:

``format``, ``signature``, ``certificate``, ``trusted-time``, ``accreditation``, ``status``,
``validity``, ``schema`` (and ``pdf-signature`` for a PDF).

A failure stops none of the others; a check that cannot run is ``skipped`` and says why, and a
document is verified only when every check passed. The rules:

- the trusted time is the ``genTime`` of the RFC 3161 token over the document's signature (the
  VC-JWT's token travels beside it; the QR carries its own), never the issuer's ``iat``;
- the certificate chains to the instance CA, is a ``doc`` certificate naming the issuer member,
  was valid at the trusted time and was not revoked at or before it (a later revocation does
  not matter);
- accreditation is ``TrustIndex.authorize(issuer, Requirement(…, action="issue"), at=trusted
  time)`` from the trust list's history;
- status: the issuer-signed revocation and suspension lists, refused when stale (past their
  ``validUntil``); validity: now within ``validFrom``..``validUntil``; schema: JSON Schema 2020-12
  of the type on the subject without ``id``.

What differs between the hub, the CLI online and the CLI offline is only the
:class:`VerificationContext` passed in (:class:`CachedContext` holds everything in memory). The
checks themselves, with their Persian reasons from ``messages_fa.yaml``, are ``checks.py``; this
module reads the forms and runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from cryptography import x509

from zistboom.core.accreditation import TrustIndex
from zistboom.core.errors import DocumentError, ValidationError
from zistboom.documents import profile
from zistboom.documents.checks import (
    CHECK_NAMES,
    PDF_CHECK,
    Check,
    DocumentTypeView,
    ReadDocument,
    RecordSummary,
    SourceFreshness,
    StatusListView,
    VerificationContext,
    check_accreditation,
    check_certificate,
    check_pdf_signature,
    check_schema,
    check_signature,
    check_status,
    check_trusted_time,
    check_validity,
    failed,
    passed,
    pdf_module,
    skipped,
)
from zistboom.documents.qr import QrPayload, decode_qr, read_qr_image
from zistboom.documents.vc import ParsedCredential, parse_credential

__all__ = [
    "CHECK_NAMES",
    "CachedContext",
    "Check",
    "DocumentTypeView",
    "Presented",
    "RecordSummary",
    "SourceFreshness",
    "StatusListView",
    "VerificationContext",
    "VerificationReport",
    "read_form",
    "verify",
]

Form = Literal["vc-jwt", "qr", "pdf", "pull-link"]
Source = Literal["vc-jwt", "qr", "pdf", "image"]
CREDENTIAL_ATTACHMENT: Final = "credential.jwt"
TIMESTAMP_ATTACHMENT: Final = "credential.tst"
MAX_INPUT: Final = 20 * 1024 * 1024
ENVELOPED_PREFIX: Final = "data:application/vc+jwt,"


# --- what goes in and comes out --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Presented:
    """A document as presented: its ``form`` in the report, what it physically is
    (``source``), its bytes, and a timestamp token given beside it (a VC-JWT's)."""

    form: Form
    source: Source
    data: bytes
    timestamp_token: bytes | None = None


def read_form(content: str | bytes, *, timestamp_token: bytes | None = None) -> Presented:
    """Tell the form of ``content`` apart: a PDF (``%PDF-``), a PNG or JPEG image (of the QR),
    a ``ZB1:`` QR text, or a VC-JWT (also as ``data:application/vc+jwt,…``). A pull link is
    resolved by the caller, which presents what it fetched with ``form="pull-link"``."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_INPUT:
        raise DocumentError(f"a presented document is at most {MAX_INPUT} bytes")
    if raw.startswith(b"%PDF-"):
        return Presented("pdf", "pdf", raw, timestamp_token)
    if raw.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return Presented("qr", "image", raw, timestamp_token)
    text = raw.strip()
    if text.startswith(profile.QR_PREFIX.encode("ascii")):
        return Presented("qr", "qr", text, timestamp_token)
    text = text.removeprefix(ENVELOPED_PREFIX.encode("ascii"))
    if text.count(b".") == 2:
        return Presented("vc-jwt", "vc-jwt", text, timestamp_token)
    raise DocumentError(
        "not a document: give a VC-JWT, a ZB1: QR text, a PDF, or a PNG or JPEG image of the QR"
    )


@dataclass(frozen=True, slots=True)
class VerificationReport:
    verified: bool
    form: Form
    record: RecordSummary | None
    checks: list[Check]
    sources: list[SourceFreshness]
    trusted_time: datetime | None = None
    """The time of issue from the document's timestamp (the ``trusted-time`` check's), when it
    verified; what a person is shown as the time of issue, never the issuer's own ``iat``."""

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


@dataclass
class CachedContext:
    """A :class:`VerificationContext` over what is held in memory (a CLI's offline cache, a
    test's instance): certificates and revocations from the global configuration, one trust
    list (its history answers for any past time), types, status lists and tokens by key."""

    ca_certificates: Sequence[x509.Certificate]
    tsa_certificates: Sequence[x509.Certificate]
    hub_url: str
    trust: TrustIndex | None
    types: dict[str, DocumentTypeView] = field(default_factory=dict)
    status_lists: dict[str, StatusListView] = field(default_factory=dict)
    timestamps: dict[str, bytes] = field(default_factory=dict)
    revocations: dict[int, datetime] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    refreshed: list[SourceFreshness] = field(default_factory=list)

    async def revoked_at(self, serial: int) -> datetime | None:
        return self.revocations.get(serial)

    async def trust_index(self, at: datetime) -> TrustIndex | None:
        return self.trust

    async def document_type(self, code: str) -> DocumentTypeView | None:
        return self.types.get(code)

    async def status_list(self, url: str) -> StatusListView | None:
        return self.status_lists.get(url)

    async def timestamp_for(self, credential_id: str) -> bytes | None:
        return self.timestamps.get(credential_id)

    def now(self) -> datetime:
        return self.clock()

    def sources(self) -> Sequence[SourceFreshness]:
        return self.refreshed


# --- reading the forms ---------------------------------------------------------------------


def _from_credential(parsed: ParsedCredential, token: bytes | None) -> ReadDocument:
    document = parsed.document
    return ReadDocument(
        record=RecordSummary(
            id=parsed.credential_id,
            type=parsed.type_code,
            issuer=parsed.issuer_member,
            holder=parsed.holder,
            issued_at=parsed.iat,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
        ),
        signature=parsed.signature,
        certificate=parsed.leaf,
        subject=parsed.subject,
        status_urls={
            purpose: document.status_entry(purpose).statusListCredential
            for purpose in profile.STATUS_PURPOSES
        },
        status_index=document.status_index,
        timestamp_token=token,
        credential=parsed,
    )


def _from_qr(payload: QrPayload, hub_url: str) -> ReadDocument:
    record = payload.record
    return ReadDocument(
        record=RecordSummary(
            id=record.credential_id,
            type=record.type_code,
            issuer=record.issuer_member,
            holder=record.holder,
            issued_at=record.issued_at,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
        ),
        signature=payload.signature,
        certificate=payload.certificate,
        subject=record.subject,
        status_urls={
            purpose: profile.status_list_url(hub_url, record.status_list_id, purpose)
            for purpose in profile.STATUS_PURPOSES
        },
        status_index=record.status_index,
        timestamp_token=payload.timestamp_token,
        qr=payload,
    )


async def _read(presented: Presented, context: VerificationContext) -> ReadDocument | Check:
    """The ``format`` check's work: the document read, or the failed check saying why."""
    try:
        if presented.source == "pdf":
            return await _read_pdf(presented, context)
        if presented.source == "image":
            texts = [t for t in read_qr_image(presented.data) if t.startswith(profile.QR_PREFIX)]
            if not texts:
                return failed("format", "format.no-qr", "no ZB1: QR code was found in the image")
            return _from_qr(decode_qr(texts[0]), context.hub_url)
        if presented.source == "qr":
            return _from_qr(decode_qr(presented.data.decode("ascii")), context.hub_url)
        parsed = parse_credential(presented.data.decode("ascii"))
    except (DocumentError, UnicodeDecodeError) as exc:
        detail = exc.detail if isinstance(exc, DocumentError) else "it is not ASCII text"
        return failed("format", "format.unreadable", f"the document cannot be read: {detail}")
    token = presented.timestamp_token or await context.timestamp_for(parsed.credential_id)
    return _from_credential(parsed, token)


async def _read_pdf(presented: Presented, context: VerificationContext) -> ReadDocument | Check:
    pdf = pdf_module()
    if pdf is None:
        return failed("format", "format.pdf-unsupported", "this verifier cannot read PDFs")
    try:
        attachments: dict[str, bytes] = pdf.pdf_attachments(presented.data)
    except ValidationError as exc:
        return failed("format", "format.unreadable", f"the PDF cannot be read: {exc.detail}")
    jwt = attachments.get(CREDENTIAL_ATTACHMENT)
    if jwt is None:
        return failed(
            "format",
            "format.pdf-no-credential",
            f"the PDF has no {CREDENTIAL_ATTACHMENT} attachment",
        )
    parsed = parse_credential(jwt.decode("ascii"))
    token = (
        presented.timestamp_token
        or attachments.get(TIMESTAMP_ATTACHMENT)
        or await context.timestamp_for(parsed.credential_id)
    )
    return _from_credential(parsed, token)


async def verify(presented: Presented, context: VerificationContext) -> VerificationReport:
    """Run every check on ``presented`` with what ``context`` trusts."""
    sources = list(context.sources())
    document = await _read(presented, context)
    if isinstance(document, Check):
        rest = [
            skipped(name, "skipped.unreadable", "the document could not be read")
            for name in CHECK_NAMES[1:] + ((PDF_CHECK,) if presented.source == "pdf" else ())
        ]
        return VerificationReport(False, presented.form, None, [document, *rest], sources)
    now = context.now()
    fmt = passed(
        "format",
        "format.read",
        f"a {presented.source} of ZB-STD-008, document {document.record.id}",
    )
    time_check, issued = check_trusted_time(document, context)
    view = await context.document_type(document.record.type)
    status_check, status_sources = await check_status(document, context)
    checks = [
        fmt,
        check_signature(document),
        await check_certificate(document, context, issued),
        time_check,
        await check_accreditation(document, context, issued, view),
        status_check,
        check_validity(document, now),
        check_schema(document, view),
    ]
    if presented.source == "pdf":
        checks.append(await check_pdf_signature(presented.data, context, document.record.issuer))
    return VerificationReport(
        verified=all(check.result == "passed" for check in checks),
        form=presented.form,
        record=document.record,
        checks=checks,
        sources=sources + status_sources,
        trusted_time=issued,
    )
