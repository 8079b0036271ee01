"""`device add` / `device list` print where the running listener really is, and who can reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.core.journal.store import Journal
from app.core.listener.server import open_listener
from app.core.paths import resolve_paths
from app.core.settings.listener import ListenerSettings
from tests.fakes.memory_keyring import installed


def test_the_running_listeners_real_port_and_its_reach_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    paths = resolve_paths(home).ensure()
    journal = Journal(paths.journal_file)
    listener = open_listener(paths, ListenerSettings(port=0), journal)  # the OS picks the port
    listener.start()
    try:
        _, port = listener.address
        with installed():
            assert (
                main(["device", "add", "gw", "--connector", "episensor", "--home", str(home)]) == 0
            )
        out = capsys.readouterr().out
        assert f"push URL: http://127.0.0.1:{port}/push/gw" in out
        assert "Only this computer can reach the listener: it listens on 127.0.0.1." in out
        assert f"meterbridge serve --lan --listen 0.0.0.0:{port}" in out
        with installed():
            assert main(["device", "list", "--home", str(home)]) == 0
        assert f"http://127.0.0.1:{port}/push/gw" in capsys.readouterr().out
    finally:
        listener.stop()
        journal.close()
    with installed():
        assert main(["device", "list", "--home", str(home)]) == 0
    out = capsys.readouterr().out  # stopped: the settings' address, said so
    assert "http://127.0.0.1:8765/push/gw" in out and "(not running now; from the settings)" in out
