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
verifier checks it with :func:`pdf_signature` and reads the attachments with
:func:`pdf_attachments` (both in ``pdf_validation.py``, and importable from here).

pyHanko's synchronous entry points start their own event loop; the ``async_`` functions here
are for callers that already run one (the issuer, the hub).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final

from cryptography import x509
from markupsafe import Markup
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from weasyprint import CSS, HTML, Attachment  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.crypto.pades import pdf_signer
from zistboom.core.errors import (
    DocumentError,
    TimestampUnavailableError,
    ValidationError,
)
from zistboom.documents.pdf_validation import (
    PdfSignatureReport,
    async_pdf_signature,
    pdf_attachments,
    pdf_signature,
    run_sync,
)
from zistboom.documents.qr import qr_svg
from zistboom.documents.types import DocumentTypeDefinition
from zistboom.documents.vc import ParsedCredential
from zistboom.web.i18n import EN, FA, Locale
from zistboom.web.rendering import Pages

CREDENTIAL_ATTACHMENT: Final = "credential.jwt"
TIMESTAMP_ATTACHMENT: Final = "credential.tst"
SIGNATURE_FIELD: Final = "ZistboomDocumentSignature"
QR_SYMBOL_CM: Final = 8.5
"""The printed width of the QR symbol itself (finder pattern to finder pattern), quiet zone
not counted: ZB-STD-008 asks for at least 8 cm."""
QR_QUIET_ZONE: Final = 4  # modules, as documents/qr.py draws it
_VIEW_BOX: Final = re.compile(r'viewBox="0 0 ([0-9]+) \1"')
# Room for the signature container: the CMS with two certificates, and the timestamp token
# with its TSA certificate, is about 3 KiB.
_SIGNATURE_SIZE: Final = 16384
_TSA_TIMEOUT_SECONDS: Final = 10
_TEMPLATES: Final = ("zistboom.documents", "templates")

__all__ = [
    "CREDENTIAL_ATTACHMENT",
    "TIMESTAMP_ATTACHMENT",
    "PdfSignatureReport",
    "RenderInput",
    "StatusListEntry",
    "async_pdf_signature",
    "async_sign_pdf",
    "pdf_attachments",
    "pdf_signature",
    "render_pdf",
    "sign_pdf",
]


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

    @classmethod
    def from_credential(
        cls,
        credential: ParsedCredential,
        *,
        document_type: DocumentTypeDefinition,
        issuer_name_fa: str,
        issuer_name_en: str,
        issued_at: datetime,
        qr_text: str,
        pull_link: str,
        timestamp_token: bytes,
    ) -> RenderInput:
        """What the PDF of ``credential`` shows, taken from the credential itself, so the page
        and the attached VC-JWT cannot say different things. ``issued_at`` is the genTime of
        ``timestamp_token`` (the caller has verified it); the credential's ``iat`` is not used.
        """
        if credential.type_code != document_type.code:
            raise DocumentError(
                f"the credential is a {credential.type_code}, not a {document_type.code}"
            )
        entry = credential.document.status_entry("revocation")
        return cls(
            document_type=document_type,
            subject=credential.subject,
            credential_id=credential.credential_id,
            issuer_name_fa=issuer_name_fa,
            issuer_name_en=issuer_name_en,
            holder=credential.holder,
            issued_at=issued_at,
            valid_from=credential.valid_from,
            valid_until=credential.valid_until,
            status_list=StatusListEntry(entry.list_id, entry.index, entry.statusListCredential),
            qr_text=qr_text,
            pull_link=pull_link,
            credential=credential.token,
            timestamp_token=timestamp_token,
        )


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
    print it at, quiet zone included, for the symbol to be :data:`QR_SYMBOL_CM` wide."""
    svg = qr_svg(text)
    view_box = _VIEW_BOX.search(svg)
    if view_box is None:
        raise DocumentError("the QR image has no viewBox to size it by")
    # The viewBox counts modules, the four-module quiet zone on each side included.
    modules_with_zone = int(view_box[1])
    modules = modules_with_zone - 2 * QR_QUIET_ZONE
    width = QR_SYMBOL_CM * modules_with_zone / modules
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"), width


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
    return run_sync(lambda: async_sign_pdf(pdf, key, cert, chain, tsa_url))
