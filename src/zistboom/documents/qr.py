"""The offline QR of a document (ZB-STD-008 §QR): ``ZB1:`` + Base45(zlib(COSE_Sign1)), after the
EU Digital COVID Certificate's compact encoding, and its rendering and reading as an image.

The COSE_Sign1 (``core/crypto/cose.py``) is signed ES256 by the issuer's document-signing key;
its protected header is ``{1: -7, 33: <leaf certificate DER>}`` (x5chain, RFC 9360: one
certificate as a byte string), its payload a CWT claims map::

    {1 iss: member id, 2 sub: holder id, 7 cti: credential UUID (16 bytes), 6 iat, 5 nbf,
     4 exp (absent without validUntil),
     -70001: {"t": type code, "s": credentialSubject without id, "i": status index,
              "l": status list id (a UUID as its 16 bytes), "d": SHA-256 of the VC-JWT's
              ASCII}}

and its unprotected header carries ``{-70002: TimeStampToken}``, a token from central's TSA over
SHA-256 of the COSE signature, requested without certReq to keep the code small. Signing comes
before the token, so producing a QR is two steps: :func:`sign_qr`, then
:meth:`SignedQr.with_timestamp`.

Images: segno renders (error correction M), zxing-cpp reads (:func:`read_qr_image`).
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

import base45  # type: ignore[import-untyped]  # no py.typed; two functions, bytes in and out
import cbor2
import segno
import zxingcpp
from cryptography import x509
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, StrictBytes, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.crypto import cose
from zistboom.core.crypto.keys import PrivateKey, public_key_der
from zistboom.core.crypto.timestamp import timestamp_token_info
from zistboom.core.crypto.x509 import certificate_der, certificate_public_key, load_certificate
from zistboom.core.errors import CryptoError, DocumentError, ValidationError
from zistboom.core.identifiers import MemberId
from zistboom.documents import profile
from zistboom.documents.timestamps import imprint_of_signature
from zistboom.documents.vc import ParsedCredential, reason_of

__all__ = [
    "QrPayload",
    "QrRecord",
    "SignedQr",
    "decode_qr",
    "qr_png",
    "qr_svg",
    "read_qr_image",
    "sign_qr",
    "verify_qr_signature",
]

X5CHAIN: Final = 33
DOCUMENT_CLAIM: Final = -70001
TIMESTAMP_HEADER: Final = -70002
MAX_TEXT: Final = 4_296
"""The most alphanumeric characters a QR code (version 40, level L) holds."""
MAX_INFLATED: Final = 16 * 1024
MAX_IMAGE_PIXELS: Final = 40_000_000
ERROR_CORRECTION: Final = "m"
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True, slots=True)
class QrRecord:
    """What the QR says about a document: the VC-JWT's facts, compactly."""

    credential_id: str
    issuer_member: str
    holder: str
    type_code: str
    subject: dict[str, Any]
    """The ``credentialSubject`` fields without ``id``."""
    issued_at: datetime | None
    """The ``iat`` the issuer states (the trusted time is the QR's own token)."""
    valid_from: datetime
    valid_until: datetime | None
    status_index: int
    status_list_id: str
    vc_digest: bytes
    """SHA-256 of the VC-JWT's ASCII: ties the QR to exactly one VC-JWT."""

    @classmethod
    def from_credential(cls, parsed: ParsedCredential) -> QrRecord:
        return cls(
            credential_id=parsed.credential_id,
            issuer_member=parsed.issuer_member,
            holder=parsed.holder,
            type_code=parsed.type_code,
            subject=parsed.subject,
            issued_at=parsed.iat,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
            status_index=parsed.document.status_index,
            status_list_id=parsed.document.status_list_id,
            vc_digest=hashlib.sha256(parsed.token.encode("ascii")).digest(),
        )


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _list_id_out(list_id: str) -> bytes | str:
    # Issuers name their lists by UUID: 16 bytes instead of 36 characters (~30 QR characters).
    try:
        value = uuid.UUID(list_id)
    except ValueError:
        return list_id
    return value.bytes if str(value) == list_id else list_id


def _list_id_in(encoded: bytes | str) -> str:
    return str(uuid.UUID(bytes=encoded)) if isinstance(encoded, bytes) else encoded


def _claims(record: QrRecord) -> dict[int, Any]:
    claims: dict[int, Any] = {
        1: record.issuer_member,
        2: record.holder,
        7: profile.uuid_of_credential(record.credential_id).bytes,
    }
    if record.issued_at is not None:
        claims[6] = _seconds(record.issued_at)
    claims[5] = _seconds(record.valid_from)
    if record.valid_until is not None:
        claims[4] = _seconds(record.valid_until)
    claims[DOCUMENT_CLAIM] = {
        "t": record.type_code,
        "s": record.subject,
        "i": record.status_index,
        "l": _list_id_out(record.status_list_id),
        "d": record.vc_digest,
    }
    return claims


@dataclass(frozen=True, slots=True)
class SignedQr:
    """A signed QR waiting for its timestamp token (over SHA-256 of :attr:`signature`)."""

    message: cose.CoseSign1

    @property
    def signature(self) -> bytes:
        return self.message.signature

    def with_timestamp(self, token: bytes) -> str:
        """The QR text, with ``token`` (a TimeStampToken without certificates over
        ``imprint_of_signature(self.signature)``) in the unprotected header."""
        try:
            info = timestamp_token_info(token)
        except CryptoError as exc:
            raise DocumentError(f"the QR's timestamp token cannot be read: {exc.detail}") from None
        if (info.hash_algorithm, info.imprint) != (
            profile.TIMESTAMP_HASH,
            imprint_of_signature(self.signature),
        ):
            raise DocumentError("the timestamp token does not imprint SHA-256 of this signature")
        if info.carries_certificates:
            raise DocumentError(
                "the QR's timestamp token must be requested without certReq (it would not fit)"
            )
        message = self.message.with_unprotected({TIMESTAMP_HEADER: token})
        compressed = zlib.compress(message.encode(), 9)
        encoded: bytes = base45.b45encode(compressed)
        return profile.QR_PREFIX + encoded.decode("ascii")


def sign_qr(record: QrRecord, key: PrivateKey, cert: x509.Certificate) -> SignedQr:
    """Sign ``record`` with the document-signing ``key`` of ``cert`` (only the leaf travels)."""
    if "id" in record.subject:
        raise ValidationError("the QR's subject fields must not contain 'id'")
    if len(record.vc_digest) != 32:
        raise ValidationError("vc_digest must be the 32-byte SHA-256 of the VC-JWT")
    try:
        if public_key_der(key.public_key()) != public_key_der(certificate_public_key(cert)):
            raise DocumentError("the signing key does not belong to the certificate")
        message = cose.sign_sign1(
            cbor2.dumps(_claims(record), canonical=True),
            key,
            protected={X5CHAIN: certificate_der(cert)},
        )
    except CryptoError as exc:
        raise DocumentError(f"cannot sign the QR: {exc.detail}") from None
    return SignedQr(message)


# --- reading ---------------------------------------------------------------------------------


class _Document(BaseModel):
    """The ``-70001`` claim, its one-letter keys as aliases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_code: StrictStr = Field(alias="t")
    subject: dict[str, Any] = Field(alias="s")
    index: Annotated[StrictInt, Field(ge=0)] = Field(alias="i")
    list_id: (
        Annotated[StrictBytes, Field(min_length=16, max_length=16)]
        | Annotated[StrictStr, Field(min_length=1)]
    ) = Field(alias="l")
    digest: Annotated[StrictBytes, Field(min_length=32, max_length=32)] = Field(alias="d")


class _Claims(BaseModel):
    """The CWT claims map, its integer labels as the aliases ``"1"``, ``"2"``…"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: StrictStr = Field(alias="1")
    sub: StrictStr = Field(alias="2")
    cti: Annotated[StrictBytes, Field(min_length=16, max_length=16)] = Field(alias="7")
    iat: StrictInt | None = Field(None, alias="6")
    nbf: StrictInt = Field(alias="5")
    exp: StrictInt | None = Field(None, alias="4")
    document: _Document = Field(alias=str(DOCUMENT_CLAIM))


@dataclass(frozen=True, slots=True)
class QrPayload:
    """A decoded QR: its record, the signed message, the signer's certificate and the timestamp
    token; the signature is not yet checked (:func:`verify_qr_signature`)."""

    text: str
    record: QrRecord
    message: cose.CoseSign1
    certificate: x509.Certificate
    timestamp_token: bytes | None

    @property
    def signature(self) -> bytes:
        return self.message.signature


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise DocumentError(f"the QR payload is not zlib data: {exc}") from None
    if len(raw) > MAX_INFLATED or inflater.unconsumed_tail:
        raise DocumentError(f"the QR payload inflates to more than {MAX_INFLATED} bytes")
    if not inflater.eof or inflater.unused_data:
        raise DocumentError("the QR payload is not exactly one complete zlib stream")
    return raw


def _certificate(header: dict[int, Any]) -> x509.Certificate:
    chain = header.get(X5CHAIN)
    if isinstance(chain, list) and len(chain) == 1:
        chain = chain[0]  # RFC 9360 allows an array; this profile carries the leaf only
    if not isinstance(chain, bytes):
        raise DocumentError("the QR's protected header carries no x5chain (33) certificate")
    try:
        return load_certificate(chain)
    except ValidationError as exc:
        raise DocumentError(f"the QR's x5chain is not a certificate: {exc.detail}") from None


def _record(payload: bytes) -> QrRecord:
    try:
        claims = cbor2.loads(payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise DocumentError(f"the QR's CWT claims are not CBOR: {exc}") from None
    if not isinstance(claims, dict) or not all(type(k) is int for k in claims):
        raise DocumentError("the QR's CWT claims must be a map with integer labels")
    try:
        checked = _Claims.model_validate({str(k): v for k, v in claims.items()})
        holder = profile.validate_holder_id(checked.sub)
        issuer = str(MemberId.parse(checked.iss, field="iss"))
        type_code = profile.validate_type_code(checked.document.type_code)
    except PydanticValidationError as err:
        raise DocumentError(f"the QR's CWT claims are refused: {reason_of(err)}") from None
    except ValidationError as exc:
        raise DocumentError(f"the QR's CWT claims are refused: {exc.detail}") from None
    if "id" in checked.document.subject:
        raise DocumentError("the QR's subject must not contain 'id'")
    if checked.exp is not None and checked.exp <= checked.nbf:
        raise DocumentError("the QR's exp must be after its nbf")
    return QrRecord(
        credential_id=profile.credential_urn(uuid.UUID(bytes=checked.cti)),
        issuer_member=issuer,
        holder=holder,
        type_code=type_code,
        subject=checked.document.subject,
        issued_at=None if checked.iat is None else _moment(checked.iat),
        valid_from=_moment(checked.nbf),
        valid_until=None if checked.exp is None else _moment(checked.exp),
        status_index=checked.document.index,
        status_list_id=_list_id_in(checked.document.list_id),
        vc_digest=checked.document.digest,
    )


def decode_qr(text: str) -> QrPayload:
    """Read a ``ZB1:`` text; :class:`DocumentError` naming what is wrong. Not verified."""
    if not text.startswith(profile.QR_PREFIX):
        raise DocumentError(f"a document QR starts with {profile.QR_PREFIX}")
    if len(text) > MAX_TEXT:
        raise DocumentError(f"a document QR holds at most {MAX_TEXT} characters")
    try:
        compressed: bytes = base45.b45decode(text[len(profile.QR_PREFIX) :])
    except (ValueError, KeyError):
        raise DocumentError("the QR text after ZB1: is not Base45") from None
    try:
        message = cose.decode_sign1(_inflate(compressed))
    except CryptoError as exc:
        raise DocumentError(f"the QR does not hold a COSE_Sign1: {exc.detail}") from None
    if set(message.protected_header) - {cose.ALG, X5CHAIN}:
        raise DocumentError("the QR's protected header may carry only alg (1) and x5chain (33)")
    if set(message.unprotected) - {TIMESTAMP_HEADER}:
        raise DocumentError("the QR's unprotected header may carry only its timestamp (-70002)")
    token = message.unprotected.get(TIMESTAMP_HEADER)
    if token is not None and not isinstance(token, bytes):
        raise DocumentError("the QR's timestamp (-70002) must be a byte string")
    return QrPayload(
        text=text,
        record=_record(message.payload),
        message=message,
        certificate=_certificate(message.protected_header),
        timestamp_token=token,
    )


def verify_qr_signature(payload: QrPayload) -> None:
    """Check the COSE signature with the QR's certificate key; :class:`DocumentError`."""
    try:
        cose.verify_sign1(payload.message, certificate_public_key(payload.certificate))
    except CryptoError as exc:
        raise DocumentError(f"the QR signature does not verify: {exc.detail}") from None


# --- images ----------------------------------------------------------------------------------


def _symbol(text: str) -> segno.QRCode:
    # boost_error off: the level is M as the profile says, whatever room is left over.
    return segno.make_qr(text, error=ERROR_CORRECTION, boost_error=False)


def qr_png(text: str, *, scale: int) -> bytes:
    """A PNG of the QR, ``scale`` pixels per module, with the standard 4-module quiet zone."""
    out = io.BytesIO()
    _symbol(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(text: str) -> str:
    """An SVG of the QR without a fixed size (a viewBox), to be sized by the page (≥ 8 cm)."""
    out = io.BytesIO()
    _symbol(text).save(out, kind="svg", border=4, xmldecl=False, omitsize=True)
    return out.getvalue().decode("utf-8")


def read_qr_image(image_bytes: bytes) -> list[str]:
    """The texts of the QR codes in a PNG or JPEG image (none found: an empty list)."""
    try:
        image = Image.open(io.BytesIO(image_bytes))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise DocumentError(f"the image has more than {MAX_IMAGE_PIXELS} pixels")
        if image.format not in ("PNG", "JPEG"):
            raise DocumentError(f"the image is {image.format}, not PNG or JPEG")
        grey = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise DocumentError(f"not a readable PNG or JPEG image: {exc}") from None
    return [barcode.text for barcode in zxingcpp.read_barcodes(grey, formats=_QR_ONLY)]
