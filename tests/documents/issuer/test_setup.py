"""``zistboom documents issuer init`` against a real central: the document-signing key made in
the data directory (0600) and never sent, a ``doc`` certificate naming the member, the chain to
the instance CA the global configuration lists, and refusals that leave no issuer behind."""

from __future__ import annotations

import random
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central_process import ZISTBOOM, CentralProcess, start_central, stop_central
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys, x509
from zistboom.core.iran import generate_legal_entity_id
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.signing import DocumentSigner

rng = random.Random()
HUB_CODE = generate_legal_entity_id(rng)


@pytest.fixture(scope="module")
def central(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralProcess]:
    process = start_central(tmp_path_factory.mktemp("central"), backend_database)
    try:
        yield process
    finally:
        stop_central(process.process)


def add_member(central: CentralProcess) -> str:
    code = generate_legal_entity_id(rng)
    with central.admin as client:
        created = client.post(
            "/api/v1/members",
            json={
                "member_class": "GOV",
                "code": code,
                "name_fa": "ثبت احوال آزمایشی",
                "name_en": "Test civil registration",
                "kind": "agency",
            },
        )
        assert created.status_code == 201, created.text
        added = client.post(f"/api/v1/members/GOV/{code}/subsystems", json={"code": "issuer"})
        assert added.status_code == 201, added.text
    return str(created.json()["id"])


def doc_token(central: CentralProcess, member_id: str) -> str:
    with central.admin as client:
        answer = client.post(
            "/api/v1/enrolment-tokens", json={"member_id": member_id, "kind": "doc"}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def anchor_file(central: CentralProcess, folder: Path) -> Path:
    path = folder / "anchor.json"
    path.write_text(httpx.get(f"{central.url}/anchor", timeout=10).text)
    return path


def issuer_init(
    central: CentralProcess, data_dir: Path, *, member_id: str, token: str, anchor: Path
) -> subprocess.CompletedProcess[str]:
    instance = member_id.split("/")[0]
    return subprocess.run(
        [
            ZISTBOOM, "documents", "issuer", "init", "--data-dir", str(data_dir),
            "--central-url", central.url, "--anchor", str(anchor), "--token", token,
            "--member", member_id, "--gateway-url", "http://127.0.0.1:8080",
            "--hub-service", f"{instance}/GOV/{HUB_CODE}/hub/documents",
            "--hub-url", "http://hub.example", "--registry-subsystem", f"{member_id}/registry",
        ],
        env=central.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_init_enrols_a_document_signing_certificate(
    central: CentralProcess, tmp_path: Path
) -> None:
    member_id = add_member(central)
    data_dir = tmp_path / "issuer"
    result = issuer_init(
        central,
        data_dir,
        member_id=member_id,
        token=doc_token(central, member_id),
        anchor=anchor_file(central, tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr

    settings = IssuerSettings.load(data_dir)
    assert settings.member_id == member_id
    assert settings.client_id == f"{member_id}/issuer"
    assert settings.registry_subsystem == f"{member_id}/registry"
    assert stat.S_IMODE(settings.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "issuer.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "gateway-secret").stat().st_mode) == 0o600
    signer = DocumentSigner.load(settings)  # refuses a certificate of another kind or key
    assert x509.certificate_kind(signer.certificate) == "doc"
    assert x509.certificate_identity(signer.certificate) == member_id
    key = keys.load_private_key(settings.key_path)
    assert keys.public_key_der(key.public_key()) == keys.public_key_der(
        x509.certificate_public_key(signer.certificate)
    )
    anchor = gc.Anchor.from_json(settings.anchor_path.read_bytes())
    conf = gc.verify_global_conf(httpx.get(anchor.url, timeout=10).text, anchor, now=gc.utc_now())
    assert [x509.certificate_pem(c) for c in signer.chain] == conf.ca_certificates[:1]
    x509.verify_certificate(
        signer.certificate, signer.chain[0], at=gc.utc_now(), kind="doc", identity=member_id
    )
    # The key stays where it was made: nothing of it in what init printed.
    private_pem = settings.key_path.read_text()
    assert private_pem.splitlines()[1] not in result.stdout + result.stderr

    again = issuer_init(
        central, data_dir, member_id=member_id, token=doc_token(central, member_id),
        anchor=anchor_file(central, tmp_path),
    )  # fmt: skip
    assert again.returncode == 2
    assert "already holds an issuer" in again.stderr


def test_a_token_of_another_member_is_refused_and_leaves_no_issuer(
    central: CentralProcess, tmp_path: Path
) -> None:
    member_id, other = add_member(central), add_member(central)
    data_dir = tmp_path / "issuer"
    result = issuer_init(
        central,
        data_dir,
        member_id=member_id,
        token=doc_token(central, other),
        anchor=anchor_file(central, tmp_path),
    )
    assert result.returncode == 2
    assert f"the token is for {other}" in " ".join(result.stderr.split())
    assert not (data_dir / "issuer.toml").exists()
    assert not (data_dir / "doc.pem").exists()


def test_a_used_token_is_refused(central: CentralProcess, tmp_path: Path) -> None:
    member_id = add_member(central)
    token = doc_token(central, member_id)
    anchor = anchor_file(central, tmp_path)
    first = issuer_init(central, tmp_path / "a", member_id=member_id, token=token, anchor=anchor)
    assert first.returncode == 0, first.stderr
    reused = issuer_init(central, tmp_path / "b", member_id=member_id, token=token, anchor=anchor)
    assert reused.returncode == 2
    assert "central refused the doc enrolment" in " ".join(reused.stderr.split())
    assert not (tmp_path / "b" / "issuer.toml").exists()


def test_an_anchor_of_another_key_is_refused(central: CentralProcess, tmp_path: Path) -> None:
    member_id = add_member(central)
    anchor = gc.Anchor.from_json(httpx.get(f"{central.url}/anchor", timeout=10).text)
    forged = gc.anchor_for(
        keys.generate_private_key().public_key(), instance=anchor.instance, url=anchor.url
    )
    path = tmp_path / "forged.json"
    path.write_text(forged.to_json())
    result = issuer_init(
        central, tmp_path / "issuer", member_id=member_id, token=doc_token(central, member_id),
        anchor=path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "does not verify against the anchor" in " ".join(result.stderr.split())
    assert not (tmp_path / "issuer" / "doc.key").exists()
