"""A component's settings file (``ComponentSettings.write_file``): what ``init`` writes is read
back as it was (quotes and backslashes included), the file is 0600 in a 0700 folder, and a
rewrite replaces it whole."""

from __future__ import annotations

import stat
from pathlib import Path

from zistboom.window.settings import SETTINGS_FILE, WindowSettings


def test_the_settings_file_is_read_back_as_written_and_kept_private(tmp_path: Path) -> None:
    folder = tmp_path / "window"
    written = WindowSettings.load(
        folder,
        port=18098,
        public_url='https://window.example.ir/a "quoted" \\ path',
        subsystem_id="IR/PUB/15222078494/window",
    )
    written.write()
    path = folder / SETTINGS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    read = WindowSettings.load(folder)
    assert read.public_url == written.public_url
    assert read.port == 18098 and read.subsystem_id == "IR/PUB/15222078494/window"
    WindowSettings.load(folder, port=18099).write()
    assert WindowSettings.load(folder).port == 18099
    assert not (folder / (SETTINGS_FILE + ".tmp")).exists()
