"""Public verification at the hub, as JSON: ``POST /credentials/verify`` (the W3C VC API's
verify endpoint, taking any of the four forms) and ``GET /p/{token}`` (a pull link: the
document's current state and checks, never its subject data)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as InPath
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from zistboom.core.errors import ValidationError
from zistboom.core.problems import problem_responses
from zistboom.documents import verification
from zistboom.documents.hub import verifying
from zistboom.documents.hub.schemas import BASE64, COMPACT_JWS, IMAGE_BASE64, PDF_BASE64
from zistboom.documents.hub.state import state_of

verify_routes = APIRouter(tags=["verification"])
ENVELOPED = "EnvelopedVerifiableCredential"
DATA_URL = "data:application/vc+jwt,"


class EnvelopedCredential(BaseModel):
    """A VC-JWT in the VC API's envelope: ``id`` is ``data:application/vc+jwt,<jwt>``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: list[str] | str | None = Field(default=None, alias="@context")
    type: Literal["EnvelopedVerifiableCredential"]
    id: Annotated[str, Field(pattern=r"^data:application/vc\+jwt," + COMPACT_JWS.removeprefix("^"))]

    @property
    def token(self) -> str:
        return self.id[len(DATA_URL) :]


CompactJwt = Annotated[str, Field(pattern=COMPACT_JWS)]
FORMS = ("verifiableCredential", "qr", "pdf", "image", "pullLink")


class VerifyRequest(BaseModel):
    """Exactly one form of a document, and for a VC-JWT optionally its timestamp token."""

    # "Exactly one form" in the document too: oneOf holds when exactly one form is present.
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"oneOf": [{"required": [form]} for form in FORMS]},
    )

    verifiable_credential: (
        EnvelopedCredential | Annotated[str, Field(pattern=COMPACT_JWS)] | SkipJsonSchema[None]
    ) = Field(default=None, alias="verifiableCredential")
    qr: Annotated[str, Field(pattern=r"^ZB1:", max_length=8000)] | SkipJsonSchema[None] = None
    pdf: Annotated[str, Field(pattern=PDF_BASE64)] | SkipJsonSchema[None] = Field(
        default=None, description="the PDF file (it starts with %PDF-), base64"
    )
    image: Annotated[str, Field(pattern=IMAGE_BASE64)] | SkipJsonSchema[None] = Field(
        default=None, description="a PNG or JPEG picture of the QR code, base64"
    )
    pull_link: Annotated[str, Field(max_length=2000)] | SkipJsonSchema[None] = Field(
        default=None, alias="pullLink", description="one of this hub's pull links"
    )
    timestamp_token: Annotated[str, Field(pattern=BASE64)] | SkipJsonSchema[None] = Field(
        default=None, alias="timestampToken", description="the VC-JWT's TimeStampToken, base64"
    )

    @field_validator(
        "verifiable_credential", "qr", "pdf", "image", "pull_link", "timestamp_token", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the member out rather than sending null")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> VerifyRequest:
        given = [
            name
            for name in ("verifiable_credential", "qr", "pdf", "image", "pull_link")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of verifiableCredential, qr, pdf, image and pullLink"
            )
        return self


class CheckOut(BaseModel):
    name: str
    result: Literal["passed", "failed", "skipped"]
    reason: str
    reason_fa: str


class RecordOut(BaseModel):
    id: str
    type: str
    issuer: str
    holder: str | None
    issued_at: datetime | None
    valid_from: datetime
    valid_until: datetime | None


class SourceOut(BaseModel):
    name: str
    refreshed_at: datetime | None


class ReportOut(BaseModel):
    """The verification report: each check by its stable name, with its result and reason."""

    verified: bool
    form: Literal["vc-jwt", "qr", "pdf", "pull-link"]
    record: RecordOut | None
    checks: list[CheckOut]
    sources: list[SourceOut]

    @classmethod
    def of(cls, report: verification.VerificationReport, *, holder: bool = True) -> ReportOut:
        record = None
        if report.record is not None:
            record = RecordOut.model_validate(report.record, from_attributes=True)
            if not holder:
                record.holder = None
        return cls(
            verified=report.verified,
            form=report.form,
            record=record,
            checks=[CheckOut.model_validate(c, from_attributes=True) for c in report.checks],
            sources=[SourceOut.model_validate(s, from_attributes=True) for s in report.sources],
        )


def _decoded(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{field} is not standard base64", field=field) from None


@verify_routes.post("/credentials/verify", responses=problem_responses(400, 404, 422))
async def verify_credential(request: Request, body: VerifyRequest) -> ReportOut:
    """Verify a document in any of its four forms; the report names every check (format,
    signature, certificate, trusted-time, accreditation, status, validity, schema, and
    pdf-signature for a PDF) with its result and reason. A pull link must be this hub's."""
    state = state_of(request)
    token = _decoded(body.timestamp_token, "timestampToken") if body.timestamp_token else None
    data: str | bytes
    if body.pull_link is not None:
        outcome = await verifying.verify_pull_link(state, body.pull_link)
        return ReportOut.of(outcome.report)
    if isinstance(body.verifiable_credential, EnvelopedCredential):
        data = body.verifiable_credential.token
    elif body.verifiable_credential is not None:
        data = body.verifiable_credential
    elif body.qr is not None:
        data = body.qr
    elif body.pdf is not None:
        data = _decoded(body.pdf, "pdf")
    else:
        assert body.image is not None
        data = _decoded(body.image, "image")
    outcome = await verifying.verify_input(state, data, timestamp_token=token)
    return ReportOut.of(outcome.report)


class PullState(BaseModel):
    """What a pull link shows: the document's type, issuer, state and checks, now; never the
    subject's data."""

    id: str
    type: str
    type_name_fa: str
    type_name_en: str
    issuer: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: Literal["valid", "invalid"]
    report: ReportOut


def wants_page(request: Request) -> bool:
    """A browser's request (``Accept`` names text/html before any JSON): the person who typed
    or clicked the printed link sees the verification page, not JSON."""
    accept = request.headers.get("accept", "")
    html = accept.find("text/html")
    json = min((i for i in (accept.find("application/json"), accept.find("*/*")) if i >= 0),
               default=-1)  # fmt: skip
    return html >= 0 and (json < 0 or html < json)


@verify_routes.get(
    "/p/{token}",
    response_model=PullState,
    responses={
        200: {"content": {"text/html": {}}, "description": "JSON, or the page for a browser"},
        **problem_responses(404, 422),
    },
)
async def pull(
    request: Request, token: Annotated[str, InPath(pattern=r"^[A-Za-z0-9_-]{20,64}$")]
) -> Any:
    """The document behind a pull link, verified now (its status list as the hub holds it);
    to a browser (``Accept: text/html``), the verification page showing the same report."""
    state = state_of(request)
    outcome = await verifying.verify_pull_link(state, f"{verifying.PULL_PATH}{token}")
    if wants_page(request):
        return await request.app.state.verification_page.report(request, outcome)
    document = outcome.document
    assert document is not None  # a pull link is the hub's own document
    names: dict[str, Any] = await verifying.type_names(state)
    fa, en = names.get(document.type_code, (document.type_code, document.type_code))
    return PullState(
        id=document.id,
        type=document.type_code,
        type_name_fa=fa,
        type_name_en=en,
        issuer=document.issuer,
        issued_at=document.issued_at,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        status="valid" if outcome.report.verified else "invalid",
        report=ReportOut.of(outcome.report, holder=False),
    )
