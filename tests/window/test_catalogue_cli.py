"""``zistboom window agency …`` and ``zistboom window services …`` run as real processes on
the window's database (SQLite and PostgreSQL): an agency registered, its key written to a
0600 file and accepted by the served window, an import refused whole when one definition is
bad (each named by index and field), then taken whole."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from support import free_port
from window_site import definition, serve
from zistboom.window.settings import WindowSettings

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))
SRC = str(Path(__file__).parents[2] / "src")
MEMBER = "IR-DEMO/GOV/10380284790"


def window(
    data_dir: Path, database_url: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("ZB_DATABASE_URL", None)
    if database_url:
        env["ZB_DATABASE_URL"] = database_url
    return subprocess.run(
        [ZISTBOOM, "window", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_agency_key_and_import_from_the_command_line(
    tmp_path: Path, fresh_backend_database: str | None
) -> None:
    data_dir, db = tmp_path / "window", fresh_backend_database
    added = window(
        data_dir,
        db,
        "agency",
        "add",
        "--member",
        MEMBER,
        "--name-fa",
        "سازمان فناوری اطلاعات ایران",
        "--name-en",
        "ITO",
    )
    assert added.returncode == 0, added.stderr
    key_file = tmp_path / "agency.key"
    issued = window(data_dir, db, "agency", "key", "--member", MEMBER, "--key-file", str(key_file))
    assert issued.returncode == 0, issued.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in issued.stdout

    good, bad = definition("first"), definition("second", ecosystem="space")
    source = tmp_path / "services.yaml"
    source.write_text(yaml.safe_dump([good, bad], allow_unicode=True), encoding="utf-8")
    refused = window(data_dir, db, "services", "import", "--agency", MEMBER, "--file", str(source))
    assert refused.returncode == 2
    assert "1.ecosystem" in refused.stderr and "nothing was imported" in refused.stderr
    source.write_text(
        yaml.safe_dump([good, definition("second")], allow_unicode=True), encoding="utf-8"
    )
    taken = window(data_dir, db, "services", "import", "--agency", MEMBER, "--file", str(source))
    assert taken.returncode == 0, taken.stderr
    unknown = window(data_dir, db, "agency", "key", "--member", "IR-DEMO/GOV/60711446972")
    assert unknown.returncode == 2 and "not registered" in unknown.stderr

    settings = WindowSettings(data_dir=data_dir, database_url=db, port=free_port())
    for url in serve(settings):
        listed = httpx.get(
            f"{url}/api/v1/services",
            headers={"Authorization": f"Bearer {key_file.read_text().strip()}"},
        )
        assert listed.status_code == 200, listed.text
        assert [s["code"] for s in listed.json()] == ["first", "second"]
