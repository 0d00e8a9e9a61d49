"""The issuer API's bodies and answers, in the W3C VC API's shape (issueCredential and
updateStatus). Members the API does not know are refused rather than ignored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
TYPE_CODE = r"^[a-z0-9][a-z0-9-]{0,63}$"
HOLDER_ID = r"^(IR[0-9]{10}|FN[0-9]{1,20}|[0-9]{11})$"
CREDENTIAL_URN = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CredentialInput(_Closed):
    """What to issue: the type (``documentType``, or ``type`` naming it beside
    ``VerifiableCredential``) and, unless ``options.subjectId`` pulls it, the subject."""

    context: list[str] | None = Field(
        default=None,
        alias="@context",
        description="if given, the VC 2.0 context first; the issuer sets the document's own",
    )
    type: list[str] | None = Field(
        default=None,
        min_length=2,
        max_length=3,
        description='["VerifiableCredential", "<type code>"] (or its PascalCase form)',
    )
    documentType: str | None = Field(default=None, pattern=TYPE_CODE)
    credentialSubject: dict[str, Any] | None = Field(
        default=None,
        description="the subject's fields per the type's schema; 'id' may name the holder "
        "(urn:zb:holder:<id>)",
    )

    @model_validator(mode="after")
    def _named_type(self) -> CredentialInput:
        if self.context is not None and (not self.context or self.context[0] != CREDENTIALS_V2):
            raise ValueError(f"@context must begin with {CREDENTIALS_V2}")
        if self.type is None and self.documentType is None:
            raise ValueError("name the document type: documentType, or type")
        if self.type is not None and "VerifiableCredential" not in self.type:
            raise ValueError("type must include VerifiableCredential")
        return self


class IssueOptions(_Closed):
    holder: str | None = Field(
        default=None,
        pattern=HOLDER_ID,
        description="IR + national code, FN + foreign "
        "national id, or an 11-digit legal-entity id; default: the subject id",
    )
    subjectId: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="pull the subject from the agency's base registry instead: a holder id "
        "(IR + national code, FN + foreign national id: the registry key is the number, the "
        "holder this id) or the registry's key itself (then name options.holder unless it is "
        "an 11-digit legal-entity id)",
    )
    validUntil: AwareDatetime | None = Field(
        default=None, description="default: validFrom + the type's default validity"
    )
    pdf: bool = Field(default=True, description="render and sign the PDF too")


class IssueBody(_Closed):
    credential: CredentialInput
    options: IssueOptions = Field(default_factory=IssueOptions)

    @model_validator(mode="after")
    def _one_subject(self) -> IssueBody:
        given = self.credential.credentialSubject is not None
        pulled = self.options.subjectId is not None
        if given == pulled:
            raise ValueError(
                "give either credential.credentialSubject or options.subjectId (pulled from the "
                "registry), not both and not neither"
            )
        return self


class EnvelopedCredential(_Closed):
    context: list[str] = Field(alias="@context")
    type: Literal["EnvelopedVerifiableCredential"]
    id: str = Field(description="data:application/vc+jwt,<the VC-JWT>")


class IssueAnswer(_Closed):
    verifiableCredential: EnvelopedCredential
    id: str = Field(pattern=CREDENTIAL_URN)
    timestampToken: str = Field(
        description="base64 of the RFC 3161 TimeStampToken over the VC-JWT's signature"
    )
    qr: str = Field(pattern=r"^ZB1:")
    pdf: str | None = Field(description="base64 of the PAdES-signed PDF")
    pullLink: str


class StatusEntry(_Closed):
    type: Literal["BitstringStatusListCredential"]
    statusPurpose: Literal["revocation", "suspension"]
    status: bool = Field(description="true sets the purpose's bit, false clears it")


class StatusBody(_Closed):
    credentialId: str = Field(pattern=CREDENTIAL_URN)
    credentialStatus: list[StatusEntry] = Field(min_length=1, max_length=2)


class StatusAnswer(_Closed):
    credentialId: str
    state: Literal["active", "suspended", "revoked"]
    changed: bool
    published: bool = Field(
        description="whether the hub holds the re-signed status lists already (otherwise the "
        "issuer keeps trying)"
    )
