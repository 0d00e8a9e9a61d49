"""The registry of document types: seeded at ``hub init``, registered by the hub's operator,
served to issuers and verifiers. A type is never changed once registered: documents already
issued are checked against it (its schema, its accreditation), so a new rule is a new type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.documents.hub import repository
from zistboom.documents.hub.models import DocumentType
from zistboom.documents.hub.schemas import DocumentTypeBody, RegistryMapping, TypeRequirement
from zistboom.documents.hub.service import Clock

SEED = "seed"
OPERATOR = "operator"


def schema_url(hub_url: str, code: str) -> str:
    """Where the type's subject schema is served (a document's ``credentialSchema.id``)."""
    return f"{hub_url.rstrip('/')}/api/v1/document-types/{code}/schema"


def check_schema(schema: dict[str, Any]) -> None:
    """A subject schema is a JSON Schema 2020-12 of an object, without the subject's ``id``
    (the credential carries it beside the subject fields)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        pointer = "/schema/" + "/".join(str(part) for part in error.absolute_path)
        raise ValidationError(
            f"the subject schema is not a JSON Schema 2020-12: {error.message}",
            field=pointer.rstrip("/"),
        ) from None
    if schema.get("type") != "object":
        raise ValidationError('the subject schema must be of "type": "object"', field="/schema")
    if "id" in schema.get("properties", {}):
        raise ValidationError(
            "the subject schema must not declare 'id': the credential's subject id is the holder",
            field="/schema/properties/id",
        )


def as_body(row: DocumentType) -> DocumentTypeBody:
    return DocumentTypeBody(
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
    session: AsyncSession, body: DocumentTypeBody, *, by: str, clock: Clock
) -> DocumentType:
    check_schema(body.json_schema)
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
    session: AsyncSession, definitions: Iterable[dict[str, Any]], clock: Clock
) -> list[str]:
    """Register the seeded types not registered yet; the codes added."""
    added = []
    for index, definition in enumerate(definitions):
        try:
            body = DocumentTypeBody.model_validate(definition)
        except PydanticValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValidationError(
                f"seeded type #{index}: {where}: {first['msg']}", field=where
            ) from None
        if await repository.document_type(session, body.code) is None:
            await register(session, body, by=SEED, clock=clock)
            added.append(body.code)
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
