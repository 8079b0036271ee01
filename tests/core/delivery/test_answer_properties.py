"""Property-based: whatever EnergyCAP answers, no reading is confirmed that the answer does not
account for, and reading the answer (or a Retry-After) never raises."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.delivery.trace import readings_verdict
from app.core.energycap.exporter import api_batches
from app.core.energycap.models import parse_reading_result
from app.core.energycap.retry import MAX_RETRY_AFTER_S, parse_retry_after
from app.core.mapping import apply_mapping, parse_mapping_csv
from connectors.base import make_readings

MAPPING = parse_mapping_csv("source_id,channel_import_id\nA,CA\nB,CB\n", "m.csv")
TIMES = pd.date_range("2026-10-25 00:30", periods=4, freq="30min", tz="UTC")
FRAME = pd.concat(
    [make_readings(source_id=s, time=TIMES, value=[1.0, 2.0, 3.0, 4.0], interval_s=1800)
     for s in ("A", "B")],
    ignore_index=True,
)  # fmt: skip
(BATCH,) = api_batches(apply_mapping(FRAME, MAPPING), api="readings")
SENT = len(BATCH.rows)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(), st.text(max_size=8))
failed_reading = st.fixed_dictionaries(
    {"time": st.one_of(st.sampled_from([t.isoformat() for t in TIMES]), scalars)},
    optional={"error": scalars, "value": scalars},
)
failure = st.fixed_dictionaries(
    {},
    optional={
        "channelImportId": st.one_of(st.sampled_from(["CA", "CB", "CX"]), scalars),
        "error": scalars,
        "readings": st.one_of(st.lists(failed_reading, max_size=4), scalars),
    },
)
answers = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "importedReadingsCount": scalars,
            "failedReadingsCount": scalars,
            "failedReadings": st.one_of(st.lists(failure, max_size=3), scalars),
        },
    ),
    st.lists(scalars, max_size=3),
    scalars,
)


@settings(max_examples=400, deadline=None)
@given(answer=answers)
def test_no_reading_is_confirmed_that_the_answer_does_not_account_for(answer: Any) -> None:
    result = parse_reading_result(answer, 200)
    verdict = readings_verdict(BATCH, result)
    confirmed = SENT - len(verdict.refused) - len(verdict.unconfirmed)
    assert set(verdict.refused).isdisjoint(verdict.unconfirmed)
    if confirmed:
        assert isinstance(answer, dict) and result.accounted
        imported = answer["importedReadingsCount"]
        assert isinstance(imported, int) and not isinstance(imported, bool)
        assert imported >= confirmed  # never more confirmed than counted imported
        named = result.failed
        assert named <= len(verdict.refused)  # every counted failure was named


@given(value=st.one_of(st.text(max_size=40), st.floats().map(str), st.integers().map(str)))
def test_retry_after_is_never_a_problem(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or 0.0 <= seconds <= MAX_RETRY_AFTER_S
