"""Where pulled readings go: the same map-and-deliver step as `meterbridge send`.

`Submitter` is the one `submit(batch)` the pulls call. It drops unusable
rows, maps the batch and hands it to the send path's delivery function
(EnergyCAP, or the outbox writer when no EnergyCAP URL is set), keeping a
`RunResult` the CLI prints exactly like `send`. It returns only when the
readings are delivered or written, so a pull moves its bookmark after that.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from app.core.mapping import MappingTable, apply_mapping
from app.core.report import DeliveryResult, RunResult, SourceReport
from connectors.base import ReadingBatch

Deliver = Callable[[pd.DataFrame], DeliveryResult]


class Submitter:
    """Map and deliver batches of pulled readings, counting what happened.

    Args:
        table: the mapping (source id → EnergyCAP channel).
        deliver: delivers one mapped frame (see `app.core.sender.deliver`).
        result: the run's tally (a new one by default).
    """

    def __init__(self, table: MappingTable, deliver: Deliver, result: RunResult | None = None):
        self.table = table
        self.deliver = deliver
        self.result = result if result is not None else RunResult()
        self.progress: Callable[[RunResult], None] | None = None  # after each batch

    def source(self, name: str, connector: str) -> SourceReport:
        """Open a report line for one pulled source (a Verdigris request set, an SFTP file)."""
        report = SourceReport(name, connector, 1.0)
        self.result.sources.append(report)
        return report

    def __call__(self, batch: ReadingBatch, report: SourceReport | None = None) -> int:
        """Deliver one batch; returns the number of readings handed on."""
        readings = batch.readings
        usable = readings["time"].notna() & readings["value"].notna()
        readings = readings.loc[usable].reset_index(drop=True)
        self.result.add_problems(list(batch.problems))
        self.result.read += len(readings)
        if report is not None:
            report.read += len(readings)
        if len(readings):
            self.result.add_delivery(self.deliver(apply_mapping(readings, self.table)))
        if self.progress is not None:
            self.progress(self.result)
        return len(readings)
