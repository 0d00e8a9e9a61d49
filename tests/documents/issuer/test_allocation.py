"""Status-list entries: every document gets its own, none is handed out twice (concurrently,
across a restart, after a failure), consecutive ones are not neighbours, and a full list is
followed by a new one."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

from sqlalchemy import update

from documents.issuer.issuer_world import T0
from zistboom.core.database import transaction
from zistboom.documents.issuer import allocation, repository
from zistboom.documents.issuer.database import open_database
from zistboom.documents.issuer.models import StatusList
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.statuslist import MIN_SIZE


def _settings(tmp_path: Path, database_url: str) -> IssuerSettings:
    return IssuerSettings(data_dir=tmp_path / "issuer", database_url=database_url)


async def _allocate(sessions, size: int = MIN_SIZE) -> allocation.Entry:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        return await allocation.allocate(
            session, credential_id=f"urn:uuid:{uuid.uuid4()}", size=size, at=T0
        )


async def test_concurrent_allocations_are_unique_and_not_sequential(
    tmp_path: Path, database_url: str
) -> None:
    opened = await open_database(_settings(tmp_path, database_url))
    try:
        entries = await asyncio.gather(*(_allocate(opened.sessions) for _ in range(200)))
        async with transaction(opened.sessions) as session:
            status_list = await repository.open_list(session)
            assert status_list is not None
            recorded = await repository.allocations_of_list(session, status_list.number)
    finally:
        await opened.engine.dispose()
    places = [(e.list_id, e.status_index) for e in entries]
    assert len(set(places)) == 200, "an index was handed out twice"
    assert {e.list_id for e in entries} == {status_list.list_id}
    assert status_list.allocated == 200
    # In the order handed out, the indexes follow the list's permutation, not 0, 1, 2, ...
    in_order = [a.status_index for a in recorded]
    assert [a.counter for a in recorded] == list(range(200))
    permutation = allocation.permutation_of(status_list)
    assert in_order == [permutation.index(c) for c in range(200)]
    steps = {later - earlier for earlier, later in itertools.pairwise(in_order)}
    assert steps != {1}, "consecutive documents got neighbouring indexes"
    assert all(0 <= i < MIN_SIZE for i in in_order)


async def test_allocation_continues_after_a_restart(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url)
    opened = await open_database(settings)
    first = [await _allocate(opened.sessions) for _ in range(20)]
    await opened.engine.dispose()

    reopened = await open_database(settings)
    try:
        second = [await _allocate(reopened.sessions) for _ in range(20)]
    finally:
        await reopened.engine.dispose()
    places = {(e.list_id, e.status_index) for e in first + second}
    assert len(places) == 40
    assert {e.list_id for e in first + second} == {first[0].list_id}


async def test_an_index_taken_in_a_failed_transaction_is_not_recorded_and_the_next_is_fresh(
    tmp_path: Path, database_url: str
) -> None:
    opened = await open_database(_settings(tmp_path, database_url))
    try:
        kept = await _allocate(opened.sessions)
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        try:
            async with transaction(opened.sessions) as session:
                await allocation.allocate(
                    session, credential_id=credential_id, size=MIN_SIZE, at=T0
                )
                raise RuntimeError("the caller fails before committing")
        except RuntimeError:
            pass
        after = await _allocate(opened.sessions)
        async with transaction(opened.sessions) as session:
            assert await repository.allocation_of(session, credential_id) is None
            status_list = await repository.list_by_id(session, kept.list_id)
            assert status_list is not None and status_list.allocated == 2
    finally:
        await opened.engine.dispose()
    assert after.status_index != kept.status_index


async def test_a_full_list_is_followed_by_a_new_one(tmp_path: Path, database_url: str) -> None:
    opened = await open_database(_settings(tmp_path, database_url))
    try:
        first = await _allocate(opened.sessions)
        # Fill the list up to its last entry (131,071 allocations would take minutes here).
        async with transaction(opened.sessions) as session:
            await session.execute(
                update(StatusList)
                .where(StatusList.list_id == first.list_id)
                .values(allocated=MIN_SIZE - 1)
            )
        last = await _allocate(opened.sessions)
        following = await _allocate(opened.sessions)
        async with transaction(opened.sessions) as session:
            full = await repository.list_by_id(session, first.list_id)
            new = await repository.list_by_id(session, following.list_id)
    finally:
        await opened.engine.dispose()
    assert last.list_id == first.list_id
    assert full is not None and full.allocated == full.size == MIN_SIZE
    assert following.list_id != first.list_id
    assert new is not None and new.allocated == 1 and new.size == MIN_SIZE
    assert allocation.permutation_of(full).index(MIN_SIZE - 1) == last.status_index
