"""The accreditation check, one function for everybody who enforces accreditation (ZB-STD-007):
"is entity E accredited for action A on ``ecosystem:kind`` at level L, at time T?", answered
from a verified trust list (``core/trustlist.py``) with the records the answer rests on.

Central's trust-registry queries, its catalogue, every gateway's access rights and (later) the
verification of documents all call :meth:`TrustIndex.authorize`, so the rules live here once:

- **status at a time** comes from the history (the last change at or before T) and the validity
  period: an accreditation is expired from ``valid_until`` on without anything having to run;
- **scope**: a member-scoped accreditation covers the member and all its subsystems and services,
  a subsystem-scoped one that subsystem and its services, a service-scoped one only that service;
- **recognition**: ecosystem B's recognition of scheme S (of ecosystem A) for kind K makes an
  accreditation under S count in B for K at the mapped level, while the recognition, the scheme
  and the accreditation all hold at T;
- **levels** are ordered basic < substantial < high; a requirement is met at its level or higher.

A :class:`TrustIndex` is built once per trust list (a dictionary per member), so a check costs a
few dictionary lookups and a scan of that member's own accreditations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zistboom.core.trustlist import (
    LEVELS,
    AccreditationEntry,
    AssessorEntry,
    Level,
    RecognitionEntry,
    SchemeEntry,
    StatusChange,
    TrustList,
)

__all__ = ["Answer", "Requirement", "TrustIndex", "covers", "level_at_least", "status_at"]

_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def level_at_least(level: str, minimum: str) -> bool:
    return _RANK[level] >= _RANK[minimum]  # type: ignore[index]


def status_at(history: Sequence[StatusChange], at: datetime) -> StatusChange | None:
    """The change in force at ``at``: the last one at or before it (``None`` before the first)."""
    current = None
    for change in history:
        if change.at > at:
            break
        current = change
    return current


def covers(accreditation: AccreditationEntry, entity_id: str) -> bool:
    """The scope rule: whether ``accreditation`` covers the member, subsystem or service
    ``entity_id``."""
    subject = accreditation.subject
    if entity_id == subject:
        return True
    if accreditation.scope == "service":
        return False
    return entity_id.startswith(subject + "/")


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a check asks for: an accreditation to ``action`` the kind of service ``kind`` in
    ``ecosystem``, at ``level`` or higher."""

    ecosystem: str
    kind: str
    level: Level = "basic"
    action: str = "provide"

    @property
    def resource(self) -> str:
        return f"{self.ecosystem}:{self.kind}"

    def describe(self) -> str:
        text = f"an accreditation to {self.action} {self.resource}"
        return text if self.level == "basic" else f"{text} at level {self.level} or higher"


@dataclass(frozen=True, slots=True)
class Answer:
    """A check's outcome: whether it holds, why (one sentence), the level it holds at, and the
    trust-list records it rests on (JSON-ready, each with its ``type``)."""

    holds: bool
    message: str
    level: Level | None = None
    records: tuple[dict[str, Any], ...] = field(default=())


def _record(kind: str, entry: Any, status: str) -> dict[str, Any]:
    body: dict[str, Any] = entry.model_dump(mode="json", exclude={"statement"})
    return {"type": kind, "status_at_time": status, **body}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class TrustIndex:
    """A trust list arranged for checks: schemes by code and by ``ecosystem:kind``, each
    member's accreditations, and recognitions by what they count for."""

    def __init__(self, trust_list: TrustList) -> None:
        self.trust_list = trust_list
        self.schemes: dict[str, SchemeEntry] = {s.code: s for s in trust_list.schemes}
        self._by_resource = {(s.ecosystem, s.kind): s for s in trust_list.schemes}
        self._accreditations: dict[str, list[AccreditationEntry]] = defaultdict(list)
        for accreditation in trust_list.accreditations:
            self._accreditations[accreditation.member].append(accreditation)
        self._recognitions: dict[tuple[str, str], list[RecognitionEntry]] = defaultdict(list)
        self._recognitions_of: dict[tuple[str, str], list[RecognitionEntry]] = defaultdict(list)
        for recognition in trust_list.recognitions:
            self._recognitions_of[(recognition.ecosystem, recognition.scheme)].append(recognition)
            for kind in recognition.kinds:
                self._recognitions[(recognition.ecosystem, kind)].append(recognition)
        self._assessors: dict[str, list[AssessorEntry]] = defaultdict(list)
        for assessor in trust_list.assessors:
            self._assessors[assessor.member].append(assessor)
        self.accreditation_ids = {a.id: a for a in trust_list.accreditations}

    # -- states at a time -------------------------------------------------------------------

    def scheme_active(self, scheme: SchemeEntry, at: datetime) -> bool:
        change = status_at(scheme.history, at)
        return change is not None and change.status == "active"

    def regulated(self, ecosystem: str, kind: str, at: datetime) -> SchemeEntry | None:
        """The scheme that makes ``kind`` regulated in ``ecosystem`` at ``at``, if any."""
        scheme = self._by_resource.get((ecosystem, kind))
        return scheme if scheme is not None and self.scheme_active(scheme, at) else None

    @staticmethod
    def accreditation_state(accreditation: AccreditationEntry, at: datetime) -> str:
        """``active``, ``suspended``, ``revoked``, ``withdrawn``, ``expired``, or
        ``not-yet-valid`` (before it was granted or before ``valid_from``)."""
        change = status_at(accreditation.history, at)
        if change is None or at < accreditation.valid_from:
            return "not-yet-valid"
        if change.status in ("revoked", "withdrawn", "suspended"):
            return change.status
        if at >= accreditation.valid_until:
            return "expired"
        return "active"

    @staticmethod
    def recognition_state(recognition: RecognitionEntry, at: datetime) -> str:
        change = status_at(recognition.history, at)
        if change is None or at < recognition.valid_from:
            return "not-yet-valid"
        if change.status == "revoked":
            return "revoked"
        if at >= recognition.valid_until:
            return "expired"
        return "active"

    # -- the checks -------------------------------------------------------------------------

    def authorize(self, entity_id: str, requirement: Requirement, at: datetime) -> Answer:
        """Whether ``entity_id`` holds ``requirement`` at ``at``, directly or by recognition."""
        member = "/".join(entity_id.split("/", 3)[:3])
        held = [a for a in self._accreditations.get(member, ()) if covers(a, entity_id)]
        near: list[dict[str, Any]] = []
        reasons: list[str] = []

        scheme = self._by_resource.get((requirement.ecosystem, requirement.kind))
        if scheme is not None and requirement.action in scheme.actions:
            if self.scheme_active(scheme, at):
                answer = self._best(held, scheme, None, requirement, at, near, reasons)
                if answer is not None:
                    return answer
            else:
                reasons.append(f"scheme {scheme.code} is not in force at {_iso(at)}")
        for recognition in self._recognitions.get((requirement.ecosystem, requirement.kind), ()):
            source = self.schemes[recognition.scheme]
            if requirement.action not in source.actions:
                continue
            state = self.recognition_state(recognition, at)
            if state != "active":
                if any(a.scheme == source.code for a in held):
                    near.append(_record("recognition", recognition, state))
                    reasons.append(
                        f"the recognition {recognition.id} (version {recognition.version}) of "
                        f"{source.code} by {recognition.ecosystem} is {state} at {_iso(at)}"
                    )
                continue
            if not self.scheme_active(source, at):
                continue
            answer = self._best(held, source, recognition, requirement, at, near, reasons)
            if answer is not None:
                return answer

        if scheme is None and not self._recognitions.get((requirement.ecosystem, requirement.kind)):
            message = f"no scheme covers {requirement.resource}: nobody is accredited for it"
        elif not reasons:
            message = f"{entity_id} holds no {requirement.describe()[3:]} at {_iso(at)}"
        else:
            message = (
                f"{entity_id} holds no {requirement.describe()[3:]} at {_iso(at)}: "
                + "; ".join(reasons)
            )
        return Answer(False, message, None, tuple(near))

    def _best(
        self,
        held: Iterable[AccreditationEntry],
        scheme: SchemeEntry,
        recognition: RecognitionEntry | None,
        requirement: Requirement,
        at: datetime,
        near: list[dict[str, Any]],
        reasons: list[str],
    ) -> Answer | None:
        for accreditation in held:
            if accreditation.scheme != scheme.code:
                continue
            state = self.accreditation_state(accreditation, at)
            if state != "active":
                near.append(_record("accreditation", accreditation, state))
                change = status_at(accreditation.history, at)
                why = f" ({change.reason})" if change is not None and change.reason else ""
                reasons.append(f"accreditation {accreditation.id} is {state} at {_iso(at)}{why}")
                continue
            level: Level | None = accreditation.level
            if recognition is not None:
                level = recognition.level_mapping.get(accreditation.level)
            if level is None or not level_at_least(level, requirement.level):
                near.append(_record("accreditation", accreditation, state))
                counted = f"counts as {level}" if level is not None else "is not mapped"
                reasons.append(
                    f"accreditation {accreditation.id} at level {accreditation.level} "
                    + (f"{counted} in {requirement.ecosystem}, " if recognition else "")
                    + f"below the required {requirement.level}"
                )
                continue
            records = [
                _record("scheme", scheme, "active"),
                _record("accreditation", accreditation, state),
            ]
            message = (
                f"{accreditation.member} holds accreditation {accreditation.id} under "
                f"{scheme.code} at level {accreditation.level}"
            )
            if recognition is not None:
                records.append(_record("recognition", recognition, "active"))
                message += (
                    f", which {recognition.ecosystem} recognises as {level} (recognition "
                    f"{recognition.id}, version {recognition.version})"
                )
            return Answer(
                True,
                message + f", valid until {_iso(accreditation.valid_until)}",
                level,
                tuple(records),
            )
        return None

    def recognize(self, ecosystem: str, scheme_code: str, kind: str, at: datetime) -> Answer:
        """Whether ``ecosystem`` recognises ``scheme_code`` (another ecosystem's) for ``kind``."""
        scheme = self.schemes.get(scheme_code)
        if scheme is None:
            return Answer(False, f"no scheme {scheme_code} is listed")
        near: list[dict[str, Any]] = []
        for recognition in self._recognitions_of.get((ecosystem, scheme_code), ()):
            state = self.recognition_state(recognition, at)
            if kind not in recognition.kinds:
                continue
            if state == "active":
                mapping = ", ".join(f"{a}→{b}" for a, b in recognition.level_mapping.items())
                return Answer(
                    True,
                    f"{ecosystem} recognises {scheme_code} for {kind} (recognition "
                    f"{recognition.id}, version {recognition.version}; levels {mapping}) until "
                    f"{_iso(recognition.valid_until)}",
                    None,
                    (
                        _record("scheme", scheme, "active"),
                        _record("recognition", recognition, state),
                    ),
                )
            near.append(_record("recognition", recognition, state))
        if near:
            states = ", ".join(f"version {r['version']} {r['status_at_time']}" for r in near)
            message = (
                f"{ecosystem} does not recognise {scheme_code} for {kind} at {_iso(at)} ({states})"
            )
        else:
            message = f"{ecosystem} has never recognised {scheme_code} for {kind}"
        return Answer(False, message, None, tuple(near))

    def may_assess(self, member: str, scheme_code: str, at: datetime) -> Answer:
        """Whether an assessor of ``member`` holds authority to assess under ``scheme_code``."""
        for assessor in self._assessors.get(member, ()):
            if assessor.scheme != scheme_code:
                continue
            change = status_at(assessor.history, at)
            if change is not None and change.status == "granted":
                how = (
                    f"delegated from {assessor.delegated_from}"
                    if assessor.delegated_from
                    else "granted by the authority"
                )
                return Answer(
                    True,
                    f"{member} may assess under {scheme_code} ({assessor.id}, {how})",
                    None,
                    (_record("assessor", assessor, "granted"),),
                )
        return Answer(
            False, f"{member} holds no assessor authority for {scheme_code} at {_iso(at)}"
        )
