"""The named checks of document verification (ZB-STD-008 §verification) and what they read: the
document as read from any form (:class:`ReadDocument`), what a verifier trusts
(:class:`VerificationContext`), and each check's outcome (:class:`Check`) with its English reason
and its Persian one from ``messages_fa.yaml`` by message code.

Each check is a function of the read document and the context; ``verification.py`` reads the
form and runs them in their fixed order.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from types import ModuleType
from typing import Any, Final, Literal, Protocol
from zoneinfo import ZoneInfo

import yaml
from cryptography import x509

from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto.x509 import verify_certificate
from zistboom.core.errors import CryptoError, DocumentError
from zistboom.core.persian import format_jalali
from zistboom.documents import profile
from zistboom.documents.qr import QrPayload, verify_qr_signature
from zistboom.documents.statuslist import ParsedStatusList
from zistboom.documents.timestamps import imprint_of_signature, trusted_time
from zistboom.documents.vc import ParsedCredential, verify_signature
from zistboom.registries.validation import RecordValidator, json_pointer

Result = Literal["passed", "failed", "skipped"]
CHECK_NAMES: Final = (
    "format",
    "signature",
    "certificate",
    "trusted-time",
    "accreditation",
    "status",
    "validity",
    "schema",
)
PDF_CHECK: Final = "pdf-signature"
TEHRAN: Final = ZoneInfo("Asia/Tehran")


def _catalogue() -> dict[str, str]:
    text = resources.files("zistboom.documents").joinpath("messages_fa.yaml").read_text("utf-8")
    messages = yaml.safe_load(text)
    assert isinstance(messages, dict)
    return {str(code): str(sentence) for code, sentence in messages.items()}


MESSAGES_FA: Final = _catalogue()


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    result: Result
    reason: str
    reason_fa: str


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """The document the checks are about, the same whichever form was presented.

    ``issued_at`` is the time the issuer states (``iat``); the trusted time of issue is the
    ``trusted-time`` check's, which differs between forms (each has its own token)."""

    id: str
    type: str
    issuer: str
    holder: str
    issued_at: datetime | None
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    """A source the verifier relied on (trust list, global configuration, a status list) and
    when it was last refreshed."""

    name: str
    refreshed_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentTypeView:
    """What verification needs of a document type: its subject schema and the accreditation an
    issuer must hold (``ecosystem``, ``kind``, ``level``; the action is always ``issue``)."""

    code: str
    schema: dict[str, Any]
    requirement: Requirement


@dataclass(frozen=True, slots=True)
class StatusListView:
    """An issuer-signed status list as the verifier holds it, and when it was fetched."""

    credential: ParsedStatusList
    fetched_at: datetime


class VerificationContext(Protocol):
    """Where verification gets what it trusts: the hub (its database and global configuration),
    the CLI online (fetching) and the CLI offline (its cache) differ only here."""

    @property
    def ca_certificates(self) -> Sequence[x509.Certificate]: ...
    @property
    def tsa_certificates(self) -> Sequence[x509.Certificate]: ...
    @property
    def hub_url(self) -> str:
        """The hub whose status lists a QR's list id refers to."""
        ...

    async def revoked_at(self, serial: int) -> datetime | None: ...
    async def trust_index(self, at: datetime) -> TrustIndex | None: ...
    async def document_type(self, code: str) -> DocumentTypeView | None: ...
    async def status_list(self, url: str) -> StatusListView | None: ...
    async def timestamp_for(self, credential_id: str) -> bytes | None: ...
    def now(self) -> datetime: ...
    def sources(self) -> Sequence[SourceFreshness]: ...


# --- the checks ------------------------------------------------------------------------------


def _fa_time(moment: datetime) -> str:
    return format_jalali(moment.astimezone(TEHRAN), with_time=True)


def _iso(moment: datetime) -> str:
    return profile.rfc3339(moment)


def _check(name: str, result: Result, code: str, reason: str, **params: str) -> Check:
    return Check(name, result, reason, MESSAGES_FA[code].format(**params))


def passed(name: str, code: str, reason: str, **params: str) -> Check:
    return _check(name, "passed", code, reason, **params)


def failed(name: str, code: str, reason: str, **params: str) -> Check:
    return _check(name, "failed", code, reason, **params)


def skipped(name: str, code: str, reason: str, **params: str) -> Check:
    return _check(name, "skipped", code, reason, **params)


@dataclass(frozen=True, slots=True)
class ReadDocument:
    """The presented document, read: the facts every later check uses, whichever the form."""

    record: RecordSummary
    signature: bytes
    certificate: x509.Certificate
    subject: dict[str, Any]
    status_urls: dict[profile.StatusPurpose, str]
    status_index: int
    timestamp_token: bytes | None
    credential: ParsedCredential | None = None
    qr: QrPayload | None = None


def pdf_module() -> ModuleType | None:
    # documents/pdf.py brings pyHanko and WeasyPrint: imported only when a PDF is presented.
    try:
        return importlib.import_module("zistboom.documents.pdf")
    except ImportError:
        return None


def check_signature(document: ReadDocument) -> Check:
    try:
        if document.credential is not None:
            verify_signature(document.credential)
        else:
            assert document.qr is not None
            verify_qr_signature(document.qr)
    except DocumentError as exc:
        return failed("signature", "signature.invalid", exc.detail)
    return passed(
        "signature", "signature.valid", "the issuer's signature verifies with its certificate"
    )


def check_trusted_time(
    document: ReadDocument, context: VerificationContext
) -> tuple[Check, datetime | None]:
    if document.timestamp_token is None:
        return failed(
            "trusted-time",
            "trusted-time.missing",
            "no timestamp token over the signature was presented or is known for the document",
        ), None
    try:
        moment = trusted_time(
            document.timestamp_token,
            imprint_of_signature(document.signature),
            context.tsa_certificates,
            ca_certificates=context.ca_certificates,
        )
    except DocumentError as exc:
        return failed("trusted-time", "trusted-time.invalid", exc.detail), None
    reason = f"the timestamp over the signature says {_iso(moment)}"
    if document.record.issued_at is not None:
        reason += f" (the issuer states iat {_iso(document.record.issued_at)}, which is not used)"
    return passed("trusted-time", "trusted-time.valid", reason, time=_fa_time(moment)), moment


def _certificate_problem(
    cert: x509.Certificate, context: VerificationContext, member: str, at: datetime
) -> str | None:
    """Why ``cert`` is not a ``doc`` certificate of ``member`` from an instance CA at ``at``."""
    problems = []
    for ca_cert in context.ca_certificates:
        try:
            verify_certificate(cert, ca_cert, at=at, kind="doc", identity=member)
        except CryptoError as exc:
            problems.append(exc.detail)
        else:
            return None
    if not problems:
        return "no instance CA certificate is known"
    return next((p for p in problems if "not issued by the instance CA" not in p), problems[0])


async def check_certificate(
    document: ReadDocument, context: VerificationContext, issued: datetime | None
) -> Check:
    at = issued if issued is not None else context.now()
    when = "the trusted time of issue" if issued is not None else "now (no trusted time)"
    problem = _certificate_problem(document.certificate, context, document.record.issuer, at)
    if problem is not None:
        return failed(
            "certificate", "certificate.invalid", f"the signing certificate at {when}: {problem}"
        )
    serial = document.certificate.serial_number
    revoked = await context.revoked_at(serial)
    if revoked is not None and (issued is None or revoked <= issued):
        return failed(
            "certificate",
            "certificate.revoked",
            f"the signing certificate (serial {serial:x}) was revoked at {_iso(revoked)}, "
            f"at or before {when}",
            time=_fa_time(revoked),
        )
    if revoked is not None:
        return passed(
            "certificate",
            "certificate.revoked-later",
            f"the signing certificate (serial {serial:x}) was revoked at {_iso(revoked)}, after "
            "the trusted time of issue: the document was signed while it was good",
            time=_fa_time(revoked),
        )
    return passed(
        "certificate",
        "certificate.valid",
        f"a doc certificate of {document.record.issuer} from the instance CA, valid and not "
        f"revoked at {when}",
        member=document.record.issuer,
    )


async def check_accreditation(
    document: ReadDocument,
    context: VerificationContext,
    issued: datetime | None,
    view: DocumentTypeView | None,
) -> Check:
    if issued is None:
        return skipped(
            "accreditation",
            "accreditation.no-time",
            "without a trusted time of issue the accreditation cannot be checked (never at iat)",
        )
    if view is None:
        return skipped(
            "accreditation",
            "accreditation.unknown-type",
            f"the document type {document.record.type} is not registered: its requirement is "
            "unknown",
            type=document.record.type,
        )
    index = await context.trust_index(issued)
    if index is None:
        return skipped("accreditation", "accreditation.no-trust-list", "no trust list is available")
    wanted = view.requirement
    requirement = Requirement(wanted.ecosystem, wanted.kind, wanted.level, action="issue")
    answer = index.authorize(document.record.issuer, requirement, at=issued)
    if answer.holds:
        return passed("accreditation", "accreditation.valid", answer.message, time=_fa_time(issued))
    return failed(
        "accreditation",
        "accreditation.missing",
        f"{requirement.describe()} is needed at the trusted time of issue: {answer.message}",
        time=_fa_time(issued),
    )


async def _list_problem(
    view: StatusListView,
    url: str,
    purpose: str,
    document: ReadDocument,
    context: VerificationContext,
) -> str | None:
    status_list = view.credential
    if status_list.list_url != url or status_list.purpose != purpose:
        return f"the list held for {url} is {status_list.list_url} ({status_list.purpose})"
    if status_list.issuer_member != document.record.issuer:
        return f"the list is issued by {status_list.issuer_member}, not the document's issuer"
    try:
        verify_signature(status_list)
    except DocumentError as exc:
        return exc.detail
    signed_at = status_list.valid_from
    problem = _certificate_problem(status_list.leaf, context, document.record.issuer, signed_at)
    if problem is not None:
        return f"its signing certificate: {problem}"
    # A list is as fresh as its validFrom: one signed with a key already revoked is not the
    # issuer's word.
    revoked = await context.revoked_at(status_list.leaf.serial_number)
    if revoked is not None and revoked <= signed_at:
        return (
            f"its signing certificate was revoked at {_iso(revoked)}, before the list's validFrom"
        )
    return None


async def check_status(
    document: ReadDocument, context: VerificationContext
) -> tuple[Check, list[SourceFreshness]]:
    now = context.now()
    sources: list[SourceFreshness] = []
    outcome: dict[str, bool] = {}
    fresh_until: list[datetime] = []
    for purpose, url in document.status_urls.items():
        view = await context.status_list(url)
        if view is None:
            return failed(
                "status", "status.unavailable", f"the {purpose} list {url} is not available"
            ), sources
        sources.append(SourceFreshness(f"status list {url}", view.fetched_at))
        problem = await _list_problem(view, url, purpose, document, context)
        if problem is not None:
            return failed(
                "status", "status.invalid", f"the {purpose} list {url} is refused: {problem}"
            ), sources
        status_list = view.credential
        if now > status_list.valid_until:
            return failed(
                "status",
                "status.stale",
                f"status list is stale: the {purpose} list {url} was valid until "
                f"{_iso(status_list.valid_until)} (fetched {_iso(view.fetched_at)})",
                time=_fa_time(status_list.valid_until),
            ), sources
        try:
            outcome[purpose] = status_list.bits.get(document.status_index)
        except DocumentError as exc:
            return failed(
                "status", "status.invalid", f"the {purpose} list {url}: {exc.detail}"
            ), sources
        fresh_until.append(status_list.valid_until)
    if outcome.get("revocation"):
        return failed("status", "status.revoked", "the document is revoked"), sources
    if outcome.get("suspension"):
        return failed("status", "status.suspended", "the document is suspended"), sources
    until = min(fresh_until)
    return passed(
        "status",
        "status.valid",
        f"neither revoked nor suspended (index {document.status_index}; lists valid until "
        f"{_iso(until)})",
        time=_fa_time(until),
    ), sources


def check_validity(document: ReadDocument, now: datetime) -> Check:
    record = document.record
    if now < record.valid_from:
        return failed(
            "validity",
            "validity.not-yet",
            f"not valid before {_iso(record.valid_from)}",
            time=_fa_time(record.valid_from),
        )
    if record.valid_until is not None and now >= record.valid_until:
        return failed(
            "validity",
            "validity.expired",
            f"expired at {_iso(record.valid_until)}",
            time=_fa_time(record.valid_until),
        )
    until = "without an end" if record.valid_until is None else f"until {_iso(record.valid_until)}"
    return passed("validity", "validity.valid", f"valid from {_iso(record.valid_from)} {until}")


def check_schema(document: ReadDocument, view: DocumentTypeView | None) -> Check:
    code = document.record.type
    if view is None:
        return failed(
            "schema", "schema.unknown-type", f"no document type {code} is registered", type=code
        )
    # The registries' validator: Draft 2020-12 with formats asserted and ASCII patterns, the
    # rules an issuer's subject was checked by.
    problems = RecordValidator(view.schema, ()).problems(document.subject)
    if problems:
        path, text = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return failed(
            "schema",
            "schema.invalid",
            f"credentialSubject{json_pointer(path)}: {text}{more}",
            type=code,
        )
    return passed("schema", "schema.valid", f"the subject fits the schema of {code}", type=code)


async def check_pdf_signature(pdf_bytes: bytes, context: VerificationContext, member: str) -> Check:
    pdf = pdf_module()
    if pdf is None:
        return skipped(
            PDF_CHECK, "pdf-signature.unsupported", "this verifier cannot check PDF signatures"
        )
    # PdfSignatureReport(valid, reason, signed_at, signer_member); pyHanko's validation is
    # blocking work, kept off the event loop.
    report = await asyncio.to_thread(pdf.pdf_signature, pdf_bytes, list(context.ca_certificates))
    if not report.valid:
        return failed(PDF_CHECK, "pdf-signature.invalid", report.reason)
    if report.signer_member != member:
        return failed(
            PDF_CHECK,
            "pdf-signature.other-signer",
            f"the PDF is signed by {report.signer_member or 'nobody known'}, not by {member}",
        )
    return passed(PDF_CHECK, "pdf-signature.valid", report.reason)
