"""The constants and identifiers of the document profile (ZB-STD-008): media types, JSON-LD
contexts, the URNs that name issuers, holders and credentials, the URLs a credential points at,
and the one spelling of a time in a credential.

Everything that reads or writes a document (issuer, hub, CLI, verifier) takes its names from
here, so a URN or a context is spelled once.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Final, Literal, get_args

from zistboom.core.errors import DocumentError, ValidationError
from zistboom.core.identifiers import MemberId, PersonId
from zistboom.core.iran import validate_legal_entity_id

VC_MEDIA_TYPE: Final = "application/vc+jwt"
VC_JWT_TYP: Final = "vc+jwt"
VC_JWT_CTY: Final = "vc"
CREDENTIALS_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
DOCUMENTS_CONTEXT: Final = "https://zistboom.ir/ns/documents/v1"
DOCUMENT_CONTEXTS: Final = (CREDENTIALS_V2_CONTEXT, DOCUMENTS_CONTEXT)
VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"
DOCUMENT_TYPE: Final = "ZbDocument"
"""The ``type`` every document of this profile carries besides ``VerifiableCredential``."""
SCHEMA_TYPE: Final = "JsonSchema"

ISSUER_URN: Final = "urn:zb:member:"
HOLDER_URN: Final = "urn:zb:holder:"
CREDENTIAL_URN: Final = "urn:uuid:"

StatusPurpose = Literal["revocation", "suspension"]
STATUS_PURPOSES: Final[tuple[StatusPurpose, ...]] = get_args(StatusPurpose)
STATUS_LIST_ENTRY: Final = "BitstringStatusListEntry"
STATUS_LIST_CREDENTIAL: Final = "BitstringStatusListCredential"
STATUS_LIST: Final = "BitstringStatusList"

QR_PREFIX: Final = "ZB1:"
TIMESTAMP_HASH: Final = "sha256"
"""The digest a timestamp token imprints: SHA-256 of the raw signature it dates."""

_TYPE_CODE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_LEGAL_ENTITY_ID = re.compile(r"[0-9]{11}")


def rfc3339(moment: datetime) -> str:
    """A time as a credential spells it: UTC, whole seconds, ``Z`` (``2026-12-01T10:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValidationError("a credential time needs a time zone; give an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_urn(member_id: str) -> str:
    """``urn:zb:member:`` + a member id (``IR-DEMO/GOV/10380284790``)."""
    return ISSUER_URN + str(MemberId.parse(member_id, field="issuer"))


def member_of_issuer(urn: str) -> str:
    """The member id an issuer URN names; :class:`DocumentError` for anything else."""
    if not urn.startswith(ISSUER_URN):
        raise DocumentError(f"issuer {urn!r} is not an {ISSUER_URN}<member id> URN")
    try:
        return str(MemberId.parse(urn.removeprefix(ISSUER_URN), field="issuer"))
    except ValidationError as exc:
        raise DocumentError(f"issuer {urn!r} does not name a member: {exc.detail}") from None


def validate_holder_id(holder: str) -> str:
    """A holder id: a person (``IR`` + national code, ``FN`` + foreign national id) or a
    business (its 11-digit legal-entity id, check digit included). :class:`ValidationError`
    naming why otherwise."""
    if _LEGAL_ENTITY_ID.fullmatch(holder):
        return validate_legal_entity_id(holder, field="holder")
    if holder[:2] in ("IR", "FN"):
        return str(PersonId.parse(holder, field="holder"))
    raise ValidationError(
        f"holder {holder!r} is neither a person (IR + national code, FN + foreign national id) "
        "nor a business (11-digit legal-entity id)",
        field="holder",
    )


def holder_urn(holder: str) -> str:
    """``urn:zb:holder:`` + a holder id (see :func:`validate_holder_id`)."""
    return HOLDER_URN + validate_holder_id(holder)


def holder_of(urn: str) -> str:
    """The holder id a holder URN names; :class:`DocumentError` for anything else."""
    if not urn.startswith(HOLDER_URN):
        raise DocumentError(f"credentialSubject.id {urn!r} is not an {HOLDER_URN}<holder> URN")
    try:
        return validate_holder_id(urn.removeprefix(HOLDER_URN))
    except ValidationError as exc:
        raise DocumentError(f"credentialSubject.id {urn!r}: {exc.detail}") from None


def new_credential_id() -> str:
    """A fresh credential id, ``urn:uuid:`` + a random (version 4) UUID."""
    return credential_urn(uuid.uuid4())


def credential_urn(value: uuid.UUID) -> str:
    return CREDENTIAL_URN + str(value)


def uuid_of_credential(urn: str) -> uuid.UUID:
    """The UUID of a credential id (``urn:uuid:…``, lowercase canonical form only)."""
    text = urn.removeprefix(CREDENTIAL_URN)
    try:
        value = uuid.UUID(text)
    except ValueError:
        value = None
    if not urn.startswith(CREDENTIAL_URN) or value is None or str(value) != text:
        raise DocumentError(f"credential id {urn!r} is not a canonical urn:uuid:<uuid> URN")
    return value


def validate_type_code(code: str) -> str:
    """A document type code: lowercase words joined by ``-`` (``birth-certificate-extract``)."""
    if not _TYPE_CODE.fullmatch(code):
        raise ValidationError(
            f"document type code {code!r} must be lowercase letters and digits in words joined "
            "by '-'",
            field="documentType",
        )
    return code


def type_name(code: str) -> str:
    """The VC ``type`` of a document type: its code in Pascal case (``BirthCertificateExtract``)."""
    return "".join(word.capitalize() for word in validate_type_code(code).split("-"))


def credential_types(code: str) -> list[str]:
    """The ``type`` array of a document of type ``code``."""
    return [VERIFIABLE_CREDENTIAL, DOCUMENT_TYPE, type_name(code)]


def schema_url(hub_url: str, code: str) -> str:
    """Where the hub publishes a document type's JSON Schema (``credentialSchema.id``)."""
    return f"{hub_url.rstrip('/')}/api/v1/document-types/{validate_type_code(code)}/schema"


def status_list_url(hub_url: str, list_id: str, purpose: StatusPurpose) -> str:
    """Where the hub serves a status list (``statusListCredential``)."""
    return f"{hub_url.rstrip('/')}/status-lists/{list_id}/{purpose}"
