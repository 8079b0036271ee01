"""Property tests of the UK HH, .df2 and generic readers: whatever the bytes, a reading is
a finite number that is in the input where its origin says, or the input is named.

Arbitrary bytes and generated samples mutated at random (cells replaced by odd text,
non-finite numbers, lines cut, deleted or left with an open quote) never raise anything
but `SourceError` (a whole file refused, saying why) and never give a value that is not
finite or not written in the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.base import ReadingBatch, Source, SourceError, concat_batches
from connectors.generic.engine import GenericCsvConnector
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLES = {
    "imserv.csv": (UkHalfHourlyConnector(), {}),
    "banes.csv": (UkHalfHourlyConnector(), {}),
    "sheffield.csv": (UkHalfHourlyConnector(), {}),
    "row-per-reading.csv": (UkHalfHourlyConnector(), {}),
    "bglobal-no-header.csv": (UkHalfHourlyConnector(), {}),
    "stark-details.df2": (StarkDf2Connector(), {}),
    "stark.df2": (StarkDf2Connector(), {}),
}
GENERIC = ("offsets.csv", "bad_values.csv")
ODD_CELLS = st.sampled_from(
    ["inf", "-inf", "nan", "NaN", "1e400", "-1e999", "", "-", '"', "1,5", "0x10", "1e-400", "٣"]
)
PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(connector: Any, data: bytes, name: str, options: dict[str, Any]) -> ReadingBatch | None:
    """The batch read from `data`, or None when the whole file is refused (SourceError)."""
    try:
        return concat_batches(list(connector.read(Source.from_bytes(data, name), options)))
    except SourceError:
        return None


def assert_readings_come_from_the_input(batch: ReadingBatch | None, data: bytes) -> None:
    """Every value is finite and written in the line its origin names."""
    if batch is None:
        return
    lines = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for origin, value in zip(batch.readings["origin"], batch.readings["value"], strict=True):
        assert math.isfinite(value)
        line = int(str(origin).split(":")[1])
        cells = [c.strip().strip('"').strip() for c in lines[line - 1].replace(";", ",").split(",")]
        numbers = set()
        for cell in cells:
            try:
                numbers.add(float(cell))
            except ValueError:
                continue
        assert value in numbers, (origin, value, lines[line - 1][:120])


@st.composite
def mutated(draw: st.DrawFn, names: tuple[str, ...], folder: Path) -> tuple[str, bytes]:
    """A sample with a few random cells replaced, lines cut or dropped."""
    name = draw(st.sampled_from(names))
    lines = (folder / name).read_bytes().decode().replace("\r\n", "\n").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        cells = lines[index].split(",")
        action = draw(st.sampled_from(["cell", "cut", "drop", "quote"]))
        if action == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(ODD_CELLS | st.text(max_size=6))
            lines[index] = ",".join(cells)
        elif action == "cut":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        elif action == "drop" and len(lines) > 2:
            del lines[index]
        else:
            lines[index] = lines[index] + ',"open'
    return name, "\n".join(lines).encode("utf-8", "surrogatepass")


@PROFILE
@given(data=st.binary(max_size=3000), name=st.sampled_from(["x.csv", "x.df2", "x.txt"]))
def test_arbitrary_bytes_give_finite_readings_from_the_input_or_a_refusal(
    data: bytes, name: str
) -> None:
    for connector in (UkHalfHourlyConnector(), StarkDf2Connector(), GenericCsvConnector()):
        options = {"tz": "UTC"} if isinstance(connector, GenericCsvConnector) else {}
        assert_readings_come_from_the_input(read(connector, data, name, options), data)


@PROFILE
@given(sample=mutated(tuple(SAMPLES), DATA / "hh"))
def test_mutated_uk_hh_samples_give_readings_from_the_input_or_named_problems(
    sample: tuple[str, bytes],
) -> None:
    name, data = sample
    connector, options = SAMPLES[name]
    assert_readings_come_from_the_input(read(connector, data, name, options), data)


@PROFILE
@given(sample=mutated(GENERIC, DATA / "generic"))
@example(  # found by this test: an offset "-04:0" beside a bare year ("Mixed timezones")
    sample=(
        "offsets.csv",
        b"id,timestamp,value,quantity\nX,2024-11-03T01:30:00-04:0\nY,2024\n"
        b"Y,2024-10-27T01:30:00Z,4.0,kW\nX,2024-10-27 01:30:00+00:00,5.0,\n",
    )
)
def test_mutated_generic_samples_give_readings_from_the_input_or_named_problems(
    sample: tuple[str, bytes],
) -> None:
    name, data = sample
    batch = read(GenericCsvConnector(), data, name, {"tz": "UTC"})
    assert_readings_come_from_the_input(batch, data)
