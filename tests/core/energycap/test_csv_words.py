"""Column text of EnergyCAP payloads: the grid shortcut for instants gives exactly the text
of formatting every instant, and import-file pieces join to the whole file's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.core.energycap.csv_words import ISO_CSV_FORMAT, ISO_FORMAT, time_words
from app.core.energycap.exporter import import_csv_pieces, import_csv_rows
from app.core.mapping import MappingTable, apply_mapping
from connectors.base import make_readings


def one_by_one(times: pd.Series, fmt: str) -> list[str]:
    return [t.tz_convert("UTC").strftime(fmt) for t in times]


@pytest.mark.parametrize(
    "times",
    [
        pd.Series(pd.date_range("2024-03-30T23:30Z", periods=200, freq="30min")),
        pd.Series(pd.date_range("2024-10-26", periods=90, freq="15min", tz="Europe/London")),
        pd.Series(pd.to_datetime(["2024-01-01T00:00:07Z", "2023-12-31T23:59:59Z"] * 3)),
        pd.Series(pd.to_datetime(["2024-01-01T00:00Z", "2031-06-01T12:00Z"])),  # a sparse grid
        pd.Series(pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC").as_unit("us")),
    ],
    ids=["half-hours", "london-quarters", "seconds", "sparse", "microsecond-unit"],
)
@pytest.mark.parametrize("fmt", [ISO_FORMAT, ISO_CSV_FORMAT, "%d/%m/%Y %H:%M"])
def test_time_text_is_each_instant_in_utc(times: pd.Series, fmt: str) -> None:
    assert time_words(times, fmt).rows().to_pylist() == one_by_one(times, fmt)


def test_fractions_of_a_second_are_refused_as_before() -> None:
    times = pd.Series(pd.to_datetime(["2024-01-01T00:00:00.5Z"]))
    with pytest.raises(Exception, match="lose data"):
        time_words(times, ISO_CSV_FORMAT)


def test_pieces_join_to_the_rows_of_the_whole_part() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    readings = make_readings(
        source_id=np.repeat(["MPAN,1", "MPAN2", 'Q"3', "MPAN4"], n // 4),
        time=pd.Series(pd.date_range("2024-10-26T22:00Z", periods=n, freq="30min")),
        value=np.round(rng.gamma(2.0, 1.5, n), 3),
        estimated=np.r_[True, rng.random(n - 1) < 0.1],
        note=["read, late"] + ["late" if r < 0.05 else None for r in rng.random(n - 1)],
        interval_s=1800,
    )
    mapped = apply_mapping(readings, MappingTable(rows=[]))
    whole = import_csv_rows(mapped, "meter", "start")
    pieces = b"".join(bytes(p) for p in import_csv_pieces(mapped, "meter", "start", rows=97))
    assert pieces == whole
    lines = whole.decode().split("\r\n")
    value = float(readings["value"][0])
    assert lines[0] == f'"MPAN,1",2024-10-26 21:30:00+00:00,{value!r},E,"read, late"'
    assert lines[-2].startswith("MPAN4,2024-11-16 17:00:00+00:00,") and lines[-1] == ""
    assert len(lines) == n + 1


def test_laid_out_pieces_equal_the_element_wise_join() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from app.core.energycap.csv_words import Words, joined_pieces

    ids = Words(pa.array(["A", 'B"', ""]), pa.array([2, 0, 1, 0], pa.int8()))
    notes = Words(pa.array(["x\r\n", None]), pa.array([0, 0, 1, 0], pa.int32()))
    for columns in ([pa.scalar("<"), ids, pa.scalar("mid"), ids, pa.scalar("\r\n")], [ids, notes]):
        expected = pc.binary_join_element_wise(
            *[c.rows() if isinstance(c, Words) else c for c in columns], ","
        )
        text = b"".join(bytes(p) for p in joined_pieces(columns, 4, rows=3))
        assert text == "".join(s for s in expected.to_pylist() if s is not None).encode()
