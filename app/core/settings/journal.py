"""The journal's settings section."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.settings.labels import meta

DEFAULT_MAX_BYTES = 4 * 1024**3
DEFAULT_RETENTION_DAYS = 90.0
DEFAULT_OUTAGE_PATIENCE_S = 900.0


@dataclass
class JournalSettings:
    """The journal's bound and retention, and how long delivery waits out an outage."""

    max_bytes: int = field(
        default=DEFAULT_MAX_BYTES,
        metadata=meta("Journal size bound (bytes)", "When full, new readings are refused."),
    )
    retention_days: float = field(
        default=DEFAULT_RETENTION_DAYS,
        metadata=meta("Keep delivered readings (days)", "Batch receipts are kept for good."),
    )
    outage_patience_s: float = field(
        default=DEFAULT_OUTAGE_PATIENCE_S,
        metadata=meta(
            "Wait out an EnergyCAP outage (s)",
            "send/deliver keep retrying this long before stopping with readings pending.",
        ),
    )
