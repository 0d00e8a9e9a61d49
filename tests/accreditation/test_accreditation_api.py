"""The accreditation API and CLI against a real central process on both backends: the flow over
HTTP with the operators' own keys, problem details naming the field, the evidence digest round
trip, the conflict rule's 403, a signed recognition, the audit log, and ``zistboom
accreditation`` talking to the same central."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import subprocess
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from central_process import ZISTBOOM, CentralProcess
from trust_list_central import Published, published, wait_for
from zistboom.core.crypto import jws, keys
from zistboom.core.iran import generate_legal_entity_id

rng = random.Random()
A = "/api/v1/accreditation"
KIND = {"GOV": "agency", "COM": "company", "NGO": "public-body"}


def problem(response: httpx.Response, status: int) -> tuple[str, set[str]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    return body["detail"], {e["field"] for e in body.get("errors", [])}


def member(central: CentralProcess, member_class: str, *subsystems: str) -> str:
    with central.admin as client:
        created = client.post(
            "/api/v1/members",
            json={
                "member_class": member_class,
                "kind": KIND[member_class],
                "code": generate_legal_entity_id(rng),
                "name_fa": "عضو آزمایشی",
                "name_en": "Test member",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        for code in subsystems:
            path = f"/api/v1/members/{body['member_class']}/{body['code']}/subsystems"
            assert client.post(path, json={"code": code}).status_code == 201
    return str(body["id"])


def api_key(central: CentralProcess, role: str, member_id: str) -> tuple[str, str]:
    with central.admin as client:
        made = client.post(
            "/api/v1/api-keys", json={"name": role, "role": role, "member_id": member_id}
        )
    assert made.status_code == 201, made.text
    return made.json()["key_id"], made.json()["secret"]


SCHEME = {
    "ecosystem": "tax",
    "kind": "e-invoice-provider",
    "name_fa": "معتمد صدور صورتحساب الکترونیکی",
    "name_en": "E-invoice provider",
    "description_fa": "آزمون",
    "description_en": "Test",
    "validity_days": 365,
    "actions": ["provide", "issue"],
    "criteria": [
        {"code": "security", "title_fa": "امنیت", "title_en": "Security", "evidence": "ISMS"},
        {"code": "continuity", "title_fa": "تداوم", "title_en": "Continuity", "evidence": "BCP"},
    ],
}


@pytest.fixture(scope="module")
def scheme(central: tuple[CentralProcess, keys.PrivateKey]) -> str:
    proc, _ = central
    with proc.admin as client:
        made = client.post(f"{A}/schemes", json=SCHEME)
    assert made.status_code == 201, made.text
    return str(made.json()["code"])


def test_bad_input_is_a_problem_naming_the_field(
    central: tuple[CentralProcess, keys.PrivateKey], scheme: str
) -> None:
    proc, _ = central
    with proc.admin as client:
        assert problem(client.post(f"{A}/schemes", json={**SCHEME, "validity_days": 0}), 422)[
            1
        ] == {"validity_days"}
        assert (
            "colour" in problem(client.post(f"{A}/schemes", json={**SCHEME, "colour": 1}), 422)[1]
        )
        assert problem(client.post(f"{A}/schemes", json={**SCHEME, "ecosystem": "mars"}), 404)[
            1
        ] == {"ecosystem"}
        assert problem(client.post(f"{A}/schemes", json=SCHEME), 409)[1] == {"code"}
        bad_level = {"scheme": scheme, "member_id": "IR-DEMO/GOV/10380284790", "level": "ultra"}
        assert problem(client.post(f"{A}/applications", json=bad_level), 422)[1] == {"level"}
        missing = {"scheme": scheme, "member_id": "IR-DEMO/GOV/10380284790", "level": "basic"}
        assert problem(client.post(f"{A}/applications", json=missing), 404)[1] == {"member_id"}
        assert problem(client.get(f"{A}/accreditations/acc-x"), 422)[1] == {"acc_id"}
        assert problem(client.get(f"{A}/accreditations", params={"at": "2026-01-01T00:00"}), 422)[
            1
        ] == {"at"}
        assert problem(client.get(f"{A}/accreditations/acc-999999"), 404)[0].startswith("no ")
    assert problem(httpx.post(f"{proc.url}{A}/schemes", json=SCHEME), 401)[1] == {"authorization"}


def test_an_application_over_http_from_submission_to_suspension(
    central: tuple[CentralProcess, keys.PrivateKey], scheme: str
) -> None:
    proc, _ = central
    provider = member(proc, "NGO", "invoicing")
    _, applicant_secret = api_key(proc, "member", provider)
    firm = member(proc, "COM")
    assessor_id, assessor_secret = api_key(proc, "assessor", firm)
    own_assessor_id, own_assessor_secret = api_key(proc, "assessor", provider)
    applicant = proc.client(applicant_secret)
    assessor = proc.client(assessor_secret)

    with proc.admin as admin:
        granted = admin.post(
            f"{A}/assessors",
            json={"key_id": assessor_id, "scheme": scheme, "depth": 0, "reason": "appointed"},
        )
        assert granted.status_code == 201, granted.text
        assert granted.json()["member_id"] == firm and granted.json()["status"] == "granted"
        own = {"key_id": own_assessor_id, "scheme": scheme, "depth": 0, "reason": "appointed"}
        assert admin.post(f"{A}/assessors", json=own).status_code == 201

    submitted = applicant.post(
        f"{A}/applications",
        json={
            "scheme": scheme,
            "member_id": provider,
            "level": "substantial",
            "scope": "subsystem",
            "subject": f"{provider}/invoicing",
        },
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    assert submitted.json()["status"] == "submitted"

    # Evidence: the digest is taken, shown, checked on arrival and on the way out.
    files = {"security": b"%PDF-1.7 ISMS certificate\n" * 100, "continuity": b"plan \x00\xff"}
    for criterion, content in files.items():
        digest = hashlib.sha256(content).hexdigest()
        uploaded = applicant.post(
            f"{A}/applications/{app_id}/evidence",
            params={"criterion": criterion, "filename": f"{criterion}.pdf", "sha256": digest},
            content=content,
            headers={"Content-Type": "application/pdf"},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["sha256"] == digest and uploaded.json()["size"] == len(content)
        fetched = applicant.get(f"{A}/applications/{app_id}/evidence/{uploaded.json()['id']}")
        assert fetched.status_code == 200 and fetched.content == content
        assert fetched.headers["content-type"] == "application/pdf"
        assert fetched.headers["repr-digest"] == (
            f"sha-256=:{base64.b64encode(hashlib.sha256(content).digest()).decode()}:"
        )
    wrong = applicant.post(
        f"{A}/applications/{app_id}/evidence",
        params={"criterion": "security", "filename": "x.pdf", "sha256": "0" * 64},
        content=b"changed on the way",
        headers={"Content-Type": "application/pdf"},
    )
    assert problem(wrong, 422)[1] == {"sha256"}
    untyped = applicant.post(
        f"{A}/applications/{app_id}/evidence",
        params={"criterion": "security", "filename": "x.pdf"},
        content=b"x",
        headers={"Content-Type": ""},
    )
    assert problem(untyped, 422)[1] == {"content-type"}
    unknown = applicant.post(
        f"{A}/applications/{app_id}/evidence",
        params={"criterion": "honesty", "filename": "x.pdf"},
        content=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert problem(unknown, 422)[1] == {"criterion"}
    too_big = applicant.post(
        f"{A}/applications/{app_id}/evidence",
        params={"criterion": "security", "filename": "big.bin"},
        content=b"\0" * (10 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert problem(too_big, 422)[1] == {"content"}

    # The applicant's own assessor may not touch it; the other firm's reviews and decides.
    conflict = proc.client(own_assessor_secret).post(
        f"{A}/applications/{app_id}/start-review", json={}
    )
    detail, _ = problem(conflict, 403)
    assert "conflict of interest" in detail and conflict.json()["conflict"]["applicant"] == provider
    assert problem(applicant.post(f"{A}/applications/{app_id}/start-review", json={}), 403)
    assert assessor.post(f"{A}/applications/{app_id}/start-review", json={}).status_code == 200
    for criterion in files:
        reviewed = assessor.post(
            f"{A}/applications/{app_id}/criteria/{criterion}/review", json={"outcome": "met"}
        )
        assert reviewed.status_code == 201, reviewed.text
    decided = assessor.post(
        f"{A}/applications/{app_id}/decision",
        json={"outcome": "granted", "reasons": "all met", "conditions": ["yearly audit"]},
    )
    assert decided.status_code == 201, decided.text
    decision = decided.json()["decision"]
    assert decision["assessor_key"] == assessor_id and decision["authorisation"].startswith("asr-")
    acc_id = decision["accreditation"]
    assert [e["status"] for e in decided.json()["events"]] == [
        "submitted",
        "under-review",
        "decided",
    ]

    shown = httpx.get(f"{proc.url}{A}/accreditations/{acc_id}").json()
    assert shown["status"] == "active" and shown["subject"] == f"{provider}/invoicing"
    assert shown["scope"] == "subsystem" and shown["conditions"] == ["yearly audit"]
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    assert (
        httpx.get(f"{proc.url}{A}/accreditations/{acc_id}", params={"at": later}).json()["status"]
        == "expired"
    )

    with proc.admin as admin:
        suspended = admin.post(f"{A}/accreditations/{acc_id}/suspend", json={"reason": "audit"})
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"
        again = admin.post(f"{A}/accreditations/{acc_id}/suspend", json={"reason": "audit"})
        assert "is suspended" in problem(again, 409)[0]
        assert problem(admin.post(f"{A}/accreditations/{acc_id}/revoke", json={}), 422)[1] == {
            "reason"
        }
        records = admin.get("/api/v1/audit", params={"limit": 1000}).json()
        assert admin.get("/api/v1/audit/verify").json()["ok"] is True
    listed = httpx.get(f"{proc.url}{A}/accreditations", params={"status": "suspended"}).json()
    assert acc_id in [a["id"] for a in listed]
    assert [h["status"] for h in listed[[a["id"] for a in listed].index(acc_id)]["history"]] == [
        "granted",
        "suspended",
    ]
    by_target = {(r["action"], r["target"]) for r in records}
    assert ("accreditation.grant", acc_id) in by_target
    assert ("accreditation.suspend", acc_id) in by_target
    assert ("accreditation.application.decide", app_id) in by_target
    # The applicant sees its own application; another member's key does not.
    assert applicant.get(f"{A}/applications/{app_id}").status_code == 200
    _, stranger = api_key(proc, "member", member(proc, "GOV"))
    assert problem(proc.client(stranger).get(f"{A}/applications/{app_id}"), 403)


def test_a_recognition_is_signed_with_the_trust_list_key(
    central: tuple[CentralProcess, keys.PrivateKey],
) -> None:
    proc, key = central
    body = {**SCHEME, "ecosystem": "finance", "kind": "payment-facilitator"}
    with proc.admin as admin:
        assert admin.post(f"{A}/schemes", json=body).status_code == 201
        until = (datetime.now(UTC) + timedelta(days=365)).isoformat()
        made = admin.post(
            f"{A}/recognitions",
            json={
                "ecosystem": "cross-border-trade",
                "scheme": "finance-payment-facilitator",
                "kinds": ["payment-facilitator"],
                "level_mapping": {"high": "substantial"},
                "valid_until": until,
                "reason": "equivalent",
            },
        )
        assert made.status_code == 201, made.text
        rec_id = made.json()["id"]
        bad = admin.post(
            f"{A}/recognitions/{rec_id}/versions",
            json={
                "kinds": ["payment-facilitator"],
                "level_mapping": {"high": "supreme"},
                "valid_until": until,
                "reason": "x",
            },
        )
        assert problem(bad, 422)[1] == {"level_mapping.high"}
        revoked = admin.post(f"{A}/recognitions/{rec_id}/revoke", json={"reason": "diverged"})
        assert revoked.status_code == 200 and revoked.json()["versions"][0]["status"] == "revoked"
    version = made.json()["versions"][0]
    header, payload = jws.verify_jws(version["statement"], key.public_key())
    assert header["typ"] == "zb-recognition+jws"
    terms = json.loads(payload)
    assert terms["id"] == rec_id and terms["level_mapping"] == {"high": "substantial"}
    assert terms["scheme_resource"] == "finance:payment-facilitator"


def test_the_cli_talks_to_central_with_an_api_key(
    central: tuple[CentralProcess, keys.PrivateKey], scheme: str
) -> None:
    proc, _ = central
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
    env["ZB_API_KEY"] = proc.admin_key

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ZISTBOOM, "accreditation", "--central", proc.url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    shown = cli("scheme", "show", scheme)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["resource"] == "tax:e-invoice-provider"
    firm = member(proc, "COM")
    key_id, _ = api_key(proc, "assessor", firm)
    granted = cli("assessor", "grant", "--key", key_id, "--scheme", scheme, "--reason", "cli")
    assert granted.returncode == 0, granted.stderr
    asr_id = json.loads(granted.stdout)["id"]
    listed = cli("assessor", "list", "--key", key_id)
    assert [a["id"] for a in json.loads(listed.stdout)] == [asr_id]
    refused = cli("assessor", "grant", "--key", key_id, "--scheme", scheme, "--reason", "again")
    assert refused.returncode == 1 and "already holds authority" in refused.stderr
    assert "field key_id" in refused.stderr
    withdrawn = cli("assessor", "withdraw", asr_id, "--reason", "done")
    assert withdrawn.returncode == 0 and json.loads(withdrawn.stdout)[0]["status"] == "withdrawn"
    env.pop("ZB_API_KEY")
    anonymous = cli("scheme", "retire", scheme, "--reason", "x")
    assert anonymous.returncode == 1 and "HTTP 401" in anonymous.stderr


def test_the_openapi_document_lists_the_accreditation_routes(
    central: tuple[CentralProcess, keys.PrivateKey],
) -> None:
    proc, _ = central
    spec = httpx.get(f"{proc.url}/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith(A)}
    for path in (
        "/schemes",
        "/applications/{app_id}/evidence",
        "/applications/{app_id}/decision",
        "/assessors/{asr_id}/delegations",
        "/accreditations/{acc_id}/reinstate",
        "/recognitions/{rec_id}/versions",
    ):
        assert A + path in paths
    tags = {tag for p in paths for op in spec["paths"][p].values() for tag in op.get("tags", [])}
    assert tags == {"accreditation"}


def test_a_national_scheme_accredits_document_issuers_in_the_trust_list_and_trqp(
    central: tuple[CentralProcess, keys.PrivateKey],
) -> None:
    # ZB-STD-007 1.1: `national` is no ecosystem of central's, yet a scheme may belong to it,
    # and the trust list and the trust-registry queries treat it as any ecosystem.
    proc, _ = central
    national = {
        **SCHEME,
        "ecosystem": "national",
        "kind": "document-issuer",
        "name_fa": "صادرکننده اسناد رسمی الکترونیکی",
        "name_en": "Issuer of official electronic documents",
        "actions": ["issue"],
    }
    with proc.admin as admin:
        made = admin.post(f"{A}/schemes", json=national)
        assert made.status_code == 201, made.text
        assert (made.json()["code"], made.json()["ecosystem"]) == (
            "national-document-issuer",
            "national",
        )
        detail, fields = problem(
            admin.post(f"{A}/schemes", json={**national, "ecosystem": "nowhere"}), 404
        )
        assert fields == {"ecosystem"} and "'national'" in detail
        listed = admin.get(f"{A}/schemes", params={"ecosystem": "national"}).json()
        assert [s["code"] for s in listed] == ["national-document-issuer"]

    agency = member(proc, "GOV", "documents")
    _, applicant_secret = api_key(proc, "member", agency)
    assessor_id, assessor_secret = api_key(proc, "assessor", member(proc, "COM"))
    applicant, assessor = proc.client(applicant_secret), proc.client(assessor_secret)
    with proc.admin as admin:
        authority = {
            "key_id": assessor_id,
            "scheme": "national-document-issuer",
            "depth": 0,
            "reason": "appointed",
        }
        assert admin.post(f"{A}/assessors", json=authority).status_code == 201
    submitted = applicant.post(
        f"{A}/applications",
        json={"scheme": "national-document-issuer", "member_id": agency, "level": "high"},
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    for criterion in ("security", "continuity"):
        uploaded = applicant.post(
            f"{A}/applications/{app_id}/evidence",
            params={"criterion": criterion, "filename": f"{criterion}.pdf"},
            content=b"%PDF-1.7 " + criterion.encode(),
            headers={"Content-Type": "application/pdf"},
        )
        assert uploaded.status_code == 201, uploaded.text
    assert assessor.post(f"{A}/applications/{app_id}/start-review", json={}).status_code == 200
    for criterion in ("security", "continuity"):
        reviewed = assessor.post(
            f"{A}/applications/{app_id}/criteria/{criterion}/review", json={"outcome": "met"}
        )
        assert reviewed.status_code == 201, reviewed.text
    decided = assessor.post(
        f"{A}/applications/{app_id}/decision", json={"outcome": "granted", "reasons": "met"}
    )
    assert decided.status_code == 201, decided.text
    acc_id = decided.json()["decision"]["accreditation"]

    def listed_in_trust_list() -> Published | None:
        current = published(proc)
        schemes = {s.code: s for s in current.trust_list.schemes}
        held = [a.id for a in current.trust_list.accreditations]
        return current if "national-document-issuer" in schemes and acc_id in held else None

    current = wait_for(listed_in_trust_list, seconds=30, what="the national scheme listed")
    [scheme] = [s for s in current.trust_list.schemes if s.code == "national-document-issuer"]
    assert scheme.resource == "national:document-issuer" and scheme.actions == ["issue"]

    def ask(entity: str, action: str) -> dict[str, object]:
        body = {
            "entity_id": entity,
            "authority_id": "IR-DEMO",
            "action": action,
            "resource": "national:document-issuer",
        }
        answer = httpx.post(f"{proc.url}/trqp/authorization", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        result: dict[str, object] = answer.json()
        assert result["trust_list_sequence"] >= current.trust_list.sequence  # type: ignore[operator]
        return result

    assert ask(agency, "issue")["authorized"] is True
    assert ask(f"{agency}/documents", "issue")["authorized"] is True
    assert ask(agency, "provide")["authorized"] is False
    stranger = ask(member(proc, "GOV"), "issue")
    assert stranger["authorized"] is False and "national:document-issuer" in str(
        stranger["message"]
    )
