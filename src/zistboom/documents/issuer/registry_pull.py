"""Once-only: a document's subject pulled from the agency's own base registry through the
exchange, instead of being typed in again (ZB-STD-006 Data API ``read``,
``POST /r1/<registry subsystem>/<registry code>/<version>/read``).

The type's ``registry`` mapping says which registry, which version, the key field the subject
id is looked up by, and which registry field fills which subject field. Every call names whom
it is for (``X-Road-UserId``) and why (``X-Road-Purpose``), so the registry logs the read in the
person's personal-data-usage list. A record that is not about the subject asked for is refused
rather than signed."""

from __future__ import annotations

from typing import Any

import orjson

from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.documents.issuer.exchange import Call, ExchangeClient, ExchangeRefused
from zistboom.documents.types import RegistryMapping

PURPOSE = "document-issuance"
SUBJECT_ID = "/options/subjectId"


class RegistryAnswerRefused(ZistboomError):
    """The registry answered with something that is not the record asked for."""

    status = 502
    code = "registry-answer-refused"
    title = "The registry's answer was refused"


async def pull_subject(
    exchange: ExchangeClient,
    registry_subsystem: str,
    mapping: RegistryMapping,
    subject_id: str,
    *,
    type_code: str,
    user_id: str,
) -> dict[str, Any]:
    """The subject fields of ``type_code`` for ``subject_id``, from its registry record."""
    if not registry_subsystem:
        raise ValidationError(
            "this issuer has no registry to pull a subject from (registry_subsystem is not "
            "set): send credential.credentialSubject instead of options.subjectId",
            field=SUBJECT_ID,
        )
    call = Call(
        "POST",
        f"{registry_subsystem}/{mapping.code}",
        f"{mapping.version}/read",
        user_id=user_id,
        purpose=f"{PURPOSE}:{type_code}",
    )
    try:
        answer = await exchange.send(
            call, json={"query": {"content": {mapping.key_field: subject_id}}}
        )
    except ExchangeRefused as error:
        if error.upstream_status == 404 and error.error_type == "not-found":
            raise ValidationError(
                f"registry {mapping.code} holds no record whose {mapping.key_field} is "
                f"{subject_id}",
                field=SUBJECT_ID,
            ) from error
        raise
    record = _content_of(answer.content, mapping)
    found = record.get(mapping.key_field)
    if str(found) != subject_id:
        raise RegistryAnswerRefused(
            f"asked registry {mapping.code} for {mapping.key_field} {subject_id}, it answered "
            f"the record of {found!r}: nothing is signed from it"
        )
    return {
        subject_field: record[registry_field]
        for subject_field, registry_field in mapping.fields.items()
        if record.get(registry_field) is not None
    }


def _content_of(raw: bytes, mapping: RegistryMapping) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RegistryAnswerRefused(
            f"registry {mapping.code} answered something that is not JSON: {error}"
        ) from error
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        raise RegistryAnswerRefused(
            f"registry {mapping.code} answered without a record (no 'content' object)"
        )
    return content
