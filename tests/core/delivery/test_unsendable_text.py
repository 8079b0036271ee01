"""A text no JSON body can carry (a lone surrogate, e.g. from a mapping) is named per reading."""

from __future__ import annotations

import pandas as pd

from app.core.delivery.checks import unsendable
from app.core.mapping import apply_mapping, parse_mapping_csv
from app.core.settings import EnergyCapSettings
from connectors.base import make_readings


def test_a_lone_surrogate_in_a_mapped_id_refuses_only_its_readings() -> None:
    times = pd.date_range("2026-03-29T00:30Z", periods=2, freq="30min")
    readings = pd.concat(
        [make_readings(source_id=s, time=times, value=[1.0, 2.0], interval_s=1800) for s in "ab"],
        ignore_index=True,
    )
    mapped = apply_mapping(
        readings, parse_mapping_csv("source_id,channel_import_id\na,CH-1\nb,CH-2\n", "m.csv")
    )
    mapped["id"] = [10, 11, 12, 13]
    texts = ["CH-1", "CH-1", "CH-\ud800", "CH-\ud800"]  # Arrow refuses them: Python storage
    mapped["channel_import_id"] = pd.array(texts, dtype=pd.StringDtype("python"))
    reasons = unsendable(mapped, EnergyCapSettings())
    assert sorted(reasons) == [12, 13]
    assert "channel_import_id 'CH-\\\\ud800' cannot be sent" in reasons[12]
