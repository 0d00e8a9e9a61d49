"""The rules of applying once, on each backend: a draft for a service the applicant may use;
what was read kept with its source; each item confirmed or declined (kept as consents); the
form checked against the service's JSON Schema with a reason per field; the submission, which
makes the tasks of the first steps ready to hand over, puts ``submitted`` on the timeline and
queues the notices in one transaction; nobody reaches another's application; the lookup by
tracking code shows no personal data, answers alike for a wrong identifier, and stops after
its limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.identifiers import ServiceId
from zistboom.window.applications import repository, service, timeline
from zistboom.window.applications.models import Notice, Task, TimelineEvent
from zistboom.window.applications.pulls import Pulled
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.database import open_database
from zistboom.window.identity_models import Agency, Consent, Person
from zistboom.window.tracking import is_valid_tracking_code, new_tracking_code

CIVIL = "IR-TEST/GOV/12147922321"
TAX = "IR-TEST/GOV/60711446972"
APPLICANT = "IR0499370899"
OTHER = "IR3610107235"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

DEFINITION: dict[str, Any] = {
    "code": "test-service", "name_fa": "خدمت آزمایشی", "name_en": "Test service",
    "summary_fa": "آزمایش", "summary_en": "A test", "ecosystem": "tax", "audience": ["person"],
    "outcome": {"kind": "document", "document_type": "tax-clearance"},
    "base_data": [
        {"registry": f"{CIVIL}/registry/persons", "items": ["national_code", "given_name_fa"],
         "why_fa": "شناسایی", "why_en": "Identification", "find_by": "national_code"},
        {"registry": f"{TAX}/tax-services/taxpayers", "items": ["taxpayer_id", "status"],
         "why_fa": "بدهی", "why_en": "Debt", "find_by": "taxpayer_id"},
    ],
    "form": {"type": "object", "properties": {
        "purpose": {"type": "string", "title": "هدف", "x-title-en": "Purpose", "maxLength": 20},
        "copies": {"type": "integer", "minimum": 1, "title": "نسخه", "x-title-en": "Copies"},
    }, "required": ["purpose", "copies"]},
    "expected_days": 3,
    "steps": [
        {"key": "review", "name_fa": "بررسی", "name_en": "Review", "agencies": [TAX],
         "deadline_days": 2},
        {"key": "issue", "name_fa": "صدور", "name_en": "Issue", "agencies": [TAX, CIVIL],
         "deadline_days": 1, "after": ["review"]},
    ],
}  # fmt: skip


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    opened = await open_database(database_url)
    async with transaction(opened.sessions) as session:
        session.add(Agency(member_id=CIVIL, name_fa="ثبت احوال", name_en="Civil", created_at=NOW))
        session.add(Agency(member_id=TAX, name_fa="مالیات", name_en="Tax", inbox_subsystem="inbox",
                           created_at=NOW))  # fmt: skip
        for subject in (APPLICANT, OTHER):
            session.add(Person(subject=subject, email=f"{subject}@example.org",
                               phone_number="+989121234567", locale="fa", created_at=NOW,
                               updated_at=NOW))  # fmt: skip
    yield opened.sessions
    await opened.engine.dispose()


def _pulled(index: int, registry: str, values: dict[str, Any], outcome: str = "read") -> Pulled:
    from zistboom.window.applications.pulls import Pull

    pull = Pull(index, ServiceId.parse(registry), "k", APPLICANT[2:], None, tuple(values))
    return Pulled(pull, outcome, values if outcome == "read" else {}, f"m-{index}", NOW, None)


async def _read_and_decide(sessions: async_sessionmaker[AsyncSession]) -> str:
    definition = ServiceDefinition.model_validate(DEFINITION)
    async with transaction(sessions) as session:
        application = await service.start(session, APPLICANT, TAX, definition, NOW)
        assert application.stage == "request"
        assert service.prepare_reads(application, {}) != []
        await service.record_reads(session, application, [
            _pulled(0, DEFINITION["base_data"][0]["registry"],
                    {"national_code": APPLICANT[2:], "given_name_fa": "نرگس"}),
            _pulled(1, DEFINITION["base_data"][1]["registry"], {}, outcome="refused"),
        ], NOW)  # fmt: skip
        application_id = application.id
    async with transaction(sessions) as session:
        application = await service.owned(session, APPLICANT, application_id)
        items = {i.field: i for i in await repository.items_of(session, application_id)}
        assert items["given_name_fa"].choice == "pending"
        assert items["status"].choice == "not-read"  # the refused read kept nothing
        with pytest.raises(ValidationError):
            await service.decide(
                session, application, {items["national_code"].id: "confirmed"}, NOW
            )
        await service.decide(session, application, {
            items["national_code"].id: "confirmed", items["given_name_fa"].id: "declined",
        }, NOW)  # fmt: skip
        assert application.stage == "form"
    return application_id


async def test_apply_read_decide_submit(sessions: async_sessionmaker[AsyncSession]) -> None:
    application_id = await _read_and_decide(sessions)
    async with transaction(sessions) as session:
        items = {i.field: i for i in await repository.items_of(session, application_id)}
        consents = (
            await session.scalars(select(Consent).where(Consent.application_id == application_id))
        ).all()
        assert [c.choice for c in consents] == ["partly"]
        assert {i["field"]: i["choice"] for i in consents[0].items} == {
            "national_code": "confirmed",
            "given_name_fa": "declined",
        }
        assert consents[0].sources[0]["message_id"] == "m-0"
    typed = {items[name].id: "x" for name in ("given_name_fa", "taxpayer_id")}
    with pytest.raises(service.FormRefusedError) as refused:
        async with transaction(sessions) as session:
            application = await service.owned(session, APPLICANT, application_id)
            await service.submit(session, application, {"purpose": "y" * 30, "copies": "0"},
                                 {items["given_name_fa"].id: "نرگس"}, NOW)  # fmt: skip
    problems = refused.value.problems
    assert problems["purpose"].key == "apply.error.maxLength"
    assert problems["copies"].key == "apply.error.minimum"
    assert problems[f"item-{items['taxpayer_id'].id}"].key == "apply.error.required"
    assert f"item-{items['status'].id}" in problems
    async with transaction(sessions) as session:  # nothing of the refusal was kept
        application = await service.owned(session, APPLICANT, application_id)
        assert application.state == "draft"
        assert await repository.tasks_of(session, application_id) == []
    typed[items["status"].id] = "active"
    async with transaction(sessions) as session:
        application = await service.owned(session, APPLICANT, application_id)
        await service.submit(session, application, {"purpose": "loan", "copies": "2"}, typed, NOW)
        code = application.tracking_code
    assert is_valid_tracking_code(code)
    async with transaction(sessions) as session:
        application = await service.owned(session, APPLICANT, application_id)
        assert application.form_values == {"purpose": "loan", "copies": 2}
        tasks = {
            (t.step_key, t.agency): t for t in await repository.tasks_of(session, application_id)
        }
        assert tasks[("review", TAX)].handover_state == "queued"
        assert tasks[("review", TAX)].due_at == NOW + timedelta(days=2)
        assert tasks[("issue", TAX)].handover_state == "none"
        assert tasks[("issue", CIVIL)].state == "waiting"
        events = await repository.timeline_of(session, application_id)
        assert [e.kind for e in events] == ["submitted"]
        notices = (await session.scalars(select(Notice).order_by(Notice.channel))).all()
        assert [(n.channel, n.kind, n.state) for n in notices] == [
            ("email", "submitted", "queued"),
            ("sms", "submitted", "queued"),
        ]
        with pytest.raises(ConflictError):
            await service.submit(
                session, application, {"purpose": "loan", "copies": "2"}, typed, NOW
            )


async def test_nobody_reaches_anothers_application(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    application_id = await _read_and_decide(sessions)
    async with transaction(sessions) as session:
        with pytest.raises(NotFoundError):
            await service.owned(session, OTHER, application_id)
        assert await repository.applications_of(session, OTHER) == []
        assert await repository.consents_of(session, OTHER) == []


async def test_a_service_for_others_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    definition = ServiceDefinition.model_validate({**DEFINITION, "audience": ["business"]})
    async with transaction(sessions) as session:
        with pytest.raises(service.ApplicantNotServedError, match="mandates"):
            await service.start(session, APPLICANT, TAX, definition, NOW)


async def test_the_lookup_shows_no_personal_data_and_stops_at_its_limits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    definition = ServiceDefinition.model_validate({**DEFINITION, "base_data": []})
    async with transaction(sessions) as session:
        application = await service.start(session, APPLICANT, TAX, definition, NOW)
        await service.submit(session, application, {"purpose": "p", "copies": "1"}, {}, NOW)
        code = application.tracking_code
        other = await service.start(session, APPLICANT, TAX, definition, NOW)
        draft_code = other.tracking_code

    async def look(tracking_code: str, identifier: str, address: str = "10.0.0.1") -> Any:
        async with transaction(sessions) as session:
            return await timeline.lookup(
                session, tracking_code=tracking_code, identifier=identifier, address=address,
                now=NOW, per_code=3, per_address=5,
            )  # fmt: skip

    found = await look(code, "۰۴۹۹۳۷۰۸۹۹")  # Persian digits, as typed
    assert found is not None and found.state == "submitted"
    assert [step.kind for step in found.steps] == ["submitted"]
    assert {f.name for f in fields(found)} == {
        "tracking_code",
        "state",
        "agency",
        "service_code",
        "submitted_at",
        "steps",
    }
    assert await look(code, OTHER[2:]) is None  # another's identifier: as if unknown
    assert await look(draft_code, APPLICANT[2:], address="10.0.0.2") is None  # drafts are not shown
    assert await look(code, APPLICANT[2:], address="10.0.0.4") is not None  # the third
    with pytest.raises(timeline.TooManyLookupsError):
        await look(code, APPLICANT[2:], address="10.0.0.5")  # the fourth of this code in the hour
    for _ in range(5):  # unknown codes count too
        assert await look(new_tracking_code(), APPLICANT[2:], address="10.0.0.3") is None
    with pytest.raises(timeline.TooManyLookupsError):
        await look(new_tracking_code(), APPLICANT[2:], address="10.0.0.3")
    async with transaction(sessions) as session:
        events = (await session.scalars(select(TimelineEvent))).all()
        assert {e.kind for e in events} == {"submitted"}
        assert (await session.scalars(select(Task))).all()
