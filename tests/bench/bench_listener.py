"""Load benchmark of the push listener, every push connector (a script, not collected by pytest).

For each device kind (EpiSensor JSON, AcuLink 810 data-log JSON, AcuRev 2100
CSV as a multipart upload, Readings-API JSON over many channel import ids)
it starts `meterbridge serve` in a child process on loopback with a fresh
home and one device, a fake EnergyCAP in another child process, and drives
the listener from this process with keep-alive connections (asyncio, raw
sockets). Every request carries 50 readings with times no other request
uses. `serve` delivers to the fake EnergyCAP while it listens (unless
`--no-deliver`). Reports acknowledged requests per second and latency
percentiles, then waits until every acknowledged reading has reached the
fake EnergyCAP (or is in the journal, with `--no-deliver`).

    .venv/bin/python tests/bench/bench_listener.py [--kinds episensor,aculink810,...]
        [--seconds 20] [--connections 16] [--no-deliver] [--rate R] [--batch-size N]

Closed loop by default (each connection sends its next request when the last
is answered). `--rate R` is an open loop: R requests/s offered in total, each
latency counted from when the request was due (as wrk2 does).

Prints per kind: requests/s, latency percentiles, readings delivered of those
acknowledged, and the CPU milliseconds per acknowledged request of each process
(`serve`, its journal-commit and delivery children, the fake EnergyCAP, this
load generator), during the load and until everything was delivered. The
fake EnergyCAP validates a sample of each reading request (see
`tests/bench/bench_fake.sampling_validation`); it stores and counts every reading.

Target (issue 15): each kind >= 1,000 acknowledged requests/s, p99 < 50 ms,
every acknowledged reading delivered.
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
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

KINDS = ("episensor", "aculink810", "acurev2100", "readings")

from tests.bench.bench_fake import KEY, FakeProcess  # noqa: E402
from tests.bench.push_bodies import (  # noqa: E402
    POINTS,
    channel_count,
    channels_for,
    request_bytes,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- load ----------------------------------------------------------------------------------------
async def connection(port, requests, latencies, failures, deadline, period=0.0, offset=0.0):
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
            failures.append(head.split(b"\r\n")[0].decode() + " " + body[:300].decode())
        else:
            done += 1
    writer.close()
    await writer.wait_closed()
    return done


async def drive(port, plan, seconds, rate=0.0):
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds
    period = len(plan) / rate if rate else 0.0
    counts = await asyncio.gather(
        *(
            connection(port, p, latencies, failures, deadline, period, i * period / len(plan))
            for i, p in enumerate(plan)
        )
    )
    return sum(counts), latencies, failures, time.perf_counter() - started


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _role(pid: str) -> str:
    """What a child of `serve` is: the journal commit, delivery, or another helper."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        files = {os.path.basename(os.readlink(f)) for f in Path(f"/proc/{pid}/fd").iterdir()}
    except OSError:
        return "other"
    if b"resource_tracker" in command:
        return "other"
    if "registers.sqlite3" in files:
        return "journal"
    return "delivery" if "journal.sqlite3" in files else "other"


def cpu_by_process(server: int, fake: int | None) -> dict[str, float]:
    """CPU seconds used so far by `serve`, its children by role, and the fake EnergyCAP."""
    used = {"serve": 0.0, "journal": 0.0, "delivery": 0.0, "other": 0.0, "fake": 0.0}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(entry.name)
        if stat is None:
            continue
        parent, seconds = stat
        if entry.name == str(server):
            used["serve"] += seconds
        elif parent == server:
            used[_role(entry.name)] += seconds
        elif fake is not None and entry.name == str(fake):
            used["fake"] += seconds
    return used


def settle(pid: int, timeout: float = 20.0) -> None:
    """Wait until `serve` is idle (its start-up work, e.g. the pull scheduler's imports after
    it says "listening", is not a cost of the requests measured)."""
    deadline = time.monotonic() + timeout
    last = cpu_by_process(pid, None)["serve"]
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_by_process(pid, None)["serve"]
        if now - last < 0.01:
            return
        last = now


def start_server(home: Path, port: int, deliver: bool) -> subprocess.Popen[str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [sys.executable, "-m", "app", "serve", "--listen", f"127.0.0.1:{port}"]
    command += ["--mapping", str(home / "mapping.csv")]
    if not deliver:
        command.append("--no-deliver")
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if "listening" not in line:
        raise SystemExit(f"server did not start: {line!r}; see {home / 'serve.log'}")
    return server


def add_device(home: Path, kind: str) -> tuple[str, str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    name = "bench"
    command = [sys.executable, "-m", "app", "device", "add", name, "--connector", kind]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    token = next(x.split()[-1] for x in done.stdout.splitlines() if x.startswith("token"))
    return name, token


def run_kind(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mb-bench-") as folder:
        home = Path(folder)
        fake = FakeProcess(channel_count(kind, args.connections)) if args.deliver else None
        settings = {
            "version": 1,
            "energycap": {
                "max_attempts": 8,
                "backoff_base_s": 0.05,
                "backoff_cap_s": 0.5,
                "timeout_s": 30,
                **({"url": fake.url} if fake else {}),
                **({"batch_size": args.batch_size} if args.batch_size else {}),
            },
        }
        (home / "settings.json").write_text(json.dumps(settings))
        rows = channels_for(kind, args.connections)
        (home / "mapping.csv").write_text(
            "source_id,channel_import_id\n" + "".join(f"{s},{c}\n" for s, c in rows)
        )
        device, token = add_device(home, kind)
        plan: list[list[bytes]] = [[] for _ in range(args.connections)]
        for i in range(args.requests):
            conn = i % args.connections
            plan[conn].append(request_bytes(kind, device, token, i, conn))
        port = free_port()
        server = start_server(home, port, args.deliver)
        try:
            settle(server.pid)
            fake_pid = fake.process.pid if fake is not None else None
            before = cpu_by_process(server.pid, fake_pid)
            load_before = time.process_time()
            acked, latencies, failures, elapsed = asyncio.run(
                drive(port, plan, args.seconds, args.rate)
            )
            load_cpu = time.process_time() - load_before
            after = cpu_by_process(server.pid, fake_pid)
            expected = acked * POINTS
            delivered = 0
            waited = time.monotonic()
            if fake is not None:
                deadline = time.monotonic() + args.wait
                while time.monotonic() < deadline:
                    delivered = fake.readings()
                    if delivered >= expected:
                        break
                    time.sleep(0.5)
            waited = time.monotonic() - waited
            drained = cpu_by_process(server.pid, fake_pid)
        finally:
            server.terminate()
            server.communicate(timeout=60)
            if fake is not None:
                fake.close()
        if fake is None:
            from app.core.journal.store import Journal

            journal = Journal(home / "journal.sqlite3")
            delivered = sum(journal.counts().values())
            journal.close()
    per = 1e3 / max(acked, 1)
    return {
        "kind": kind,
        "acked": acked,
        "rate": acked / elapsed,
        "p50": percentile(latencies, 0.5) * 1e3,
        "p99": percentile(latencies, 0.99) * 1e3,
        "max": max(latencies, default=0) * 1e3,
        "failures": len(failures),
        "first_failure": failures[0] if failures else "",
        "expected": expected,
        "delivered": delivered,
        "waited": waited,
        "cpu_ms": {k: (after[k] - before[k]) * per for k in after} | {"load": load_cpu * per},
        "cpu_all_ms": {k: (drained[k] - before[k]) * per for k in ("serve", "delivery", "fake")},
        "load_average": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="stop sending after this")
    parser.add_argument("--wait", type=float, default=120.0, help="for delivery to finish")
    parser.add_argument("--no-deliver", dest="deliver", action="store_false")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument(
        "--batch-size", type=int, default=0, help="readings per delivery request (default: 5000)"
    )
    args = parser.parse_args()
    ok = True
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for kind in args.kinds.split(","):
        r = run_kind(kind, args)
        where = "delivered to the fake EnergyCAP" if args.deliver else "in the journal"
        print(
            f"{kind:11s} {r['rate']:7,.0f} requests/s acknowledged ({r['acked']} in "
            f"{args.seconds:.0f} s)  p50 {r['p50']:.1f} ms  p99 {r['p99']:.1f} ms  "
            f"max {r['max']:.0f} ms  failures {r['failures']}  readings {where} "
            f"{r['delivered']}/{r['expected']} ({r['waited']:.0f} s after the load)",
            flush=True,
        )
        cpu = "  ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms"].items() if v or k != "other")
        print(
            f"{'':11s} CPU ms per acknowledged request during the load: {cpu}  "
            f"(load average {r['load_average']:.1f})",
            flush=True,
        )
        if args.deliver:
            cpu = "  ".join(f"{k} {v:.2f}" for k, v in r["cpu_all_ms"].items())
            print(f"{'':11s} CPU ms per request until delivered: {cpu}", flush=True)
        if r["first_failure"]:
            print(f"   first failure: {r['first_failure']}")
        good = r["rate"] >= 1000 and r["p99"] < 50 and not r["failures"]
        ok = ok and good and r["delivered"] >= r["expected"]
    print("target: each >= 1,000 requests/s, p99 < 50 ms, every acknowledged reading delivered")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
