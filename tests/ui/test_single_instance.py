"""A second launch raises the running window; start-with-the-OS writes the autostart entry."""

from __future__ import annotations

import os
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.autostart import autostart_enabled, set_autostart
from app.ui.single_instance import SingleInstance, ask_running_instance, server_name


def test_second_launch_asks_the_first_to_raise(qtbot: QtBot, tmp_path: Path) -> None:
    name = server_name(str(tmp_path))
    assert not ask_running_instance(name, timeout_ms=200)  # nobody is running yet
    first = SingleInstance(name)
    assert first.listen()
    with qtbot.waitSignal(first.raise_requested, timeout=5_000):
        assert ask_running_instance(name)
    first.close()


def test_server_names_differ_per_home(tmp_path: Path) -> None:
    assert server_name(str(tmp_path / "a")) != server_name(str(tmp_path / "b"))


def test_autostart_entry_on_and_off(context: object, tmp_path: Path) -> None:
    assert os.environ["XDG_CONFIG_HOME"] == str(tmp_path / "xdg")
    where = Path(set_autostart(True))
    assert where == tmp_path / "xdg" / "autostart" / "meterbridge.desktop"
    text = where.read_text(encoding="utf-8")
    assert "[Desktop Entry]" in text and "-m app gui --minimized" in text
    assert autostart_enabled()
    set_autostart(False)
    assert not where.exists() and not autostart_enabled()
