"""The models of the registry service's HTTP API (``api.py``): the management API's bodies and
answers, the Database API's, the personal-data-usage list's, and the outline of the Data API's.

The Data API's records are each registry's own, so here they are objects; the document each
registry publishes to its gateway (``openapi.py``) states them exactly. The patterns state what
``service.py`` checks, so that the service's OpenAPI document refuses what the service refuses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from zistboom.core import identifiers
from zistboom.registries import definitions
from zistboom.registries.models import Usage

# A text that ``str.strip`` leaves something of (definitions._check_definition).
NonBlank = Annotated[
    str, Field(min_length=1, max_length=200, pattern=f"[^{identifiers.SPACE_CHARACTERS}]")
]
RegistryCode = Annotated[
    str,
    Field(
        pattern=f"^{definitions.CODE.pattern}$",
        max_length=32,
        description="2 to 32 lowercase letters, digits and hyphens, starting with a letter",
    ),
]
Ecosystem = Annotated[
    str,
    Field(
        pattern=f"^{definitions.ECOSYSTEM.pattern}$",
        max_length=64,
        description="an ecosystem key (such as tax), or national",
    ),
]
MemberIdText = Annotated[
    str,
    Field(
        pattern=identifiers.MEMBER_ID_PATTERN,
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
        max_length=255,
        description="INSTANCE/CLASS/CODE; CODE is a legal-entity ID with a valid check digit",
    ),
]
Description = Annotated[str, Field(max_length=4000)]
SchemaDocument = Annotated[
    dict[str, Any],
    Field(
        alias="schema",
        description="a registry schema: the documented subset of JSON Schema 2020-12 "
        "(ZB-STD-006 §2), with the registry's flags",
    ),
]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- management ------------------------------------------------------------------------------


class RegistryCreate(Closed):
    code: RegistryCode
    name_fa: NonBlank
    name_en: NonBlank
    description_fa: Description = ""
    description_en: Description = ""
    owner: MemberIdText | None = Field(default=None, description="default: this agency")
    ecosystem: Ecosystem = "national"
    schema_: SchemaDocument


class VersionCreate(Closed):
    schema_: SchemaDocument


class VersionOut(Closed):
    version: str
    published_at: datetime | None


class RegistryOut(Closed):
    code: str
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    owner: str
    ecosystem: str
    records: int = Field(ge=0)
    versions: list[VersionOut]


# --- the Database API ------------------------------------------------------------------------


class DatabaseModify(Closed):
    """Create a registry, or give it a new version; either way it is published at once."""

    code: RegistryCode
    name_fa: NonBlank | None = None
    name_en: NonBlank | None = None
    description_fa: Description = ""
    description_en: Description = ""
    ecosystem: Ecosystem = "national"
    group_name: str | None = Field(default=None, max_length=200)
    catalog_name: NonBlank | None = Field(
        default=None, description="the name in both languages, when name_fa or name_en is absent"
    )
    schema_: SchemaDocument


class DatabaseVersion(Closed):
    version: str
    published_at: datetime | None


class DatabaseInfo(Closed):
    id: int
    code: str
    name: str
    name_fa: str
    description: str
    description_fa: str
    institution: str
    ecosystem: str
    version: str = Field(description="the latest version, draft or published")
    is_draft: bool
    modified_at: datetime
    schema_: dict[str, Any] = Field(alias="schema", description="the latest version's schema")
    versions: list[DatabaseVersion]


class DatabaseList(Closed):
    name: str
    code: str = Field(description="the registry subsystem")
    databases: list[DatabaseInfo]


# --- the personal-data-usage API -------------------------------------------------------------


class PersonalDataUsage(Closed):
    ID: str
    ReaderID: str
    ReaderInstitutionID: str
    ReaderApplicationName: str
    SearchDateTime: datetime
    DatabaseID: str
    Refrences: list[dict[str, str]]
    Fields: list[str]
    Purpose: str
    MessageId: str | None

    @classmethod
    def of(cls, usage: Usage) -> PersonalDataUsage:
        client = usage.client.split("/")
        return cls(
            ID=str(usage.id),
            ReaderID=usage.user_id,
            ReaderInstitutionID="/".join(client[:3]),
            ReaderApplicationName=usage.client,
            SearchDateTime=usage.at,
            DatabaseID=usage.registry_code,
            Refrences=[{"ReferenceID": usage.record_key}],
            Fields=list(usage.fields.get("names", [])),
            Purpose=usage.purpose,
            MessageId=usage.message_id,
        )


class UsagePage(Closed):
    count: int = Field(ge=0)
    next: str | None
    results: list[PersonalDataUsage]


# --- the Data API, in outline ----------------------------------------------------------------


class RecordPage(Closed):
    count: int = Field(ge=0)
    count_exact: bool = Field(description="false when count is an estimate")
    next: str | None = Field(description="the next page (a relative reference), or null")
    previous: str | None = Field(description="the previous page, or null")
    results: list[dict[str, Any]]


class RecordAnswer(Closed):
    content: dict[str, Any]


class ExistsStatus(Closed):
    status: bool
    message: str


class ExistsAnswer(Closed):
    answer: ExistsStatus


class UpdatedAnswer(Closed):
    updated: int = Field(ge=0)


class UpsertAnswer(Closed):
    content: dict[str, Any]
    created: bool


class ValueAnswer(Closed):
    value: Any
