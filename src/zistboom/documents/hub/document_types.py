"""The registry of document types: seeded at ``hub init``, registered by the hub's operator,
served to issuers and verifiers. A type is never changed once registered: documents already
issued are checked against it (its schema, its accreditation), so a new rule is a new type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ConflictError, NotFoundError
from zistboom.documents.hub import repository
from zistboom.documents.hub.models import DocumentType
from zistboom.documents.hub.service import Clock
from zistboom.documents.types import DocumentTypeDefinition, RegistryMapping, TypeRequirement

SEED = "seed"
OPERATOR = "operator"


def definition_of(row: DocumentType) -> DocumentTypeDefinition:
    return DocumentTypeDefinition(
        code=row.code,
        name_fa=row.name_fa,
        name_en=row.name_en,
        ecosystem=row.ecosystem,
        requirement=TypeRequirement(
            ecosystem=row.requirement_ecosystem,
            kind=row.requirement_kind,
            level=row.requirement_level,
        ),
        default_validity_days=row.default_validity_days,
        json_schema=row.subject_schema,
        template_fa=row.template_fa,
        template_en=row.template_en,
        registry=RegistryMapping.model_validate(row.registry_mapping)
        if row.registry_mapping
        else None,
    )


async def register(
    session: AsyncSession, body: DocumentTypeDefinition, *, by: str, clock: Clock
) -> DocumentType:
    """Register a type (its definition checked when it was parsed: schema, templates,
    mapping)."""
    if await repository.document_type(session, body.code) is not None:
        raise ConflictError(
            f"document type {body.code!r} is registered already; a type never changes (documents "
            "issued under it are checked against it): register a new code",
            field="code",
        )
    row = DocumentType(
        code=body.code,
        name_fa=body.name_fa,
        name_en=body.name_en,
        ecosystem=body.ecosystem,
        requirement_ecosystem=body.requirement.ecosystem,
        requirement_kind=body.requirement.kind,
        requirement_level=body.requirement.level,
        default_validity_days=body.default_validity_days,
        subject_schema=body.json_schema,
        template_fa=body.template_fa,
        template_en=body.template_en,
        registry_mapping=body.registry.model_dump() if body.registry else None,
        registered_at=clock(),
        registered_by=by,
    )
    session.add(row)
    await session.flush()
    return row


async def seed(
    session: AsyncSession, definitions: Iterable[DocumentTypeDefinition], clock: Clock
) -> list[str]:
    """Register the seeded types not registered yet; the codes added."""
    added = []
    for definition in definitions:
        if await repository.document_type(session, definition.code) is None:
            await register(session, definition, by=SEED, clock=clock)
            added.append(definition.code)
    return added


async def get(session: AsyncSession, code: str) -> DocumentType:
    found = await repository.document_type(session, code)
    if found is None:
        raise NotFoundError(f"no document type {code!r} is registered at this hub", field="code")
    return found


async def all_types(session: AsyncSession) -> Sequence[DocumentType]:
    return await repository.document_types(session)


async def names(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Each type's name in Persian and English, by code."""
    return {row.code: (row.name_fa, row.name_en) for row in await all_types(session)}


async def of_documents(session: AsyncSession, document_ids: Iterable[str]) -> dict[str, str]:
    """The type code of each document, by document id."""
    return await repository.type_codes_of(session, list(document_ids))
