"""The bodies and answers of the hub's APIs (exchange services, public API), as pydantic
models: one definition per shape, which the OpenAPI documents state. A document type is
``documents/types.py``'s :class:`DocumentTypeDefinition`, as seeded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from zistboom.core import identifiers

_BASE64_TAIL = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
BASE64 = "^" + _BASE64_TAIL
"""Standard base64 with its padding (RFC 4648 §4): what ``b64decode(validate=True)`` takes."""
PDF_BASE64 = r"^JVBERi[0-3][A-Za-z0-9+/]" + _BASE64_TAIL
"""Base64 of a file that starts with ``%PDF-``."""
IMAGE_BASE64 = r"^(?:iVBORw0KGg[o-r][A-Za-z0-9+/]|/9j/)" + _BASE64_TAIL
"""Base64 of a PNG (its 8-byte signature) or a JPEG (FF D8 FF)."""
COMPACT_JWS = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
Base64 = Annotated[str, Field(pattern=BASE64, description="standard base64 (RFC 4648 §4)")]
MemberIdText = Annotated[
    str,
    Field(
        pattern=identifiers.MEMBER_ID_PATTERN,
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
        description="a member, INSTANCE/CLASS/CODE",
    ),
]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- deposits and status lists (the documents service) ----------------------------------------


class Deposit(_Closed):
    """A document an issuer deposits into its holder's locker."""

    credential: Annotated[str, Field(pattern=COMPACT_JWS, description="the VC-JWT")]
    timestamp_token: Base64 = Field(
        alias="timestampToken",
        description="the RFC 3161 TimeStampToken (DER, base64) over the VC-JWT's signature",
    )
    qr: str | None = Field(default=None, pattern=r"^ZB1:", description="the QR text, ZB1:…")
    pdf: Base64 | None = Field(default=None, description="the signed PDF, base64")
    pull_token: str | None = Field(
        default=None,
        alias="pullToken",
        pattern=r"^[A-Za-z0-9_-]{32,64}$",
        description="the pull token the issuer printed in the PDF's pull link (at least 32 "
        "random URL-safe characters); the hub makes one when none is given",
    )


class Deposited(_Closed):
    id: str
    holder: str
    type: str
    issued_at: datetime = Field(alias="issuedAt", description="the trusted time of issue")
    pull_link: str = Field(alias="pullLink")


class StatusListHeld(_Closed):
    list_id: str = Field(alias="listId")
    purpose: str
    valid_from: datetime = Field(alias="validFrom")
    valid_until: datetime = Field(alias="validUntil")
    replaced: bool = Field(description="whether it replaced a list held before")


# --- lockers and shares -----------------------------------------------------------------------


class LockerDocument(_Closed):
    """A document in a locker, without its artefacts."""

    id: str
    type: str
    type_name_fa: str
    type_name_en: str
    issuer: str
    holder: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    pull_link: str
    has_qr: bool
    has_pdf: bool


class LockerDocumentFull(LockerDocument):
    """A document with its artefacts, as deposited."""

    credential: str
    timestamp_token: str = Field(description="base64 DER")
    qr: str | None
    pdf: str | None = Field(description="base64")


class LockerPage(_Closed):
    documents: list[LockerDocument]


class ShareRequest(_Closed):
    """A holder's consent: ``recipient`` may fetch ``document_id`` for ``purpose`` until
    ``expires_at`` (at most the hub's ``max_share_days`` ahead)."""

    document_id: Annotated[str, Field(min_length=1, max_length=64)]
    recipient: MemberIdText
    purpose: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
    expires_at: AwareDatetime


class ShareOut(_Closed):
    id: str
    document_id: str
    document_type: str
    holder: str
    recipient: str
    purpose: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]
    consent: str = Field(
        description="the consent record: a compact JWS (typ zb-consent+jws) signed by the hub's "
        "doc key, x5c to the instance CA"
    )


class SharePage(_Closed):
    shares: list[ShareOut]


class SharedDocument(_Closed):
    """What a share's recipient fetches: the consent and the document's artefacts."""

    share: ShareOut
    document: LockerDocumentFull


class AccessEventOut(_Closed):
    id: int
    document_id: str | None
    kind: Literal["issued", "shared", "share-revoked", "fetched", "verified", "listed"]
    actor: str
    user_id: str | None
    purpose: str | None
    share_id: str | None
    at: datetime


class AccessEventPage(_Closed):
    events: list[AccessEventOut]
    next_before: int | None = Field(
        description="pass as before= for the next (older) page; null when there is none"
    )
