"""`meterbridge serve` in three processes: HTTP here, the journal commit and delivery in children.

Ctrl-C reaches the whole process group (as a terminal sends it): `serve`
stops its children in order, exits 0, and every acknowledged reading is
either at EnergyCAP or still pending in the journal.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.journal.views import JournalViews
from app.core.paths import resolve_paths
from tests.fakes.energycap import FakeEnergyCap
from tests.ports import free_port
from tests.test_serve import SENSOR, SETTINGS, Server, cli, fake, no_orphans

__all__ = ["fake", "no_orphans"]  # fixtures: the fake EnergyCAP; no serve left running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def body(start: int, count: int) -> list[dict[str, object]]:
    """Readings-API JSON: `count` demand readings of channel C33 from quarter-hour `start`."""
    t0 = pd.Timestamp("2026-03-01T00:00Z") + pd.Timedelta(minutes=15 * start)
    readings = [
        {"time": (t0 + pd.Timedelta(minutes=15 * i)).isoformat(), "value": float(start + i)}
        for i in range(count)
    ]
    return [{"channelImportId": "C33", "observationTypeCode": "Demand", "unitCode": "kW",
             "readings": readings}]  # fmt: skip


def _home_with_device(tmp_path: Path, fake: FakeEnergyCap) -> tuple[Path, str]:
    """A home pointed at the fake EnergyCAP, with Readings-API device gw1: (home, its token)."""
    home = tmp_path / "home"
    home.mkdir()
    settings = {**SETTINGS, "energycap": {**SETTINGS["energycap"], "url": fake.url}}
    (home / "settings.json").write_text(json.dumps(settings))
    (home / "mapping.csv").write_text(f"source_id,channel_import_id\n{SENSOR},C11\n")
    added = cli(home, "device", "add", "gw1", "--connector", "readings")
    assert added.returncode == 0, added.stderr
    token = next(line.split()[-1] for line in added.stdout.splitlines() if line.startswith("token"))
    return home, token


@pytest.mark.slow
def test_ctrl_c_stops_serve_and_its_children_with_nothing_acknowledged_lost(
    tmp_path: Path, fake: FakeEnergyCap
) -> None:
    home, token = _home_with_device(tmp_path, fake)
    port = free_port()
    server = Server(home, port, preexec_fn=os.setsid)  # its own group, as in a terminal
    workers = children_of(server.process.pid)
    assert len([p for p in workers if alive(p)]) >= 2, "the journal and delivery processes"
    url = f"http://127.0.0.1:{port}/push/gw1"
    acknowledged = 0
    for n in range(20):
        answer = requests.post(
            url, json=body(n * 10, 10), headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        acknowledged += answer.json()["received"]
    os.killpg(server.process.pid, signal.SIGINT)  # Ctrl-C: every process of the group
    out, _ = server.process.communicate(timeout=60)
    server.log.close()
    assert server.process.returncode == 0 and "stopped" in out
    logged = "".join(log.read_text() for log in home.glob("serve-*.log"))
    assert "Traceback" not in logged and "KeyboardInterrupt" not in logged, logged[-2000:]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers), "no child left running"
    counts = JournalViews(resolve_paths(home).journal_file).counts()
    assert counts["pending"] + counts["sent"] + counts["confirmed"] == acknowledged
    assert counts["rejected"] == 0
    assert len(fake.readings()) == counts["confirmed"]


def delivery_child(pid: int) -> int:
    """The child of `serve` that delivers: it has the journal open, not the register store."""
    for child in children_of(pid):
        try:
            files = {os.readlink(f) for f in Path(f"/proc/{child}/fd").iterdir()}
        except OSError:
            continue
        names = {Path(f).name for f in files}
        if "journal.sqlite3" in names and "registers.sqlite3" not in names:
            return child
    raise AssertionError("no delivery process")


@pytest.mark.slow
def test_a_delivery_process_that_dies_is_replaced_and_delivers(
    tmp_path: Path, fake: FakeEnergyCap
) -> None:
    home, token = _home_with_device(tmp_path, fake)
    port = free_port()
    server = Server(home, port)
    first = delivery_child(server.process.pid)
    os.kill(first, signal.SIGKILL)
    url = f"http://127.0.0.1:{port}/push/gw1"
    answer = requests.post(url, json=body(0, 10), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 30
    while len(fake.readings()) < 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(fake.readings()) == 10, "delivered by the new delivery process"
    assert delivery_child(server.process.pid) != first
    code, out = server.finish(signal.SIGTERM)
    assert code == 0 and "stopped" in out
    logged = "".join(log.read_text() for log in home.glob("serve-*.log"))
    assert "the delivery process stopped" in logged and "starting another" in logged
