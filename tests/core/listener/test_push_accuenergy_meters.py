"""Accuenergy pushes as gateways send them, generated: meters kept apart, times and registers right.

Bodies are re-typed from the structure of the real uploads (sources.md §2): one
gateway posting several meters to one URL, a gateway clock in another zone
than the device's, net energy falling while exporting, negative registers and
US (month-first) dates.
"""

from __future__ import annotations

import json
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

T0 = pd.Timestamp("2026-05-13T05:45:00Z")
EPOCH = int(T0.timestamp())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[PushListener, DeviceRegistry]]:
    devices = DeviceRegistry(tmp_path / "devices.json", tmp_path / "stats.json")
    journal = Journal(tmp_path / "journal.sqlite3")
    captures = CaptureStore(tmp_path / "captures.sqlite3")
    registers = RegisterStore(tmp_path / "registers.sqlite3")
    listener = PushListener(ListenerSettings(port=0), devices, journal, registers, captures)
    listener.start()
    yield listener, devices
    listener.stop()


def csv_log(first_local: str, values: list[float], *, time_key: str = "TimeTag") -> bytes:
    """A data-log CSV: local times 15 minutes apart, EP_IMP_001_kWh and DMD_P_001_kW."""
    start = pd.Timestamp(first_local)
    rows = [f"{time_key},EP_IMP_001_kWh,DMD_P_001_kW,DI_ST_001,P_001_kW"]
    for i, value in enumerate(values):
        stamp = (start + pd.Timedelta(minutes=15 * i)).strftime("%Y-%m-%d %H:%M")
        rows.append(f"{stamp},{value:.3f},1.5,1,0.7")
    return ("\r\n".join(rows) + "\r\n").encode()


def post(
    listener: PushListener, device: str, token: str, data: bytes, name: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    if name:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return requests.post(listener.url_for(device), data=data, headers=headers, timeout=30)


def pending(listener: PushListener) -> pd.DataFrame:
    journal = listener.committer.sink
    assert isinstance(journal, Journal)
    return journal.pending(10_000).sort_values(["source_id", "quantity", "time"])


def test_two_meters_behind_one_gateway_stay_apart(
    served: tuple[PushListener, DeviceRegistry],
) -> None:
    listener, devices = served
    token = devices.add("hmi", "acurev2100", "America/New_York")
    # 01:45 EDT = 05:45Z; the two meters' registers are far apart (no false "reset")
    for meter, values in (("Rev-A", [100.0, 100.5, 101.5]), ("Rev-B", [5000.0, 5002.0, 5003.0])):
        name = f"meter0_logger1AHI2606080066-{meter}-{EPOCH}-45min.csv"
        answer = post(listener, "hmi", token, csv_log("2026-05-13 01:45", values), name)
        assert answer.status_code == 200, answer.text
    frame = pending(listener)
    use = frame[frame["quantity"] == "kWh"]
    assert list(zip(use["source_id"], use["value"], use["estimated"], strict=True)) == [
        ("AHI2606080066/Rev-A/001", 0.5, False),
        ("AHI2606080066/Rev-A/001", 1.0, False),
        ("AHI2606080066/Rev-B/001", 2.0, False),
        ("AHI2606080066/Rev-B/001", 1.0, False),
    ]
    assert list(use["time"].unique()) == [T0 + pd.Timedelta(minutes=15 * i) for i in (1, 2)]
    assert set(frame[frame["quantity"] == "state"]["source_id"]) == {
        "AHI2606080066/Rev-A/DI_ST_001",
        "AHI2606080066/Rev-B/DI_ST_001",
    }
    # A fixed post name says no meter: refused (held) saying how to fix it, never guessed.
    held = post(listener, "hmi", token, csv_log("2026-05-13 02:30", [102.0]))
    assert held.status_code == 202
    problem = held.json()["problem"]
    assert "does not say which meter" in problem and "has sent 2 meters" in problem
    assert "Post Name Fixed" in problem and "meterbridge device set hmi --set meter=" in problem
    assert len(pending(listener)) == len(frame)


def test_a_gateway_clock_in_another_zone_is_refused_naming_both_times(
    served: tuple[PushListener, DeviceRegistry],
) -> None:
    listener, devices = served
    token = devices.add("hmi", "aculink810", "Europe/London")
    name = f"Logger1-AHI1234567-Main-{EPOCH}-45min.csv"
    data = csv_log("2026-05-13 01:45", [1.0, 2.0, 3.0])  # New York time, not London
    held = post(listener, "hmi", token, data, name)
    assert held.status_code == 202
    problem = held.json()["problem"]
    assert "2026-05-13T05:45:00Z (UTC epoch" in problem and "'2026-05-13 01:45'" in problem
    assert "Europe/London is 2026-05-13T00:45:00Z" in problem and "UTC-04:00" in problem
    devices.update("hmi", tz="America/New_York")
    listener.devices.reload()
    assert post(listener, "hmi", token, data, name).status_code == 200
    use = pending(listener).query("quantity == 'kWh'")
    assert list(use["time"]) == [T0 + pd.Timedelta(minutes=15 * i) for i in (1, 2)]


def web2(stamp: int, imported: float, net: float) -> bytes:
    module = {
        "name": "4100132",
        "model": "AcuRev-4110-mA",
        "sn": "MOD1",
        "reading": [
            {"param": "EP_IMP_kWh", "value": f"{imported:.3f}", "unit": "kWh"},
            {"param": "EP_NET_kWh", "value": f"{net:.3f}", "unit": "kWh"},
            {"param": "VLN_a_V", "value": "230.1", "unit": "V"},
        ],
    }
    message = {"timestamp": stamp, "comm_head": {"model": "ACM-41-WEB2", "sn": "AHI1"}}
    return json.dumps({**message, "modules": [module]}).encode()


def test_net_energy_falling_is_never_a_register(
    served: tuple[PushListener, DeviceRegistry],
) -> None:
    listener, devices = served
    skip = devices.add("web2", "aculink810")
    raw = devices.add("web2raw", "aculink810", net_energy="raw")
    for device, token in (("web2", skip), ("web2raw", raw)):
        for i, net in enumerate([-2042.385, -2042.885]):  # exporting: net falls 0.5 kWh
            answer = requests.post(
                listener.url_for(device),
                data=web2(EPOCH + 900 * i, 10.0 + i, net),
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
    frame = pending(listener)
    assert (frame.loc[frame["quantity"] == "kWh", "value"] >= 0).all()
    assert not frame["estimated"].any()  # no "register reset"
    by_source = {s: f for s, f in frame.groupby("source")}
    assert list(by_source["push:web2"]["source_id"]) == ["AHI1/MOD1/EP_IMP_kWh"]
    net = by_source["push:web2raw"].query("source_id == 'AHI1/MOD1/EP_NET_kWh'")
    assert list(net["value"]) == [-2042.385, -2042.885] and set(net["interval_s"]) == {0}
    assert set(net["quantity"]) == {"kWh-net"}  # raw net energy, never read as use
    assert "EP_NET_kWh" in listener.devices.stats("web2").skipped_params


def test_a_negative_register_is_a_named_bad_value(
    served: tuple[PushListener, DeviceRegistry],
) -> None:
    listener, devices = served
    token = devices.add("rev", "acurev2100", "America/New_York")
    data = csv_log("2026-05-13 01:45", [100.0, -3.0, 101.0])
    answer = post(listener, "rev", token, data, f"L-AHI9999999-R1-{EPOCH}-45min.csv")
    assert answer.status_code == 200, answer.text
    [problem] = answer.json()["problems"]
    assert "-45min.csv:3, column EP_IMP_001_kWh, value '-3.000'" in problem
    assert "cannot be negative" in problem
    use = pending(listener).query("quantity == 'kWh'")
    assert list(zip(use["time"], use["value"], strict=True)) == [
        (T0 + pd.Timedelta(minutes=30), 1.0)
    ]


def test_us_dates_are_never_guessed(served: tuple[PushListener, DeviceRegistry]) -> None:
    listener, devices = served
    token = devices.add("rev", "acurev2100", "America/New_York", meter="R1")
    one = b"TimeTag,EP_IMP_001_kWh\r\n05/06/2026 01:57,10.0\r\n"
    held = post(listener, "rev", token, one)
    assert held.status_code == 202
    problem = held.json()["problem"]
    assert "05/06/2026 01:57" in problem and "time_encoding" in problem
    assert "%m/%d/%Y %H:%M" in problem
    registers = listener.committer.registers
    assert registers._conn.execute("SELECT count(*) FROM register_points").fetchone() == (0,)
    proven = b"TimeTag,EP_IMP_001_kWh\r\n05/12/2026 23:45,10.0\r\n05/13/2026 00:00,10.25\r\n"
    assert post(listener, "rev", token, proven).status_code == 200  # 13 proves month first
    devices.update("rev", options={"time_encoding": "%m/%d/%Y %H:%M"})
    listener.devices.reload()
    assert post(listener, "rev", token, one).status_code == 200
    points = registers._conn.execute("SELECT time FROM register_points ORDER BY time").fetchall()
    assert [pd.Timestamp(t, tz="UTC") for (t,) in points] == [
        pd.Timestamp("2026-05-06T05:57Z"),  # 6 May, not 5 June
        pd.Timestamp("2026-05-13T03:45Z"),
        pd.Timestamp("2026-05-13T04:00Z"),
    ]


def test_real_device_key_defaults(served: tuple[PushListener, DeviceRegistry]) -> None:
    listener, devices = served
    token = devices.add("rev", "acurev2100", meter="R1")
    keys = ["EP_IMP_s009_kWh", "DMD_P_s007_kW", "DI_ST_018", "DI4", "DI_5", "PRED_DMD_P_001_kW"]
    body = ("TimeTag," + ",".join(keys) + f"\r\n{EPOCH},1,2,1,0,1,9\r\n").encode()
    answer = post(listener, "rev", token, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["skipped_params"] == ["PRED_DMD_P_001_kW"]
    frame = pending(listener)
    assert sorted(zip(frame["source_id"], frame["quantity"], strict=True)) == [
        ("rev/R1/DI4", "state"),
        ("rev/R1/DI_5", "state"),
        ("rev/R1/DI_ST_018", "state"),
        ("rev/R1/s007", "kW"),
    ]  # the s009 register's first point only starts its series


@pytest.mark.parametrize(
    ("device", "connector", "body"),
    [
        ("epi", "episensor", b'[{"exportId": "A_333", "timestamp": 1780000000, "value": NaN}]'),
        ("nuoz", "readings", b'[{"meterImportId": "M", "readings": [{"value": Infinity}]}]'),
    ],
)
def test_non_finite_json_literals_are_refused_naming_the_field(
    served: tuple[PushListener, DeviceRegistry], device: str, connector: str, body: bytes
) -> None:
    listener, devices = served
    token = devices.add(device, connector)
    answer = requests.post(
        listener.url_for(device),
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text  # never held: the sender must fix it
    assert "(field 'value') is not a number" in answer.json()["error"]


def test_a_file_names_utc_instant_proves_the_day_month_order(
    served: tuple[PushListener, DeviceRegistry],
) -> None:
    listener, devices = served
    token = devices.add("rev", "acurev2100", "America/New_York")
    body = b"TimeTag,EP_IMP_001_kWh,DMD_P_001_kW\r\n05/06/2026 01:57,10.0,2.5\r\n"
    may = int(pd.Timestamp("2026-05-06T05:57Z").timestamp())  # 6 May, 01:57 EDT
    june = int(pd.Timestamp("2026-06-05T05:57Z").timestamp())  # 5 June, 01:57 EDT
    for meter, epoch in (("May", may), ("June", june)):
        name = f"Logger1-AHI260110088-{meter}-{epoch}-1min.csv"
        assert post(listener, "rev", token, body, name).status_code == 200
    demand = pending(listener).query("quantity == 'kW'")
    assert list(zip(demand["source_id"], demand["time"], strict=True)) == [
        ("AHI260110088/June/001", pd.Timestamp("2026-06-05T05:57Z")),
        ("AHI260110088/May/001", pd.Timestamp("2026-05-06T05:57Z")),
    ]


def test_a_push_naming_a_new_meter_is_answered_when_the_stats_file_cannot_be_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stats = tmp_path / "stats.json"
    stats.mkdir()  # the statistics file cannot be written (as on a full or read-only disk)
    devices = DeviceRegistry(tmp_path / "devices.json", stats)
    journal = Journal(tmp_path / "journal.sqlite3")
    listener = PushListener(
        ListenerSettings(port=0),
        devices,
        journal,
        RegisterStore(tmp_path / "registers.sqlite3"),
        CaptureStore(tmp_path / "captures.sqlite3"),
    )
    listener.start()
    try:
        token = devices.add("hmi", "acurev2100", "America/New_York")
        name = f"meter0_logger1AHI2606080066-Rev-A-{EPOCH}-45min.csv"
        answer = post(listener, "hmi", token, csv_log("2026-05-13 01:45", [1.0, 1.5, 2.5]), name)
        assert answer.status_code == 200, answer.text
        assert answer.json()["meters"] == ["AHI2606080066/Rev-A"]
        assert len(pending(listener)) > 0
        assert devices.meters("hmi") == ["AHI2606080066/Rev-A"], "remembered, saved later"
        assert "device statistics not saved now" in caplog.text
    finally:
        listener.stop()
        journal.close()
