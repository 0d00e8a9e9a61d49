"""Parallel systems: the report on the seed (its own window, so no other test's services are
in it) lists exactly the seeded pair; the rule's parts (different agencies, same outcome,
audiences that meet, 80 % of inputs) each decide."""

from __future__ import annotations

from datetime import UTC, datetime

from window_site import Site
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.catalogue.parallel import parallel_systems
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.catalogue.service import StoredDefinition

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_the_parallel_report_on_the_seed_is_exactly_the_seeded_pair(site: Site) -> None:
    findings = site.client().get("/api/v1/parallel-systems").json()
    assert len(findings) == 1, findings
    [finding] = findings
    assert {
        (finding["first"]["agency"], finding["first"]["code"]),
        (finding["second"]["agency"], finding["second"]["code"]),
    } == {
        ("IR-DEMO/GOV/16394841376", "no-tax-debt-for-changes"),
        ("IR-DEMO/GOV/60711446972", "tax-clearance"),
    }
    assert finding["overlap"] == round(5 / 6, 4)
    assert len(finding["shared"]) == 5
    assert finding["only_first"] == [
        "IR-DEMO/GOV/16394841376/company-registry/companies#national_id"
    ]
    assert finding["only_second"] == []


def _seeded() -> list[StoredDefinition]:
    seed = load_seed()
    return [
        StoredDefinition(member, definition, NOW)
        for member, definitions in seed.services.items()
        for definition in definitions
    ]


def _pair() -> tuple[StoredDefinition, StoredDefinition]:
    stored = {s.definition.code: s for s in _seeded()}
    return stored["tax-clearance"], stored["no-tax-debt-for-changes"]


def _changed(stored: StoredDefinition, **changes: object) -> StoredDefinition:
    data = stored.definition.model_dump()
    data.update(changes)
    return StoredDefinition(stored.agency, ServiceDefinition.model_validate(data), NOW)


def test_each_part_of_the_rule_decides() -> None:
    first, second = _pair()
    assert len(parallel_systems([first, second])) == 1
    # The same agency: not parallel systems, one agency's two services.
    same_agency = StoredDefinition(first.agency, second.definition, NOW)
    assert parallel_systems([first, same_agency]) == []
    # Another outcome.
    other = _changed(second, outcome={"kind": "registration", "name_fa": "ثبت", "name_en": "R"})
    assert parallel_systems([first, other]) == []
    # Audiences that do not meet.
    assert parallel_systems([_changed(first, audience=["person"]), second]) == []
    # Below 80 %: one more item of its own makes it 5 of 7.
    extra = second.definition.base_data[1].model_dump()
    extra["items"] = ["national_id", "name_fa"]
    below = _changed(second, base_data=[second.definition.base_data[0].model_dump(), extra])
    assert parallel_systems([first, below]) == []


def test_the_seed_has_one_pair_and_nothing_else_near_it() -> None:
    findings = parallel_systems(_seeded())
    assert [(f.first.definition.code, f.second.definition.code) for f in findings] == [
        ("no-tax-debt-for-changes", "tax-clearance")
    ]
