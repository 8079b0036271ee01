"""Start at login starts the app without a console window on Windows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.ui import autostart


def test_windows_login_starts_pythonw_when_it_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = tmp_path / "python.exe"
    python.write_bytes(b"")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "executable", str(python))
    assert autostart.launch_command()[0] == str(python)  # no pythonw.exe: keep python.exe
    (tmp_path / "pythonw.exe").write_bytes(b"")
    assert autostart.launch_command() == [
        str(tmp_path / "pythonw.exe"), "-m", "app", "gui", "--minimized"
    ]  # fmt: skip


def test_elsewhere_the_same_interpreter_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert autostart.launch_command()[:3] == [sys.executable, "-m", "app"]
