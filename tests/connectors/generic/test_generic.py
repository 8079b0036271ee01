"""The generic readings CSV connector, on composed files of several layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.base import (
    READING_COLUMNS,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    concat_batches,
)
from connectors.generic.engine import GenericCsvConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "generic"
NY = "America/New_York"
LONDON = "Europe/London"


def read(name: str, **options: Any) -> ReadingBatch:
    source = Source.from_path(DATA / name)
    return concat_batches(list(GenericCsvConnector().read(source, options)))


def read_text(text: str, **options: Any) -> ReadingBatch:
    source = Source.from_bytes(text.encode("utf-8"), "inline.csv")
    return concat_batches(list(GenericCsvConnector().read(source, options)))


def utc(*stamps: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(s, tz="UTC") for s in stamps]


def rows(batch: ReadingBatch, source_id: str) -> pd.DataFrame:
    frame = batch.readings
    return frame[frame["source_id"] == source_id].reset_index(drop=True)


def test_us_fall_back_naive_times_are_placed_by_file_order() -> None:
    batch = read("us_fallback_naive.csv", tz=NY)
    assert batch.problems == []
    assert list(batch.readings.columns) == list(READING_COLUMNS)
    a = rows(batch, "A")
    assert list(a["time"]) == utc(
        "2024-11-03 04:30", "2024-11-03 05:00", "2024-11-03 05:30",
        "2024-11-03 06:00", "2024-11-03 06:30", "2024-11-03 07:00",
    )  # fmt: skip
    assert list(a["value"]) == [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    b = rows(batch, "B")
    assert list(b["time"])[6:] == utc(
        "2025-11-02 04:30", "2025-11-02 05:00", "2025-11-02 05:30",
        "2025-11-02 06:00", "2025-11-02 06:30", "2025-11-02 07:00",
    )  # fmt: skip
    assert list(b["value"])[6:] == [20.0, 20.1, 20.2, 20.3, 20.4, 20.5]
    assert set(batch.readings["interval_s"]) == {1800}
    assert batch.info["columns"] == {"id": "Meter", "time": "Timestamp", "value": "kWh"}
    assert batch.info["interval_s"] == {"A": 1800, "B": 1800}


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5])
def test_fall_back_runs_split_across_chunks_are_judged_whole(chunk_rows: int) -> None:
    whole = read("us_fallback_naive.csv", tz=NY)
    chunked = read("us_fallback_naive.csv", tz=NY, chunk_rows=chunk_rows)
    assert chunked.problems == []
    key = ["source_id", "time"]
    pd.testing.assert_frame_equal(
        chunked.readings.sort_values(key).reset_index(drop=True),
        whole.readings.sort_values(key).reset_index(drop=True),
    )


def test_semicolon_decimal_comma_bom_sep_line_and_london_clock_changes() -> None:
    batch = read("uk_semicolon_decimal_comma.csv", tz=LONDON)
    r = batch.readings
    assert list(r["time"]) == utc(
        "2024-10-26 23:30", "2024-10-27 00:00", "2024-10-27 00:30", "2024-10-27 01:00",
        "2024-10-27 01:30", "2024-10-27 02:00", "2025-10-26 00:00", "2025-10-26 01:00",
        "2024-03-31 00:30", "2024-03-31 01:00",
    )  # fmt: skip
    assert list(r["value"]) == [0.125, 0.25, 0.5, 1.5, 2.0, -0.75, 3.25, 4.25, 5.5, 7.5]
    assert (
        list(r["estimated"]) == [False, False, True, True, False, False, True, False] + [False] * 2
    )
    assert r["note"][2] == "check; meter"
    assert r["note"][4] == '"quoted" note'
    assert r["source_id"].unique().tolist() == ["1200012345678"]
    assert r["origin"][0] == f"{DATA / 'uk_semicolon_decimal_comma.csv'}:3:3"
    assert batch.info["delimiter"] == ";" and batch.info["decimal"] == ","
    assert batch.info["time_format"] == "%d.%m.%Y %H:%M"
    [problem] = batch.problems
    assert (problem.kind, problem.line, problem.column, problem.value) == (
        ProblemKind.BAD_VALUE, 12, "Reading Date", "31.03.2024 01:30",
    )  # fmt: skip
    assert "does not exist in Europe/London" in problem.message


def test_times_with_offsets_are_kept_and_need_no_zone() -> None:
    batch = read("offsets.csv")
    r = batch.readings
    assert batch.problems == []
    assert list(r["time"]) == utc(
        "2024-11-03 05:30", "2024-11-03 06:30", "2024-10-27 00:30", "2024-10-27 01:30",
        "2024-10-27 01:30",
    )  # fmt: skip
    assert list(r["quantity"]) == ["kWh", "kWh", "kW", "kW", "kWh"]
    assert list(r["unit"]) == ["kWh", "kWh", "kW", "kW", "kWh"]


def test_columns_by_number_and_name_with_a_us_time_format() -> None:
    batch = read(
        "columns_by_number.csv", tz=NY, id_column="2", time_column=1, value_column="4",
        quantity_column="c5", time_format="%m/%d/%Y %I:%M %p",
    )  # fmt: skip
    r = batch.readings
    assert list(r["source_id"].unique()) == ["P7"]
    assert list(r["time"]) == utc(
        "2024-11-03 04:30", "2024-11-03 05:00", "2024-11-03 06:00", "2024-11-03 07:00"
    )
    assert list(r["value"]) == [10, 11, 12, 13]
    assert list(r["origin"].str.rsplit(":", n=2).str[1:].str.join(":")) == [
        "2:4", "3:4", "4:4", "5:4",
    ]  # fmt: skip
    assert batch.info["chosen_automatically"] == []


def test_bad_cells_are_named_and_never_become_readings() -> None:
    batch = read("bad_values.csv", tz=NY)
    r = batch.readings
    assert list(r["time"]) == utc(
        "2024-03-10 06:30", "2024-03-10 07:00", "2024-03-10 09:30", "2024-03-10 11:30"
    )
    assert list(r["value"]) == [1.5, 3.5, 7.5, -10.0]
    assert list(r["estimated"]) == [False, True, True, False]
    assert r["note"][1] == "multi\nline note"
    assert list(r["origin"].str.rsplit(":", n=2).str[1]) == ["4", "6", "14", "18"]
    named = [(p.kind, p.line, p.column, p.value) for p in batch.problems]
    bad = ProblemKind.BAD_VALUE
    assert named == [
        (bad, 5, "Time", "2024-03-10 02:30"),
        (bad, 8, "Value", "abc"),
        (bad, 9, "Time", "not a time"),
        (bad, 10, "Meter ID", ""),
        (bad, 11, "Value", "1,234"),
        (bad, 12, "Estimated", "maybe"),
        (bad, 15, None, None),
        (bad, 16, "Value", "NaN"),
        (bad, 17, "Value", ""),
    ]
    assert all(p.file == str(DATA / "bad_values.csv") for p in batch.problems)
    assert "thousands separators are not allowed" in batch.problems[4].message
    assert "6 cells but the header has 5" in batch.problems[6].message


def test_undecidable_fall_back_rows_are_held_back_and_named() -> None:
    batch = read("held_back.csv", tz=NY)
    r = batch.readings
    assert list(zip(r["source_id"], r["time"], r["value"], strict=True)) == [
        ("H1", pd.Timestamp("2024-11-03 04:00", tz="UTC"), 1.0),
        ("H1", pd.Timestamp("2024-11-03 07:00", tz="UTC"), 3.0),
        ("H2", pd.Timestamp("2024-11-03 07:00", tz="UTC"), 9.0),
    ]
    held = [(p.line, p.value, p.source_id) for p in batch.problems]
    assert held == [
        (3, "2024-11-03 01:00", "H1"),
        (5, "2024-11-03 01:00", "H2"),
        (6, "2024-11-03 01:30", "H2"),
        (7, "2024-11-03 01:15", "H2"),
        (8, "2024-11-03 01:45", "H2"),
        (9, "2024-11-03 01:00", "H2"),
    ]
    assert {p.kind for p in batch.problems} == {ProblemKind.HELD_BACK}
    assert "held back" in batch.problems[0].describe()


def test_london_fall_back_with_one_of_two_half_hours_missing_is_held() -> None:
    text = "id,time,value\nL,2025-10-26 00:30,1\nL,2025-10-26 01:30,2\nL,2025-10-26 02:00,3\n"
    batch = read_text(text, tz=LONDON)
    assert list(batch.readings["time"]) == utc("2025-10-25 23:30", "2025-10-26 02:00")
    [problem] = batch.problems
    assert (problem.kind, problem.line, problem.value) == (
        ProblemKind.HELD_BACK, 3, "2025-10-26 01:30",
    )  # fmt: skip


def test_us_spring_forward_time_that_does_not_exist_is_named() -> None:
    text = "id,time,value\nS,2024-03-10 01:30,1\nS,2024-03-10 02:30,2\nS,2024-03-10 03:30,3\n"
    batch = read_text(text, tz=NY)
    assert list(batch.readings["time"]) == utc("2024-03-10 06:30", "2024-03-10 07:30")
    [problem] = batch.problems
    assert (problem.line, problem.column, problem.value) == (3, "time", "2024-03-10 02:30")


def test_source_label_start_moves_each_time_to_its_interval_end() -> None:
    text = "id,start,value\nS,2024-11-03 00:00,1\nS,2024-11-03 01:00,2\nS,2024-11-03 01:00,3\n"
    batch = read_text(text, tz=NY, source_label="start")
    assert list(batch.readings["time"]) == utc(
        "2024-11-03 05:00", "2024-11-03 06:00", "2024-11-03 07:00"
    )
    explicit = read_text(text, tz=NY, source_label="start", interval_s=1800)
    assert list(explicit.readings["time"]) == utc(
        "2024-11-03 04:30", "2024-11-03 05:30", "2024-11-03 06:30"
    )
    assert set(explicit.readings["interval_s"]) == {1800}


def test_separate_date_and_time_columns_and_day_first_dates() -> None:
    text = "Date,Time,Meter,kWh\n27/10/2024,01:00,D,1\n27/10/2024,01:00,D,2\n"
    batch = read_text(text, tz=LONDON)
    assert list(batch.readings["time"]) == utc("2024-10-27 00:00", "2024-10-27 01:00")
    assert batch.info["columns"]["time"] == "Date+Time"


def test_day_month_order_that_cannot_be_told_without_a_zone_is_refused() -> None:
    with pytest.raises(SourceError, match="day-first and month-first"):
        read_text(
            "id,time,value\nQ,03/11/2024 01:00,1\n"
        )  # the zone decides: see test_generic_dates


def test_naive_times_need_a_zone_unless_a_default_is_given() -> None:
    text = "id,time,value\nN,2024-06-01 00:30,1\n"
    with pytest.raises(SourceError, match="--tz"):
        read_text(text)
    batch = read_text(text, default_tz=LONDON)
    assert list(batch.readings["time"]) == utc("2024-05-31 23:30")


def test_html_page_and_binary_are_refused_with_what_they_look_like() -> None:
    with pytest.raises(SourceError, match="HTML page") as caught:
        read("login_page.csv")
    assert "login_page.csv" in str(caught.value)
    binary = Source.from_bytes(b"\x00\x01\x02id,time,value\n", "blob.csv")
    with pytest.raises(SourceError, match="binary"):
        list(GenericCsvConnector().read(binary, {}))


def test_undecidable_columns_and_unknown_column_names_list_the_header() -> None:
    with pytest.raises(SourceError, match=r"\['alpha', 'beta', 'gamma'\]"):
        read_text("alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(SourceError, match="'kwh_total' is neither"):
        read_text("id,time,value\n", value_column="kwh_total")


def test_header_only_file_gives_no_readings_and_no_error() -> None:
    batch = read_text("id,time,value\n", tz=NY)
    assert len(batch.readings) == 0 and batch.problems == []


def test_sniff_is_modest_for_recognisable_csv_and_zero_for_other_content() -> None:
    connector = GenericCsvConnector()
    assert connector.sniff((DATA / "us_fallback_naive.csv").read_bytes(), "x.csv") == 0.65
    assert connector.sniff(b"meter,time,kwh\nA,yesterday,x\nB,today,y\n", "x.csv") == 0.3
    assert connector.sniff((DATA / "bad_values.csv").read_bytes(), "x.csv") == 0.3
    assert connector.sniff(b"alpha,beta,gamma\n1,2,3\n", "x.csv") == 0.05
    assert connector.sniff((DATA / "login_page.csv").read_bytes(), "x.csv") == 0.0
    assert connector.sniff((DATA / "readings_api.json").read_bytes(), "x.json") == 0.0


def test_end_of_day_24_00_is_midnight_of_the_next_day() -> None:
    text = "id,time,value\nA,2024-10-26 23:30,1\nA,2024-10-26 24:00,2\n"
    batch = read_text(text, tz=LONDON)
    assert list(batch.readings["time"]) == utc("2024-10-26 22:30", "2024-10-26 23:00")


def test_tab_delimited_windows_1252_file_with_offset_format() -> None:
    text = "Zähler\tZeit\tWert\nWärme 1\t2024-10-27 01:30 +0100\t1,5\n"
    source = Source.from_bytes(text.encode("cp1252"), "export.txt")
    options = {
        "id_column": "Zähler", "time_column": "Zeit", "value_column": "Wert",
        "time_format": "%Y-%m-%d %H:%M %z", "decimal": ",",
    }  # fmt: skip
    batch = concat_batches(list(GenericCsvConnector().read(source, options)))
    assert batch.info["delimiter"] == "\t" and batch.info["encoding"] == "cp1252"
    assert list(batch.readings["source_id"]) == ["Wärme 1"]
    assert list(batch.readings["time"]) == utc("2024-10-27 00:30")
    assert list(batch.readings["value"]) == [1.5]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"tz": NY, "decimal": ";"}, "decimal must be"),
        ({"tz": NY, "delimiter": "::"}, "one character"),
        ({"tz": NY, "interval_s": "half-hour"}, "positive number of seconds"),
        ({"tz": NY, "source_label": "middle"}, "'end' or 'start'"),
    ],
)
def test_unusable_options_are_refused_clearly(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read_text("id,time,value\nA,2024-06-01 00:30,1\n", **options)


def test_newest_first_file_holds_the_repeated_hour_back_instead_of_swapping_it() -> None:
    text = (
        "id,time,value\nR,2024-11-03 02:00,4\nR,2024-11-03 01:00,3\nR,2024-11-03 01:00,2\n"
        "R,2024-11-03 00:00,1\n"
    )
    batch = read_text(text, tz=NY)
    assert list(batch.readings["time"]) == utc("2024-11-03 07:00", "2024-11-03 04:00")
    assert [(p.kind, p.line) for p in batch.problems] == [
        (ProblemKind.HELD_BACK, 3), (ProblemKind.HELD_BACK, 4),
    ]  # fmt: skip


def test_headers_are_recognised_by_the_words_they_contain() -> None:
    text = "Site Meter Ref,Interval Ending (local),Energy [kWh],Valid\nW,2024-06-01 00:30,1,y\n"
    batch = read_text(text, tz=LONDON)
    assert batch.info["columns"] == {
        "id": "Site Meter Ref", "time": "Interval Ending (local)", "value": "Energy [kWh]",
    }  # fmt: skip
    assert list(batch.readings["time"]) == utc("2024-05-31 23:30")


def test_a_time_header_that_says_utc_makes_naive_times_utc() -> None:
    text = "meter,Timestamp (UTC),kwh\nU,2024-11-03 06:30,1\n"
    batch = read_text(text, tz=NY)
    assert list(batch.readings["time"]) == utc("2024-11-03 06:30")
    assert batch.info["tz_from_header"] is True


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir()))
def test_truncated_inputs_give_readings_or_a_clear_error_never_a_crash(name: str) -> None:
    from connectors.generic.readings_json import ReadingsJsonConnector

    content = (DATA / name).read_bytes()
    for cut in range(0, len(content), max(1, len(content) // 5)):
        for connector in (GenericCsvConnector(), ReadingsJsonConnector()):
            source = Source.from_bytes(content[:cut], name)
            try:
                batches = list(connector.read(source, {"tz": NY}))
            except SourceError as error:
                assert str(error).startswith(name)
                continue
            values = concat_batches(batches).readings["value"]
            assert values.notna().all()


def test_auto_picks_generic_for_long_files_and_uk_hh_keeps_its_own() -> None:
    from app.core.connector_catalog import build_registry

    registry = build_registry()
    for name in ("us_fallback_naive.csv", "offsets.csv", "uk_semicolon_decimal_comma.csv"):
        best = registry.best(Source.from_path(DATA / name))
        assert best is not None and best.connector.info.id == "generic", name
    hh = DATA.parent / "hh" / "row-per-reading.csv"
    best = registry.best(Source.from_path(hh))
    assert best is not None and best.connector.info.id == "uk-hh"


def test_quantity_spelling_is_normalised_and_a_start_header_is_warned_about() -> None:
    text = "meter,interval start,value,unit\nQ,2024-06-01T00:00Z,1,KWH\nQ,2024-06-01T00:30Z,2,kw\n"
    batch = read_text(text, quantity="kwh")
    assert list(batch.readings["quantity"]) == ["kWh", "kW"]
    [warning] = batch.problems
    assert warning.kind == ProblemKind.WARNING and "--source-label start" in warning.message
    assert list(batch.readings["time"]) == utc("2024-06-01 00:00", "2024-06-01 00:30")


def test_a_file_without_header_is_read_from_its_first_line_when_columns_are_numbers() -> None:
    text = "M1;2024-11-03 01:00;1,5;E\nM1;2024-11-03 01:00;2,5;A\nM1;2024-11-03 02:00;3\n"
    options = {"id_column": "1", "time_column": "2", "value_column": 3, "estimated_column": "4"}
    batch = read_text(text, tz=NY, **options)
    r = batch.readings
    assert list(r["time"]) == utc("2024-11-03 05:00", "2024-11-03 06:00", "2024-11-03 07:00")
    assert list(r["value"]) == [1.5, 2.5, 3.0]
    assert list(r["estimated"]) == [True, False, False]
    assert list(r["origin"].str.rsplit(":", n=2).str[1]) == ["1", "2", "3"]
    assert batch.info["header_line"] is None and batch.info["columns"]["value"] == "3"


def test_windows_1252_bytes_after_the_head_switch_the_whole_file_to_windows_1252() -> None:
    stamps = pd.date_range("2024-06-01", periods=3000, freq="15min", tz="UTC")
    rows = "".join(f"A,{t:%Y-%m-%dT%H:%MZ},1\n" for t in stamps)  # > 64 KiB: past the head
    assert len(rows) > 65536
    data = ("id,time,value\n" + rows).encode() + "B\u00e9,2024-07-02T00:00Z,9\n".encode("cp1252")
    source = Source.from_bytes(data, "late.csv")
    batch = concat_batches(list(GenericCsvConnector().read(source, {})))
    assert batch.info["encoding"] == "cp1252"
    assert list(batch.readings["source_id"])[-1] == "B\u00e9"
