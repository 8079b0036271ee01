"""A reader asks for the file's columns by header position; one it did not read is an error."""

from __future__ import annotations

import pyarrow as pa
import pytest

from connectors.tabular.cells import column_at


def test_a_column_that_was_read_is_found_by_its_header_position() -> None:
    batch = pa.RecordBatch.from_pydict({"c0": ["2200012345678"], "c3": ["Guildhall"]})

    assert column_at(batch, 3).to_pylist() == ["Guildhall"]
    assert column_at(batch, 0).to_pylist() == ["2200012345678"]


def test_a_column_that_was_not_read_is_an_error_not_the_last_column() -> None:
    # Arrow answers -1 for an unknown name, and column(-1) is the last column:
    # a site name would silently come back as the meter id.
    batch = pa.RecordBatch.from_pydict({"c0": ["2200012345678"], "c1": ["01/03/2024"]})

    with pytest.raises(KeyError, match="column 6 was not read"):
        column_at(batch, 5)
