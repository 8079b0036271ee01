"""Reading ahead on a thread: stopping early ends the thread, errors arrive in order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import Source
from connectors.tabular.engine import UkHalfHourlyConnector
from connectors.tabular.stream import Prefetch

DATA = Path(__file__).resolve().parents[2] / "data" / "hh"


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tabular-prefetch"]


def test_a_reader_stopped_after_one_batch_leaves_no_thread() -> None:
    batches: Any = UkHalfHourlyConnector().read(
        Source.from_path(DATA / "energy-assets.csv"), {"block_size": 256}
    )
    first = next(batches)
    assert len(first.readings) > 0
    assert prefetch_threads()  # the next block is being read ahead
    batches.close()
    assert not prefetch_threads()


def test_batches_come_in_order_then_the_error_then_nothing() -> None:
    def source() -> object:
        yield 1
        yield 2
        raise ValueError("bad block")

    seen: list[object] = []
    ahead = Prefetch(source(), lambda: len(seen))
    with pytest.raises(ValueError, match="bad block"):
        for item, _ in ahead:
            seen.append(item)
    ahead.close()
    assert seen == [1, 2]
    assert not prefetch_threads()


def test_at_most_one_item_is_made_ahead_of_the_caller() -> None:
    made: list[int] = []

    def source() -> object:
        for number in range(5):
            made.append(number)
            yield number

    ahead = Prefetch(source(), lambda: None)
    items = iter(ahead)
    assert next(items)[0] == 0
    threading.Event().wait(0.3)  # time enough to run ahead, were it allowed
    assert made == [0, 1]
    assert [item for item, _ in items] == [1, 2, 3, 4]
    ahead.close()


def _read_all(path: Path, block_size: int) -> tuple[pd.DataFrame, list[tuple[Any, ...]]]:
    """(readings in a fixed order, problems as tuples) of a whole file read in blocks."""
    batches = list(UkHalfHourlyConnector().read(Source.from_path(path), {"block_size": block_size}))
    frame = pd.concat([b.readings for b in batches]).sort_values(["source_id", "quantity", "time"])
    problems = [(p.kind, p.line, p.column, p.value, p.message) for b in batches for p in b.problems]
    return frame.reset_index(drop=True).astype(object), sorted(problems, key=str)


HH_FILES = sorted(p for p in DATA.glob("*.csv") if p.name != "imserv-all-blank.csv")  # no readings


def _longest_line(path: Path) -> int:
    return max(len(line) for line in path.read_bytes().replace(b"\r", b"\n").split(b"\n"))


@pytest.mark.parametrize(
    ("name", "block_size"),
    [
        ("stark-portal.csv", 357),  # the last block holds only the footer lines
        ("banes.csv", 775),  # the last block holds only the trailing blank line
    ],
)
def test_a_block_of_only_blank_or_footer_lines_is_read(name: str, block_size: int) -> None:
    """Such a block has no date: it neither crashes the reader nor sets the date format."""
    frame, problems = _read_all(DATA / name, block_size)
    assert frame.equals(_read_all(DATA / name, 1 << 20)[0]) and problems == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(HH_FILES), extra=st.integers(min_value=1, max_value=2200))
def test_any_block_size_gives_the_same_readings_and_problems(path: Path, extra: int) -> None:
    """Any block that holds the longest line reads the file as one block does."""
    whole_frame, whole_problems = _read_all(path, 1 << 20)
    frame, problems = _read_all(path, _longest_line(path) + extra)
    assert frame.equals(whole_frame), f"{path.name} in blocks of {_longest_line(path) + extra}"
    assert problems == whole_problems
    assert len(frame) > 0
