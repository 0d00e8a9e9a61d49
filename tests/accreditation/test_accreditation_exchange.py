"""Accreditation enforced by the exchange (issue 8, acceptance 4), over real processes: central
(with the accreditation system), three gateways and a backend, on SQLite and PostgreSQL.

Gateway B's service ``invoices`` lets two clients in, each by a right that requires an
accreditation to provide ``tax:e-invoice-provider`` at level substantial. The accredited client
(a company, accredited through an application decided by an assessor) gets the backend's
answer; the other (an NGO without one) is refused with ``AccreditationRequired`` naming the
requirement; after the accredited client's accreditation is suspended, its next calls are
refused as soon as gateway B holds the new trust list — within one configuration refresh (the
test measures the delay and prints it) — and a right with no requirement still works.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from federation import Federation, GatewayProcess, start_federation

A = "/api/v1/accreditation"
SCHEME = {
    "ecosystem": "tax",
    "kind": "e-invoice-test-provider",
    "name_fa": "آزمون ارائهٔ صورتحساب",
    "name_en": "E-invoice test provider",
    "description_fa": "آزمون",
    "description_en": "Test",
    "validity_days": 365,
    "actions": ["provide"],
    "criteria": [
        {"code": "security", "title_fa": "امنیت", "title_en": "Security", "evidence": "ISMS"}
    ],
}
REQUIREMENT = "tax:e-invoice-test-provider:substantial"


def api_key(fed: Federation, role: str, member_id: str | None) -> tuple[str, str]:
    with fed.admin() as admin:
        made = admin.post(
            "/api/v1/api-keys", json={"name": role, "role": role, "member_id": member_id}
        )
    assert made.status_code == 201, made.text
    return made.json()["key_id"], made.json()["secret"]


def client_for(fed: Federation, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=fed.central.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def accredit(fed: Federation, member_id: str, scheme: str, level: str) -> str:
    """An application by the member's own key, reviewed and decided by an assessor of another
    member: the accreditation's id."""
    assessor_member = fed.add_member("Assessment body", [], member_class="COM")
    assessor_key, assessor_secret = api_key(fed, "assessor", assessor_member)
    _, applicant_secret = api_key(fed, "member", member_id)
    with fed.admin() as admin:
        granted = admin.post(
            f"{A}/assessors",
            json={"key_id": assessor_key, "scheme": scheme, "depth": 0, "reason": "appointed"},
        )
        assert granted.status_code == 201, granted.text
    with (
        client_for(fed, applicant_secret) as applicant,
        client_for(fed, assessor_secret) as assessor,
    ):
        submitted = applicant.post(
            f"{A}/applications",
            json={"scheme": scheme, "member_id": member_id, "level": level, "scope": "member",
                  "subject": member_id},
        )  # fmt: skip
        assert submitted.status_code == 201, submitted.text
        app_id = submitted.json()["id"]
        uploaded = applicant.post(
            f"{A}/applications/{app_id}/evidence",
            params={"criterion": "security", "filename": "isms.pdf"},
            content=b"%PDF-1.7 ISMS certificate",
            headers={"Content-Type": "application/pdf"},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert assessor.post(f"{A}/applications/{app_id}/start-review", json={}).status_code == 200
        reviewed = assessor.post(
            f"{A}/applications/{app_id}/criteria/security/review", json={"outcome": "met"}
        )
        assert reviewed.status_code == 201, reviewed.text
        decided = assessor.post(
            f"{A}/applications/{app_id}/decision",
            json={"outcome": "granted", "reasons": "all criteria met"},
        )
        assert decided.status_code == 201, decided.text
    return str(decided.json()["decision"]["accreditation"])


@pytest.fixture(scope="module")
def fed(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    federation = start_federation(
        tmp_path_factory.mktemp("federation"),
        backend_database,
        central_env={"ZB_CONF_REFRESH_SECONDS": "1"},
    )
    try:
        yield federation
    finally:
        federation.stop()


def now() -> str:
    """This moment in RFC 3339 (UTC, microseconds), a little after the last change, so that
    the moment falls between two steps of the history."""
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.01)
    return moment


def call(gateway: GatewayProcess, client: str, service: str) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/r1/{service}/persons/0499370899",
        headers={"X-Road-Client": client},
        timeout=30,
    )


def test_an_access_right_that_requires_an_accreditation(fed: Federation) -> None:
    company = fed.add_member("E-invoice company", ["invoicing"], member_class="COM")
    ngo = fed.add_member("Unaccredited body", ["portal"], member_class="NGO")
    provider = fed.add_member("Tax agency", ["taxpayers"])
    with fed.admin() as admin:
        made = admin.post(f"{A}/schemes", json=SCHEME)
        assert made.status_code == 201, made.text
        scheme = made.json()["code"]
    before = now()
    acc_id = accredit(fed, company, scheme, "high")
    granted_at = now()

    gw_a = fed.add_gateway("a", company)
    gw_c = fed.add_gateway("c", ngo)
    gw_b = fed.add_gateway("b", provider)
    backend = fed.start_backend()
    gw_a.cli("client", "add", f"{company}/invoicing")
    gw_c.cli("client", "add", f"{ngo}/portal")
    gw_b.cli("client", "add", f"{provider}/taxpayers")
    gw_b.cli("service", "add", f"{provider}/taxpayers", "invoices", backend)
    gw_b.cli("service", "add", f"{provider}/taxpayers", "open", backend)
    for client in (f"{company}/invoicing", f"{ngo}/portal"):
        granted = gw_b.cli(
            "access", "grant", f"{provider}/taxpayers", "invoices", client,
            "--require-accreditation", REQUIREMENT,
        )  # fmt: skip
        assert "(substantial)" in granted.stdout
        gw_b.cli("access", "grant", f"{provider}/taxpayers", "open", client)
    for gateway in (gw_a, gw_c, gw_b):
        gateway.start()
    service = f"{provider}/taxpayers/invoices"

    accredited = call(gw_a, f"{company}/invoicing", service)
    assert accredited.status_code == 200, accredited.text
    refused = call(gw_c, f"{ngo}/portal", service)
    assert refused.status_code == 403, refused.text
    assert refused.headers["x-road-error"] == "Server.ServerProxy.AccreditationRequired"
    message = refused.json()["message"]
    assert "tax:e-invoice-test-provider at level substantial or higher" in message
    assert f"{ngo}/portal holds no" in message
    assert call(gw_c, f"{ngo}/portal", f"{provider}/taxpayers/open").status_code == 200

    with fed.admin() as admin:
        suspended = admin.post(
            f"{A}/accreditations/{acc_id}/suspend", json={"reason": "audit finding"}
        )
        assert suspended.status_code == 200, suspended.text
    began = time.monotonic()
    deadline = began + 60
    while True:
        answer = call(gw_a, f"{company}/invoicing", service)
        if answer.status_code == 403:
            break
        assert answer.status_code == 200, answer.text
        assert time.monotonic() < deadline, "the suspension did not reach gateway B in 60 s"
        time.sleep(0.1)
    delay = time.monotonic() - began
    print(f"suspension refused at gateway B {delay:.2f} s after it was made")
    assert answer.headers["x-road-error"] == "Server.ServerProxy.AccreditationRequired"
    assert f"accreditation {acc_id} is suspended" in answer.json()["message"]
    assert "audit finding" in answer.json()["message"]
    assert call(gw_a, f"{company}/invoicing", f"{provider}/taxpayers/open").status_code == 200
    ready = httpx.get(f"{gw_b.url}/ready", timeout=10).json()
    assert isinstance(ready["trust_list_sequence"], int)

    # Reinstated, then revoked; central's trust-registry answers for a moment between each
    # step follow the history (the published list carries it all).
    suspended_at = now()
    with fed.admin() as admin:
        for action, reason in (("reinstate", "finding closed"), ("revoke", "licence lost")):
            changed = admin.post(f"{A}/accreditations/{acc_id}/{action}", json={"reason": reason})
            assert changed.status_code == 200, changed.text
            if action == "reinstate":
                reinstated_at = now()
    expected = [
        (before, False, "holds no"),
        (granted_at, True, f"holds accreditation {acc_id}"),
        (suspended_at, False, "is suspended"),
        (reinstated_at, True, f"holds accreditation {acc_id}"),
        (now(), False, "is revoked"),
    ]
    for moment, authorized, words in expected:
        answered = httpx.post(
            f"{fed.central.url}/trqp/authorization",
            json={
                "entity_id": f"{company}/invoicing",
                "authority_id": "IR-DEMO",
                "action": "provide",
                "resource": "tax:e-invoice-test-provider",
                "context": {"time": moment},
            },
            timeout=30,
        )
        assert answered.status_code == 200, answered.text
        body = answered.json()
        assert body["authorized"] is authorized, (moment, body)
        asked = datetime.fromisoformat(body["time_requested"])
        assert asked == datetime.fromisoformat(moment), body
        assert words in body["message"], (moment, body)
