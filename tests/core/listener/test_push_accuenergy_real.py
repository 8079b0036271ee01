"""Every real Accuenergy upload (../shared/samples/accuenergy-real) posted as a gateway would.

Each file is posted raw (its name in Content-Disposition), as a multipart file
part (with the `action`/`datasource` text fields the HTTP post channel sends)
and with a fixed post name (no identity in the name), to a real listener on
loopback. Register values are sent raw here (device option ``registers:
raw``) and every parameter kept, so the journal shows each value at its
exact UTC instant under an id that names its meter. Skipped when ../shared
is absent; tests/data/accuenergy covers the same behaviours without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.journal.store import Journal
from app.core.listener.capture import CaptureStore
from app.core.listener.server import PushListener
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore
from tests.conftest import shared_sample_path

CSV_NEW_YORK = "Logger1-AHI260110088-AcuRev2100-1778651820-1min.csv"  # 01:57 local = 05:57Z
CSV_SHANGHAI = "meter0_logger1AHI2606080066-AcuRev2100-1782897000-1min.csv"  # 17:10 = 09:10Z
# file → (device zone, meter part of every id, UTC time, (parameter, value) checked, readings)
EXPECTED = {
    CSV_NEW_YORK: (
        "America/New_York",
        "AHI260110088/AcuRev2100",
        "2026-05-13T05:57:00Z",
        ("EP_IMP_001_kWh", 80.1),
        595,
    ),
    CSV_SHANGHAI: (
        "Asia/Shanghai",
        "AHI2606080066/AcuRev2100",
        "2026-07-01T09:10:00Z",
        ("EP_IMP_s009_kWh", 135.0),
        595,
    ),
    "EXCERPT_Logger1-AHI260110088-AcuRev4100-1778653500-1min.json": (
        "UTC",
        "AHI260110088/AcuRev4100",
        "2026-05-13T06:25:00Z",
        ("EP_IMP_001_kWh", 1.087),
        92,
    ),
    "EXCERPT_web2_mqtt_4100data.json": (
        "UTC",
        "AHI251000033/MODTCP9702be8c589e447385cdcac173dbca2f",
        "2026-05-13T03:04:00Z",
        ("EP_NET_c_kWh", -516.737),
        89,
    ),
    "EXCERPT_web2_awsiot_MODRTU9fd34de636d24444baa119fb45e7c76b-1778553180.json": (
        "UTC",
        "AHI251000033/MFB410000001",
        "2026-05-12T02:33:00Z",
        ("FREQ_Hz", 0.0),
        23,
    ),
    "aculink810_snapshot_tdengine_2020.json": (
        "UTC",
        "S8P20200207/221",
        "2020-09-03T08:21:30Z",
        ("DI4", 5.0),
        3,
    ),
    "axm-web2_acuvim-l_solamon_bench.json": (
        "UTC",
        "AN55101017/CLD56020398",
        "2026-05-08T14:57:33Z",
        ("Psum_kW", 7.05),
        10,
    ),
    "SECONDARY_axm-web2_spec-doc_sample.json": (  # readings at the top level
        "UTC",
        "AND00123456/Acuvim-L",
        "2025-09-15T10:30:00Z",
        ("Ep_imp", 12530.5),
        13,
    ),
}
MODES = ("raw", "multipart", "fixed-name")


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[PushListener, DeviceRegistry]]:
    devices = DeviceRegistry(tmp_path / "devices.json", tmp_path / "stats.json")
    journal = Journal(tmp_path / "journal.sqlite3")
    captures = CaptureStore(tmp_path / "captures.sqlite3")
    registers = RegisterStore(tmp_path / "registers.sqlite3")
    served = PushListener(ListenerSettings(port=0), devices, journal, registers, captures)
    served.start()
    yield served, devices
    served.stop()


def post(
    listener: PushListener, device: str, token: str, path: Path, mode: str
) -> requests.Response:
    data, url = path.read_bytes(), listener.url_for(device)
    kind = "text/csv" if path.suffix == ".csv" else "application/json"
    auth = {"Authorization": f"Bearer {token}"}
    if mode == "raw":
        disposition = f'attachment; filename="{path.name}"'
        headers = {**auth, "Content-Type": kind, "Content-Disposition": disposition}
        return requests.post(url, data=data, headers=headers, timeout=30)
    name = path.name if mode == "multipart" else f"data{path.suffix}"
    form = {"action": "upload"} if mode == "fixed-name" else {"action": "upload", "datasource": ""}
    files = {"file": (name, data, kind)}
    return requests.post(url, files=files, data=form, headers=auth, timeout=30)


def journaled(listener: PushListener, source: str) -> pd.DataFrame:
    journal = listener.committer.sink
    assert isinstance(journal, Journal)
    frame = journal.pending(10_000)
    return frame[frame["source"] == source]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_every_real_upload_is_filed_under_its_meter_at_its_utc_instant(
    listener: tuple[PushListener, DeviceRegistry], file: str, mode: str
) -> None:
    served, devices = listener
    path = shared_sample_path(f"accuenergy-real/{file}")
    tz, meter, instant, (param, value), count = EXPECTED[file]
    options = {"registers": "raw", "other_params": "keep", "net_energy": "raw"}
    token = devices.add("gw", "aculink810", tz, **options)
    if mode == "fixed-name" and path.suffix == ".csv":
        # No identity in the name: held, saying how to fix it, until the device knows its meter.
        first = post(served, "gw", token, path, mode)
        assert first.status_code == 202, first.text
        assert "--set meter=" in first.json()["problem"]
        assert post(served, "gw", token, path, "raw").status_code == 200
    answer = post(served, "gw", token, path, mode)
    assert answer.status_code == 200, answer.text
    frame = journaled(served, "push:gw")
    assert set(frame["source_id"].str.rsplit("/", n=1).str[0]) == {meter}
    assert set(frame["time"]) == {pd.Timestamp(instant)}
    row = frame[frame["source_id"] == f"{meter}/{param}"]
    assert list(row["value"]) == [value]
    assert len(frame) == count


def test_the_two_real_gateways_data_logs_need_their_zone_or_the_file_names(
    listener: tuple[PushListener, DeviceRegistry],
) -> None:
    served, devices = listener
    token = devices.add("rev", "acurev2100", "UTC", registers="raw")
    path = shared_sample_path(f"accuenergy-real/{CSV_NEW_YORK}")
    refused = post(served, "rev", token, path, "raw")
    assert refused.status_code == 202  # held: nothing filed 4 hours early
    problem = refused.json()["problem"]
    assert "2026-05-13T05:57:00Z" in problem and "2026-05-13T01:57:00Z" in problem
    assert "--tz" in problem and "zone_from_file_name=true" in problem
    assert journaled(served, "push:rev").empty
    devices.update("rev", options={"zone_from_file_name": True})
    served.devices.reload()
    for name in (CSV_NEW_YORK, CSV_SHANGHAI):
        answer = post(served, "rev", token, shared_sample_path(f"accuenergy-real/{name}"), "raw")
        assert answer.status_code == 200, answer.text
    frame = journaled(served, "push:rev")
    times = frame.groupby(frame["source_id"].str.rsplit("/", n=1).str[0])["time"].unique()
    assert {k: list(v) for k, v in times.items()} == {
        "AHI260110088/AcuRev2100": [pd.Timestamp("2026-05-13T05:57:00Z")],
        "AHI2606080066/AcuRev2100": [pd.Timestamp("2026-07-01T09:10:00Z")],
    }
    # 18 circuits + 9 user channels, energy and demand, per meter; DI/other keys not in the table
    assert frame.groupby("quantity").size().to_dict() == {"kW": 54, "kWh-register": 54}
