"""Readings missing from pulled files, kept with a job's last run for the user (no Qt).

A scheduled pull runs with nobody watching: the gaps its files had
(`connectors.series_gaps`) are kept in the job's run record as `GapNote`s, so
the dashboard and `jobs list` can say them in plain words ("3 readings missing
on channel M1 (kWh) from 2026-11-03 03:30"), at most `MAX_NOTES` a run and a
count of the rest, as the command's own output caps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and pandas stay out of light commands (`jobs list` reads notes)
    from connectors.series_gaps import SeriesGaps

MAX_NOTES = 20  # notes kept a run, as many as a file's gaps listed; the others are counted


@dataclass(frozen=True)
class GapNote:
    """Readings missing on one channel of a pulled file (or the channel not checked).

    Attributes:
        file: the file's label (its name on the server or in the folder).
        channel: the channel's source id.
        quantity: its quantity (kWh, kW …).
        missing: how many readings are missing; 0 when the channel was not checked
            (its readings come at irregular times: no interval could be inferred).
        first: the UTC time of the first missing reading (ISO), "" when not checked.
        every_s: the channel's interval, seconds (0 when not checked).
    """

    file: str
    channel: str
    quantity: str
    missing: int
    first: str = ""
    every_s: int = 0

    def words(self, zone: tzinfo | None = None, whole_label: bool = False) -> str:
        """The note in plain words, its time in `zone` (this PC's zone when None).

        ``3 readings missing on channel M1 (kWh) from 2026-11-03 03:30 (a.csv)``: the
        file's name, or its whole label (``sftp://…/incoming/a.csv``) with `whole_label`.
        """
        where = f"channel {self.channel} ({self.quantity})"
        file = self.file if whole_label else re.split(r"[\\/]", self.file)[-1]
        if not self.missing:
            return (
                f"{where} not checked for missing readings: its readings come at irregular "
                f"times, so its interval could not be inferred ({file})"
            )
        moment = datetime.fromisoformat(self.first).astimezone(zone)
        count = f"{self.missing:,} reading{'s' if self.missing != 1 else ''}"
        return f"{count} missing on {where} from {moment:%Y-%m-%d %H:%M} ({file})"


@dataclass
class GapNotes:
    """The notes of one run: the first `MAX_NOTES`, and how many more there were."""

    notes: list[GapNote] = field(default_factory=list)
    more: int = 0

    def add(self, gaps: SeriesGaps, file: str) -> None:
        """Note the gaps (then the channels not checked) of one file read."""
        room = MAX_NOTES - len(self.notes)
        taken = list(islice(_notes_of(gaps, file), max(room, 0)))
        self.notes += taken
        self.more += len(gaps) + len(gaps.unchecked) - len(taken)

    def lines(self, zone: tzinfo | None = None, whole_label: bool = False) -> list[str]:
        """Every note in plain words, then one line counting the rest."""
        shown = [note.words(zone, whole_label) for note in self.notes]
        if self.more:
            shown.append(f"… and {self.more:,} more missing-readings warning(s)")
        return shown

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the job store."""
        return {"notes": [asdict(note) for note in self.notes], "more": self.more}

    @classmethod
    def from_json(cls, data: Any) -> GapNotes:
        """Read back what `to_json` wrote (anything else: no notes)."""
        if not isinstance(data, dict):
            return cls()
        fields = set(GapNote.__dataclass_fields__)
        notes = [
            GapNote(**{k: v for k, v in note.items() if k in fields})
            for note in data.get("notes", [])
            if isinstance(note, dict) and fields - {"first", "every_s"} <= set(note)
        ]
        more = data.get("more", 0)
        return cls(notes, more if isinstance(more, int) else 0)

    def __len__(self) -> int:
        return len(self.notes) + self.more


def _notes_of(gaps: SeriesGaps, file: str) -> Iterator[GapNote]:
    for i in range(len(gaps)):
        source_id, quantity = gaps.channels[int(gaps.channel[i])]
        first = datetime.fromtimestamp(int(gaps.first_missing_ns[i]) // 10**9, UTC)
        yield GapNote(file, source_id, quantity, int(gaps.missing[i]), first.isoformat(),
                      int(gaps.interval_s[i]))  # fmt: skip
    for code in gaps.unchecked.tolist():
        source_id, quantity = gaps.channels[code]
        yield GapNote(file, source_id, quantity, 0)
