"""The management API's request and response models (the definitions themselves are
``definitions.py``'s)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from zistboom.window.catalogue.definitions import MemberIdText, ServiceDefinition, ShortText
from zistboom.window.catalogue.parallel import Finding
from zistboom.window.catalogue.service import IssuedKey, StoredDefinition
from zistboom.window.identity_models import Agency


class AgencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: MemberIdText
    name_fa: ShortText
    name_en: ShortText


class AgencyOut(BaseModel):
    member_id: str
    name_fa: str
    name_en: str
    created_at: datetime

    @classmethod
    def of(cls, agency: Agency) -> AgencyOut:
        return cls(
            member_id=agency.member_id,
            name_fa=agency.name_fa,
            name_en=agency.name_en,
            created_at=agency.created_at,
        )


class KeyOut(BaseModel):
    id: int
    agency: str
    key: str = Field(description="shown once: the window keeps only its SHA-256 hash")

    @classmethod
    def of(cls, issued: IssuedKey) -> KeyOut:
        return cls(id=issued.id, agency=issued.agency, key=issued.key)


class ServiceOut(ServiceDefinition):
    """A definition as stored, with its agency and the time it was last written."""

    agency: str
    updated_at: datetime

    @classmethod
    def of(cls, stored: StoredDefinition) -> ServiceOut:
        return cls.model_validate(
            {
                **stored.definition.model_dump(),
                "agency": stored.agency,
                "updated_at": stored.updated_at,
            }
        )


class ServiceRef(BaseModel):
    agency: str
    code: str
    name_fa: str
    name_en: str

    @classmethod
    def of(cls, stored: StoredDefinition) -> ServiceRef:
        d = stored.definition
        return cls(agency=stored.agency, code=d.code, name_fa=d.name_fa, name_en=d.name_en)


class FindingOut(BaseModel):
    """Two services at different agencies with the same outcome, audience and inputs."""

    first: ServiceRef
    second: ServiceRef
    overlap: float = Field(description="Jaccard index of the declared items, 0..1")
    shared: list[str]
    only_first: list[str]
    only_second: list[str]

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls(
            first=ServiceRef.of(finding.first),
            second=ServiceRef.of(finding.second),
            overlap=round(finding.overlap, 4),
            shared=finding.shared,
            only_first=finding.only_first,
            only_second=finding.only_second,
        )
