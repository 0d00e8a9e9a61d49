"""Central's service layer on both backends: migrations, seed, audit chain, configuration
versions, and the rules that need no HTTP."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from zistboom.central import audit, operators, service
from zistboom.central.app import prepare
from zistboom.central.models import Ecosystem
from zistboom.central.publisher import Publisher
from zistboom.central.settings import CentralSettings
from zistboom.core import globalconf as gc
from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ConflictError, PermissionDeniedError, ValidationError
from zistboom.core.iran import generate_legal_entity_id

rng = random.Random(7)


@pytest.fixture
async def central(database_url: str, tmp_path: Path):
    settings = CentralSettings(data_dir=tmp_path / "central", database_url=database_url)
    prepared = await prepare(settings)
    yield settings, prepared
    await prepared.engine.dispose()


def member_input(**change: str) -> service.MemberInput:
    values = {
        "member_class": "GOV",
        "code": generate_legal_entity_id(rng),
        "name_fa": "سازمان\u200cنمونه  آزمایشی",
        "name_en": "Sample agency",
        "kind": "agency",
        **change,
    }
    return service.MemberInput(**values)


async def test_first_start_seeds_ecosystems_and_one_admin_key(central) -> None:
    settings, prepared = central
    assert prepared.first_admin_key and prepared.first_admin_key.startswith("zb_")
    again = await prepare(settings)
    assert again.first_admin_key is None  # printed once, on the first start only
    await again.engine.dispose()
    async with transaction(prepared.sessions) as session:
        ecosystems = await service.list_ecosystems(session)
    assert [e.key for e in ecosystems][:2] == ["finance", "tax"]
    assert len(ecosystems) == 13
    phase1 = {e.deadline for e in ecosystems if e.phase == 1}
    assert phase1 == {date(2026, 2, 4)}
    assert {e.deadline for e in ecosystems if e.phase == 2} == {date(2026, 5, 5)}


async def test_member_rules(central) -> None:
    settings, prepared = central
    async with transaction(prepared.sessions) as session:
        member = await service.register_member(
            session, settings.instance, member_input(), actor=operators.SYSTEM
        )
        assert member.identifier.startswith("IR-DEMO/GOV/")
        assert member.name_fa == "سازمان\u200cنمونه آزمایشی"  # normalised on the way in
    with pytest.raises(ConflictError):
        async with transaction(prepared.sessions) as session:
            await service.register_member(
                session, settings.instance, member_input(code=member.code), actor=operators.SYSTEM
            )
    with pytest.raises(ValidationError) as error:
        async with transaction(prepared.sessions) as session:
            await service.register_member(
                session,
                settings.instance,
                member_input(member_class="GOV", kind="ecosystem-operator"),
                actor=operators.SYSTEM,
            )
    assert error.value.field == "member_class"
    auditor = operators.Operator(key_id="a", name="a", role="auditor")
    with pytest.raises(PermissionDeniedError):
        async with transaction(prepared.sessions) as session:
            await service.register_member(session, settings.instance, member_input(), actor=auditor)
    with pytest.raises(ValidationError) as error:
        async with transaction(prepared.sessions) as session:
            found = await service.member_by_id(session, member.identifier, field="m")
            await service.add_subsystem(session, found, "../etc", actor=operators.SYSTEM)
    assert error.value.field == "code"


async def test_audit_chain_detects_edits_and_gaps(central) -> None:
    settings, prepared = central
    async with transaction(prepared.sessions) as session:
        for _ in range(3):
            await service.register_member(
                session, settings.instance, member_input(), actor=operators.SYSTEM
            )
    async with transaction(prepared.sessions) as session:
        result = await audit.verify(session, actor=operators.SYSTEM)
    assert result.ok and result.records == 4  # the first admin key, then three members
    async with transaction(prepared.sessions) as session:
        await session.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 3"))
    async with transaction(prepared.sessions) as session:
        result = await audit.verify(session, actor=operators.SYSTEM)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "changed" in (result.problem or "")
    async with transaction(prepared.sessions) as session:
        await session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    async with transaction(prepared.sessions) as session:
        result = await audit.verify(session, actor=operators.SYSTEM)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "missing" in (result.problem or "")


async def test_configuration_version_follows_content(central, tmp_path: Path) -> None:
    settings, prepared = central
    publisher = Publisher(settings, prepared.keys, prepared.sessions)
    first = await publisher.refresh()
    again = await publisher.refresh()
    assert again.document.version == first.document.version
    assert again.document.generated_at >= first.document.generated_at
    async with transaction(prepared.sessions) as session:
        await service.register_member(
            session, settings.instance, member_input(), actor=operators.SYSTEM
        )
    changed = await publisher.refresh()
    assert changed.document.version == first.document.version + 1
    conf = gc.verify_global_conf(changed.token, publisher.anchor, now=utc_now())
    assert conf.version == changed.document.version
    async with transaction(prepared.sessions) as session:
        tax = await session.get(Ecosystem, "tax")
        assert tax is not None
        tax.name_en = "Taxation"
    assert (await publisher.refresh()).document.version == changed.document.version + 1


async def test_configuration_is_reissued_when_older_than_the_refresh_interval(central) -> None:
    settings, prepared = central
    settings.conf_refresh_seconds = 0
    publisher = Publisher(settings, prepared.keys, prepared.sessions)
    first = await publisher.current()
    second = await publisher.current()
    assert second.token != first.token
    assert second.document.version == first.document.version
    assert second.document.expires_at > first.document.expires_at
