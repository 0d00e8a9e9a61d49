"""``zistboom idp user import|add`` and ``client add``, run as commands on SQLite and
PostgreSQL: a users file is taken all or nothing and upserted by subject; a client's secret is
written 0600 (or shown once), kept on a re-run and replaced with --rotate."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

from central_process import central_env
from idp.provider import Provider, new_person


def provider_at(tmp_path: Path, database_url: str | None) -> Provider:
    provider = Provider("", tmp_path / "idp", central_env(database_url), {}, [])
    result = provider.cli("init")
    assert result.returncode == 0, result.stdout + result.stderr
    return provider


def test_a_users_file_is_taken_all_or_nothing_and_upserted(
    tmp_path: Path, fresh_backend_database: str | None
) -> None:
    provider = provider_at(tmp_path, fresh_backend_database)
    rng = random.Random(11)
    good = new_person(rng).record()
    wrong_digit = {**new_person(rng).record()}
    wrong_digit["subject"] = wrong_digit["subject"][:-1] + str(
        (int(wrong_digit["subject"][-1]) + 1) % 10
    )
    users = tmp_path / "users.json"
    users.write_text(json.dumps([good, wrong_digit], ensure_ascii=False))
    refused = provider.cli("user", "import", "--file", str(users))
    assert refused.returncode == 2
    assert "1.subject" in refused.stderr and "check digit" in refused.stderr
    users.write_text(json.dumps([good, {**good, "nickname": "x"}], ensure_ascii=False))
    extra = provider.cli("user", "import", "--file", str(users))
    assert extra.returncode == 2 and "nickname" in extra.stderr
    users.write_text(json.dumps([good], ensure_ascii=False))
    first = provider.cli("user", "import", "--file", str(users))
    assert "1 people added, 0 replaced" in first.stdout  # nothing of the refused files stayed
    again = provider.cli("user", "import", "--file", str(users))
    assert "0 people added, 1 replaced" in again.stdout
    added = provider.cli(
        "user", "add", "--subject", "FN123456789012", "--given-name-fa", "علی",
        "--family-name-fa", "رضایی", "--given-name-en", "Ali", "--family-name-en", "Rezaei",
        "--phone-number", "09121234567", "--locale", "en",
    )  # fmt: skip
    assert added.returncode == 0 and "FN123456789012 added" in added.stdout
    bad_phone = provider.cli(
        "user", "add", "--subject", "FN123456789012", "--given-name-fa", "علی",
        "--family-name-fa", "رضایی", "--given-name-en", "Ali", "--family-name-en", "Rezaei",
        "--phone-number", "+441234567890",
    )  # fmt: skip
    assert bad_phone.returncode == 2 and "phone_number" in bad_phone.stderr


def test_a_clients_secret_is_written_0600_kept_and_rotated(
    tmp_path: Path, fresh_backend_database: str | None
) -> None:
    provider = provider_at(tmp_path, fresh_backend_database)
    # What init left: the signing key 0600 in a 0700 folder, the settings 0600.
    keys = provider.data_dir / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert [stat.S_IMODE(key.stat().st_mode) for key in keys.iterdir()] == [0o600]
    assert stat.S_IMODE((provider.data_dir / "idp.toml").stat().st_mode) == 0o600
    secret_file = tmp_path / "out" / "window.secret"
    add = ["client", "add", "--client-id", "window", "--redirect-uri", "https://w.example/cb",
           "--secret-file", str(secret_file)]  # fmt: skip
    assert provider.cli(*add).returncode == 0
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 43
    kept = provider.cli(*add, "--redirect-uri", "https://w.example/cb2")
    assert "secret kept" in kept.stdout and secret_file.read_text().strip() == secret
    rotated = provider.cli(*add, "--rotate")
    assert rotated.returncode == 0 and secret_file.read_text().strip() != secret
    shown = provider.cli("client", "add", "--client-id", "other", "--redirect-uri", "https://o/cb")
    assert "shown once" in shown.stdout
    bad = provider.cli("client", "add", "--client-id", "x", "--redirect-uri", "https://o/cb#frag")
    assert bad.returncode == 2 and "fragment" in bad.stderr
