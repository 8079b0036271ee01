"""Running pulls (no Qt): the destination (same as `send`) and the job runner.

`build_job_runner(paths, settings)` is what `meterbridge serve` and the GUI
hand to `app.core.pulls.scheduler.Scheduler` (or use `scheduler_for`): it runs one
saved job (``verdigris``, ``sftp`` or ``folder``: a watched local folder) and
returns a `JobOutcome`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.connector_catalog import build_registry
from app.core.energycap import connection
from app.core.energycap.client import EnergyCapClient, EnergyCapError
from app.core.energycap.exporter import ExportError
from app.core.energycap.outbox import ImportFileWriter
from app.core.error_kinds import kind_of
from app.core.journal.store import AcceptResult, Journal, JournalError, JournalFullError
from app.core.mapping import MappingError, MappingTable
from app.core.paths import AppPaths
from app.core.pulls.bookmarks import Bookmarks
from app.core.pulls.file_intake import IntakeReport
from app.core.pulls.folder import FolderConfig, FolderError, poll_folder
from app.core.pulls.gap_notes import GapNotes
from app.core.pulls.jobs import Job, JobOutcome, JobStore
from app.core.pulls.newest_first_gaps import NewestFirstGaps
from app.core.pulls.scheduler import Scheduler, network_reachable
from app.core.pulls.sftp.poll import (
    PASSWORD_SECRET,
    SftpConfig,
    SftpError,
    SftpReport,
    password_name,
    poll,
)
from app.core.pulls.sftp.state import FileMemory, SftpState
from app.core.pulls.submit import (
    Submitter,
    deliver_journaled,
    journal_intake,
    remember_delivery,
)
from app.core.pulls.verdigris_auth import RATE_FILE, VerdigrisAuth, build_auth, shared_rate
from app.core.pulls.verdigris_pull import PullReport, VerdigrisConfig, pull_verdigris
from app.core.report import DeliveryResult, RunResult
from app.core.secrets import SecretStore
from app.core.settings import EnergyCapSettings, Settings
from connectors.base import ReadingBatch, SourceError
from connectors.series_gaps import gap_problems
from connectors.verdigris.api import VerdigrisApi
from connectors.verdigris.listing import building_tree, zone_for

log = logging.getLogger(__name__)

API_KEY_NAME = connection.API_KEY_NAME


class PullSetupError(Exception):
    """The pull cannot start: no API key, a broken mapping, a wrong setting (plain words)."""


@dataclasses.dataclass
class Destination:
    """Where pulled readings go: EnergyCAP (``--ecap-url`` or the setting) or the outbox."""

    ecap_url: str | None = None
    api: str | None = None
    time_label: str | None = None
    mapping: str | None = None
    overwrite: bool = False  # release readings held for a decision (as `send --overwrite`)


def mapping_table(path: str | None, settings: Settings) -> MappingTable:
    """The mapping table (file or defaults only)."""
    try:
        return connection.mapping_table(settings, path)
    except MappingError as exc:
        raise PullSetupError(str(exc)) from None


def _client(url: str, ecap: EnergyCapSettings) -> EnergyCapClient:
    try:
        return connection.client_from_settings(url, ecap)
    except connection.ConnectionSetupError as exc:
        raise PullSetupError(str(exc)) from None


@contextmanager
def open_submitter(
    paths: AppPaths,
    settings: Settings,
    dest: Destination,
    note: str,
    notice: Callable[[str], None] = log.info,
    source: str = "pull",
) -> Iterator[Submitter]:
    """A `Submitter` that journals like `send`; delivery (or closing the files) ends the block.

    With EnergyCAP set, each batch is committed to the journal under `source`
    (``pull:<job or kind>``) before `submit` returns; when the block ends, the
    journal is delivered as `send` does (an outage leaves readings pending).

    Raises:
        PullSetupError: no API key, bad mapping, bad API name.
        EnergyCapError: the key or host is wrong (checked before anything is pulled).
    """
    table = mapping_table(dest.mapping, settings)
    url = (dest.ecap_url or settings.energycap.url or "").strip()
    if not url:
        folder = Path(settings.outbox_dir).expanduser() if settings.outbox_dir else paths.outbox_dir
        notice(f"No EnergyCAP URL is set: writing EnergyCAP import files to the outbox {folder}")
        with _outbox_submitter(folder, table, settings) as submitter:
            yield submitter
        return
    label = dest.time_label or settings.energycap.time_label or "end"
    ecap = dataclasses.replace(settings.energycap, api=dest.api or settings.energycap.api,
                               time_label=label)  # fmt: skip
    if ecap.api not in ("readings", "esa", "import") or label not in ("end", "start"):
        raise PullSetupError(f"API must be readings, esa or import (not {ecap.api!r}); "
                         f"time label end or start (not {label!r})")  # fmt: skip
    client = _client(url, ecap)
    client.check()
    journal = Journal.from_settings(paths.journal_file, settings.journal)
    try:
        remember_delivery(journal, client.base_url, ecap, dest.mapping or settings.mapping_file)
        accepted = AcceptResult()
        sub = Submitter(table, journal_intake(journal, source, accepted), map_first=False)
        sub.accepted = accepted
        run = _Delivery(journal, client, ecap, settings, note, notice, dest.overwrite, source)
        try:
            yield sub
        except (EnergyCapError, JournalError, JournalFullError):
            raise  # EnergyCAP or the journal itself failed: what was journaled waits
        except Exception:  # the source failed part-way: what was journaled still goes
            run(sub)
            raise
        run(sub)
    finally:
        journal.close()


@dataclasses.dataclass
class _Delivery:
    """Delivers the journal after a pull and says what happened (held readings too)."""

    journal: Journal
    client: EnergyCapClient
    ecap: EnergyCapSettings
    settings: Settings
    note: str
    notice: Callable[[str], None]
    overwrite: bool
    source: str

    def __call__(self, sub: Submitter) -> None:
        patience = self.settings.journal.outage_patience_s
        report = deliver_journaled(sub, self.journal, self.client, self.ecap, patience,
                                   overwrite=self.overwrite, source=self.source)  # fmt: skip
        self.notice(f"{self.note}: {report.describe()}")
        if sub.held:
            self.notice(f"{sub.held} readings are held for a decision: EnergyCAP already has "
                        "other values for them (listed below; see `meterbridge status --held`);"
                        " rerun with --overwrite to replace EnergyCAP's values")  # fmt: skip
        if report.stopped and not report.busy:
            self.notice(f"delivery stopped: {report.stopped}; the readings stay in the journal "
                        "and `meterbridge deliver` sends them")  # fmt: skip


@contextmanager
def _outbox_submitter(folder: Path, table: MappingTable, settings: Settings) -> Iterator[Submitter]:
    label: Any = settings.energycap.time_label or "end"
    writer = ImportFileWriter(folder, label=label)
    result = RunResult(writes_files=True)

    def write(mapped: pd.DataFrame) -> DeliveryResult:
        result.written += writer.write(mapped)
        return DeliveryResult()

    try:
        yield Submitter(table, write, result)
    finally:
        result.outputs = writer.close()


def run_verdigris(
    config: VerdigrisConfig,
    paths: AppPaths,
    submit: Submitter,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    auth: VerdigrisAuth | None = None,
) -> PullReport:
    """One Verdigris pull with the token cache and bookmarks of this home.

    `auth` (else one built from `config`) lets the caller read how many token
    requests the pull made (`auth.token_requests`).
    """
    auth = auth or build_auth(config.client_id, paths.data_dir, auth_url=config.auth_url,
                              audience=config.audience, api_url=config.api_url)  # fmt: skip
    api = VerdigrisApi(config.api_url, auth)
    if config.interval == "1d" and not config.timezone:  # days follow the building's clock
        wanted = {lvl: ids for lvl, ids in config.channels() if ids}
        zone = zone_for(building_tree(api.buildings()), wanted)
        config = dataclasses.replace(config, timezone=zone)
    marks = Bookmarks(paths.data_dir / "bookmarks.sqlite3")
    line = submit.source(f"verdigris {config.api_url}", "verdigris")
    tracker = NewestFirstGaps()  # buckets Verdigris had no value for, between ones it had

    def take(batch: ReadingBatch) -> Any:
        tracker.add(batch.readings)
        return submit(batch, line)

    with shared_rate(api, paths.data_dir / RATE_FILE):
        report = pull_verdigris(config, api, marks, take, now=now or datetime.now(UTC),
                                since=since, until=until)  # fmt: skip
    found = tracker.gaps()
    submit.result.add_problems(gap_problems(found, VERDIGRIS))  # listed as a file's are
    report.gap_notes.add(found, VERDIGRIS)
    return report


def run_sftp(config: SftpConfig, paths: AppPaths, submit: Submitter) -> SftpReport:
    """One poll of the configured SFTP folders."""
    state = SftpState(paths.data_dir / "sftp.sqlite3")
    store = SecretStore()
    password = store.get(password_name(config.user, config.host)) or store.get(PASSWORD_SECRET)
    return poll(config, state, build_registry(), submit, password=password)


def run_folder(config: FolderConfig, paths: AppPaths, submit: Submitter) -> IntakeReport:
    """One look at a watched local folder (files remembered in ``folders.sqlite3``)."""
    memory = FileMemory(paths.data_dir / FOLDER_MEMORY)
    return poll_folder(config, memory, build_registry(), submit)


FOLDER_MEMORY = "folders.sqlite3"
VERDIGRIS = "Verdigris"  # where a pull's missing readings are said to be
PullErrors = (SourceError, SftpError, FolderError, EnergyCapError, ExportError, PullSetupError,
              OSError, JournalFullError, JournalError)  # fmt: skip


def build_job_runner(
    paths: AppPaths, settings: Settings, dest: Destination | None = None
) -> Callable[[Job], JobOutcome]:
    """The runner `Scheduler` calls for a saved job (``verdigris``, ``sftp`` or ``folder``)."""

    def run(job: Job) -> JobOutcome:
        try:
            with open_submitter(paths, settings, dest or Destination(), f"job {job.name}",
                                source=f"pull:{job.name}") as sub:  # fmt: skip
                summary, gaps = _run_kind(job, paths, sub)
        except PullErrors as exc:
            return JobOutcome(ok=False, message=str(exc), kind=kind_of(exc))
        result, delivery = sub.result, sub.delivery
        message = f"{summary}; {result.summary()}"
        if sub.held:
            message += (f"; {sub.held} readings held for a decision (see `meterbridge status "
                        "--held`; `jobs run --overwrite` replaces EnergyCAP's values)")  # fmt: skip
        if result.errors:
            message += "; " + "; ".join(result.errors[:3])
        late = delivery is not None and delivery.stopped is not None and not delivery.busy
        if late and delivery is not None:
            message += (
                f"; {delivery.pending_left} readings wait in the journal ({delivery.stopped})"
            )
        return JobOutcome(ok=True, message=message, readings=result.read,
                          partial=result.exit_code != 0 or late, gaps=gaps)  # fmt: skip

    return run


def _run_kind(job: Job, paths: AppPaths, sub: Submitter) -> tuple[str, GapNotes]:
    """What the run did in words, and the readings it found missing."""
    if job.kind == "verdigris":
        report = run_verdigris(VerdigrisConfig.from_dict(job.config), paths, sub)
        said = "; ".join([f"{report.requests} Verdigris requests", *_first_gap(sub)])
        return said, report.gap_notes
    if job.kind == "sftp":
        polled = run_sftp(SftpConfig.from_dict(job.config), paths, sub)
    elif job.kind == "folder":
        polled = run_folder(FolderConfig.from_dict(job.config), paths, sub)
    else:
        raise PullSetupError(f"job {job.name!r} has an unknown kind {job.kind!r}")
    return _told(polled, sub), polled.gap_notes


def _told(report: IntakeReport, sub: Submitter) -> str:
    """A poll's counts, the files it left or could not archive (named, at most 3), then gaps.

    Readings missing from the files read: the first gap named, the others counted.
    """
    notes = [w for w in report.warnings if w not in sub.result.errors][:3]
    return "; ".join([report.summary(), *notes, *_first_gap(sub, report.gaps)])


def _first_gap(sub: Submitter, gaps: list[str] | None = None) -> list[str]:
    """The run's first missing-readings warning, the others counted (none: empty)."""
    if gaps is None:
        gaps = [p.describe() for p in sub.result.problems if p.file == VERDIGRIS]
    if not gaps:
        return []
    first, more = gaps[0], len(gaps) - 1
    return [f"{first} (and {more} more missing-readings warnings)" if more else first]


def scheduler_for(
    paths: AppPaths, settings: Settings, dest: Destination | None = None
) -> Scheduler:
    """The scheduler over this home's saved jobs, with a reachability probe of EnergyCAP."""
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    url = (dest.ecap_url if dest else None) or settings.energycap.url
    reachable = network_reachable([url] if url else [])
    return Scheduler(store, build_job_runner(paths, settings, dest), reachable=reachable)
