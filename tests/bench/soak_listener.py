"""Soak of `meterbridge serve`: minutes of pushes and pulls against a flaky fake EnergyCAP.

A script, not collected by pytest (it runs for minutes). Starts a fake
EnergyCAP that answers 503 to a reading request every 3 s and drops one
every 11 s, and `meterbridge serve` delivering to it. Meanwhile:
EpiSensor pushes at `--rate` requests/s over 8 keep-alive connections,
Readings-API pushes at a tenth of that, a few connections opened and left
idle, and every 15 s a new CSV file pulled by `meterbridge pull folder`.
Every 10 s it samples the memory (RSS) and open descriptors of `serve` and
its commit process. At the end it waits until every acknowledged or pulled
reading is in the fake EnergyCAP.

    .venv/bin/python tests/bench/soak_listener.py [--minutes 5] [--rate 20]

Passes (exit 0) when every acknowledged reading was delivered, memory in the
last minute is within 40 MB of the second minute's (the first is start-up)
and descriptors within 20.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.bench_listener import (  # noqa: E402
    KEY,
    FakeProcess,
    add_device,
    free_port,
    start_server,
)
from tests.bench.push_bodies import CHANNELS, POINTS, request_bytes  # noqa: E402

PULL_HOURS = 24


def process_tree(pid: int) -> list[int]:
    """`pid` and its direct children."""
    found = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return found


def sample(pid: int) -> tuple[float, int]:
    """RSS in MB and open descriptors of `serve` and its children."""
    rss, fds = 0.0, 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
            rss += int(status.split("VmRSS:")[1].split()[0]) / 1024
            fds += len(os.listdir(f"/proc/{member}/fd"))
        except (OSError, IndexError):
            continue
    return rss, fds


async def pusher(port: int, plan: list[bytes], period: float, deadline: float, acked: list[int]):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    begin = time.perf_counter()
    for index, data in enumerate(plan):
        due = begin + index * period
        if due > deadline:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 200"):
            acked[0] += json.loads(body)["received"]
        else:
            acked[1] += 1
    writer.close()


async def idler(port: int, deadline: float) -> None:
    """Connections opened and left silent (closed by the listener's idle timeout)."""
    while time.perf_counter() < deadline:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
        await asyncio.sleep(5)
        for _reader, writer in held:
            writer.close()


async def load(port: int, plans: list[tuple[list[bytes], float]], seconds: float) -> list[int]:
    acked = [0, 0]
    deadline = time.perf_counter() + seconds
    tasks = [pusher(port, plan, period, deadline, acked) for plan, period in plans]
    await asyncio.gather(*tasks, idler(port, deadline))
    return acked


def pull_csv(day: int) -> str:
    rows = [f"PULLM,2026-01-{day:02d}T{h:02d}:00:00Z,{h + day / 100}" for h in range(24)]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--rate", type=float, default=20.0, help="EpiSensor pushes/s (delivery must keep up)"
    )
    args = parser.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="mb-soak-") as folder:
        home = Path(folder)
        inbox = home / "inbox"
        inbox.mkdir()
        fake = FakeProcess(CHANNELS + 9, flaky=True)  # Readings-API ones, then 8 + 1 more
        settings = {
            "version": 1,
            "energycap": {"url": fake.url, "max_attempts": 8, "backoff_base_s": 0.05,
                          "backoff_cap_s": 0.5, "timeout_s": 10},
            "journal": {"outage_patience_s": 3600},
        }  # fmt: skip
        (home / "settings.json").write_text(json.dumps(settings))
        rows = [f"000D6F00{c:08X}_500,CH{CHANNELS + c:04d}" for c in range(8)]
        rows.append(f"PULLM,CH{CHANNELS + 8:04d}")  # no channel is shared by two sources
        (home / "mapping.csv").write_text("source_id,channel_import_id\n" + "\n".join(rows))
        _, epi_token = add_device(home, "episensor")
        env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
        subprocess.run(
            [sys.executable, "-m", "app", "device", "add", "nuoz", "--connector", "readings"],
            cwd=REPO, env=env, capture_output=True, check=True,
        )  # fmt: skip
        nuoz = subprocess.run(
            [sys.executable, "-m", "app", "device", "token", "nuoz", "--new"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        count = int(seconds * args.rate / 8) + 10
        plans = [
            ([request_bytes("episensor", "bench", epi_token, c + 8 * i, c) for i in range(count)],
             8 / args.rate)
            for c in range(8)
        ]  # fmt: skip
        token = nuoz.stdout.strip()
        readings = [request_bytes("readings", "nuoz", token, i, 0) for i in range(count)]
        plans.append((readings, 10 / args.rate))
        port = free_port()
        server = start_server(home, port, deliver=True)
        samples: list[tuple[float, float, int]] = []
        pulled = pull_failures = 0
        started = time.monotonic()
        loop_thread = None
        try:
            import threading

            result: list[list[int]] = []
            loop_thread = threading.Thread(
                target=lambda: result.append(asyncio.run(load(port, plans, seconds)))
            )
            loop_thread.start()
            day = 1
            while loop_thread.is_alive():
                rss, fds = sample(server.pid)
                samples.append((time.monotonic() - started, rss, fds))
                if int(time.monotonic() - started) // 15 >= day and day <= 28:
                    (inbox / f"pull-{day:02d}.csv").write_text(pull_csv(day))
                    os.utime(inbox / f"pull-{day:02d}.csv", (time.time() - 600,) * 2)
                    done = subprocess.run(
                        [sys.executable, "-m", "app", "pull", "folder", "--folder", str(inbox),
                         "--mapping", str(home / "mapping.csv")],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                    )  # fmt: skip
                    pulled += PULL_HOURS  # imported now, or by a later run: all must arrive
                    pull_failures += done.returncode not in (0, 1)  # 1: some readings wait
                    day += 1
                loop_thread.join(10)
            acked, refused = result[0] if result else (0, -1)
            expected = acked + pulled
            deadline = time.monotonic() + 300
            delivered = fake.readings()
            while delivered < expected and time.monotonic() < deadline:
                time.sleep(2)
                delivered = fake.readings()
            rss, fds = sample(server.pid)
            samples.append((time.monotonic() - started, rss, fds))
        finally:
            server.terminate()
            server.communicate(timeout=60)
            fake.close()
    per_minute = {}
    for at, rss, fds in samples:
        minute = int(at // 60)
        per_minute[minute] = max(per_minute.get(minute, (0.0, 0)), (rss, fds))
    print("per minute, max RSS MB / descriptors: " + ", ".join(
        f"{m}: {r:.0f}/{f}" for m, (r, f) in sorted(per_minute.items())))  # fmt: skip
    # The first minute is start-up (imports, caches filling): flat means from the second on.
    first = [s for s in samples if 60 <= s[0] <= 120] or samples[:1]
    last = [s for s in samples if s[0] >= samples[-1][0] - 60]
    grow_mb = max(s[1] for s in last) - max(s[1] for s in first)
    grow_fds = max(s[2] for s in last) - max(s[2] for s in first)
    print(f"soak {args.minutes:g} min: {acked} readings acknowledged by push "
          f"({acked // POINTS} requests of {POINTS}), {refused} pushes refused, "
          f"{pulled} pulled ({pull_failures} pull runs failed); {delivered} in the fake "
          f"EnergyCAP (expected {expected})")  # fmt: skip
    print(f"memory MB second minute max {max(s[1] for s in first):.0f}, last minute max "
          f"{max(s[1] for s in last):.0f} ({grow_mb:+.0f}); descriptors "
          f"{max(s[2] for s in first)} → {max(s[2] for s in last)} ({grow_fds:+d})")  # fmt: skip
    ok = delivered >= expected and refused == 0 and not pull_failures
    ok = ok and grow_mb < 40 and grow_fds < 20
    print("flat and complete" if ok else "NOT flat or NOT complete")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
