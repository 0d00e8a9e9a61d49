"""The rules of applying once: starting an application for a service the applicant may use,
the explicit request to read their data (or their choice to type it), keeping what was read
with its source, the person's choice on each item (kept as consents), the documents shared
from the locker, the form checked against the service's JSON Schema, and the submission, which
at once gives the tracking code, makes the tasks of the first steps ready to hand over, puts
``submitted`` on the timeline and queues the notices, all in one transaction.

Every function takes the session of the caller's transaction and an application already found
for its owner (``owned``): a person never reaches another's application."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.core.identifiers import ServiceId
from zistboom.window import tracking
from zistboom.window.applications import repository
from zistboom.window.applications.models import (
    Application,
    ApplicationItem,
    ApplicationShare,
    Notice,
    RegistryRead,
    Task,
    TimelineEvent,
)
from zistboom.window.applications.pulls import Pull, Pulled, pulls_for, purpose_of
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.identity_models import Consent, Person

TYPED_MAX: Final = 500
SHARE_MARGIN_DAYS: Final = 30
"""A share lasts the service's expected days and this margin (the hub caps it)."""


class ApplicantNotServedError(PermissionDeniedError):
    """The service is not for this kind of applicant."""

    code = "applicant-not-served"


def applicant_kind(subject: str) -> str:
    """The audience an applicant belongs to: ``foreign-national`` for ``FN…``, else ``person``."""
    return "foreign-national" if subject.startswith("FN") else "person"


def definition_of(application: Application) -> ServiceDefinition:
    return ServiceDefinition.model_validate(application.definition)


def purpose(application: Application) -> str:
    return purpose_of(application.agency, application.service_code, application.tracking_code)


async def owned(session: AsyncSession, subject: str, application_id: str) -> Application:
    """``subject``'s application, or not found (also when it is someone else's)."""
    application = await repository.application_of(session, subject, application_id)
    if application is None:
        raise NotFoundError("there is no such application of yours", field="application")
    return application


async def start(
    session: AsyncSession,
    subject: str,
    agency: str,
    definition: ServiceDefinition,
    now: datetime,
) -> Application:
    """A draft application of ``subject`` for the service; its tracking code is chosen now
    (the reads name it in their purpose) and given to the person when they submit."""
    kind = applicant_kind(subject)
    if kind not in definition.audience:
        raise ApplicantNotServedError(
            f"the service {definition.code} is for {', '.join(definition.audience)}, not for "
            f"a {kind}; acting for a business or another person comes with mandates",
            field="service",
        )
    application = Application(
        id=uuid.uuid4().hex,
        tracking_code=tracking.new_tracking_code(),
        subject=subject,
        agency=agency,
        service_code=definition.code,
        definition=definition.model_dump(mode="json", exclude_none=True),
        state="draft",
        stage="request" if definition.base_data else _after_preview(definition),
        fetch_choice=None,
        asked_keys={},
        form_values={},
        created_at=now,
        updated_at=now,
        submitted_at=None,
        ended_at=None,
    )
    session.add(application)
    for index, source in enumerate(definition.base_data):
        for name in source.items:
            session.add(
                ApplicationItem(
                    application_id=application.id, source_index=index,
                    registry_service=source.registry, field=name, value_json=None,
                    read_id=None, choice="not-read", typed_value=None,
                )
            )  # fmt: skip
    return application


def _draft(application: Application, *stages: str) -> None:
    if application.state != "draft":
        raise ConflictError(
            f"the application {application.tracking_code} is {application.state}: it cannot "
            "change now",
            field="application",
        )
    if stages and application.stage not in stages:
        raise ConflictError(
            f"the application is at the step '{application.stage}', not {' or '.join(stages)}",
            field="stage",
        )


def _after_preview(definition: ServiceDefinition) -> str:
    return "documents" if definition.documents else "form"


def asked_key_problems(definition: ServiceDefinition, asked: Mapping[str, str]) -> dict[str, str]:
    """The keys the person must give for records read by ``asked``: a message key per index."""
    problems: dict[str, str] = {}
    for index, source in enumerate(definition.base_data):
        if source.asked is None:
            continue
        value = asked.get(str(index), "").strip()
        if not value:
            problems[str(index)] = "apply.error.required"
        elif len(value) > 200 or (
            source.asked.pattern is not None and re.fullmatch(source.asked.pattern, value) is None
        ):
            problems[str(index)] = "apply.error.pattern"
    return problems


def prepare_reads(application: Application, asked: Mapping[str, str]) -> list[Pull]:
    """The reads the person asked for, after checking the keys they gave."""
    _draft(application, "request")
    definition = definition_of(application)
    problems = asked_key_problems(definition, asked)
    if problems:
        index = next(iter(problems))
        raise ValidationError(f"the key of base data {index} is missing or malformed",
                              field=f"asked.{index}", problems=problems)  # fmt: skip
    keys = {index: asked[index].strip() for index in asked if asked[index].strip()}
    application.asked_keys = keys
    return pulls_for(definition.base_data, application.subject, keys)


async def record_reads(
    session: AsyncSession, application: Application, pulled: Sequence[Pulled], now: datetime
) -> None:
    """Keep what the reads gave, each with its source; the draft goes to the preview."""
    _draft(application, "request")
    items = await repository.items_of(session, application.id)
    for result in pulled:
        read = RegistryRead(
            application_id=application.id, subject=application.subject,
            source_index=result.pull.source_index, registry_service=str(result.pull.registry),
            record_key=result.pull.key, fields=sorted(result.values), purpose=purpose(application),
            message_id=result.message_id, at=result.at, outcome=result.outcome,
            reason=result.reason,
        )  # fmt: skip
        session.add(read)
        await session.flush()
        for item in items:
            if item.source_index != result.pull.source_index:
                continue
            if result.outcome == "read" and item.field in result.values:
                item.value_json = json.dumps(result.values[item.field], ensure_ascii=False)
                item.read_id = read.id
                item.choice = "pending"
    application.fetch_choice = "fetch"
    application.stage = "preview"
    application.updated_at = now


async def choose_to_type(session: AsyncSession, application: Application, now: datetime) -> None:
    """The person types their data instead of having it read: nothing is read, and the choice
    is kept as a consent (declined)."""
    _draft(application, "request")
    definition = definition_of(application)
    session.add(
        Consent(
            subject=application.subject, purpose=purpose(application),
            items=[{"registry": s.registry, "field": f, "choice": "not-requested"}
                   for s in definition.base_data for f in s.items],
            sources=[{"registry": s.registry, "agency": _agency_of(s.registry)}
                     for s in definition.base_data],
            choice="not-requested", at=now, application_id=application.id,
            service=f"{application.agency}/{application.service_code}",
        )
    )  # fmt: skip
    application.fetch_choice = "type"
    application.stage = _after_preview(definition)
    application.updated_at = now


def _agency_of(registry: str) -> str:
    return str(ServiceId.parse(registry, field="registry").subsystem.member)


async def decide(
    session: AsyncSession, application: Application, choices: Mapping[int, str], now: datetime
) -> None:
    """The person's choice on each item read: ``confirmed`` or ``declined`` (then typed on the
    form, self-declared). Kept as one consent per source."""
    _draft(application, "preview")
    items = await repository.items_of(session, application.id)
    pending = [item for item in items if item.choice == "pending"]
    missing = [item for item in pending if choices.get(item.id) not in ("confirmed", "declined")]
    if missing:
        raise ValidationError(
            f"choose to use or not to use each item read ({len(missing)} without a choice)",
            field=f"item.{missing[0].id}",
        )
    reads = {read.id: read for read in await repository.reads_of(session, application.id)}
    by_source: dict[int, list[ApplicationItem]] = {}
    for item in pending:
        item.choice = choices[item.id]
        by_source.setdefault(item.source_index, []).append(item)
    for _, chosen in sorted(by_source.items()):
        read = reads[chosen[0].read_id] if chosen[0].read_id is not None else None
        kinds = {item.choice for item in chosen}
        session.add(
            Consent(
                subject=application.subject, purpose=purpose(application),
                items=[{"registry": item.registry_service, "field": item.field,
                        "choice": item.choice} for item in chosen],
                sources=[{"registry": chosen[0].registry_service,
                          "agency": _agency_of(chosen[0].registry_service),
                          "message_id": read.message_id if read else None,
                          "read_at": read.at.isoformat() if read else None,
                          "record": read.record_key if read else None}],
                choice=kinds.pop() if len(kinds) == 1 else "partly", at=now,
                application_id=application.id,
                service=f"{application.agency}/{application.service_code}",
            )
        )  # fmt: skip
    application.stage = _after_preview(definition_of(application))
    application.updated_at = now


def responsible_agency(definition: ServiceDefinition) -> str:
    """The agency a service's documents are shared with: the first step's first agency."""
    first = next((step for step in definition.steps if not step.after), definition.steps[0])
    return first.agencies[0]


def share_terms(application: Application, now: datetime, max_days: int) -> tuple[str, datetime]:
    """A share's purpose (the application's) and end (the expected days and a margin)."""
    definition = definition_of(application)
    days = min(definition.expected_days + SHARE_MARGIN_DAYS, max_days)
    return purpose(application), now + timedelta(days=days)


def needed_documents(application: Application) -> list[str]:
    return [need.document_type for need in definition_of(application).documents]


async def record_share(
    session: AsyncSession,
    application: Application,
    *,
    document_type: str,
    document_id: str,
    share_id: str,
    recipient: str,
    expires_at: datetime,
    now: datetime,
) -> None:
    """A document shared from the locker for the application; when every needed document is
    shared, the draft goes to the form."""
    _draft(application, "documents")
    if document_type not in needed_documents(application):
        raise ValidationError(f"the service needs no {document_type}", field="document_type")
    shares = await repository.shares_of(session, application.id)
    if any(share.document_type == document_type for share in shares):
        raise ConflictError(f"a {document_type} is shared for it already", field="document_type")
    session.add(
        ApplicationShare(
            application_id=application.id, document_type=document_type,
            document_id=document_id, share_id=share_id, recipient=recipient,
            purpose=purpose(application), expires_at=expires_at, created_at=now,
        )
    )  # fmt: skip
    shared = {share.document_type for share in shares} | {document_type}
    if shared >= set(needed_documents(application)):
        application.stage = "form"
    application.updated_at = now


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one field of the form is refused: a message key and its values."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


def coerce_form(
    form: Mapping[str, Any], raw: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, FieldProblem]]:
    """The values typed on the page, as the form's JSON Schema types them."""
    values: dict[str, Any] = {}
    problems: dict[str, FieldProblem] = {}
    for name, spec in form.get("properties", {}).items():
        kind = spec.get("type")
        text = raw.get(name, "").strip()
        if kind == "boolean":
            values[name] = text in ("on", "true", "1", "yes")
            continue
        if not text:
            continue
        if kind in ("integer", "number"):
            try:
                number = float(text) if kind == "number" else int(text)
            except ValueError:
                problems[name] = FieldProblem(f"apply.error.{kind}")
                continue
            values[name] = number
        else:
            values[name] = text
    return values, problems


def form_problems(form: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, FieldProblem]:
    """Each field the service's JSON Schema refuses, with why (the first reason per field)."""
    problems: dict[str, FieldProblem] = {}
    validator = Draft202012Validator(form, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(dict(values)):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in values:
                    problems.setdefault(name, FieldProblem("apply.error.required"))
            continue
        name = str(error.path[0]) if error.path else ""
        known = (
            "pattern",
            "maxLength",
            "minLength",
            "minimum",
            "maximum",
            "enum",
            "format",
            "type",
        )
        key = error.validator if error.validator in known else "invalid"
        value = (
            error.validator_value
            if key in ("maxLength", "minLength", "minimum", "maximum")
            else None
        )
        problems.setdefault(name, FieldProblem(f"apply.error.{key}", {"limit": value}))
    return problems


class FormRefusedError(ValidationError):
    """The form's values do not meet the service's schema, or an item to type is missing."""

    code = "form-refused"

    def __init__(self, problems: dict[str, FieldProblem]) -> None:
        first = next(iter(problems))
        super().__init__(f"{len(problems)} fields to correct", field=first)
        self.problems = problems


def typed_problems(
    items: Sequence[ApplicationItem], typed: Mapping[int, str]
) -> dict[str, FieldProblem]:
    problems: dict[str, FieldProblem] = {}
    for item in items:
        if item.choice in ("confirmed",):
            continue
        text = typed.get(item.id, "").strip()
        if not text:
            problems[f"item-{item.id}"] = FieldProblem("apply.error.required")
        elif len(text) > TYPED_MAX:
            problems[f"item-{item.id}"] = FieldProblem(
                "apply.error.maxLength", {"limit": TYPED_MAX}
            )
    return problems


async def submit(
    session: AsyncSession,
    application: Application,
    raw_form: Mapping[str, str],
    typed: Mapping[int, str],
    now: datetime,
) -> Application:
    """Check the form and the typed items, then submit: tasks, timeline, notices — at once."""
    _draft(application, "form")
    definition = definition_of(application)
    items = await repository.items_of(session, application.id)
    values, problems = coerce_form(definition.form, raw_form)
    for name, problem in form_problems(definition.form, values).items():
        problems.setdefault(name, problem)
    problems.update(typed_problems(items, typed))
    application.form_values = {
        name: raw_form.get(name, "") for name in definition.form.get("properties", {})
    }
    if problems:
        raise FormRefusedError(problems)
    for item in items:
        if item.choice != "confirmed":
            item.typed_value = typed[item.id].strip()
    application.form_values = values
    application.state = "submitted"
    application.stage = "submitted"
    application.submitted_at = now
    application.updated_at = now
    agencies = await repository.agencies(
        session, sorted({agency for step in definition.steps for agency in step.agencies})
    )
    for step in definition.steps:
        for agency in step.agencies:
            starts = not step.after
            inbox = agencies.get(agency)
            ready = inbox is not None and inbox.inbox_subsystem is not None
            session.add(
                Task(
                    id=uuid.uuid4().hex, application_id=application.id, step_key=step.key,
                    agency=agency, state="open" if starts else "waiting",
                    due_at=now + timedelta(days=step.deadline_days) if starts else None,
                    handover_state=("queued" if ready else "no-inbox") if starts else "none",
                    message_id=None, attempts=0, next_attempt_at=now if starts else None,
                    last_error=None, created_at=now, updated_at=now,
                )
            )  # fmt: skip
    await add_event(session, application, "submitted", now)
    return application


async def add_event(
    session: AsyncSession,
    application: Application,
    kind: str,
    now: datetime,
    *,
    agency: str | None = None,
    step_key: str | None = None,
    detail: dict[str, Any] | None = None,
    notify: bool = True,
) -> TimelineEvent:
    """A step on the application's timeline, and (``notify``) its notices to the person by
    e-mail and SMS, in their language, sent after the transaction commits."""
    event = TimelineEvent(
        application_id=application.id, at=now, kind=kind, agency=agency, step_key=step_key,
        detail=detail or {},
    )  # fmt: skip
    session.add(event)
    await session.flush()
    if notify:
        person = await session.get(Person, application.subject)
        if person is not None:
            for channel, address in (("email", person.email), ("sms", person.phone_number)):
                if address:
                    session.add(
                        Notice(
                            application_id=application.id, event_id=event.id, channel=channel,
                            address=address, locale=person.locale or "fa", kind=kind,
                            state="queued", attempts=0, next_attempt_at=now, last_error=None,
                            created_at=now, sent_at=None,
                        )
                    )  # fmt: skip
    return event


async def abandon(application: Application, now: datetime) -> None:
    _draft(application)
    application.state = "abandoned"
    application.ended_at = now
    application.updated_at = now
