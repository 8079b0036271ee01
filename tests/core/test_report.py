"""The run report's lines: what a user reads about readings EnergyCAP refused."""

from __future__ import annotations

from app.core.report import Rejection


def test_a_rejection_names_its_origin_reading_and_reason() -> None:
    rejection = Rejection("NOPE", "us.csv:8:3", "M1", "2026-03-08T07:00:00+00:00", 1.5)
    assert rejection.describe() == (
        "us.csv:8:3: rejected by EnergyCAP "
        "(source M1, time 2026-03-08T07:00:00+00:00, value 1.5): NOPE"
    )


def test_a_rejection_leaves_out_what_it_does_not_know_and_counts_a_group() -> None:
    assert Rejection("bad unit", source_id="M1").describe() == (
        "rejected by EnergyCAP (source M1): bad unit"
    )
    assert Rejection("see the dead letters", count=96).describe() == (
        "rejected by EnergyCAP (96 readings): see the dead letters"
    )
    assert Rejection("no reason given", value=0.0).describe() == (
        "rejected by EnergyCAP (value 0.0): no reason given"
    )
