"""Issuing one document (ZB-STD-008), in this order:

1. the type, from the hub; the subject, given or pulled once-only from the agency's registry
   through the exchange; checked against the type's schema, and the holder id;
2. the agency's accreditation for the type **now** (refused early, naming what is missing);
3. a status-list entry, allocated and committed (so it is never handed out again), with a
   newly opened list's credentials signed in the same transaction;
4. the VC-JWT signed; timestamped by central's TSA over its signature; the accreditation
   checked again **at the timestamp's genTime**, the time of issue for every later check;
5. the QR (its own COSE signature and timestamp) and the PDF (rendered, PAdES B-T);
6. the status lists published at the hub if it lacks them (a new list's first document), then
   the deposit into the holder's locker there, through the exchange;
7. the document recorded and the allocation marked ``issued``, in one transaction.

Nothing is half-written: a failure in 4–7 marks the allocation ``abandoned`` with the step that
failed (its index stays unused, its bits 0, and it is never handed out again); the signed
artefacts existed only in memory and nobody received them (a process that dies in between
leaves the allocation ``pending``: its index is never used nor handed out again). The one gap:
the hub accepted the deposit and the final commit failed (the database went away in between):
the allocation stays ``pending`` (never reused) and the hub holds a document the issuer has no
row for, so its status cannot be changed here; this is logged as an error naming the
credential. (A deposit whose answer is lost, a timeout, is the same case seen from the other
side: marked abandoned here while the hub may hold it.)"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.database import transaction
from zistboom.core.errors import IssuerNotAccreditedError, ValidationError, ZistboomError
from zistboom.core.trustlist import TrustListRefused
from zistboom.documents import pdf, profile, qr, timestamps, vc
from zistboom.documents.issuer import allocation, registry_pull, repository, status, subjects
from zistboom.documents.issuer.allocation import Entry
from zistboom.documents.issuer.exchange import ExchangeClient
from zistboom.documents.issuer.hub import HubClient, requirement_of
from zistboom.documents.issuer.models import IssuedDocument
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.signing import DocumentSigner
from zistboom.documents.issuer.status import ListPublisher
from zistboom.documents.issuer.trust import TrustSources
from zistboom.documents.types import DocumentTypeDefinition

log = logging.getLogger("zistboom.documents.issuer.issuance")


@dataclass(frozen=True, slots=True)
class IssueRequest:
    type_code: str
    subject: dict[str, Any] | None
    """``credentialSubject`` as given (``None`` when it is pulled by ``subject_id``)."""
    subject_id: str | None
    holder: str | None
    valid_until: datetime | None
    with_pdf: bool
    requested_by: str
    """The client the gateway vouches for."""
    user_id: str | None
    """Whom the client acts for (``X-Road-UserId``), passed on to a registry pull."""


@dataclass(frozen=True, slots=True)
class Issued:
    credential_id: str
    credential: str
    """The VC-JWT."""
    timestamp_token: bytes
    qr: str
    pdf: bytes | None
    pull_link: str


def type_code_of(types: list[str]) -> str:
    """The type code among a VC API ``type`` list, in either spelling."""
    named = [t for t in types if t not in ("VerifiableCredential", "ZbDocument")]
    if len(named) != 1:
        raise ValidationError(
            "type must name one document type beside VerifiableCredential", field="/credential/type"
        )
    name = named[0]
    code = "-".join(_words(name)) if name[:1].isupper() else name
    try:
        return profile.validate_type_code(code)
    except ValidationError as error:
        raise ValidationError(error.detail, field="/credential/type") from error


def _words(name: str) -> list[str]:
    words, current = [], ""
    for char in name:
        if char.isupper() and current:
            words.append(current)
            current = ""
        current += char.lower()
    return [*words, current]


def require_accreditation(
    index: TrustIndex, member_id: str, requirement: Requirement, at: datetime, *, when: str
) -> None:
    """:class:`IssuerNotAccreditedError` naming the missing accreditation unless ``member_id``
    holds ``requirement`` at ``at`` (the history answers for a past time)."""
    answer = index.authorize(member_id, requirement, at)
    if not answer.holds:
        raise IssuerNotAccreditedError(
            f"{member_id} may issue this document type only with {requirement.describe()}, "
            f"which it does not hold {when}: {answer.message}",
            requirement=requirement.resource,
            level=requirement.level,
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Issuance:
    """The steps, with what they call: the database, the key, central's trust sources and
    TSA, the hub and the registry through the exchange."""

    def __init__(
        self,
        settings: IssuerSettings,
        sessions: async_sessionmaker[AsyncSession],
        signer: DocumentSigner,
        trust: TrustSources,
        hub: HubClient,
        exchange: ExchangeClient,
        tsa_http: httpx.AsyncClient,
        publisher: ListPublisher,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.sessions = sessions
        self.signer = signer
        self.trust = trust
        self.hub = hub
        self.exchange = exchange
        self.tsa_http = tsa_http
        self._clock = clock

    # -- 1 and 2: what to sign, and whether we may ---------------------------------------

    async def _subject(
        self, request: IssueRequest, document_type: DocumentTypeDefinition
    ) -> dict[str, Any]:
        if request.subject is not None:
            subject = dict(request.subject)
            subject.pop("id", None)
            return subject
        assert request.subject_id is not None
        if document_type.registry is None:
            raise ValidationError(
                f"document type {document_type.code} names no registry to pull its subject "
                "from: send credential.credentialSubject",
                field="/options/subjectId",
            )
        return await registry_pull.pull_subject(
            self.exchange,
            self.settings.registry_subsystem,
            document_type.registry,
            subjects.registry_key(request.subject_id),
            type_code=document_type.code,
            user_id=request.user_id or request.requested_by,
        )

    def check_accreditation(self, requirement: Requirement, at: datetime, *, when: str) -> None:
        """The rule (:func:`require_accreditation`) over the current trust list; without one
        nothing can be issued (:class:`TrustListRefused`, naming why)."""
        try:
            index = self.trust.index()
        except TrustListRefused as error:
            error.detail = (
                f"cannot check {requirement.describe()} {when}, so nothing is issued: "
                + error.detail
            )
            error.args = (error.detail,)
            raise
        require_accreditation(index, self.settings.member_id, requirement, at, when=when)

    # -- the whole --------------------------------------------------------------------------

    async def issue(self, request: IssueRequest) -> Issued:
        document_type = await self.hub.document_type(request.type_code)
        base = (
            "/credential/credentialSubject" if request.subject is not None else "/options/subjectId"
        )
        holder = subjects.holder_of(
            request.subject or {}, holder=request.holder, subject_id=request.subject_id
        )
        requirement = requirement_of(document_type)
        now = self._clock().replace(microsecond=0)
        valid_until = self._valid_until(document_type, now, request.valid_until)
        # Before the subject is pulled: an issuer that may not issue this type reads no one's
        # record for it.
        self.check_accreditation(requirement, now, when="now")
        subject = await self._subject(request, document_type)
        subjects.validate_subject(document_type, subject, base=base)

        credential_id = profile.new_credential_id()
        async with transaction(self.sessions) as session:
            entry = await allocation.allocate(
                session,
                credential_id=credential_id,
                size=self.settings.status_list_size,
                at=now,
            )
            await status.sign_new_list(
                session, entry.list_number, self.signer, hub_url=self.settings.hub_url, at=now
            )
        step = "signing"
        try:
            claims = self._claims(document_type, entry, holder, subject, now, valid_until)
            credential = self.signer.sign(claims)
            step = "timestamping"
            token, issued_at = await self._timestamp(credential)
            step = "the accreditation check at the time of issue"
            self.check_accreditation(
                requirement, issued_at, when=f"at the time of issue {profile.rfc3339(issued_at)}"
            )
            step = "the QR"
            qr_text = await self._qr(credential)
            # The PDF prints the pull link, so when there is one the issuer draws the link's
            # token itself and the hub takes it with the deposit.
            pull_token = secrets.token_urlsafe(32) if request.with_pdf else None
            signed_pdf = None
            if pull_token is not None:
                step = "the PDF"
                signed_pdf = await self._pdf(
                    document_type, entry, credential, token, qr_text,
                    issued_at=issued_at, pull_link=self.hub.pull_link(pull_token),
                )  # fmt: skip
            step = "publishing the status lists"
            for purpose in profile.STATUS_PURPOSES:
                await self.publisher.publish_purpose(entry.list_number, purpose)
            step = "the deposit at the hub"
            pull_link = await self._deposit(credential, token, qr_text, signed_pdf, pull_token)
            step = "recording"
            await self._record(
                request, document_type, entry, holder, credential, token, qr_text, signed_pdf,
                issued_at=issued_at, valid_from=now, valid_until=valid_until,
            )  # fmt: skip
        except BaseException as error:
            if step == "recording":
                # The hub holds it: the index is in use, so it must not read as abandoned.
                log.error(
                    "%s was deposited at the hub but not recorded here (%s): its allocation "
                    "stays pending",
                    credential_id,
                    type(error).__name__,
                )
            else:
                await self._abandon(credential_id, step, error)
            raise
        log.info("issued %s (%s) to %s", credential_id, document_type.code, holder)
        return Issued(credential_id, credential, token, qr_text, signed_pdf, pull_link)

    # -- the steps --------------------------------------------------------------------------

    @staticmethod
    def _valid_until(
        document_type: DocumentTypeDefinition, valid_from: datetime, asked: datetime | None
    ) -> datetime | None:
        if asked is not None:
            if asked <= valid_from:
                raise ValidationError(
                    f"validUntil {profile.rfc3339(asked)} is not after validFrom "
                    f"{profile.rfc3339(valid_from)}",
                    field="/options/validUntil",
                )
            return asked.replace(microsecond=0)
        if document_type.default_validity_days is None:
            return None
        return valid_from + timedelta(days=document_type.default_validity_days)

    def _claims(
        self,
        document_type: DocumentTypeDefinition,
        entry: Entry,
        holder: str,
        subject: dict[str, Any],
        valid_from: datetime,
        valid_until: datetime | None,
    ) -> dict[str, Any]:
        member = self.trust.conf.member(self.settings.member_id)
        return vc.document_claims(
            credential_id=entry.credential_id,
            issuer_member=self.settings.member_id,
            issuer_name=member.name_fa if member is not None else self.settings.member_id,
            holder=holder,
            type_code=document_type.code,
            subject=subject,
            valid_from=valid_from,
            valid_until=valid_until,
            iat=valid_from,
            hub_url=self.settings.hub_url,
            list_id=entry.list_id,
            status_index=entry.status_index,
        )

    async def _timestamp(self, credential: str) -> tuple[bytes, datetime]:
        """The TimeStampToken (certReq true) over the VC-JWT's signature, and its genTime."""
        parsed = vc.parse_credential(credential)
        imprint = timestamps.imprint_of_signature(parsed.signature)
        token = await timestamps.request_timestamp(
            self.trust.conf.central.tsa_url, imprint, cert_req=True, client=self.tsa_http
        )
        issued_at = timestamps.trusted_time(
            token,
            imprint,
            self.trust.tsa_certificates(),
            ca_certificates=self.trust.ca_certificates(),
        )
        return token, issued_at

    async def _qr(self, credential: str) -> str:
        """The offline QR: the VC-JWT's facts signed as COSE_Sign1, with a timestamp token of
        its own (certReq false, to fit) over that signature."""
        signed = self.signer.sign_qr(qr.QrRecord.from_credential(vc.parse_credential(credential)))
        token = await timestamps.request_timestamp(
            self.trust.conf.central.tsa_url,
            timestamps.imprint_of_signature(signed.signature),
            cert_req=False,
            client=self.tsa_http,
        )
        return signed.with_timestamp(token)

    async def _pdf(
        self,
        document_type: DocumentTypeDefinition,
        entry: Entry,
        credential: str,
        token: bytes,
        qr_text: str,
        *,
        issued_at: datetime,
        pull_link: str,
    ) -> bytes:
        parsed = vc.parse_credential(credential)
        member = self.trust.conf.member(self.settings.member_id)
        revocation = parsed.document.status_entry("revocation")
        document = pdf.RenderInput(
            document_type=document_type,
            subject=parsed.subject,
            credential_id=parsed.credential_id,
            issuer_name_fa=member.name_fa if member is not None else self.settings.member_id,
            issuer_name_en=(member.name_en if member is not None else "")
            or self.settings.member_id,
            holder=parsed.holder,
            issued_at=issued_at,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
            status_list=pdf.StatusListEntry(
                entry.list_id, entry.status_index, revocation.statusListCredential
            ),
            qr_text=qr_text,
            pull_link=pull_link,
            credential=credential,
            timestamp_token=token,
        )
        # WeasyPrint takes about a second of CPU: not on the event loop.
        rendered = await asyncio.to_thread(pdf.render_pdf, document)
        return await self.signer.sign_pdf(rendered, self.trust.conf.central.tsa_url)

    async def _deposit(
        self,
        credential: str,
        token: bytes,
        qr_text: str,
        signed_pdf: bytes | None,
        pull_token: str | None,
    ) -> str:
        deposit: dict[str, Any] = {
            "credential": credential,
            "timestampToken": _b64(token),
            "qr": qr_text,
        }
        if signed_pdf is not None:
            deposit["pdf"] = _b64(signed_pdf)
        if pull_token is not None:
            deposit["pullToken"] = pull_token
        answer = await self.hub.deposit(deposit)
        return str(answer.get("pullLink") or "")

    async def _record(
        self,
        request: IssueRequest,
        document_type: DocumentTypeDefinition,
        entry: Entry,
        holder: str,
        credential: str,
        token: bytes,
        qr_text: str,
        signed_pdf: bytes | None,
        *,
        issued_at: datetime,
        valid_from: datetime,
        valid_until: datetime | None,
    ) -> None:
        def digest(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()

        async with transaction(self.sessions) as session:
            await repository.add_document(
                session,
                IssuedDocument(
                    id=entry.credential_id,
                    type_code=document_type.code,
                    holder=holder,
                    list_number=entry.list_number,
                    status_index=entry.status_index,
                    state="active",
                    issued_at=issued_at,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    credential_digest=digest(credential.encode("ascii")),
                    timestamp_digest=digest(token),
                    qr_digest=digest(qr_text.encode("ascii")),
                    pdf_digest=digest(signed_pdf) if signed_pdf is not None else None,
                    requested_by=request.requested_by,
                    state_changed_at=issued_at,
                ),
            )
            await repository.settle_allocation(session, entry.credential_id, outcome="issued")

    async def _abandon(self, credential_id: str, step: str, error: BaseException) -> None:
        reason = f"failed at {step}: " + (
            error.detail if isinstance(error, ZistboomError) else type(error).__name__
        )
        try:
            async with transaction(self.sessions) as session:
                await repository.settle_allocation(
                    session, credential_id, outcome="abandoned", reason=reason[:2000]
                )
        except Exception:  # the issuance's own error is the one to report
            log.exception("allocation of %s could not be marked abandoned", credential_id)
        log.warning("issuance of %s abandoned, %s", credential_id, reason)
