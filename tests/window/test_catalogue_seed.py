"""The catalogue's seed: at least eight services in at least five ecosystems at the demo's
agencies; every registry item it reads is a field of that seeded base registry, owned by the
member its service id names; every document type is a seeded one (and named in both message
catalogues); one name holds ی, ک and a digit; and the window's database keeps who registered
agencies and issued keys (the audit)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import select

from support import free_port
from window_site import Site, definition, serve
from zistboom.core.database import transaction
from zistboom.core.identifiers import ServiceId
from zistboom.demo.federation import member_id, organisation
from zistboom.documents.types import load_seed_types
from zistboom.registries.seed_schemas import DEFINITIONS
from zistboom.web.i18n import EN, FA
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.database import open_database
from zistboom.window.identity_models import AuditRecord
from zistboom.window.pages import merged_catalogue
from zistboom.window.settings import WindowSettings


def test_the_seed_covers_the_demo() -> None:
    seed = load_seed()
    definitions = [d for ds in seed.services.values() for d in ds]
    assert len(definitions) >= 8
    assert len({d.ecosystem for d in definitions}) >= 5
    agencies = {a.member_id for a in seed.agencies}
    assert set(seed.services) <= agencies
    assert all(m.startswith("IR-DEMO/") for m in agencies)
    names = [d.name_fa for d in definitions]
    assert any("ی" in n and "ک" in n and any(c in "۰۱۲۳۴۵۶۷۸۹" for c in n) for n in names)


def test_every_item_and_document_type_of_the_seed_exists() -> None:
    registries = {
        (member_id(organisation(d.owner)), organisation(d.owner).subsystem, d.code): d.schema
        for d in DEFINITIONS
    }
    types = {t.code for t in load_seed_types()}
    messages = merged_catalogue()
    for definitions in load_seed().services.values():
        for declared in definitions:
            for entry in declared.base_data:
                service = ServiceId.parse(entry.registry)
                key = (str(service.member), service.segments()[3], service.service_code)
                assert key in registries, entry.registry
                fields = registries[key]["properties"]
                assert set(entry.items) <= set(fields), (entry.registry, entry.items)
            needed = [n.document_type for n in declared.documents]
            if declared.outcome.kind == "document":
                needed.append(str(declared.outcome.document_type))
            for code in needed:
                assert code in types, code
                for locale in (FA, EN):
                    assert messages.text(locale, f"catalogue.document_type.{code}")
            for step in declared.steps:
                assert set(step.agencies) <= {a.member_id for a in load_seed().agencies}


def test_registering_an_agency_and_issuing_its_keys_are_audited(site: Site) -> None:
    member, _ = site.new_agency()
    with site.operator() as operator:
        second = operator.post(f"/api/v1/agencies/{member}/keys").json()
        operator.delete(f"/api/v1/agencies/{member}/keys/{second['id']}")

    async def actions() -> list[tuple[str, str]]:
        opened = await open_database(site.settings.resolved_database_url("window"))
        try:
            async with transaction(opened.sessions) as session:
                rows = await session.scalars(
                    select(AuditRecord).where(AuditRecord.agency == member).order_by(AuditRecord.id)
                )
                return [(r.action, r.actor) for r in rows]
        finally:
            await opened.engine.dispose()

    assert asyncio.run(actions()) == [
        ("agency-registered", "operator"),
        ("agency-key-issued", "operator"),
        ("agency-key-issued", "operator"),
        ("agency-key-revoked", "operator"),
    ]


def test_a_second_window_process_on_the_same_database_sees_a_new_definition(
    site: Site, tmp_path: Path
) -> None:
    other = WindowSettings(
        data_dir=tmp_path,
        database_url=site.settings.resolved_database_url("window"),
        port=free_port(),
        central_url=site.settings.central_url,
    )
    for url in serve(other):
        before = httpx.get(f"{url}/services", params={"q": "zanjabil"}).text
        assert "/services/IR-DEMO" not in before.split("<main", 1)[1].split("parallel-systems")[0]
        member, key = site.new_agency()
        body = definition(name_en="Zanjabil permit")
        with site.client(key) as agency:
            assert agency.put(f"/api/v1/services/{body['code']}", json=body).status_code == 201
        after = httpx.get(f"{url}/services", params={"q": "zanjabil", "lang": "en"}).text
        assert f"/services/{member}/{body['code']}" in after
