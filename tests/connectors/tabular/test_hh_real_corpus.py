"""Every real file of ../shared/samples/hh-real read as `--connector auto` reads it.

Each file's expected outcome (readings, exact values at exact UTC instants, the
problems named, refusal) is stated in `tests/connectors/tabular/hh_real_corpus.py`. Skipped,
naming the file, when ../shared is absent (a fresh clone): the behaviours these files
show are also covered by generated samples (`tests/data/hh/compose_quirks.py`,
`test_hh_real_quirks.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.connector_catalog import build_registry
from connectors.base import ReadingBatch, Source, SourceError, concat_batches
from tests.connectors.tabular.hh_real_corpus import CORPUS, Expected


def read(path: Path) -> ReadingBatch:
    """Read a file with the connector the registry picks (as `--connector auto` does)."""
    source = Source.from_path(path)
    best = build_registry().best(source)
    assert best is not None, f"no connector takes {path.name}"
    return concat_batches(list(best.connector.read(source, {})))


@pytest.mark.parametrize("expected", CORPUS, ids=lambda e: e.name)
def test_real_file_gives_its_stated_outcome(
    expected: Expected, shared_sample: Callable[[str], Path]
) -> None:
    path = shared_sample(f"hh-real/{expected.name}")
    if expected.layout is None:
        with pytest.raises(SourceError, match=expected.refused):
            read(path)
        return
    batch = read(path)
    frame = batch.readings
    assert batch.info["layout"] == expected.layout
    assert len(frame) == expected.readings
    assert np.isfinite(frame["value"]).all()
    assert not frame.duplicated(["source_id", "quantity", "time"]).any() or (
        expected.name == "energysparks-imserv-duplicate-rows.csv"  # two rows of one day
    )
    for (source, when), value in expected.values.items():
        hit = frame[
            (frame["source_id"] == source) & (frame["time"] == pd.Timestamp(when, tz="UTC"))
        ]
        assert hit["value"].tolist() == [value], (source, when)
    for source, when in expected.absent:
        at = frame[(frame["source_id"] == source) & (frame["time"] == pd.Timestamp(when, tz="UTC"))]
        assert at.empty, (source, when)
    named = [(str(p.kind), p.line, p.message) for p in batch.problems]
    assert len(named) == len(expected.problems), named
    for kind, line, words in expected.problems:
        assert any(k == kind and n == line and words in m for k, n, m in named), (words, named)
