"""Load benchmark of the push listener (a script, not collected by pytest).

Starts `meterbridge serve --no-deliver` in a child process on loopback with a
fresh home, registers EpiSensor devices, then drives it from this process
with keep-alive connections (asyncio, raw sockets): every request is an
EpiSensor JSON batch of 50 readings with distinct times. Reports acknowledged
requests per second and latency percentiles, then opens the journal and
checks that every acknowledged reading is in it.

    .venv/bin/python tests/bench/bench_listener.py [--requests 20000] [--connections 32]
        [--devices 4] [--registers] [--seconds 60] [--rate 1000]

Closed loop by default (each connection sends its next request when the
last is answered: the most the server can acknowledge). `--rate R` is an
open loop: R requests/s offered in total, each latency counted from when the
request was due (as wrk2 does), which is the figure that says whether the
listener keeps up with R requests/s and how long devices wait.

Target (issue 5): >= 1,000 acknowledged requests/s, p99 < 50 ms, nothing lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.journal.store import Journal  # noqa: E402
from app.core.sources.devices import DeviceRegistry  # noqa: E402

T0 = 1_780_000_000
POINTS = 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request_bytes(device: str, token: str, sensor: str, index: int) -> bytes:
    """One POST of 50 points with times no other request uses."""
    start = T0 + index * POINTS * 60
    body = json.dumps(
        [
            {"exportId": sensor, "timestamp": start + k * 60, "value": round(index + k * 0.01, 2)}
            for k in range(POINTS)
        ]
    ).encode()
    head = (
        f"POST /push/{device} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connection(
    port: int,
    requests: list[bytes],
    latencies: list[float],
    failures: list[str],
    deadline: float,
    period: float = 0.0,
    offset: float = 0.0,
) -> int:
    """Send `requests` one after another on one keep-alive connection.

    With `period` (open loop, like wrk2): request k is due at start + offset +
    k * period; a request that cannot go out on time waits, and its latency
    counts from when it was due, so a slow server cannot hide its queue.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    begin = time.perf_counter() + offset
    for index, data in enumerate(requests):
        if time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        if period:
            due = begin + index * period
            if due > started:
                await asyncio.sleep(due - started)
            started = due
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if not head.startswith(b"HTTP/1.1 200"):
            failures.append(head.split(b"\r\n")[0].decode() + " " + body[:200].decode())
        else:
            done += 1
    writer.close()
    await writer.wait_closed()
    return done


async def drive(
    port: int, plan: list[list[bytes]], seconds: float, rate: float = 0.0
) -> tuple[int, list[float], list[str], float]:
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds
    period = len(plan) / rate if rate else 0.0  # each connection's share of the rate
    counts = await asyncio.gather(
        *(
            connection(port, p, latencies, failures, deadline, period, i * period / len(plan))
            for i, p in enumerate(plan)
        )
    )
    return sum(counts), latencies, failures, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU of a process and of its live children (Linux /proc), 0 elsewhere."""
    own = children = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if stat.parent.name == str(pid):
            own += used
        elif fields[1] == str(pid):
            children += used
    return own, children


def start_server(home: Path, port: int) -> subprocess.Popen[str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home))
    command = [
        sys.executable,
        "-m",
        "app",
        "serve",
        "--no-deliver",
        "--listen",
        f"127.0.0.1:{port}",
    ]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if "listening" not in line:
        raise SystemExit(f"server did not start: {line!r}")
    return server


def journal_floor(folder: Path, requests: int = 2000, group: int = 32) -> float:
    """CPU ms per 50-reading request of `Journal.accept` alone (groups of `group`)."""
    from app.core.journal.store import Journal
    from connectors.push.episensor import parse_push

    journal = Journal(folder / "floor.sqlite3")
    frames = []
    for start in range(0, requests, group):
        columns = None
        for i in range(start, min(start + group, requests)):
            body = request_bytes("floor", "t", "000D6F0000000000_500", i).split(b"\r\n\r\n", 1)[1]
            parsed = parse_push(body, "push-body", {})
            columns = parsed if columns is None else (columns.extend(parsed) or columns)
        assert columns is not None
        frames.append(columns.to_frame())
    started = time.process_time()
    for frame in frames:
        journal.accept(frame, source="push:floor")
    used = time.process_time() - started
    journal.close()
    return used / requests * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="stop sending after this")
    parser.add_argument("--registers", action="store_true", help="sensor 333 (differenced)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: offer this many requests/s in total (default: as fast as answered)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mb-bench-") as folder:
        home = Path(folder)
        devices = DeviceRegistry(home / "devices.json")
        tokens = {f"bench{d}": devices.add(f"bench{d}", "episensor") for d in range(args.devices)}
        suffix = "333" if args.registers else "500"
        plan: list[list[bytes]] = [[] for _ in range(args.connections)]
        names = sorted(tokens)
        for i in range(args.requests):
            conn = i % args.connections
            name = names[conn % len(names)]
            sensor = f"000D6F00{conn:08X}_{suffix}"
            plan[conn].append(request_bytes(name, tokens[name], sensor, i))
        port = free_port()
        server = start_server(home, port)
        try:
            before, client_before = cpu_seconds(server.pid), time.process_time()
            acked, latencies, failures, elapsed = asyncio.run(
                drive(port, plan, args.seconds, args.rate)
            )
            after = cpu_seconds(server.pid)
            loop_cpu, child_cpu = after[0] - before[0], after[1] - before[1]
            server_cpu = loop_cpu + child_cpu
            client_cpu = time.process_time() - client_before
        finally:
            server.terminate()
            server.communicate(timeout=60)
        journal = Journal(home / "journal.sqlite3")
        stored = journal.counts()
        in_journal = sum(stored.values())
        journal.close()
        floor = journal_floor(home)
    expected = acked * (POINTS - (1 if args.registers else 0) * 0)
    mode = f"open loop at {args.rate:,.0f} requests/s offered" if args.rate else "closed loop"
    print(
        f"requests acknowledged: {acked} in {elapsed:.2f} s over {args.connections} "
        f"connections ({mode})"
    )
    print(
        f"throughput: {acked / elapsed:,.0f} requests/s = "
        f"{acked * POINTS / elapsed:,.0f} readings/s"
    )
    print(
        f"latency ms: p50 {percentile(latencies, 0.5) * 1e3:.1f}  p90 "
        f"{percentile(latencies, 0.9) * 1e3:.1f}  p99 {percentile(latencies, 0.99) * 1e3:.1f}  "
        f"max {max(latencies, default=0) * 1e3:.1f}"
    )
    print(
        f"server CPU (with its journal process): {server_cpu:.2f} s = "
        f"{server_cpu / max(acked, 1) * 1e3:.2f} ms per request; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    per = 1e3 / max(acked, 1)
    print(
        f"  of which the listener process {loop_cpu * per:.2f} ms, its journal process "
        f"{child_cpu * per:.2f} ms; load generator CPU: {client_cpu * per:.2f} ms per request"
    )
    print(
        f"floor: Journal.accept alone uses {floor:.2f} ms CPU per 50-reading request "
        f"(groups of 32) = ~{1e3 / floor:,.0f} requests/s on one free core"
    )
    print(f"failures: {len(failures)} {failures[:3]}")
    print(f"readings in the journal: {in_journal} (acknowledged points: {acked * POINTS})")
    ok = not failures and (in_journal >= expected if not args.registers else in_journal > 0)
    print("target: >= 1,000 requests/s, p99 < 50 ms, every acknowledged reading journaled")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
