"""`meterbridge --self-test` proves an installation: every connector's bundled sample
round-trips through the exporter, the keyring is named, the main window opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.connector_catalog import build_registry

REPO = Path(__file__).resolve().parents[1]


def run_self_test(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", METERBRIDGE_HOME=str(home))
    script = Path(sys.executable).parent / "meterbridge"
    return subprocess.run(
        [str(script), "--self-test"], capture_output=True, text=True, env=env, timeout=120
    )


def test_self_test_checks_every_connector_and_passes(home: Path) -> None:
    result = run_self_test(home)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for connector_id in [*build_registry().ids(), "verdigris"]:
        assert any(line.startswith(f"ok   sample {connector_id}:") for line in lines), lines
    assert any(line.startswith("ok   keyring:") for line in lines)
    assert any(line.startswith("ok   main window:") for line in lines)
    assert lines[-1].startswith("self-test passed")


def test_every_connector_has_a_bundled_sample() -> None:
    samples = REPO / "resources" / "samples"
    for connector_id in build_registry().ids():
        found = [p for p in samples.glob(f"{connector_id}.*") if ".options." not in p.name]
        assert found, f"no sample for {connector_id} in resources/samples"
