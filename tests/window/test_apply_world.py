"""The apply world starts, and its parts reach each other: the window reads a person from the
civil registry and lists their locker at the hub, both through the operator's gateway."""

from __future__ import annotations

import pytest

from window.apply_world import ApplyWorld
from window.applying import Journey

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(journey: Journey) -> ApplyWorld:
    return journey.world


def test_the_window_reads_the_person_and_lists_their_locker(world: ApplyWorld) -> None:
    person = world.person
    read = world.read_person(person.national_code)
    assert read.status_code == 200, read.text
    assert read.json()["content"]["family_name_fa"] == person.record["family_name_fa"]
    taxpayer = world.read(
        world.taxpayers_service,
        {"tax_file_number": person.taxpayer["tax_file_number"]},
        user_id=person.subject,
    )
    assert taxpayer.status_code == 200, taxpayer.text
    assert taxpayer.json()["content"]["taxpayer_id"] == person.national_code
    locker = world.locker(person.subject)
    assert locker.status_code == 200, locker.text
    documents = locker.json()["documents"]
    assert [d["id"] for d in documents] == [world.document_id]
    assert documents[0]["type"] == "birth-certificate-extract"
    assert documents[0]["issuer"] == world.civil
    assert documents[0]["has_pdf"] is True
    other = world.locker(world.other_person.subject)
    assert other.status_code == 200, other.text
    assert other.json() == {"documents": []}


def test_nothing_of_the_first_person_reaches_a_share_fetch_without_a_share(
    world: ApplyWorld,
) -> None:
    refused = world.fetch_share(world.tax_inbox, "no-such-share")
    assert refused.status_code == 404, refused.text
    assert "X-Road-Error" not in refused.headers
