"""What the dashboard shows, read from the journal and the job store (no widgets here).

Each piece is optional: when the journal or the job store is missing (not set
up yet, or not part of this build), the snapshot says so instead of guessing.
Built on a worker thread; the widgets only display it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.pulls.gap_notes import GapNotes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRow:
    """One line of the dashboard."""

    name: str
    connector: str
    state: str
    latest_reading: str = "—"  # the time of the newest reading it holds (interval end)
    next_run: str = "—"
    pending: int = 0
    delivered: int = 0
    rejected: int = 0
    last_error: str = ""  # an error only, in plain words
    error_details: str = ""  # the technical words behind it (EnergyCAP's own), for Details…
    warning: str = ""  # a job's last run found readings missing: the first, plainly
    warning_details: str = ""  # every such warning of that run, one a line (capped)


@dataclass
class Snapshot:
    """Sources, receipts and dead letters at one moment, plus notes on what is missing."""

    sources: list[SourceRow] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paused: str = ""  # why delivery is paused (plain words), set by `with_delivery`
    # What is wrong in devices.json: (device name, or "" for the file or an entry; full text).
    device_problems: list[tuple[str, str]] = field(default_factory=list)
    taken: datetime = field(default_factory=lambda: datetime.now(UTC))


def when(moment: datetime | float | None) -> str:
    """A moment in local time, short (``2026-11-26 09:30``), or a dash."""
    if moment is None:
        return "—"
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(float(moment), UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def take_snapshot(
    journal_file: Path, jobs_file: Path, devices_file: Path | None = None
) -> Snapshot:
    """Read everything the dashboard shows; never raises (problems become notes)."""
    snap = Snapshot()
    by_name: dict[str, SourceRow] = {}
    if devices_file is not None:
        _read_devices(devices_file, by_name, snap)
    _read_jobs(jobs_file, by_name, snap)
    _read_journal(journal_file, by_name, snap)
    snap.sources = [by_name[k] for k in sorted(by_name)]
    return snap


def _read_devices(path: Path, rows: dict[str, SourceRow], snap: Snapshot) -> None:
    if not path.exists():
        return
    try:
        from app.core.sources.devices import DeviceRegistry

        registry = DeviceRegistry(path)
        for device in registry.all():
            rows[device.source] = SourceRow(
                name=device.source,
                connector=device.connector,
                state=DEVICE_BROKEN if device.problem else "waiting for first push",
                next_run="on push",
                last_error=device_problem_words(device.name, device.problem),
                error_details=_line_of(registry.problems, device.name),
            )
            if device.problem:
                snap.device_problems.append((device.name, _line_of(registry.problems, device.name)))
        named = {line for _, line in snap.device_problems}
        snap.device_problems += [("", line) for line in registry.problems if line not in named]
    except Exception as exc:  # a broken registry must not take the dashboard down
        log.warning("device registry %s unreadable: %s", path, exc)
        snap.notes.append(f"The device list ({path.name}) cannot be read: {exc}")


DEVICE_BROKEN = "refused: set up wrongly"  # devices.json makes the device unusable


def _line_of(problems: list[str], name: str) -> str:
    return next((line for line in problems if f"device {name!r}:" in line), "")


def device_problem_words(name: str, problem: str) -> str:
    """A device's problem in plain words: what is wrong, without the fix's command."""
    if not problem:
        return ""
    what = problem.split("; ")[0].split(" (")[0]
    return (
        f"Device “{name}” cannot receive readings: {what}. "
        "Its pushes are refused until it is fixed."
    )


def device_file_banner(snap: Snapshot, file_name: str = "devices.json") -> tuple[str, str]:
    """The banner for problems of the device file: (plain sentence, full text); empty if none.

    The first unusable device is named with what is wrong; the others are counted.
    Every problem, with its file and the command that fixes it, is in the full text.
    """
    problems = snap.device_problems
    if not problems:
        return "", ""
    details = "\n\n".join(line for _, line in problems)
    name = next((name for name, _ in problems if name), "")
    if name:
        line = next(line for named, line in problems if named == name)
        problem = line.split(f"device {name!r}: ", 1)[-1]
        plain = device_problem_words(name, problem)
    else:
        plain = _file_problem_words(problems[0][1], file_name)
    if len(problems) > 1:
        plain += f" {file_name} has {len(problems) - 1} more problem(s): see Details…"
    return plain, details


def _file_problem_words(line: str, file_name: str) -> str:
    """The file's own problem (not JSON, an entry it ignores) without its path, plainly."""
    what = line.split(file_name, 1)[-1].lstrip(": ").split("; ")[0]
    if what.startswith("entry "):
        return f"The device list {file_name} has an entry that is not used: {what}."
    return f"The device list {file_name} cannot be read: it {what.split(' (at ')[0]}."


def _read_jobs(path: Path, rows: dict[str, SourceRow], snap: Snapshot) -> None:
    if not path.exists():
        return
    try:
        from app.core.pulls.jobs import JobStore
        from app.ui.plain_errors import plain_and_details  # its words only: no widget

        for job in JobStore(path).list():
            state = "paused" if job.paused else (job.last_status or "waiting for first run")
            # Only failures are errors ("waiting for a file" is a state, not an error).
            failed = job.last_status == "failed"
            said, kind = job.last_message or "", job.last_kind  # None: kept before kinds were
            plain, details = plain_and_details(said, kind=kind)
            if details:  # technical words: say what failed, in plain words
                plain, details = plain_and_details(details, "The last run failed", kind=kind)
            warning, warnings = gap_words(job.last_gaps)
            rows[job.name] = SourceRow(
                name=job.name,
                connector=job.kind,
                state=state,
                next_run="paused" if job.paused else when(job.next_run),
                last_error=plain if failed else "",
                error_details=details if failed else "",
                warning="" if failed else warning,
                warning_details="" if failed else warnings,
            )
    except Exception as exc:  # a broken store must not take the dashboard down
        log.warning("job store %s unreadable: %s", path, exc)
        snap.notes.append(f"The schedule ({path.name}) cannot be read: {exc}")


def gap_words(gaps: GapNotes) -> tuple[str, str]:
    """A job run's missing-readings warnings: (the first and how many more, all of them)."""
    lines = gaps.lines()
    if not lines:
        return "", ""
    more = len(gaps) - 1
    first = f"{lines[0]}, and {more:,} more: see Details…" if more else lines[0]
    return first, "\n".join(gaps.lines(whole_label=True))  # where each file is


def _read_journal(path: Path, rows: dict[str, SourceRow], snap: Snapshot) -> None:
    if not path.exists():
        snap.notes.append("Nothing has been received or sent yet.")
        return
    try:
        from app.core.journal.store import Journal

        journal = Journal(path)
        try:
            newest = {name: at.timestamp() for name, at in journal.newest_times().items()}
            _merge_status(journal.status(), rows, newest)
            snap.receipts = list(journal.receipts(limit=200))
            dead = journal.dead_letters(limit=2000)
            snap.dead_letters = dead.to_dict("records")
            _explain_refusals(rows, snap.dead_letters)
        finally:
            journal.close()
    except Exception as exc:  # shown as a note; the log has the detail
        log.warning("journal %s unreadable: %s", path, exc)
        snap.notes.append(f"The journal cannot be read: {exc}")


def _explain_refusals(rows: dict[str, SourceRow], dead: list[dict[str, Any]]) -> None:
    """Give sources with refused readings a last error in plain words (EnergyCAP's behind)."""
    from app.ui.plain_errors import plain_refusals  # its words only: no widget is made here

    reasons: dict[str, list[str]] = {}
    for letter in dead:
        reasons.setdefault(str(letter.get("source")), []).append(str(letter.get("reason") or ""))
    for name, said in reasons.items():
        row = rows.get(name)
        if row is not None and not row.last_error:
            plain, details = plain_refusals(said, row.rejected)
            rows[name] = _with(row, last_error=plain, error_details=details)


def _merge_status(
    statuses: list[Any], rows: dict[str, SourceRow], latest: dict[str, float]
) -> None:
    for status in statuses:
        old = rows.get(status.source)
        pending = status.count("pending") + status.count("sent") + status.count("held")
        row = SourceRow(
            name=status.source,
            connector=old.connector if old else journal_only_connector(status.source),
            state=_state(old, pending, status.count("rejected")),
            latest_reading=when(latest.get(status.source)),
            next_run=old.next_run if old else "—",
            pending=pending,
            delivered=status.count("confirmed"),
            rejected=status.count("rejected"),
            last_error=old.last_error if old else "",
            error_details=old.error_details if old else "",
        )
        rows[status.source] = row


def journal_only_connector(source: str) -> str:
    """The connector of a source known only from the journal (no device or job row).

    A removed device's ``push:<name>`` readings stay in the journal, as do a removed
    job's ``pull:<name>`` and a one-off pull's ``pull:<kind>``: they are pushes and
    pulls, never files. ("pull", not the job's kind: a row with a job's kind is taken
    for a scheduled job by the dashboard.) Anything else was sent from a file.
    """
    for prefix in ("push", "pull"):
        if source.startswith(f"{prefix}:"):
            return prefix
    return "file"


def _state(old: SourceRow | None, pending: int, rejected: int) -> str:
    if old is not None and old.state in ("failed", "paused", "partial", DEVICE_BROKEN):
        return old.state
    if rejected:
        return "needs attention"
    return "sending" if pending else "up to date"


def _with(row: SourceRow, **changes: Any) -> SourceRow:
    from dataclasses import replace

    return replace(row, **changes)


PAUSED = "delivery paused"
NOT_CONNECTED = "kept on this PC (not connected)"


def with_delivery(snap: Snapshot, problem: str, *, paused: bool, detail: str = "") -> Snapshot:
    """Put the delivery's pause (or the missing connection) on every row with pending readings.

    Rows that failed on their own keep their error; the others say that their
    readings wait and why, so a wrong key shows on the row of a dropped file too.
    """
    if not problem:
        return snap
    snap.paused = problem if paused else ""
    rows = []
    for row in snap.sources:
        if row.pending and row.state not in ("failed", "paused", DEVICE_BROKEN):
            state = PAUSED if paused else NOT_CONNECTED
            if paused:
                row = _with(row, state=state, last_error=problem, error_details=detail)
            else:
                row = _with(row, state=state)
        rows.append(row)
    snap.sources = rows
    return snap


def with_device_stats(snap: Snapshot, stats: dict[str, dict[str, Any]]) -> Snapshot:
    """Show on each device's row what the listener saw: its first push, or its last error."""
    rows = []
    for row in snap.sources:
        seen = stats.get(row.name[len("push:") :]) if row.name.startswith("push:") else None
        if seen:
            row = _device_row(row, seen)
        rows.append(row)
    snap.sources = rows
    return snap


def _device_row(row: SourceRow, seen: dict[str, Any]) -> SourceRow:
    received = int(seen.get("readings_received") or 0)
    last = seen.get("last_seen")
    changes: dict[str, Any] = {}
    if received and row.state == "waiting for first push":
        changes["state"] = "receiving"
    if row.next_run == "on push":  # a device has no schedule: say what arrived, live
        changes["next_run"] = first_push_text(seen)
    error_at = seen.get("last_error_at")
    if seen.get("last_error") and error_at and error_at == last:  # the latest push failed
        changes["last_error"] = f"The last push was refused: {seen['last_error']}"
    return _with(row, **changes) if changes else row


def first_push_text(seen: dict[str, Any] | None) -> str:
    """“Waiting for the first push…” or “✓ received 48 readings at 10:32”."""
    if not seen or not seen.get("last_seen"):
        return "Waiting for the first push…"
    received = int(seen.get("readings_received") or 0)
    at = datetime.fromisoformat(str(seen["last_seen"])).astimezone().strftime("%H:%M")
    if seen.get("last_error") and seen.get("last_error_at") == seen.get("last_seen"):
        return f"✗ a push arrived at {at} but was refused: {seen['last_error']}"
    if not received:
        return f"✓ a push arrived at {at} (no readings in it yet)"
    return f"✓ received {received} reading{'s' if received != 1 else ''} at {at}"
