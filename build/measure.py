"""The release's figures: bundle size, packed size, time to the main window, idle cost.

Used by build/make_release.py (standard library only). Every figure is of the
frozen program in dist/meterbridge/, run as a user would run it:

* size: every file counted once (a hard link or a file identical to another,
  such as the two programs on Linux, once; symbolic links not followed);
* packed: the bundle as one tar stream through LZMA2 at preset 9 (what `xz -9`
  does), the stand-in for Inno Setup's solid `lzma2/max` compression;
* window: `meterbridge gui --exit-when-shown` from process start to the first
  paint of the main window (offscreen), one run to warm the file cache, then the
  median of five;
* idle: `meterbridge gui` with the listener (port 0, loopback) and the schedule
  running; resident memory and CPU time of the app and its child processes
  over the 60 seconds after it started up.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 2**20


@dataclass
class Sizes:
    """Sizes of a bundle, each file counted once."""

    total: int
    files: int
    parts: dict[str, int]  # top-level entries (and each entry of _internal/) -> bytes


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def part_of(relative: Path) -> str:
    """The entry a file is counted under: `_internal/<name>` or the top-level name."""
    parts = relative.parts
    return "/".join(parts[:2]) if parts[0] == "_internal" and len(parts) > 1 else parts[0]


def bundle_sizes(bundle: Path) -> Sizes:
    """Sizes of `bundle`, every file once (hard links and identical files once)."""
    seen_inodes: set[tuple[int, int]] = set()
    by_size: dict[int, list[Path]] = {}
    for path in sorted(bundle.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        info = path.stat()
        if (info.st_dev, info.st_ino) in seen_inodes:
            continue
        seen_inodes.add((info.st_dev, info.st_ino))
        by_size.setdefault(info.st_size, []).append(path)
    parts: dict[str, int] = {}
    total = files = 0
    for size, paths in by_size.items():
        distinct = paths if len(paths) == 1 else list({_digest(p): p for p in paths}.values())
        for path in distinct:
            name = part_of(path.relative_to(bundle))
            parts[name] = parts.get(name, 0) + size
            total += size
            files += 1
    return Sizes(total, files, dict(sorted(parts.items(), key=lambda kv: -kv[1])))


class _Counter(io.RawIOBase):
    """A write-only stream that only counts the bytes."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.count += len(data)
        return len(data)


def packed_size(bundle: Path) -> int:
    """Bytes of the bundle as a tar stream compressed with LZMA2 preset 9 (`xz -9`)."""
    counter = _Counter()
    with (
        lzma.LZMAFile(counter, "wb", format=lzma.FORMAT_XZ, preset=9) as packed,
        tarfile.open(fileobj=packed, mode="w|") as archive,
    ):
        archive.add(str(bundle), arcname=bundle.name)
    return counter.count


def _program(bundle: Path, name: str) -> str:
    return str(bundle / (f"{name}.exe" if os.name == "nt" else name))


def _gui_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("ECAP_API_KEY", None)
    return env


def prepare_home(home: Path) -> None:
    """A home whose listener takes a free loopback port (so it never clashes)."""
    home.mkdir(parents=True, exist_ok=True)  # METERBRIDGE_HOME holds settings.json itself
    settings = {"version": 1, "listener": {"host": "127.0.0.1", "port": 0}}
    (home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


def _children_cpu() -> float:
    """CPU seconds of the finished child processes so far (0 where unknown: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Start:
    """One start of the app: wall seconds to the window, CPU seconds of the whole run."""

    seconds: float
    cpu: float


def time_to_window(bundle: Path, home: Path) -> Start:
    """Seconds from starting `meterbridge gui` to its main window's first paint.

    The CPU time (start, window, and quitting) tells a busy machine from a slow start.
    """
    command = [_program(bundle, "meterbridge"), "gui", "--exit-when-shown"]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=_gui_env(home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("main window shown"):
                seconds = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"the main window was never shown (exit {process.wait()})")
        process.wait(60)
    return Start(seconds, _children_cpu() - cpu_before)


def window_times(bundle: Path, runs: int = 5) -> list[Start]:
    """One warm-up start (file cache), then `runs` timed starts."""
    with tempfile.TemporaryDirectory(prefix="meterbridge-measure-") as folder:
        home = Path(folder)
        prepare_home(home)
        time_to_window(bundle, home)
        return [time_to_window(bundle, home) for _ in range(runs)]


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_and_cpu(pids: list[int]) -> tuple[int, int, float]:
    """(RSS of the first pid, RSS of all, CPU seconds of all)."""
    ticks = os.sysconf("SC_CLK_TCK")
    rss_all = cpu = 0.0
    rss_main = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = next(
            int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS")
        )
        rss_main = rss if pid == pids[0] else rss_main
        rss_all += rss
        cpu += (int(fields[11]) + int(fields[12])) / ticks
    return rss_main, int(rss_all), cpu


@dataclass
class Idle:
    """The app's cost while it waits: memory and CPU over one minute."""

    rss_main: int
    rss_all: int
    processes: int
    cpu_seconds: float
    listening: bool


def idle_cost(bundle: Path, seconds: float = 60.0, settle: float = 5.0) -> Idle | None:
    """Run `meterbridge gui` idle for `seconds` after `settle`; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    with tempfile.TemporaryDirectory(prefix="meterbridge-idle-") as folder:
        home = Path(folder)
        prepare_home(home)
        command = [_program(bundle, "meterbridge"), "gui"]
        with subprocess.Popen(
            command, env=_gui_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ) as process:
            try:
                time.sleep(settle)
                _main, _all, cpu_before = _rss_and_cpu(_tree(process.pid))
                time.sleep(seconds)
                pids = _tree(process.pid)
                rss_main, rss_all, cpu_after = _rss_and_cpu(pids)
                listening = _listens(process.pid)
            finally:
                process.terminate()
                process.wait(30)
    return Idle(rss_main, rss_all, len(pids), cpu_after - cpu_before, listening)


def _listens(pid: int) -> bool:
    """Whether the process has a listening TCP socket (the push listener)."""
    inodes = set()
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(link)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return True
    return False


def median(values: list[float]) -> float:
    """The median (of the window times)."""
    return statistics.median(values)
