"""Recognitions between ecosystems (``rec-<n>``): ecosystem B counts accreditations under
scheme S of ecosystem A for named kinds of service of its own, at the levels a mapping gives,
for a period. Each version's terms are signed by central: a compact JWS by the key the caller
passes (central's trust-list key), asked for only once the terms are found good. A new version
revokes the one it replaces at the same moment, and a revocation ends the current one. Only an
admin changes them; anyone may read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import history, repository, schemes
from zistboom.accreditation.listing import recognition_entry
from zistboom.accreditation.models import (
    Recognition,
    RecognitionEvent,
    RecognitionVersion,
    Scheme,
)
from zistboom.central import service as central
from zistboom.central.operators import Operator
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.trustlist import LEVELS, sign_statement

STATEMENT_TYPE = "zb-recognition+jws"
STATEMENT_FORMAT = "zistboom-recognition/1"
MAX_KINDS = 20


@dataclass(frozen=True, slots=True)
class RecognitionTerms:
    kinds: Sequence[str]
    """Kinds of service of the recognising ecosystem the scheme counts for."""
    level_mapping: Mapping[str, str]
    """The scheme's level → the level it counts as in the recognising ecosystem."""
    valid_until: datetime
    valid_from: datetime | None = None
    """The moment of the change when not given."""


def version_status(recognition: Recognition, version: RecognitionVersion, at: datetime) -> str:
    """``active``, ``revoked``, ``expired`` or ``not-yet-valid``, as the trust list reads it."""
    return TrustIndex.recognition_state(recognition_entry(recognition, version), at)


def _terms(scheme: Scheme, terms: RecognitionTerms, at: datetime) -> RecognitionTerms:
    kinds = list(dict.fromkeys(terms.kinds))
    if not kinds or len(kinds) > MAX_KINDS:
        raise ValidationError(f"name 1 to {MAX_KINDS} kinds of service", field="kinds")
    for index, kind in enumerate(kinds):
        schemes.code_of(kind, "kind of service", field=f"kinds.{index}")
    if not terms.level_mapping:
        raise ValidationError("the level mapping names at least one level", field="level_mapping")
    mapping: dict[str, str] = {}
    for source, target in terms.level_mapping.items():
        if source not in scheme.levels:
            raise ValidationError(
                f"scheme {scheme.code} grants {', '.join(scheme.levels)}, not {source!r}",
                field=f"level_mapping.{source}",
            )
        if target not in LEVELS:
            raise ValidationError(
                f"{target!r} is not a level: use {', '.join(LEVELS)}",
                field=f"level_mapping.{source}",
            )
        mapping[source] = target
    valid_from = history.moment(terms.valid_from) if terms.valid_from is not None else at
    until = history.moment(terms.valid_until)
    if until <= valid_from:
        raise ValidationError("valid_until must be later than valid_from", field="valid_until")
    if until <= at:
        raise ValidationError("valid_until is already past", field="valid_until")
    ordered: dict[str, str] = {level: mapping[level] for level in LEVELS if level in mapping}
    return RecognitionTerms(kinds, ordered, until, valid_from)


def _statement(
    recognition: Recognition,
    version: RecognitionVersion,
    *,
    instance: str,
    key: Callable[[], PrivateKey],
) -> str:
    """The version's terms as central states them, signed."""
    terms = {
        "format": STATEMENT_FORMAT,
        "instance": instance,
        "id": recognition.identifier,
        "version": version.version,
        "ecosystem": recognition.ecosystem,
        "scheme": recognition.scheme.code,
        "scheme_resource": recognition.scheme.resource,
        "kinds": version.kinds,
        "level_mapping": version.level_mapping,
        "valid_from": version.valid_from,
        "valid_until": version.valid_until,
        "issued_at": version.created_at,
    }
    payload = orjson.dumps(terms, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)
    return sign_statement(payload, key(), typ=STATEMENT_TYPE)


async def _add_version(
    session: AsyncSession,
    recognition: Recognition,
    terms: RecognitionTerms,
    reason: str,
    *,
    instance: str,
    key: Callable[[], PrivateKey],
    actor: Operator,
    at: datetime,
) -> RecognitionVersion:
    checked = _terms(recognition.scheme, terms, at)
    assert checked.valid_from is not None
    number = len(recognition.versions) + 1
    version = RecognitionVersion(
        version=number,
        kinds=list(checked.kinds),
        level_mapping=dict(checked.level_mapping),
        valid_from=checked.valid_from,
        valid_until=checked.valid_until,
        statement="",
        created_at=at,
        events=[RecognitionEvent(status="granted", at=at, actor=actor.actor, reason=reason)],
    )
    version.statement = _statement(recognition, version, instance=instance, key=key)
    recognition.versions.append(version)
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.recognition.grant",
        target=f"{recognition.identifier}@{number}",
        details={
            "ecosystem": recognition.ecosystem,
            "scheme": recognition.scheme.code,
            "kinds": version.kinds,
            "level_mapping": version.level_mapping,
            "valid_from": history.iso(version.valid_from),
            "valid_until": history.iso(version.valid_until),
            "reason": reason,
        },
    )
    return version


async def create_recognition(
    session: AsyncSession,
    *,
    ecosystem: str,
    scheme: str,
    terms: RecognitionTerms,
    reason: str,
    instance: str,
    key: Callable[[], PrivateKey],
    actor: Operator,
    at: datetime | None = None,
) -> Recognition:
    """Ecosystem ``ecosystem`` recognises ``scheme`` (another ecosystem's); version 1."""
    actor.require("admin")
    when = history.moment(at)
    source = await schemes.require_active(session, scheme, when, field="scheme")
    try:
        recognising = (await central.get_ecosystem(session, ecosystem)).key
    except NotFoundError:
        raise NotFoundError(f"no ecosystem {ecosystem!r}", field="ecosystem") from None
    if recognising == source.ecosystem:
        raise ValidationError(
            f"scheme {source.code} is {recognising}'s own: recognition is between ecosystems",
            field="ecosystem",
        )
    existing = await repository.recognition_of(session, recognising, source.id)
    if existing is not None:
        raise ConflictError(
            f"{recognising} already recognises {source.code} as {existing.identifier}: give it "
            "a new version",
            field="scheme",
        )
    recognition = Recognition(
        ecosystem=recognising, scheme_id=source.id, created_at=when, versions=[]
    )
    session.add(recognition)
    await session.flush()
    await session.refresh(recognition, ["scheme", "versions"])
    await _add_version(
        session,
        recognition,
        terms,
        history.text(reason, "reason"),
        instance=instance,
        key=key,
        actor=actor,
        at=when,
    )
    return recognition


async def _revoke_current(
    session: AsyncSession,
    recognition: Recognition,
    reason: str,
    *,
    actor: Operator,
    at: datetime,
) -> RecognitionVersion | None:
    current = recognition.versions[-1]
    if history.status_at(current.events, at) != "granted":
        return None
    history.after_last(current.events, at, f"{recognition.identifier} version {current.version}")
    current.events.append(
        RecognitionEvent(status="revoked", at=at, actor=actor.actor, reason=reason)
    )
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.recognition.revoke",
        target=f"{recognition.identifier}@{current.version}",
        details={"reason": reason},
    )
    return current


async def new_version(
    session: AsyncSession,
    recognition_id: str,
    terms: RecognitionTerms,
    reason: str,
    *,
    instance: str,
    key: Callable[[], PrivateKey],
    actor: Operator,
    at: datetime | None = None,
) -> Recognition:
    """New terms: the current version is revoked and the new one granted at the same moment."""
    actor.require("admin")
    when = history.moment(at)
    recognition = await repository.recognition(session, recognition_id)
    await schemes.require_active(session, recognition.scheme.code, when, field="scheme")
    reason = history.text(reason, "reason")
    _terms(recognition.scheme, terms, when)  # refuse bad terms before revoking anything
    await _revoke_current(
        session,
        recognition,
        f"replaced by version {len(recognition.versions) + 1}: {reason}",
        actor=actor,
        at=when,
    )
    await _add_version(
        session, recognition, terms, reason, instance=instance, key=key, actor=actor, at=when
    )
    return recognition


async def revoke_recognition(
    session: AsyncSession,
    recognition_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Recognition:
    actor.require("admin")
    when = history.moment(at)
    recognition = await repository.recognition(session, recognition_id)
    revoked = await _revoke_current(
        session, recognition, history.text(reason, "reason"), actor=actor, at=when
    )
    if revoked is None:
        current = recognition.versions[-1]
        raise ConflictError(
            f"{recognition.identifier} version {current.version} is "
            f"{version_status(recognition, current, when)}: nothing to revoke",
            field="id",
        )
    return recognition


async def get_recognition(session: AsyncSession, recognition_id: str) -> Recognition:
    return await repository.recognition(session, recognition_id)


async def list_recognitions(
    session: AsyncSession, *, ecosystem: str | None = None
) -> list[Recognition]:
    return await repository.list_recognitions(session, ecosystem=ecosystem)
