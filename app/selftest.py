"""`meterbridge --self-test`: prove an installation (or frozen bundle) works.

Checks, printing one line each:
1. every connector imports and is registered;
2. one bundled sample per connector (resources/samples/<connector-id>.*) reads
   into readings and round-trips through the exporter (Readings API JSON and
   Import API CSV + profile, parsed back);
3. the push listener serves a push over HTTPS on loopback (a certificate made
   for the test): TLS, the HTTP server and the journal commit work;
4. which keyring backend would hold the secrets;
5. numpy's dot, matmul and sort give the right answers (the frozen numpy is built
   without BLAS: numpy's own loops; the line names the BLAS numpy uses);
6. the desktop app (offscreen where there is no display): the main window is
   shown, the tray icon is made, the preview chart draws a sample's readings.
The first line names the versions of Python, PySide6, pandas, pyarrow and
numpy the program runs with (in a frozen bundle: the ones it was frozen with).
Exits 0 only if all of that worked.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.resources import resource_path

SAMPLES = "samples"


def _check(name: str, action: Callable[[], str], results: list[bool]) -> None:
    try:
        detail = action()
    except Exception as exc:
        print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        if os.environ.get("METERBRIDGE_SELFTEST_TRACE"):
            traceback.print_exc()
        results.append(False)
        return
    print(f"ok   {name}: {detail}", flush=True)
    results.append(True)


def _sample_for(connector_id: str) -> tuple[Path, dict[str, Any]]:
    folder = resource_path(SAMPLES)
    found = sorted(p for p in folder.glob(f"{connector_id}.*") if ".options." not in p.name)
    if not found:
        raise FileNotFoundError(f"no bundled sample {folder / connector_id}.*")
    options_file = folder / f"{connector_id}.options.json"
    options = json.loads(options_file.read_text("utf-8")) if options_file.exists() else {}
    return found[0], options


def _mapped_sample(connector: Any) -> tuple[Path, pd.DataFrame]:
    """A connector's bundled sample read and mapped (no mapping file: source ids kept)."""
    from app.core.mapping import MappingTable, apply_mapping
    from connectors.base import Source, concat_batches

    path, options = _sample_for(connector.info.id)
    batch = concat_batches(list(connector.read(Source.from_path(path), options)))
    if not len(batch.readings):
        raise ValueError(f"{path.name} gave no readings")
    return path, apply_mapping(batch.readings, MappingTable())


def _round_trip(connector: Any) -> str:
    from app.core.energycap.exporter import api_batches, import_files

    path, mapped = _mapped_sample(connector)
    sent = sum(b.count for b in api_batches(mapped, api="readings"))
    json.dumps([b.body for b in api_batches(mapped, api="readings")])
    files = import_files(mapped.loc[mapped["channel_id"].isna()])
    back = sum(len(pd.read_csv(io.BytesIO(f.data))) for f in files)
    if sent != len(mapped) or back != len(mapped):
        raise ValueError(f"{len(mapped)} readings, {sent} in JSON, {back} in CSV")
    return f"{path.name}: {len(mapped)} readings → JSON and CSV"


def _verdigris() -> str:
    """The Verdigris pull reader on a bundled data v4 response (it is not a file connector)."""
    from datetime import datetime

    from app.core.energycap.exporter import api_batches
    from app.core.mapping import MappingTable, apply_mapping
    from connectors.verdigris.connector import Request, to_readings
    from connectors.verdigris.grid import make_grid

    sample = json.loads(resource_path(SAMPLES, "verdigris.json").read_text("utf-8"))
    start, end = (datetime.fromisoformat(sample[k]) for k in ("start", "end"))
    request = Request(sample["kind"], sample["level"], ("1234",), start, end)
    batch = to_readings(sample["rows"], request, make_grid(sample["interval"]))
    mapped = apply_mapping(batch.readings, MappingTable())
    sent = sum(b.count for b in api_batches(mapped, api="readings"))
    if sent != len(sample["rows"]) or batch.problems:
        raise ValueError(f"{len(sample['rows'])} rows, {sent} readings, {batch.problems}")
    return f"verdigris.json: {sent} readings (Wh → {mapped['value'].sum():.3f} kWh) → JSON"


def _user_guide() -> str:
    """Help's user guide and every screenshot it links are in this build."""
    import re

    from app.core.resources import resources_root

    guide = resources_root().parent / "docs" / "user-guide.md"
    text = guide.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    missing = [image for image in images if not (guide.parent / image).is_file()]
    if missing:
        raise FileNotFoundError(f"the user guide links missing images: {', '.join(missing)}")
    return f"{guide.name}, {len(images)} screenshot(s)"


def _keyring() -> str:
    from app.core.secrets import SecretStore

    return SecretStore().backend_description()


def _numpy_blas() -> str:
    import numpy

    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return "BLAS unknown"
    return f"BLAS {blas.get('name')}" if blas.get("found") else "no BLAS (numpy's own loops)"


def _numpy_maths() -> str:
    """dot, matmul and sort (SIMD-dispatched) give the right answers."""
    import numpy as np

    matrix = np.arange(12, dtype=np.float64).reshape(3, 4)
    expected = np.array([[14.0, 38.0, 62.0], [38.0, 126.0, 214.0], [62.0, 214.0, 366.0]])
    values = np.random.default_rng(7).normal(size=100_000)
    ordered = np.sort(values)
    wrong = [
        name
        for name, right in (
            ("matmul", np.array_equal(matrix @ matrix.T, expected)),
            ("dot", float(np.dot(matrix[1], matrix[2])) == 214.0),
            ("sort", bool(np.all(ordered[1:] >= ordered[:-1]))),
            ("argsort", np.array_equal(values[np.argsort(values)], ordered)),
        )
        if not right
    ]
    if wrong:
        raise ArithmeticError(f"numpy gave wrong answers: {', '.join(wrong)}")
    return f"dot, matmul, sort of 100,000 values right; {_numpy_blas()}"


def _gui_checks(registry: Any, results: list[bool]) -> None:
    """Main window, tray and preview chart, in one QApplication."""
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no screen: Qt would abort the process
    from app.ui import self_check

    with tempfile.TemporaryDirectory(prefix="meterbridge-selftest-") as home:
        _check("main window", lambda: self_check.main_window(home), results)
        _check("tray", self_check.tray_icon, results)
        sample = next(iter(registry.all()), None)
        _check("preview chart", lambda: self_check.chart(*_mapped_sample(sample)), results)
        self_check.close_all()


def versions() -> str:
    """Python and the libraries that matter most, as this program runs them."""
    import numpy
    import pyarrow

    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    return (
        f"Python {sys.version.split()[0]}{frozen}, PySide6 {_pyside_version()}, "
        f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}, numpy {numpy.__version__}"
    )


def _pyside_version() -> str:
    try:
        from app.ui.self_check import qt_version
    except ImportError as exc:  # reported here; the GUI checks then fail with the reason
        return f"missing ({exc})"
    return qt_version()


def run_self_test() -> int:
    """Run every check; 0 only if all passed."""
    from app import __version__
    from app.core.connector_catalog import build_registry
    from app.selftest_listener import listener_over_tls

    print(f"meterbridge {__version__} self-test", flush=True)
    print(f"versions: {versions()}", flush=True)
    results: list[bool] = []
    registry = build_registry()
    _check("connectors", lambda: ", ".join(registry.ids()) or "none registered", results)
    if not registry.ids():
        results.append(False)
    for connector in registry.all():
        _check(f"sample {connector.info.id}", lambda c=connector: _round_trip(c), results)
    _check("sample verdigris", _verdigris, results)
    _check("listener tls", listener_over_tls, results)
    _check("keyring", _keyring, results)
    _check("numpy", _numpy_maths, results)
    _check("user guide", _user_guide, results)
    _gui_checks(registry, results)
    passed = all(results)
    print(f"self-test {'passed' if passed else 'FAILED'}: {sum(results)} of {len(results)} checks")
    return 0 if passed else 1
