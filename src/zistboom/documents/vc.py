"""Verifiable Credentials 2.0 secured as ``application/vc+jwt`` (VC-JOSE-COSE): the JWT claims set
IS the credential, signed ES256 by the issuer's document-signing key, with the certificate chain
(leaf first) in ``x5c``.

joserfc does the JWS arithmetic through ``core/crypto/jws.py``; this module owns the profile
(ZB-STD-008): the header is exactly ``{"alg": "ES256", "typ": "vc+jwt", "cty": "vc", "x5c": […]}``,
the claims are a VC 2.0 (first context ``https://www.w3.org/ns/credentials/v2``, a type list with
``VerifiableCredential``, ``issuer``, ``credentialSubject``, ``validFrom``), and a document of
this profile (type ``ZbDocument``) has exactly the shape of :class:`DocumentClaims`. Every refusal
is a :class:`~zistboom.core.errors.DocumentError` naming what was wrong.

Parsing does not verify: :func:`parse_credential` reads and checks the shape, and
:func:`verify_signature` checks the signature with the leaf certificate's key. Whether that
certificate may be relied on (chain, kind, member, revocation) is the verifier's question.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, Self

import orjson
from cryptography import x509
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.crypto.jws import ES256, algorithm_for, sign_jws, unverified_header, verify_jws
from zistboom.core.crypto.keys import PrivateKey, b64url_decode, public_key_der
from zistboom.core.crypto.x509 import certificate_der, certificate_public_key, load_certificate
from zistboom.core.errors import CryptoError, DocumentError, ValidationError
from zistboom.core.globalconf import UTCDateTime
from zistboom.documents import profile

__all__ = [
    "CredentialClaims",
    "DocumentClaims",
    "ParsedCredential",
    "StatusEntryClaim",
    "VcJwt",
    "document_claims",
    "parse_credential",
    "parse_vc_jwt",
    "sign_credential",
    "verify_signature",
]

MAX_CHAIN: Final = 4
"""More certificates than leaf, CA and a spare in ``x5c`` is not a chain of this instance."""
MAX_TOKEN_LENGTH: Final = 256 * 1024
_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_LIST_URL = re.compile(r".+/status-lists/(?P<list_id>[^/#?]+)/(?P<purpose>revocation|suspension)")


def _text_time(value: Any) -> Any:
    # JSON-LD dateTimeStamp: a string with a zone, never a number pydantic would accept as epoch.
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string with a time zone")
    return value


CredentialTime = Annotated[UTCDateTime, BeforeValidator(_text_time)]


def reason_of(err: PydanticValidationError) -> str:
    """The first problem pydantic found, as ``field: message`` (and how many more)."""
    errors = err.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problems)"
    return message


# --- the claims ------------------------------------------------------------------------------


class OpenModel(BaseModel):
    """A W3C shape: its members are checked, others are allowed (VC 2.0 is extensible)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class ProfileModel(BaseModel):
    """A shape this profile defines: nothing beyond its members."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _IssuerObject(OpenModel):
    id: str = Field(min_length=1)


class CredentialClaims(OpenModel):
    """What makes any claims set a VC 2.0 (the data model's MUSTs this profile relies on)."""

    context: list[str] = Field(alias="@context", min_length=1)
    type: list[str] = Field(min_length=1)
    issuer: str | _IssuerObject
    credentialSubject: dict[str, Any] | list[dict[str, Any]]
    validFrom: CredentialTime
    validUntil: CredentialTime | None = None

    @model_validator(mode="after")
    def _is_a_credential(self) -> Self:
        if self.context[0] != profile.CREDENTIALS_V2_CONTEXT:
            raise ValueError(
                f"@context must start with {profile.CREDENTIALS_V2_CONTEXT} (a VC 2.0), "
                f"not {self.context[0]}"
            )
        if profile.VERIFIABLE_CREDENTIAL not in self.type:
            raise ValueError(f"type must contain {profile.VERIFIABLE_CREDENTIAL}")
        if isinstance(self.credentialSubject, list) and not self.credentialSubject:
            raise ValueError("credentialSubject must not be empty")
        if self.validUntil is not None and self.validUntil <= self.validFrom:
            raise ValueError("validUntil must be after validFrom")
        return self

    @property
    def issuer_id(self) -> str:
        return self.issuer if isinstance(self.issuer, str) else self.issuer.id


class IssuerClaim(ProfileModel):
    id: str
    name: str = Field(min_length=1)


class SchemaClaim(ProfileModel):
    id: str = Field(min_length=1)
    type: Literal["JsonSchema"]


class StatusEntryClaim(ProfileModel):
    """One ``BitstringStatusListEntry``: an index in a list the hub serves at
    ``…/status-lists/<list_id>/<purpose>``; its ``id`` is that URL + ``#`` + the index."""

    id: str
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: profile.StatusPurpose
    statusListIndex: str
    statusListCredential: str

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _INDEX.fullmatch(self.statusListIndex):
            raise ValueError("statusListIndex must be a non-negative integer in decimal")
        match = _LIST_URL.fullmatch(self.statusListCredential)
        if match is None or match["purpose"] != self.statusPurpose:
            raise ValueError(
                "statusListCredential must be <hub>/status-lists/<list id>/"
                f"{self.statusPurpose}, not {self.statusListCredential}"
            )
        if self.id != f"{self.statusListCredential}#{self.statusListIndex}":
            raise ValueError("a status entry's id must be its statusListCredential#index")
        return self

    @property
    def index(self) -> int:
        return int(self.statusListIndex)

    @property
    def list_id(self) -> str:
        match = _LIST_URL.fullmatch(self.statusListCredential)
        assert match is not None  # checked on validation
        return match["list_id"]


class DocumentClaims(ProfileModel):
    """The claims set of a document of this profile, member by member (ZB-STD-008 §VC)."""

    context: list[str] = Field(alias="@context")
    id: str
    type: list[str]
    issuer: IssuerClaim
    validFrom: CredentialTime
    validUntil: CredentialTime | None = None
    iat: Annotated[int, Field(strict=True, ge=0)] | None = None
    credentialSubject: dict[str, Any]
    credentialSchema: SchemaClaim
    documentType: str
    credentialStatus: list[StatusEntryClaim] = Field(min_length=2, max_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.context != list(profile.DOCUMENT_CONTEXTS):
            raise ValueError(f"@context must be {list(profile.DOCUMENT_CONTEXTS)}")
        profile.uuid_of_credential(self.id)
        profile.member_of_issuer(self.issuer.id)
        subject_id = self.credentialSubject.get("id")
        if not isinstance(subject_id, str):
            raise ValueError("credentialSubject.id must be the holder's urn:zb:holder: URN")
        profile.holder_of(subject_id)
        try:
            expected = profile.credential_types(self.documentType)
        except ValidationError as exc:
            raise ValueError(exc.detail) from None
        if self.type != expected:
            raise ValueError(f"type must be {expected} for documentType {self.documentType}")
        if not self.credentialSchema.id.endswith(
            f"/api/v1/document-types/{self.documentType}/schema"
        ):
            raise ValueError("credentialSchema.id must be the hub's schema URL of documentType")
        purposes = [entry.statusPurpose for entry in self.credentialStatus]
        if sorted(purposes) != sorted(profile.STATUS_PURPOSES):
            raise ValueError("credentialStatus must hold one revocation and one suspension entry")
        first, second = self.credentialStatus
        if (first.index, first.list_id) != (second.index, second.list_id):
            raise ValueError("both status entries must name the same list and index")
        if self.validUntil is not None and self.validUntil <= self.validFrom:
            raise ValueError("validUntil must be after validFrom")
        return self

    @property
    def status_index(self) -> int:
        return self.credentialStatus[0].index

    @property
    def status_list_id(self) -> str:
        return self.credentialStatus[0].list_id

    def status_entry(self, purpose: profile.StatusPurpose) -> StatusEntryClaim:
        return next(e for e in self.credentialStatus if e.statusPurpose == purpose)


def document_claims(
    *,
    credential_id: str,
    issuer_member: str,
    issuer_name: str,
    holder: str,
    type_code: str,
    subject: dict[str, Any],
    valid_from: datetime,
    valid_until: datetime | None,
    iat: datetime,
    hub_url: str,
    list_id: str,
    status_index: int,
) -> dict[str, Any]:
    """The claims set of a document, in the profile's member order, checked against
    :class:`DocumentClaims` (so nothing unsignable leaves here). ``subject`` is the type's
    subject fields without ``id``."""
    if "id" in subject:
        raise ValidationError("subject fields must not contain 'id' (it is the holder's URN)")
    status = [
        {
            "id": f"{profile.status_list_url(hub_url, list_id, purpose)}#{status_index}",
            "type": profile.STATUS_LIST_ENTRY,
            "statusPurpose": purpose,
            "statusListIndex": str(status_index),
            "statusListCredential": profile.status_list_url(hub_url, list_id, purpose),
        }
        for purpose in profile.STATUS_PURPOSES
    ]
    claims: dict[str, Any] = {
        "@context": list(profile.DOCUMENT_CONTEXTS),
        "id": credential_id,
        "type": profile.credential_types(type_code),
        "issuer": {"id": profile.issuer_urn(issuer_member), "name": issuer_name},
        "validFrom": profile.rfc3339(valid_from),
        **({"validUntil": profile.rfc3339(valid_until)} if valid_until is not None else {}),
        "iat": int(iat.timestamp()),
        "credentialSubject": {"id": profile.holder_urn(holder), **subject},
        "credentialSchema": {
            "id": profile.schema_url(hub_url, type_code),
            "type": profile.SCHEMA_TYPE,
        },
        "documentType": type_code,
        "credentialStatus": status,
    }
    _document_model(claims)
    return claims


def _credential_model(claims: Any) -> CredentialClaims:
    try:
        return CredentialClaims.model_validate(claims)
    except PydanticValidationError as err:
        raise DocumentError(f"the claims are not a VC 2.0 credential: {reason_of(err)}") from None


def _document_model(claims: Any) -> DocumentClaims:
    try:
        return DocumentClaims.model_validate(claims)
    except PydanticValidationError as err:
        raise DocumentError(
            f"the claims are not a {profile.DOCUMENT_TYPE} of ZB-STD-008: {reason_of(err)}"
        ) from None
    except (DocumentError, ValidationError) as exc:
        raise DocumentError(
            f"the claims are not a {profile.DOCUMENT_TYPE} of ZB-STD-008: {exc.detail}"
        ) from None


# --- the envelope ----------------------------------------------------------------------------


class _Header(ProfileModel):
    alg: Literal["ES256"]
    typ: Literal["vc+jwt"]
    cty: Literal["vc"] | None = None
    x5c: list[str] = Field(min_length=1, max_length=MAX_CHAIN)


@dataclass(frozen=True, slots=True)
class VcJwt:
    """A VC-JWT read but not yet verified: its parts and the certificates of ``x5c``."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    """The raw JWS signature octets (ES256: r||s, 64 bytes): what a timestamp dates."""
    chain: list[x509.Certificate]

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]


@dataclass(frozen=True, slots=True)
class ParsedCredential(VcJwt):
    """A document's VC-JWT, read and shape-checked, not yet verified."""

    document: DocumentClaims
    credential_id: str
    issuer_member: str
    holder: str
    type_code: str
    valid_from: datetime
    valid_until: datetime | None
    iat: datetime | None
    """The ``iat`` the issuer states: informative only, never the time of issue."""

    @property
    def subject(self) -> dict[str, Any]:
        """The subject fields without ``id`` (what the type's schema describes)."""
        return {k: v for k, v in self.document.credentialSubject.items() if k != "id"}


def _x5c_entry(encoded: str) -> bytes:
    # RFC 7515 §4.1.6: standard base64 (not url-safe) of the DER, padding included.
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DocumentError(
            "x5c entries must be standard base64 (not base64url) of DER certificates"
        ) from None


def sign_credential(claims: dict[str, Any], key: PrivateKey, chain: list[x509.Certificate]) -> str:
    """Sign ``claims`` (a VC 2.0; a ``ZbDocument`` must be one of this profile) as a VC-JWT.

    ``key`` must be an EC P-256 key and the public key of ``chain[0]``; the chain goes into
    ``x5c`` leaf first.
    """
    model = _credential_model(claims)
    if profile.DOCUMENT_TYPE in model.type:
        _document_model(claims)
    if not chain or len(chain) > MAX_CHAIN:
        raise DocumentError(f"the certificate chain must hold 1 to {MAX_CHAIN} certificates")
    try:
        if algorithm_for(key) != ES256:
            raise DocumentError("a VC-JWT is signed ES256: the key must be EC P-256")
        if public_key_der(key.public_key()) != public_key_der(certificate_public_key(chain[0])):
            raise DocumentError("the signing key does not belong to the leaf certificate")
    except CryptoError as exc:
        raise DocumentError(f"cannot sign the credential: {exc.detail}") from None
    headers = {
        "typ": profile.VC_JWT_TYP,
        "cty": profile.VC_JWT_CTY,
        "x5c": [base64.b64encode(certificate_der(cert)).decode("ascii") for cert in chain],
    }
    return sign_jws(orjson.dumps(claims), key, headers=headers)


def parse_vc_jwt(token: str) -> VcJwt:
    """Read a VC-JWT of this profile and check its header and that its claims are a VC 2.0."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise DocumentError(f"a VC-JWT is at most {MAX_TOKEN_LENGTH} characters")
    try:
        header = unverified_header(token)
    except CryptoError as exc:
        raise DocumentError(f"not a VC-JWT: {exc.detail}") from None
    try:
        checked = _Header.model_validate(header)
    except PydanticValidationError as err:
        raise DocumentError(f"the VC-JWT header is refused: {reason_of(err)}") from None
    chain = []
    for number, encoded in enumerate(checked.x5c):
        try:
            chain.append(load_certificate(_x5c_entry(encoded)))
        except ValidationError as exc:
            raise DocumentError(f"x5c[{number}] is not a certificate: {exc.detail}") from None
    encoded_header, encoded_payload, encoded_signature = token.split(".")
    try:
        payload = b64url_decode(encoded_payload)
        signature = b64url_decode(encoded_signature)
        claims = orjson.loads(payload)
    except (ValidationError, orjson.JSONDecodeError):
        raise DocumentError("the VC-JWT payload is not base64url of a JSON object") from None
    if not isinstance(claims, dict):
        raise DocumentError("the VC-JWT payload is not a JSON object")
    if len(signature) != 64:
        raise DocumentError(f"an ES256 signature is 64 bytes, this one {len(signature)}")
    _credential_model(claims)
    return VcJwt(
        token=token,
        header=header,
        claims=claims,
        signing_input=f"{encoded_header}.{encoded_payload}".encode("ascii"),
        signature=signature,
        chain=chain,
    )


def parse_credential(token: str) -> ParsedCredential:
    """Read a document's VC-JWT: the envelope (:func:`parse_vc_jwt`) and the document's claims
    (:class:`DocumentClaims`). The signature is not checked (:func:`verify_signature`)."""
    envelope = parse_vc_jwt(token)
    document = _document_model(envelope.claims)
    return ParsedCredential(
        token=envelope.token,
        header=envelope.header,
        claims=envelope.claims,
        signing_input=envelope.signing_input,
        signature=envelope.signature,
        chain=envelope.chain,
        document=document,
        credential_id=document.id,
        issuer_member=profile.member_of_issuer(document.issuer.id),
        holder=profile.holder_of(document.credentialSubject["id"]),
        type_code=document.documentType,
        valid_from=document.validFrom,
        valid_until=document.validUntil,
        iat=None if document.iat is None else datetime.fromtimestamp(document.iat, tz=UTC),
    )


def verify_signature(parsed: VcJwt) -> None:
    """Check the VC-JWT's signature with its leaf certificate's key; :class:`DocumentError`."""
    try:
        verify_jws(parsed.token, certificate_public_key(parsed.leaf), algorithms=(ES256,))
    except CryptoError as exc:
        raise DocumentError(f"the VC-JWT signature does not verify: {exc.detail}") from None
