"""The seeded schemes: every ecosystem has one or two for its services, in Persian and English,
with criteria and the evidence each needs; document issuers have theirs in four ecosystems and
in ``national`` (ZB-STD-007 1.1); seeding twice adds nothing; the trust list holds them all."""

from __future__ import annotations

from collections import Counter

from accreditation.world import T0, World
from zistboom.accreditation import service as acc
from zistboom.accreditation.seed import seed_schemes, seeded_schemes
from zistboom.central import service as central


async def test_every_ecosystem_has_a_scheme_and_seeding_is_idempotent(world: World) -> None:
    added = await world.run(lambda s: seed_schemes(s, at=T0))
    assert added == len(seeded_schemes()) == 27
    assert await world.run(lambda s: seed_schemes(s, at=T0)) == 0
    ecosystems = [e.key for e in await world.run(central.list_ecosystems)]
    listed = await world.run(acc.list_schemes)
    services = [s for s in listed if s.kind != "document-issuer"]
    per_ecosystem = Counter(s.ecosystem for s in services)
    assert set(per_ecosystem) == set(ecosystems) and len(ecosystems) == 13
    assert max(per_ecosystem.values()) <= 2
    issuers = {s.ecosystem: s for s in listed if s.kind == "document-issuer"}
    assert set(issuers) == {"national", "tax", "land", "migrants-and-foreign-nationals", "health"}
    for ecosystem, scheme in issuers.items():
        assert scheme.code == f"{ecosystem}-document-issuer"
        assert list(scheme.levels) == ["basic", "substantial", "high"]
        assert list(scheme.actions) == ["issue"]
        assert "document-signing" in [c.code for c in scheme.criteria]
    assert issuers["national"].name_fa == "صادرکننده اسناد رسمی الکترونیکی"
    codes = {s.code for s in listed}
    for expected in (
        "tax-e-invoice-provider",
        "finance-payment-facilitator",
        "health-e-prescription-platform",
        "cross-border-trade-customs-broker",
        "land-deed-notary-office",
        "energy-energy-trading-platform",
        "supply-chain-logistics-tracking-provider",
        "migrants-foreign-national-employment-agency",
        "human-resources-payroll-service-provider",
    ):
        assert expected in codes
    for scheme in listed:
        assert scheme.name_fa != scheme.name_en and scheme.criteria
        assert all(c.evidence and c.title_fa and c.title_en for c in scheme.criteria)
        assert acc.scheme_status(scheme, T0) == "active"
    index = await world.index(T0)
    assert index.regulated("land", "deed-notary-office", T0) is not None
    assert index.regulated("national", "base-registry", T0) is None
    national = index.regulated("national", "document-issuer", T0)
    assert national is not None and national.code == "national-document-issuer"
