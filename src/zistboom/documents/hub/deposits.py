"""An issuer's deposit of a document into its holder's locker (the ``documents`` service).

The hub keeps only what will verify: the VC-JWT's signature, the signer's ``doc`` certificate
(an instance CA's, naming the calling member, valid and not revoked at the trusted time), the
trusted time itself (the timestamp token over the signature, from an instance TSA), a
registered type whose schema the subject meets, the issuer's accreditation for the type **at
that time**, and status entries in this hub's lists. The artefacts are stored as sent, with a
random pull token, and the issuance is the holder's first access event, in one transaction."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError

from zistboom.core.accreditation import Requirement
from zistboom.core.database import transaction
from zistboom.core.errors import (
    ConflictError,
    DocumentError,
    IssuerNotAccreditedError,
    ValidationError,
)
from zistboom.documents import profile, timestamps, vc
from zistboom.documents.hub import access, document_types, repository, signers
from zistboom.documents.hub.errors import DepositRefused, NotTheIssuer
from zistboom.documents.hub.models import Document, DocumentType
from zistboom.documents.hub.schemas import Deposit
from zistboom.documents.hub.service import Caller
from zistboom.documents.hub.state import HubState

PDF_MAGIC = b"%PDF-"


def _decoded(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{field} is not standard base64", field=field) from None


def subject_errors(document_type: DocumentType, subject: dict[str, Any]) -> list[str]:
    """What in ``subject`` the type's schema refuses, each with its JSON pointer."""
    validator = document_types.definition_of(document_type).subject_validator()
    return [
        f"/credentialSubject/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(subject), key=lambda e: list(e.absolute_path))
    ]


def _refused(what: str, error: DocumentError, field: str) -> DepositRefused:
    """A refusal naming the input refused (``credential``, ``timestampToken``)."""
    return DepositRefused(f"{what}: {error.detail}", field=error.field or field)


async def deposit(state: HubState, caller: Caller, body: Deposit) -> Document:
    try:
        parsed = vc.parse_credential(body.credential)
    except DocumentError as error:
        raise _refused(
            "the credential is not a document of ZB-STD-008", error, "credential"
        ) from None
    if parsed.issuer_member != caller.member:
        raise NotTheIssuer(
            f"the document is issued by {parsed.issuer_member}; {caller.member} may deposit "
            "only documents it issued",
            field="X-Road-Client",
        )
    token = _decoded(body.timestamp_token, "timestampToken")
    pdf = _decoded(body.pdf, "pdf") if body.pdf is not None else None
    if len(token) + len(pdf or b"") > state.settings.max_upload_bytes:
        raise ValidationError(
            f"the artefacts exceed {state.settings.max_upload_bytes} bytes", field="pdf"
        )
    if pdf is not None and not pdf.startswith(PDF_MAGIC):
        raise ValidationError("pdf is not a PDF (it must start with %PDF-)", field="pdf")
    sources = state.sources
    try:
        issued_at = timestamps.trusted_time(
            token,
            timestamps.imprint_of_signature(parsed.signature),
            sources.tsa_certificates(),
            ca_certificates=sources.ca_certificates(),
        )
    except DocumentError as error:
        raise _refused("the timestamp token", error, "timestampToken") from None
    try:
        signers.check_signed_by(parsed, caller.member, sources, at=issued_at)
    except DocumentError as error:
        raise _refused("the signature", error, "credential") from None
    entries = {}
    for entry in parsed.document.credentialStatus:
        expected = profile.status_list_url(
            state.settings.base_url, entry.list_id, entry.statusPurpose
        )
        if entry.statusListCredential != expected:
            raise DepositRefused(
                f"the {entry.statusPurpose} entry names {entry.statusListCredential}; this hub "
                f"serves that list at {expected}",
                field="/credentialStatus",
            )
        entries[entry.statusPurpose] = {"list": expected, "index": entry.index}
    async with transaction(state.sessions) as session:
        document_type = await repository.document_type(session, parsed.type_code)
        if document_type is None:
            raise DepositRefused(
                f"no document type {parsed.type_code!r} is registered at this hub",
                field="/documentType",
            )
        if parsed.document.credentialSchema.id != profile.schema_url(
            state.settings.base_url, parsed.type_code
        ):
            raise DepositRefused(
                f"credentialSchema names {parsed.document.credentialSchema.id}, not this hub's "
                "schema of the type",
                field="/credentialSchema/id",
            )
        if errors := subject_errors(document_type, parsed.subject):
            raise DepositRefused(
                "the subject does not meet the type's schema: " + "; ".join(errors[:5]),
                field=errors[0].split(":", 1)[0],
            )
        _check_accredited(state, parsed, document_type, issued_at)
        if await repository.document(session, parsed.credential_id) is not None:
            raise ConflictError(
                f"document {parsed.credential_id} is in its holder's locker already", field="/id"
            )
        now = state.clock()
        document = Document(
            id=parsed.credential_id,
            holder=parsed.holder,
            type_code=parsed.type_code,
            issuer=parsed.issuer_member,
            issued_at=issued_at,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
            credential=parsed.token,
            timestamp_token=token,
            qr=body.qr,
            pdf=pdf,
            status_entries=entries,
            pull_token=body.pull_token or secrets.token_urlsafe(32),
            deposited_at=now,
        )
        session.add(document)
        access.record(session, access.Event(document.holder, "issued", now, document.id), caller)
        try:
            await session.flush()
        except IntegrityError:
            # Another deposit of the same document won the race.
            raise ConflictError(
                f"document {parsed.credential_id} is in its holder's locker already", field="/id"
            ) from None
    return document


def _check_accredited(
    state: HubState, parsed: vc.ParsedCredential, document_type: DocumentType, at: Any
) -> None:
    index = state.sources.trust_index()
    requirement = Requirement(
        document_type.requirement_ecosystem,
        document_type.requirement_kind,
        document_type.requirement_level,  # type: ignore[arg-type]  # a Level, checked at registration
        action="issue",
    )
    if index is None:
        raise DepositRefused(
            f"the hub holds no trust list, so it cannot check that {parsed.issuer_member} holds "
            f"{requirement.describe()}; try again once it has refreshed",
            field="accreditation",
        )
    answer = index.authorize(parsed.issuer_member, requirement, at)
    if not answer.holds:
        raise IssuerNotAccreditedError(
            f"{parsed.issuer_member} does not hold {requirement.describe()} at the trusted time "
            f"of issue {profile.rfc3339(at)}: {answer.message}",
            field="accreditation",
        )
