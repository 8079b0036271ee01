"""How the CLI shows a convert/send run: progress bar on a terminal, problems, summary."""

from __future__ import annotations

import sys
from typing import Any

from app.core.pipeline import Progress
from app.core.report import RunResult
from connectors.base import printable

LIST_LIMIT = 200  # problems listed without -v; the rest are counted


class ProgressBar:
    """A tqdm bar of readings read, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(unit=" readings", unit_scale=True, file=sys.stderr, leave=False)
        self._seen = 0

    @classmethod
    def for_terminal(cls) -> ProgressBar | None:
        """A bar when stderr is a TTY, else None (quiet in scripts and logs)."""
        return cls() if sys.stderr.isatty() else None

    def update(self, progress: Progress) -> None:
        """Move the bar to the readings read so far."""
        self._bar.set_description(f"{progress.sources_done}/{progress.sources_total} files")
        self._bar.update(progress.read - self._seen)
        self._seen = progress.read
        if progress.sources_done >= progress.sources_total:
            self._bar.close()


def _listed(lines: list[str], verbose: int) -> list[str]:
    if verbose or len(lines) <= LIST_LIMIT:
        return lines
    rest = len(lines) - LIST_LIMIT
    return [*lines[:LIST_LIMIT], f"... and {rest} more (use -v to list them all)"]


def print_result(result: RunResult, *, verbose: int = 0) -> int:
    """Print problems, refusals, files written and the summary (last line); return the exit code."""
    for line in _listed([p.describe() for p in result.problems], verbose):
        print(line)
    for line in _listed([printable(r.describe()) for r in result.rejections], verbose):
        print(line)
    for output in result.outputs:
        print(f"wrote {output.csv_path} ({output.count} readings) + {output.profile_path.name}")
    for error in result.errors:
        print(printable(f"error: {error}"))  # names of dropped files may hold escapes
    print(result.summary())
    sys.stdout.flush()
    return result.exit_code
