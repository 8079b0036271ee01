"""The journal's quick all-finite check of pushed values answers as the shared check does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.core.journal.finite import _all_finite_numbers, finite_readings
from connectors.finite import non_finite_positions
from connectors.push.common import PointColumns

values = st.lists(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.booleans(),
        st.none(),
        st.text(max_size=3),
    ),
    max_size=12,
)


@given(values)
def test_quick_check_agrees_with_the_shared_check(found: list[object]) -> None:
    assert _all_finite_numbers(found) == (non_finite_positions(found) == [])


@given(values)
def test_pushed_values_that_are_not_finite_numbers_are_never_kept(found: list[object]) -> None:
    columns = PointColumns()
    for i, value in enumerate(found):
        columns.add("S1", "kWh", 1_780_000_000_000_000_000 + i, value, f"push:{i}")  # type: ignore[arg-type]
    kept, problems = finite_readings(columns)
    assert isinstance(kept, PointColumns)
    assert len(kept) + len(problems) == len(found)
    assert non_finite_positions(kept.value) == []
