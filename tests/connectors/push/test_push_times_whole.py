"""`TimeParser.parse_all` reads a batch of whole epoch numbers at once exactly as it reads
each value on its own (`_parse_each`): same nanoseconds, same messages, same slash order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.push.times import TimeParser

epochs = st.one_of(
    st.integers(0, 2_000_000_000),  # seconds
    st.integers(100_000_000_000, 2_000_000_000_000),  # milliseconds
    st.integers(-(10**12), 10**12),
    st.integers(-(10**30), 10**30),  # beyond what a timestamp holds
    st.booleans(),
)
texts = st.one_of(
    epochs.filter(lambda n: not isinstance(n, bool)).map(str),
    st.text(st.sampled_from(list("0123456789+-. \n٣")), max_size=22),
    st.sampled_from(["", "1780000000.5", "+1780000000", "01780000000", "9" * 30, "13/05/2026"]),
)
batches = st.one_of(
    st.lists(epochs, max_size=8),
    st.lists(texts, max_size=8),
    st.lists(epochs | texts | st.none(), max_size=6),
    st.lists(st.integers(1_700_000_000, 1_800_000_000).map(str), min_size=1, max_size=60),
)


@settings(max_examples=4000, deadline=None)
@given(batches, st.sampled_from(["auto", "epoch_s", "epoch_ms", "iso", "local"]))
def test_a_batch_reads_as_its_values_read_one_by_one(raws: list[Any], encoding: str) -> None:
    whole, each = TimeParser("Europe/London", encoding), TimeParser("Europe/London", encoding)
    assert whole.parse_all(raws) == each._parse_each(raws)
    assert whole._slash == each._slash


def test_whole_seconds_and_milliseconds_are_read_at_once() -> None:
    parser = TimeParser("UTC")
    assert parser._whole_epochs(["1780000000", "1780000060"]) == [
        1_780_000_000_000_000_000,
        1_780_000_060_000_000_000,
    ]
    assert parser._whole_epochs([1780000000000]) == [1_780_000_000_000_000_000]
    for mixed in (["1780000000", 1780000060], ["1780000000", "1780000000000"], [True], ["1.5"]):
        assert parser._whole_epochs(mixed) is None  # read one by one
