"""Reading a document's PDF back (ZB-STD-008 PDF profile): its attachments, and its PAdES
signature checked with pyHanko's validator against the instance CA.

A signature is valid only when it is intact and valid, its certificate chains to the instance CA
at the time its timestamp vouches for (not today: a document outlives its signing certificate),
the timestamp itself verifies to the instance CA, and it covers the whole file (nothing appended
after it, no later revision). The report names the first of these that fails; a file that is no
signed PDF is reported, never raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import zlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

from asn1crypto import cms, tsp
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from zistboom.core.crypto.pades import asn1_certificate
from zistboom.core.crypto.x509 import certificate_identity, load_certificate
from zistboom.core.errors import DocumentError, ValidationError, ZistboomError

_MAX_NAME_TREE_DEPTH: Final = 32
# What pyHanko's reader raises on a damaged file, besides its own PdfError.
# What pyHanko's reader lets out of a damaged file: its own errors, Python's for a malformed
# object, and zlib's for a damaged compressed stream (an xref stream, say).
_UNREADABLE: Final = (
    PdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    zlib.error,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PdfSignatureReport:
    """What :func:`pdf_signature` found: ``valid`` only if every check held; ``reason`` says
    which one failed, or what was checked."""

    valid: bool
    reason: str
    signed_at: datetime | None
    """The genTime of the signature's timestamp, when it has one (verified only if ``valid``)."""
    signer_member: str | None
    """The member named by the signing certificate (its subject serialNumber)."""


def pdf_attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of ``pdf`` by name (``credential.jwt``, ``credential.tst``).

    :class:`ValidationError` when ``pdf`` is not a readable PDF.
    """
    reader = _reader(pdf)
    try:
        return _embedded_files(reader)
    except _UNREADABLE as error:
        raise ValidationError(
            f"the PDF's attachments cannot be read: {error}", field="pdf"
        ) from None


def _embedded_files(reader: PdfFileReader) -> dict[str, bytes]:
    names = reader.root.get("/Names")
    if names is None:
        return {}
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return {}
    found: dict[str, bytes] = {}
    for name, spec in _name_tree(tree.get_object()):
        embedded = spec.get_object().get("/EF")
        stream = embedded.get_object().get("/F") if embedded is not None else None
        if stream is not None:
            found[name] = stream.get_object().data
    return found


def _name_tree(node: generic.DictionaryObject, depth: int = 0) -> list[tuple[str, Any]]:
    # A PDF name tree (ISO 32000-1 §7.9.6): leaves hold [name value ...] pairs, inner nodes Kids.
    if depth > _MAX_NAME_TREE_DEPTH:
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
    except _UNREADABLE as error:
        raise ValidationError(f"not a readable PDF: {error}", field="pdf") from None


async def async_pdf_signature(
    pdf: bytes, ca_certs: Sequence[x509.Certificate]
) -> PdfSignatureReport:
    """Check the document signature of ``pdf`` with the instance CA(s) ``ca_certs`` as the
    only trust roots. Never raises for a bad file: the report says what is wrong."""
    try:
        reader = _reader(pdf)
        embedded = reader.embedded_regular_signatures
    except (ValidationError, *_UNREADABLE) as error:
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
    except (ValidationError, DocumentError, *_UNREADABLE) as error:
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
    except _UNREADABLE as error:
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
    return run_sync(lambda: async_pdf_signature(pdf, ca_certs))


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


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make()`` makes to its end, from synchronous code."""
    # pyHanko is async inside; a synchronous caller with a loop of its own running (a test
    # or a handler that should have used the async function) gets a private loop in a thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()
