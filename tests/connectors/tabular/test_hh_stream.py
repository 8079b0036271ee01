"""Reading ahead on a thread: stopping early ends the thread, errors arrive in order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

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
