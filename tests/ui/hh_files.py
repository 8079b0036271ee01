"""Write UK half-hourly files (Sheffield layout: siteRef, MPAN, date, kWh_1..kWh_48)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

HEADER = "siteRef,MPAN,ConsumptionDate," + ",".join(f"kWh_{i}" for i in range(1, 49))


def write_hh(path: Path, meters: int, days: int, start: date = date(2025, 6, 2)) -> Path:
    """`meters` × `days` rows of plausible values (≈ meters·days·48 readings)."""
    rng = np.random.default_rng(7)
    values = np.round(rng.uniform(1.0, 9.0, size=(meters * days, 48)), 3)
    lines = [HEADER]
    row = 0
    for m in range(meters):
        mpan = str(2000000000000 + m)
        for d in range(days):
            day = (start + timedelta(days=d)).strftime("%d/%m/%Y")
            cells = ",".join(f"{v:.3f}" for v in values[row])
            lines.append(f"Site {m},{mpan},{day},{cells}")
            row += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def day_row(mpan: str, day: str, values: list[float]) -> str:
    """One row of the Sheffield layout."""
    return f"Site,{mpan},{day}," + ",".join(str(v) for v in values)
