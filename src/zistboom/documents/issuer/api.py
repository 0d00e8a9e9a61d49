"""The issuer's routes behind the agency's gateway, in the W3C VC API's shape:
``POST /credentials/issue`` and ``POST /credentials/status``. Who may call them is the gateway's
access rights' to decide (the agency's own systems, the window's subsystem where the agency
lets it); here the call must come through that gateway. Routes parse, then call
``service.py``; their bodies and answers are ``schemas.py``'s."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request

from zistboom.core.problems import problem_responses
from zistboom.documents.issuer.backend import GatewayCaller
from zistboom.documents.issuer.issuance import IssueRequest, type_code_of
from zistboom.documents.issuer.schemas import (
    CREDENTIALS_V2,
    EnvelopedCredential,
    IssueAnswer,
    IssueBody,
    StatusAnswer,
    StatusBody,
)
from zistboom.documents.issuer.service import Issuer
from zistboom.documents.issuer.status import StatusUpdate

SERVICE = "credentials"
"""The service's code on the exchange; its backend is this prefix."""
PREFIX = "/credentials"
credentials = APIRouter(prefix=PREFIX, tags=["VC API"])


def issuer_of(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


@credentials.post(
    "/issue",
    status_code=201,
    operation_id="issueCredential",
    summary="Issue a document",
    # 400: a body that is not JSON; 403: not through the gateway, or issuer-not-accredited
    # (naming the accreditation);
    # 404: no such document type at the hub; 409: no status entry could be taken;
    # 422: a subject against its type's schema (errors name JSON pointers) or a bad holder;
    # 502/503: the hub, the registry, the TSA or the gateway refused or did not answer.
    responses=problem_responses(400, 403, 404, 409, 422, 502, 503),
)
async def issue(body: IssueBody, caller: GatewayCaller, request: Request) -> IssueAnswer:
    """Sign a document of the type asked for, from the subject given or pulled from the
    agency's registry (``options.subjectId``), timestamp it, render its QR and PDF, and
    deposit it into the holder's locker at the hub."""
    credential = body.credential
    if credential.documentType is not None:
        type_code = credential.documentType
    else:
        assert credential.type is not None  # the schema asks for one of the two
        type_code = type_code_of(credential.type)
    issued = await issuer_of(request).issue(
        IssueRequest(
            type_code=type_code,
            subject=credential.credentialSubject,
            subject_id=body.options.subjectId,
            holder=body.options.holder,
            valid_until=body.options.validUntil,
            with_pdf=body.options.pdf,
            requested_by=caller.client,
            user_id=caller.user_id,
        )
    )
    return IssueAnswer(
        verifiableCredential=EnvelopedCredential(
            context=[CREDENTIALS_V2],
            type="EnvelopedVerifiableCredential",
            id=f"data:application/vc+jwt,{issued.credential}",
        ),
        id=issued.credential_id,
        timestampToken=base64.b64encode(issued.timestamp_token).decode("ascii"),
        qr=issued.qr,
        pdf=base64.b64encode(issued.pdf).decode("ascii") if issued.pdf is not None else None,
        pullLink=issued.pull_link,
    )


@credentials.post(
    "/status",
    operation_id="updateStatus",
    summary="Revoke, suspend or reinstate a document",
    # 404: this issuer issued no such document; 409: a revoked document cannot change again.
    responses=problem_responses(400, 403, 404, 409, 422),
)
async def update_status(body: StatusBody, caller: GatewayCaller, request: Request) -> StatusAnswer:
    """Revoke, suspend or reinstate a document: its bit changes in the issuer's status list,
    which is signed again and published at the hub."""
    result = await issuer_of(request).update_status(
        body.credentialId,
        [StatusUpdate(entry.statusPurpose, entry.status) for entry in body.credentialStatus],
        requested_by=caller.client,
    )
    return StatusAnswer(
        credentialId=result.document.id,
        state=result.document.state,
        changed=result.changed,
        published=result.published,
    )
