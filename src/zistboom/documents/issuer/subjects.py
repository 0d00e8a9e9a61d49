"""A document's subject and holder, checked before anything is allocated or signed: the
subject against its type's JSON Schema (Draft 2020-12, each error named by its JSON pointer in
the request), the holder id by its kind's check digits."""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import (  # type: ignore[import-untyped]  # no stubs
    ValidationError as SchemaViolation,
)

from zistboom.core.errors import ValidationError
from zistboom.documents import profile
from zistboom.documents.types import DocumentTypeDefinition

SUBJECT = "/credential/credentialSubject"
HOLDER = "/options/holder"


def _pointer(base: str, path: Any) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return base + "".join(f"/{p}" for p in parts)


def _where(error: SchemaViolation, base: str) -> str:
    """The pointer of the offending member: for a missing required one, where it belongs."""
    pointer = _pointer(base, error.absolute_path)
    if error.validator == "required" and isinstance(error.validator_value, list):
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            return _pointer(pointer, [missing[0]])
    return pointer


def validate_subject(
    document_type: DocumentTypeDefinition, subject: dict[str, Any], *, base: str
) -> None:
    """:class:`ValidationError` naming each field that breaks the type's schema."""
    validator = document_type.subject_validator()
    errors = sorted(validator.iter_errors(subject), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    listed = [{"field": _where(e, base), "message": e.message} for e in errors]
    first = listed[0]
    raise ValidationError(
        f"the subject does not meet the schema of {document_type.code}: "
        f"{first['field']}: {first['message']}"
        + (f" (and {len(listed) - 1} more)" if len(listed) > 1 else ""),
        field=first["field"],
        errors=listed,
    )


def validate_holder(holder: str, *, field: str = HOLDER) -> str:
    """A person (``IR`` + national code, ``FN`` + foreign national id) or a business (its
    11-digit legal-entity id), with valid check digits; refusals name ``field``."""
    try:
        return profile.validate_holder_id(holder)
    except ValidationError as error:
        raise ValidationError(error.detail, field=field) from error


def registry_key(subject_id: str) -> str:
    """The registry key a subject id names: a person's holder id (``IR…``, ``FN…``) stands for
    its number, anything else for itself (a business's legal-entity id, a parcel id, …)."""
    return subject_id[2:] if subject_id[:2] in ("IR", "FN") else subject_id


def _holder_of_subject_id(subject_id: str) -> str | None:
    """The holder a subject id names, when it is a holder id (``IR…``, ``FN…``, an 11-digit
    legal-entity id); a bare registry key names none (a ten-digit number could be a national
    code or a foreign national id)."""
    if subject_id[:2] in ("IR", "FN") or (subject_id.isdigit() and len(subject_id) == 11):
        return subject_id
    return None


def holder_of(subject: dict[str, Any], *, holder: str | None, subject_id: str | None) -> str:
    """The holder: ``options.holder``, else the subject's ``id`` URN, else the subject id it
    was pulled by when that is a holder id; when several are given they must agree."""
    from_id: str | None = None
    subject_urn = subject.get("id")
    if subject_urn is not None:
        if not isinstance(subject_urn, str) or not subject_urn.startswith(profile.HOLDER_URN):
            raise ValidationError(
                f"credentialSubject.id must be {profile.HOLDER_URN}<holder id>",
                field=f"{SUBJECT}/id",
            )
        from_id = validate_holder(subject_urn[len(profile.HOLDER_URN) :], field=f"{SUBJECT}/id")
    named = [h for h in (holder, from_id) if h is not None]
    if len(set(named)) > 1:
        raise ValidationError(
            f"options.holder {holder} and credentialSubject.id {subject_urn} name different "
            "holders",
            field=HOLDER,
        )
    chosen = named[0] if named else None
    if chosen is None and subject_id is not None:
        chosen = _holder_of_subject_id(subject_id)
    if chosen is None:
        raise ValidationError(
            "name the holder: options.holder, credentialSubject.id, or a subjectId that is a "
            "holder id (IR + national code, FN + foreign national id, a legal-entity id)",
            field=HOLDER,
        )
    return validate_holder(chosen, field=HOLDER if named else "/options/subjectId")
