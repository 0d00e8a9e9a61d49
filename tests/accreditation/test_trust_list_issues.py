"""The trust list publisher on both backends, without HTTP: sequence numbers from central's table
``trust_list_issues`` (one per issue, never reused, also by two publishers on one database),
the list served being the one the global configuration names, and a builder that makes a list
other than the one asked for refused."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation.publication import TrustListPublisher, empty_content
from zistboom.central.app import prepare
from zistboom.central.models import TrustListIssue
from zistboom.central.publisher import Publisher
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction
from zistboom.core.errors import ConfigurationError
from zistboom.core.trustlist import TrustList, verify_trust_list


@pytest.fixture
async def central(database_url: str, tmp_path: Path):
    settings = CentralSettings(data_dir=tmp_path / "central", database_url=database_url)
    prepared = await prepare(settings)
    yield settings, prepared
    await prepared.engine.dispose()


async def test_every_issue_takes_the_next_number_recorded_with_its_digest(central) -> None:
    settings, prepared = central
    one = TrustListPublisher(settings, prepared.keys.trust_list_key, prepared.sessions)
    other = TrustListPublisher(settings, prepared.keys.trust_list_key, prepared.sessions)
    issued = await asyncio.gather(*(p.refresh() for p in (one, other, one, other, one)))
    sequences = sorted(signed.document.sequence for signed in issued)
    assert sequences == [1, 2, 3, 4, 5]
    async with transaction(prepared.sessions) as session:
        rows = list((await session.execute(select(TrustListIssue))).scalars())
    by_sequence = {row.sequence: row for row in rows}
    for signed in issued:
        row = by_sequence[signed.document.sequence]
        assert row.digest == signed.digest
        assert (row.issued_at, row.next_update) == (
            signed.document.issued_at,
            signed.document.next_update,
        )
        verify_trust_list(
            signed.token,
            key_fingerprint=one.key_fingerprint,
            instance=settings.instance,
            now=signed.document.issued_at,
            digest=row.digest,
        )


async def test_the_list_served_is_the_one_the_configuration_names(central) -> None:
    settings, prepared = central
    trust_lists = TrustListPublisher(settings, prepared.keys.trust_list_key, prepared.sessions)
    first = await trust_lists.refresh()
    assert trust_lists.current == first  # no configuration follows yet: the newest
    conf = Publisher(
        settings,
        prepared.keys,
        prepared.sessions,
        trust_list=trust_lists.pointer,
        on_issue=lambda document: trust_lists.named(document.trust_list),
    )
    named = await conf.refresh()
    assert named.document.trust_list == trust_lists.pointer()

    second = await trust_lists.refresh()
    # Issued, answering queries, but not served until a configuration names it.
    assert trust_lists.issued.signed == second
    assert trust_lists.current == first
    renamed = await conf.refresh()
    assert renamed.document.trust_list is not None
    assert renamed.document.trust_list.sequence == second.document.sequence
    assert renamed.document.version == named.document.version + 1
    assert trust_lists.current == second


async def test_a_builder_must_make_the_list_asked_for(central) -> None:
    settings, prepared = central

    async def wrong_number(
        session: AsyncSession,
        *,
        instance: str,
        issued_at: datetime,
        next_update: datetime,
        sequence: int,
    ) -> TrustList:
        return await empty_content(
            session,
            instance=instance,
            issued_at=issued_at,
            next_update=next_update,
            sequence=sequence + 1,
        )

    trust_lists = TrustListPublisher(
        settings, prepared.keys.trust_list_key, prepared.sessions, wrong_number
    )
    with pytest.raises(ConfigurationError, match="not 1 of IR-DEMO"):
        await trust_lists.refresh()
    assert trust_lists.pointer() is None
    async with transaction(prepared.sessions) as session:
        assert (await session.execute(select(TrustListIssue))).first() is None
