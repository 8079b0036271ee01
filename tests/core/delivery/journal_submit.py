"""Delivery in tests as the app, `serve` and the pulls do it: journal first, then the engine.

`submitter` hands each pulled batch to the journal (durable) and drains the
journal into the fake EnergyCAP with `deliver_pending` at once, so a test
sees the readings arrive batch by batch through the one delivery path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient
from app.core.journal.store import Journal
from app.core.mapping import MappingTable
from app.core.pulls.submit import Submitter, journal_intake
from app.core.report import DeliveryResult
from app.core.settings import EnergyCapSettings
from tests.fakes.energycap import FakeEnergyCap


def submitter(ecap: FakeEnergyCap, folder: Path, key: str = "test-key") -> Submitter:
    """A `Submitter` over the journal in `folder`, delivering to `ecap` after every batch."""
    journal = Journal(folder / "journal.sqlite3")
    client = EnergyCapClient(ecap.url, key)
    accept = journal_intake(journal, "pull:test")
    table = MappingTable()

    def deliver(raw: pd.DataFrame) -> DeliveryResult:
        accept(raw)
        report = deliver_pending(journal, client, EnergyCapSettings(), table)
        return DeliveryResult(sent=report.confirmed, rejected=report.rejected)

    return Submitter(table, deliver, map_first=False)
