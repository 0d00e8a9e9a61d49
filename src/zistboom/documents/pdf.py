"""The signed PDF form of a document (ZB-STD-008 PDF profile): rendering, PAdES signing, and
reading back its attachments and its signature.

A document is rendered by WeasyPrint from ``templates/document.html``: a Persian half (right to
left, Jalali dates and Persian digits) and an English half (left to right, Gregorian dates), each
with the type's own template fragment, then the offline QR printed 8.5 cm wide and the pull link.
The VC-JWT travels inside the file as the attachment ``credential.jwt`` and its RFC 3161 token
as ``credential.tst``, so the PDF alone carries everything the other forms do. Fonts are the
system's (fontconfig; Debian's fonts-noto-core), none is shipped.

The issuer signs the rendered file with pyHanko as PAdES baseline B-T: a CAdES detached
signature (SubFilter ETSI.CAdES.detached) with a signature timestamp from central's TSA. A
verifier checks it with :func:`pdf_signature` against the instance CA: intact, valid, a trusted
chain at the time of the timestamp, a valid timestamp, and a signature that covers the whole
file (nothing appended after it).

pyHanko's synchronous entry points start their own event loop; the ``async_`` functions here
are for callers that already run one (the issuer, the hub).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final, TypeVar

import segno
from asn1crypto import cms, tsp
from cryptography import x509
from markupsafe import Markup
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from weasyprint import CSS, HTML, Attachment  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.crypto.pades import asn1_certificate, pdf_signer
from zistboom.core.crypto.x509 import certificate_identity, load_certificate
from zistboom.core.errors import (
    DocumentError,
    TimestampUnavailableError,
    ValidationError,
    ZistboomError,
)
from zistboom.documents.types import DocumentTypeDefinition
from zistboom.web.i18n import EN, FA, Locale
from zistboom.web.rendering import Pages

CREDENTIAL_ATTACHMENT: Final = "credential.jwt"
TIMESTAMP_ATTACHMENT: Final = "credential.tst"
SIGNATURE_FIELD: Final = "ZistboomDocumentSignature"
QR_SYMBOL_CM: Final = 8.5
"""The printed width of the QR symbol itself (finder pattern to finder pattern), quiet zone
not counted: ZB-STD-008 asks for at least 8 cm."""
QR_QUIET_ZONE: Final = 4
# Room for the signature container: the CMS with two certificates, and the timestamp token
# with its TSA certificate, is about 3 KiB.
_SIGNATURE_SIZE: Final = 16384
_TSA_TIMEOUT_SECONDS: Final = 10
_TEMPLATES: Final = ("zistboom.documents", "templates")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StatusListEntry:
    """Where the document's status is published: the list (its id at the hub, its URL) and
    the document's index in it (the same index in the revocation and the suspension list)."""

    list_id: str
    index: int
    url: str


@dataclass(frozen=True, slots=True)
class RenderInput:
    """Everything a document's PDF shows and carries."""

    document_type: DocumentTypeDefinition
    subject: Mapping[str, Any]
    """The credential subject without its ``id``."""
    credential_id: str
    issuer_name_fa: str
    issuer_name_en: str
    holder: str
    issued_at: datetime
    """The trusted time of issue: the genTime of the VC-JWT's timestamp, never ``iat``."""
    valid_from: datetime
    valid_until: datetime | None
    status_list: StatusListEntry
    qr_text: str
    pull_link: str
    credential: str
    """The VC-JWT, attached as ``credential.jwt``."""
    timestamp_token: bytes
    """The DER TimeStampToken over the VC-JWT's signature, attached as ``credential.tst``."""


@dataclass(frozen=True, slots=True)
class PdfSignatureReport:
    """What :func:`pdf_signature` found: ``valid`` only if every check held; ``reason`` says
    which one failed, or what was checked."""

    valid: bool
    reason: str
    signed_at: datetime | None
    """The signature timestamp's genTime, when there is one that verifies."""
    signer_member: str | None
    """The member named by the signing certificate (its subject serialNumber)."""


# --- rendering ------------------------------------------------------------------------------


def render_pdf(document: RenderInput, *, pages: Pages | None = None) -> bytes:
    """The unsigned PDF of ``document``: one A4 page, Persian and English, QR, attachments.

    CPU-bound (about a second): an async caller runs it in a worker thread.
    """
    pages = pages or Pages([_TEMPLATES])
    # Each half is the output of an autoescaped template, so it is markup already.
    halves = {
        locale.code: Markup(_half(pages, document, locale))  # noqa: S704
        for locale in (FA, EN)
    }
    qr_image, qr_width_cm = _qr_image(document.qr_text)
    html = pages.render(
        "document.html",
        locale=FA,
        document=document,
        document_type=document.document_type,
        persian_half=halves["fa"],
        english_half=halves["en"],
        qr_image=qr_image,
        qr_width_cm=f"{qr_width_cm:.3f}",
        t_en=lambda key, **values: pages.catalogue.text(EN, key, **values),
    )
    stylesheet = resources.files(_TEMPLATES[0]).joinpath(_TEMPLATES[1], "document.css")
    fonts = FontConfiguration()
    created = document.issued_at.astimezone(UTC)
    attachments = [
        Attachment(
            file_obj=io.BytesIO(document.credential.encode("ascii")),
            name=CREDENTIAL_ATTACHMENT,
            description="Verifiable Credential (application/vc+jwt)",
            created=created,
            modified=created,
            relationship="Source",
        ),
        Attachment(
            file_obj=io.BytesIO(document.timestamp_token),
            name=TIMESTAMP_ATTACHMENT,
            description="RFC 3161 TimeStampToken over the credential's signature",
            created=created,
            modified=created,
            relationship="Supplement",
        ),
    ]
    rendered = HTML(string=html, base_url=None).write_pdf(
        stylesheets=[CSS(string=stylesheet.read_text(encoding="utf-8"), font_config=fonts)],
        font_config=fonts,
        attachments=attachments,
        pdf_tags=True,
        pdf_identifier=document.credential_id.encode("ascii"),
    )
    if not isinstance(rendered, bytes):  # WeasyPrint returns bytes when given no target
        raise DocumentError("WeasyPrint rendered no PDF")
    return rendered


def _half(pages: Pages, document: RenderInput, locale: Locale) -> str:
    definition = document.document_type
    fragment = definition.template_fa if locale is FA else definition.template_en

    def code_label(field: str, value: object) -> str:
        return definition.code_label(field, value, locale.code)

    fields = pages.render_fragment(
        fragment, locale=locale, subject=dict(document.subject), code_label=code_label
    )
    return pages.render(
        "document_half.html",
        locale=locale,
        document=document,
        type_name=definition.name_fa if locale is FA else definition.name_en,
        issuer_name=document.issuer_name_fa if locale is FA else document.issuer_name_en,
        fields=Markup(fields),  # noqa: S704  # rendered with autoescape above
    )


def _qr_image(text: str) -> tuple[str, float]:
    """The QR as an SVG data URI (vector, so it prints sharp at any size) and the width to
    print it at, quiet zone included, for the symbol to be :data:`QR_SYMBOL_CM` wide.

    Until ``documents/qr.py`` (its ``qr_svg``) is merged: segno directly, error correction M
    as ZB-STD-008 says, not boosted.
    """
    code = segno.make(text, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(
        out, kind="svg", border=QR_QUIET_ZONE, xmldecl=False, omitsize=True,
        dark="#000", light="#fff",
    )  # fmt: skip
    modules, _ = code.symbol_size(scale=1, border=0)
    width = QR_SYMBOL_CM * (modules + 2 * QR_QUIET_ZONE) / modules
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii"), width


# --- signing --------------------------------------------------------------------------------


async def async_sign_pdf(
    pdf: bytes,
    key: PrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    tsa_url: str,
) -> bytes:
    """``pdf`` signed with ``key`` as PAdES B-T: SubFilter ETSI.CAdES.detached, SHA-256, the
    signature timestamped by the TSA at ``tsa_url`` (central's ``/tsa``), ``chain`` embedded.

    :class:`TimestampUnavailableError` when the TSA gives no timestamp (nothing is signed),
    :class:`ValidationError` when ``pdf`` is not a PDF pyHanko can extend.
    """
    signer = pdf_signer(key, cert, chain)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        use_pades_lta=False,
        embed_validation_info=False,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        signed_already = bool(writer.prev.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as error:
        raise ValidationError(f"not a PDF that can be signed: {error}", field="pdf") from None
    if signed_already:
        raise DocumentError("the PDF is signed already: a document carries one signature")
    timestamper = HTTPTimeStamper(tsa_url, timeout=_TSA_TIMEOUT_SECONDS)
    output = io.BytesIO()
    try:
        await signers.async_sign_pdf(
            writer,
            metadata,
            signer=signer,
            timestamper=timestamper,
            bytes_reserved=_SIGNATURE_SIZE,
            output=output,
        )
    except TimestampRequestError as error:
        raise TimestampUnavailableError(
            f"the TSA at {tsa_url} gave no timestamp for the PDF signature: {error}"
        ) from None
    except (SigningError, PdfError) as error:
        raise DocumentError(f"the PDF could not be signed: {error}") from None
    return output.getvalue()


def sign_pdf(
    pdf: bytes,
    key: PrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    tsa_url: str,
) -> bytes:
    """:func:`async_sign_pdf` for synchronous callers (a CLI, a worker thread)."""
    return _run(lambda: async_sign_pdf(pdf, key, cert, chain, tsa_url))


# --- reading back ---------------------------------------------------------------------------


def pdf_attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of ``pdf`` by name (``credential.jwt``, ``credential.tst``).

    :class:`ValidationError` when ``pdf`` is not a readable PDF.
    """
    reader = _reader(pdf)
    names = reader.root.get("/Names")
    if names is None:
        return {}
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return {}
    found: dict[str, bytes] = {}
    for name, spec in _name_tree(tree.get_object()):
        file_spec = spec.get_object()
        embedded = file_spec.get("/EF")
        if embedded is None:
            continue
        stream = embedded.get_object().get("/F")
        if stream is None:
            continue
        found[name] = stream.get_object().data
    return found


def _name_tree(node: generic.DictionaryObject, depth: int = 0) -> list[tuple[str, Any]]:
    # A PDF name tree (ISO 32000-1 §7.9.6): leaves hold [name value ...] pairs, inner nodes Kids.
    if depth > 32:
        raise ValidationError("the PDF's embedded-files tree is nested too deeply", field="pdf")
    entries: list[tuple[str, Any]] = []
    pairs = node.get("/Names")
    if pairs is not None:
        pairs = pairs.get_object()
        for position in range(0, len(pairs) - 1, 2):
            key = pairs[position].get_object()
            name = (
                key.original_bytes.decode("utf-8", "replace")
                if hasattr(key, "original_bytes")
                else str(key)
            )
            entries.append((name, pairs[position + 1]))
    kids = node.get("/Kids")
    if kids is not None:
        for kid in kids.get_object():
            entries.extend(_name_tree(kid.get_object(), depth + 1))
    return entries


def _reader(pdf: bytes) -> PdfFileReader:
    if not pdf.startswith(b"%PDF-"):
        raise ValidationError("not a PDF: it does not start with %PDF-", field="pdf")
    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as error:
        raise ValidationError(f"not a readable PDF: {error}", field="pdf") from None


async def async_pdf_signature(
    pdf: bytes, ca_certs: Sequence[x509.Certificate]
) -> PdfSignatureReport:
    """Check the document signature of ``pdf`` with the instance CA(s) ``ca_certs`` as the
    only trust roots. Never raises for a bad file: the report says what is wrong."""
    try:
        reader = _reader(pdf)
        embedded = reader.embedded_regular_signatures
    except (ValidationError, PdfError, ValueError, KeyError, IndexError, TypeError) as error:
        return PdfSignatureReport(False, f"the PDF cannot be read: {_detail(error)}", None, None)
    if not embedded:
        return PdfSignatureReport(False, "the PDF carries no signature", None, None)
    if len(embedded) > 1:
        return PdfSignatureReport(
            False, f"the PDF carries {len(embedded)} signatures; a document has one", None, None
        )
    signature = embedded[0]
    try:
        signer_cert = load_certificate(signature.signer_cert.dump())
        signer_member = certificate_identity(signer_cert)
        signed_at = _timestamp_time(signature.signer_info)
    except (ValidationError, DocumentError, ValueError, KeyError, TypeError) as error:
        return PdfSignatureReport(
            False, f"the signature cannot be read: {_detail(error)}", None, None
        )
    if signed_at is None:
        return PdfSignatureReport(
            False, "the signature has no signature timestamp (PAdES B-T needs one)", None,
            signer_member,
        )  # fmt: skip
    roots = [asn1_certificate(ca) for ca in ca_certs]
    # The signer's certificate is judged at the time the TSA vouches for, not today.
    context = ValidationContext(trust_roots=roots, moment=signed_at, allow_fetching=False)
    ts_context = ValidationContext(trust_roots=roots, moment=signed_at, allow_fetching=False)
    try:
        status = await async_validate_pdf_signature(
            signature, signer_validation_context=context, ts_validation_context=ts_context
        )
    except (PdfError, ValueError, KeyError, TypeError) as error:
        return PdfSignatureReport(
            False, f"the signature cannot be validated: {error}", None, signer_member
        )
    failure = _failure(status)
    if failure is not None:
        return PdfSignatureReport(False, failure, signed_at, signer_member)
    return PdfSignatureReport(
        True,
        "intact and valid, the certificate chains to the instance CA, the signature "
        f"timestamp of {signed_at.isoformat()} is valid, and it covers the whole file",
        signed_at,
        signer_member,
    )


def pdf_signature(pdf: bytes, ca_certs: Sequence[x509.Certificate]) -> PdfSignatureReport:
    """:func:`async_pdf_signature` for synchronous callers."""
    return _run(lambda: async_pdf_signature(pdf, ca_certs))


def _detail(error: Exception) -> str:
    return error.detail if isinstance(error, ZistboomError) else str(error)


def _timestamp_time(signer_info: cms.SignerInfo) -> datetime | None:
    attributes = signer_info["unsigned_attrs"]
    if attributes.native is None:
        return None
    for attribute in attributes:
        if attribute["type"].native != "signature_time_stamp_token":
            continue
        token = attribute["values"][0]
        content = token["content"]["encap_content_info"]["content"].parsed
        if not isinstance(content, tsp.TSTInfo):
            raise DocumentError("the signature timestamp holds no TSTInfo")
        moment = content["gen_time"].native
        if not isinstance(moment, datetime):
            raise DocumentError("the signature timestamp has no genTime")
        return moment
    return None


def _failure(status: PdfSignatureStatus) -> str | None:
    """The first check ``status`` fails, in the order a reader would ask them."""
    if not status.intact:
        return "the signed bytes were changed after signing (the digest does not match)"
    if not status.valid:
        return "the signature value does not verify with the signer's key"
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        covered = status.coverage.name if status.coverage is not None else "unclear"
        return (
            "the signature does not cover the whole file: something was added after it "
            f"({covered.lower().replace('_', ' ')})"
        )
    if not status.trusted:
        problem = status.trust_problem_indic
        why = str(getattr(problem, "name", problem or "no path")).lower().replace("_", " ")
        return (
            "the signer's certificate does not chain to the instance CA at the time of signing"
            f" ({why})"
        )
    timestamp = status.timestamp_validity
    if timestamp is None:
        return "the signature timestamp is missing"
    if not (timestamp.intact and timestamp.valid):
        return "the signature timestamp does not verify"
    if not timestamp.trusted:
        return "the signature timestamp's TSA does not chain to the instance CA"
    if status.docmdp_ok is False:
        return "the file was modified in a way its signature does not permit"
    return None


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # pyHanko is async inside; a synchronous caller with a loop of its own running (a test
    # or a handler that should have used the async function) gets a private loop in a thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()
