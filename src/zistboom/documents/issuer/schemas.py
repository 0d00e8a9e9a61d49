"""The issuer API's bodies and answers, in the W3C VC API's shape (issueCredential and
updateStatus). Members the API does not know are refused rather than ignored, and the rules
between members are stated in the OpenAPI document too (``json_schema_extra``), so a client can
read what is refused before sending it. Optional members may be left out, never sent as null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from zistboom.core import identifiers

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"
DOCUMENT = "ZbDocument"
TYPE_CODE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
TYPE_NAME = r"^[A-Z][A-Za-z0-9]*$|^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
# A person (IR + national code, FN + foreign national id) or a business (an 11-digit
# legal-entity id whose fourth to ninth digits are not all zero).
_HOLDER = "IR[0-9]{10}|FN[0-9]{6,16}|" + identifiers.MEMBER_CODE_PATTERN.removeprefix(
    "^"
).removesuffix("$")
HOLDER_ID = f"^(?:{_HOLDER})$"
_KEY_CHAR = "[A-Za-z0-9._-]"
SUBJECT_ID = (
    # A holder id (IR…, FN…, which then name the holder and must be one), or a registry key
    # that does not start with IR or FN; spelled without look-ahead.
    r"^(IR[0-9]{10}|FN[0-9]{6,16}"
    rf"|[A-EGHJ-Za-z0-9._-]{_KEY_CHAR}{{0,63}}"
    rf"|I([A-QS-Za-z0-9._-]{_KEY_CHAR}{{0,62}})?"
    rf"|F([A-MO-Za-z0-9._-]{_KEY_CHAR}{{0,62}})?)$"
)
HOLDER_URN = f"^urn:zb:holder:(?:{_HOLDER})$"
CREDENTIAL_URN = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_NAMES_THE_TYPE: dict[str, JsonValue] = {"not": {"enum": [VERIFIABLE_CREDENTIAL, DOCUMENT]}}


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("leave the member out rather than sending null")
    return value


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CredentialInput(_Closed):
    """What to issue: the type (``documentType``, or ``type`` naming it beside
    ``VerifiableCredential``) and, unless ``options.subjectId`` pulls it, the subject."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["documentType"]}, {"required": ["type"]}]}
    )

    context: Annotated[list[str], Field(min_length=1)] | SkipJsonSchema[None] = Field(
        default=None,
        alias="@context",
        description="if given, the VC 2.0 context first; the issuer sets the document's own",
        json_schema_extra={"prefixItems": [{"const": CREDENTIALS_V2}]},
    )
    type: (
        Annotated[list[Annotated[str, Field(pattern=TYPE_NAME)]], Field(min_length=2, max_length=3)]
        | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description='["VerifiableCredential", "<type code, or its PascalCase form>"], '
        'optionally with "ZbDocument"',
        json_schema_extra={
            "uniqueItems": True,
            "allOf": [
                {"contains": {"const": VERIFIABLE_CREDENTIAL}},
                {"contains": _NAMES_THE_TYPE, "maxContains": 1},
            ],
        },
    )
    documentType: Annotated[str, Field(pattern=TYPE_CODE, max_length=64)] | SkipJsonSchema[None] = (
        None
    )
    credentialSubject: dict[str, Any] | SkipJsonSchema[None] = Field(
        default=None,
        description="the subject's fields per the type's schema; 'id' may name the holder "
        "(urn:zb:holder:<id>)",
        json_schema_extra={"properties": {"id": {"type": "string", "pattern": HOLDER_URN}}},
    )

    _present = field_validator(
        "context", "type", "documentType", "credentialSubject", mode="before"
    )(_not_null)

    @model_validator(mode="after")
    def _named_type(self) -> CredentialInput:
        if self.context is not None and self.context[0] != CREDENTIALS_V2:
            raise ValueError(f"@context must begin with {CREDENTIALS_V2}")
        if self.type is None and self.documentType is None:
            raise ValueError("name the document type: documentType, or type")
        if self.type is not None:
            named = [t for t in self.type if t not in (VERIFIABLE_CREDENTIAL, DOCUMENT)]
            if VERIFIABLE_CREDENTIAL not in self.type or len(named) != 1:
                raise ValueError(
                    "type must hold VerifiableCredential and one document type (and may hold "
                    "ZbDocument)"
                )
            if len(set(self.type)) != len(self.type):
                raise ValueError("type must not name a type twice")
        return self


class IssueOptions(_Closed):
    holder: Annotated[str, Field(pattern=HOLDER_ID)] | SkipJsonSchema[None] = Field(
        default=None,
        description="IR + national code, FN + foreign national id, or an 11-digit legal-entity "
        "id; default: the subject's id, or a subjectId that is a holder id",
    )
    subjectId: Annotated[str, Field(pattern=SUBJECT_ID)] | SkipJsonSchema[None] = Field(
        default=None,
        description="pull the subject from the agency's base registry instead: a holder id "
        "(IR + national code, FN + foreign national id: the registry key is the number, the "
        "holder this id) or the registry's key itself (then name options.holder unless it is "
        "an 11-digit legal-entity id)",
    )
    validUntil: AwareDatetime | SkipJsonSchema[None] = Field(
        default=None, description="later than now; default: now + the type's default validity"
    )
    pdf: bool = Field(default=True, description="render and sign the PDF too")

    _present = field_validator("holder", "subjectId", "validUntil", mode="before")(_not_null)


class IssueBody(_Closed):
    """The credential to issue, with its subject given or pulled (exactly one of the two)."""

    model_config = ConfigDict(
        json_schema_extra={
            # The holder is named by options.holder, credentialSubject.id or a subjectId that
            # is a holder id (IR…, FN… or an 11-digit legal-entity id).
            "anyOf": [
                {"required": ["options"], "properties": {"options": {"required": ["holder"]}}},
                {
                    "properties": {
                        "credential": {
                            "required": ["credentialSubject"],
                            "properties": {"credentialSubject": {"required": ["id"]}},
                        }
                    }
                },
                {
                    "required": ["options"],
                    "properties": {
                        "options": {
                            "required": ["subjectId"],
                            "properties": {"subjectId": {"pattern": HOLDER_ID}},
                        }
                    },
                },
            ],
            "oneOf": [
                {
                    "properties": {
                        "credential": {"required": ["credentialSubject"]},
                        "options": {"not": {"required": ["subjectId"]}},
                    }
                },
                {
                    "required": ["options"],
                    "properties": {
                        "credential": {"not": {"required": ["credentialSubject"]}},
                        "options": {"required": ["subjectId"]},
                    },
                },
            ],
        }
    )

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
    credentialStatus: list[StatusEntry] = Field(
        min_length=1, max_length=2, description="applied in order, all or none"
    )


class StatusAnswer(_Closed):
    credentialId: str
    state: Literal["active", "suspended", "revoked"]
    changed: bool
    published: bool = Field(
        description="whether the hub holds the re-signed status lists already (otherwise the "
        "issuer keeps trying)"
    )
