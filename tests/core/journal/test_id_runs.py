"""Batches are marked and settled by runs of consecutive journal ids: the runs are exact."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.core.journal.marks import id_runs


@given(st.lists(st.integers(min_value=1, max_value=2_000), max_size=300))
def test_runs_cover_exactly_the_ids_given(ids: list[int]) -> None:
    runs = id_runs(ids)
    covered = [i for first, last in runs for i in range(first, last + 1)]
    assert covered == sorted(set(ids))
    # maximal runs: two runs never touch, so no id outside the list is ever covered
    assert all(later[0] > earlier[1] + 1 for earlier, later in pairwise(runs))


def test_a_batch_of_consecutive_ids_is_one_run() -> None:
    assert id_runs([5, 3, 4, 9, 10, 3]) == [(3, 5), (9, 10)]
    assert id_runs([]) == []


@given(st.lists(st.integers(min_value=1, max_value=2_000), max_size=300))
def test_an_array_gives_the_runs_a_list_gives(ids: list[int]) -> None:
    as_array = np.array(ids, dtype=np.int64)
    assert id_runs(as_array) == id_runs(ids)
    assert id_runs(np.unique(as_array)) == id_runs(ids)  # ascending: taken as it is
