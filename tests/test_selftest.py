"""`meterbridge --self-test` proves an installation: every connector's bundled sample
round-trips through the exporter, a push is served over HTTPS, the keyring is named, the
main window opens, the tray icon is made and the preview chart draws; it names the
versions of Python and the main libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.connector_catalog import build_registry

REPO = Path(__file__).resolve().parents[1]


def run_self_test(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", METERBRIDGE_HOME=str(home))
    env.pop("ECAP_API_KEY", None)
    script = Path(sys.executable).parent / "meterbridge"
    return subprocess.run(
        [str(script), "--self-test"], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def self_test_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One run of `meterbridge --self-test` in an empty home, shared by the tests below."""
    return run_self_test(tmp_path_factory.mktemp("home"))


def test_self_test_checks_every_connector_and_passes(
    self_test_run: subprocess.CompletedProcess[str],
) -> None:
    result = self_test_run
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for connector_id in [*build_registry().ids(), "verdigris"]:
        assert any(line.startswith(f"ok   sample {connector_id}:") for line in lines), lines
    checks = ("listener tls", "keyring", "numpy", "user guide", "main window", "tray")
    for check in (*checks, "preview chart"):
        assert any(line.startswith(f"ok   {check}:") for line in lines), (check, lines)
    assert lines[-1].startswith("self-test passed")


def test_self_test_names_the_versions_it_runs_with(
    self_test_run: subprocess.CompletedProcess[str],
) -> None:
    import numpy
    import pandas
    import pyarrow
    import PySide6

    lines = self_test_run.stdout.splitlines()
    versions = next(line for line in lines if line.startswith("versions: "))
    assert f"Python {sys.version.split()[0]}" in versions
    assert f"PySide6 {PySide6.__version__}" in versions
    assert f"pandas {pandas.__version__}" in versions
    assert f"pyarrow {pyarrow.__version__}" in versions
    assert f"numpy {numpy.__version__}" in versions


def test_listener_check_serves_a_push_and_a_multipart_upload_over_https() -> None:
    from app.selftest_listener import listener_over_tls

    detail = listener_over_tls()
    # the AcuRev 2100 sample: 10 readings (3 columns, kWh registers and kW demand)
    assert "3 readings pushed and 10 uploaded as multipart/form-data over HTTPS" in detail
    assert "OpenSSL" in detail


def test_every_connector_has_a_bundled_sample() -> None:
    samples = REPO / "resources" / "samples"
    for connector_id in build_registry().ids():
        found = [p for p in samples.glob(f"{connector_id}.*") if ".options." not in p.name]
        assert found, f"no sample for {connector_id} in resources/samples"


def test_the_release_timing_probe_starts_the_real_app_and_quits_when_shown(home: Path) -> None:
    (home / "settings.json").write_text('{"version": 1, "listener": {"port": 0}}')
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", METERBRIDGE_HOME=str(home))
    script = Path(sys.executable).parent / "meterbridge"
    result = subprocess.run(
        [str(script), "gui", "--exit-when-shown"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("main window shown after "), result.stdout
    assert (
        "--exit-when-shown"
        not in subprocess.run(
            [str(script), "gui", "--help"], capture_output=True, text=True, env=env, timeout=60
        ).stdout
    ), "a hidden option, not for users"
