"""Where a held reading came from: `file:line:column` origins, half-hour labels included."""

from __future__ import annotations

import pytest

from app.core.guards import where


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("hh.csv:27250:00:30", ("hh.csv", 27250, "00:30")),
        ("hh.csv:3:00:30:00", ("hh.csv", 3, "00:30:00")),
        ("banes.csv:4:[24:00]", ("banes.csv", 4, "[24:00]")),
        ("C:\\data\\hh.csv:12:23:30", ("C:\\data\\hh.csv", 12, "23:30")),
        ("lines.csv:5:kWh", ("lines.csv", 5, "kWh")),
        ("a:b.csv:7:", ("a:b.csv", 7, None)),
        (
            "api?ids=a@2024-01-01T00:00:00+00:00",
            ("api?ids=a@2024-01-01T00:00:00+00:00", None, None),
        ),
        (None, ("label", None, None)),
    ],
)
def test_origin_parts(origin: object, expected: tuple[str, int | None, str | None]) -> None:
    assert where(origin, "label") == expected
