"""The convert/send pipeline with a tiny connector, delivering to the fake EnergyCAP."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.cli.journal.send import journal_sources, not_sent_of, rejections_of
from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.store import Journal
from app.core.mapping import MappingTable, parse_mapping_csv
from app.core.pipeline import Progress, RunPlan, convert
from app.core.report import RunResult
from app.core.settings import EnergyCapSettings
from connectors.base import (
    ConnectorInfo,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    make_readings,
)
from connectors.registry import ConnectorRegistry
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "pipeline-key"


class LinesConnector:
    """`id,utc-time,value` lines; a non-number value is a BAD_VALUE problem; batches of 3."""

    info = ConnectorInfo("lines", "Lines", "test connector")

    def __init__(self, batch_rows: int = 3) -> None:
        self.batch_rows = batch_rows
        self.batches = 0

    def sniff(self, head: bytes, name: str) -> float:
        return 0.7 if head.startswith(b"id,") else 0.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        lines = source.head(1 << 20).decode().splitlines()
        if not lines or lines[0] != "id,time,value":
            raise SourceError("not a lines file", file=source.label)
        rows = list(enumerate(lines[1:], start=2))
        for start in range(0, len(rows), self.batch_rows):
            self.batches += 1
            yield self._batch(source, rows[start : start + self.batch_rows], options)

    def _batch(self, source: Source, rows: list, options: Mapping[str, Any]) -> ReadingBatch:
        good, problems = [], []
        for number, line in rows:
            sid, time, value = line.split(",")
            try:
                good.append((sid, pd.Timestamp(time), float(value), number))
            except ValueError:
                problems.append(
                    Problem(
                        ProblemKind.BAD_VALUE,
                        "not a number",
                        file=source.label,
                        line=number,
                        column="value",
                        value=value,
                    )
                )
        frame = make_readings(
            source_id=[g[0] for g in good],
            time=[g[1] for g in good],
            value=[g[2] for g in good],
            interval_s=int(options.get("interval_s", 1800)),
            origin=[f"{source.label}:{g[3]}:3" for g in good],
        )
        return ReadingBatch(frame, problems)


def write_lines(folder: Path, name: str, rows: list[str]) -> Source:
    path = folder / name
    path.write_text("id,time,value\n" + "\n".join(rows) + "\n")
    return Source.from_path(path)


def half_hours(sid: str, n: int, start: str = "2024-03-31T00:30Z") -> list[str]:
    times = pd.date_range(start, periods=n, freq="30min")
    return [f"{sid},{t.isoformat()},{i + 1}" for i, t in enumerate(times)]


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
        yield server


def plan(sources: list[Source], **kw: Any) -> RunPlan:
    connector = kw.pop("connector", LinesConnector())
    return RunPlan(sources, ConnectorRegistry([connector]), kw.pop("table", MappingTable()), **kw)


def send(plan: RunPlan, fake: FakeEnergyCap, api: str = "readings", **settings: Any) -> RunResult:
    """`send` as the app and the CLI do it: journal every source, then the delivery engine."""
    journal = Journal(Path(tempfile.mkdtemp()) / "journal.sqlite3")
    try:
        result, _ = journal_sources(plan, journal)
        client = EnergyCapClient(fake.url, KEY, retry=RetryPolicy(3, 0.01, 0.02))
        ecap = EnergyCapSettings(api=api, task_poll_s=0.01, **settings)
        report = deliver_pending(journal, client, ecap, plan.table)
        result.sent, result.rejected = report.confirmed, report.rejected
        result.rejections.extend(rejections_of(journal, report))
        result.add_problems(not_sent_of(journal, report))
        return result
    finally:
        journal.close()


def test_convert_streams_batches_into_files_and_reports_the_connector(tmp_path: Path) -> None:
    connector = LinesConnector(batch_rows=2)
    source = write_lines(tmp_path, "a.csv", half_hours("M1", 7))
    seen: list[Progress] = []
    result = convert(plan([source], connector=connector, progress=seen.append), tmp_path / "out")
    assert connector.batches == 4
    assert (result.read, result.written, result.exit_code) == (7, 7, 0)
    assert [(s.connector, s.score) for s in result.sources] == [("lines", 0.7)]
    (out,) = result.outputs
    back = pd.read_csv(out.csv_path)
    assert back["Value"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert seen[-1].read == 7 and seen[-1].sources_done == 1


def test_send_traces_refusals_to_their_origin_and_counts_them(
    tmp_path: Path, fake: FakeEnergyCap
) -> None:
    fake.reject_values_above = 4.5
    rows = half_hours("M1", 6)
    rows[2] = rows[2].rsplit(",", 1)[0] + ",x1"
    source = write_lines(tmp_path, "b.csv", rows)
    result = send(plan([source]), fake, batch_size=2)
    assert (result.read, result.sent, result.held_back, result.rejected) == (5, 3, 1, 2)
    assert result.exit_code == 1
    assert [p.describe() for p in result.problems] == [
        f"{source.label}:4, column value, value 'x1': not a number",
        # the reading that line held is missing from the series: named by its time too
        f"{source.label}: M1 (kWh): 1 reading(s) missing from 2024-03-31 01:30 UTC "
        "(one every 30 min)",
    ]
    origins = sorted(r.origin for r in result.rejections)
    assert origins == [f"{source.label}:6:3", f"{source.label}:7:3"]
    assert fake.readings_for(11)["value"].tolist() == [1.0, 2.0, 4.0]


def test_import_api_errors_name_the_origin(tmp_path: Path, fake: FakeEnergyCap) -> None:
    fake.reject_values_above = 2.5
    source = write_lines(tmp_path, "c.csv", half_hours("M1", 3))
    result = send(plan([source]), fake, "import")
    assert (result.sent, result.rejected) == (2, 1)
    (rejection,) = result.rejections
    assert rejection.origin == f"{source.label}:4:3"
    assert "Line 4" in rejection.reason


def test_unknown_meter_refused_per_reading(tmp_path: Path, fake: FakeEnergyCap) -> None:
    source = write_lines(tmp_path, "d.csv", half_hours("NOPE", 2))
    result = send(plan([source]), fake, "esa")
    assert (result.sent, result.rejected, result.exit_code) == (0, 2, 1)
    assert all(r.origin and r.origin.startswith(source.label) for r in result.rejections)


def test_a_bad_file_is_named_and_the_others_still_go(tmp_path: Path, fake: FakeEnergyCap) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("<html>nope</html>")
    good = write_lines(tmp_path, "good.csv", half_hours("M1", 2))
    table = parse_mapping_csv("source_id,channel_id\nM1,11\n")
    result = send(plan([Source.from_path(bad), good], table=table), fake)
    assert result.exit_code == 2
    assert result.errors and "bad.csv" in result.errors[0]
    assert result.sent == 2 and len(fake.readings_for(11)) == 2


def test_cancel_stops_between_batches(tmp_path: Path) -> None:
    connector = LinesConnector(batch_rows=1)
    source = write_lines(tmp_path, "e.csv", half_hours("M1", 5))
    result = convert(plan([source], connector=connector, cancelled=lambda: True), tmp_path / "o")
    assert result.cancelled and result.read == 1 and connector.batches == 1
    assert "cancelled" in result.summary()


def test_nan_and_clashing_instants_are_held_back_and_named(tmp_path: Path) -> None:
    rows = half_hours("M1", 4)
    rows.append(rows[0])  # the same reading twice: sent once, nothing held
    rows.append(rows[1].rsplit(",", 1)[0] + ",9")  # a different value for the same instant
    rows.append(rows[2].rsplit(",", 1)[0] + ",nan")
    source = write_lines(tmp_path, "f.csv", rows)
    connector = LinesConnector(batch_rows=10)
    result = convert(plan([source], connector=connector), tmp_path / "out")
    assert (result.written, result.held_back, result.exit_code) == (3, 3, 1)
    described = [p.describe() for p in result.problems]
    assert described[0].startswith(f"{source.label}:8, column 3, value 'nan': not a finite number")
    assert [d.split(",")[0] for d in described[1:]] == [f"{source.label}:3", f"{source.label}:7"]
    assert "different value for the same instant 2024-03-31T01:00:00+00:00" in described[1]
    back = pd.read_csv(result.outputs[0].csv_path)
    assert back["Value"].tolist() == [1, 3, 4]


BODY = """[
 {"channelImportId": "C11", "observationTypeCode": "Use", "unitCode": "kWh",
  "channelIntervalInSeconds": 1800,
  "readings": [{"time": "2024-10-27T01:00:00+01:00", "value": 1.5},
               {"time": "2024-10-27T01:00:00+00:00", "value": 2.5}]},
 {"channelId": 11, "readings": [{"time": "2024-10-27T03:00:00+00:00", "value": 7}]}
]"""


def json_plan(tmp_path: Path) -> RunPlan:
    from connectors.generic.readings_json import ReadingsJsonConnector

    path = tmp_path / "body.json"
    path.write_text(BODY)
    return plan([Source.from_path(path)], connector=ReadingsJsonConnector())


def test_readings_json_identities_reach_their_channel(tmp_path: Path, fake: FakeEnergyCap) -> None:
    result = send(json_plan(tmp_path), fake)
    assert (result.sent, result.rejected, result.exit_code) == (3, 0, 0)
    stored = fake.readings_for(11)
    assert [t.isoformat() for t in stored["time"]] == [
        "2024-10-27T00:00:00+00:00",
        "2024-10-27T01:00:00+00:00",
        "2024-10-27T03:00:00+00:00",
    ]
    assert stored["value"].tolist() == [1.5, 2.5, 7.0]


def test_channel_ids_cannot_go_in_import_files_and_are_named(
    tmp_path: Path, fake: FakeEnergyCap
) -> None:
    converted = convert(json_plan(tmp_path), tmp_path / "out")
    assert (converted.written, converted.held_back, converted.exit_code) == (2, 1, 1)
    assert "channelId 11, which an import file cannot carry" in converted.problems[0].message
    profile = converted.outputs[0].profile
    assert profile["channelImportIdColumnNumber"] == 1
    imported = send(json_plan(tmp_path), fake, "import")
    # never sent: dead-lettered as a reading this API cannot carry, named at its origin
    assert (imported.sent, imported.rejected, imported.held_back) == (2, 0, 1)
    (named,) = [p.describe() for p in imported.problems]
    assert "[1].readings[0].value" in named and "cannot go in an Import API file" in named
    assert fake.readings_for(11)["value"].tolist() == [1.5, 2.5]
