"""CPU of delivery alone per push request (a script, not collected by pytest).

Fills a fresh journal with N requests of a push kind (the bodies of
bench_listener: 50 readings each, read by the device's reader and committed
as the listener commits them), then delivers the whole journal to the fake
EnergyCAP (in this process, on a thread) with `deliver_pending`, batches of
5,000 as `serve` sends them, and prints the delivering thread's CPU time per
request. No listener runs meanwhile, so the figure moves far less with the
machine's load than bench_listener's "delivery" column; it leaves out what
the listener's commits cost delivery there (pages read again after each).

    .venv/bin/python tests/bench/bench_delivery_cpu.py [--kinds acurev2100,aculink810]
        [--requests 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.cli.serve_delivery import YOUNG_OBJECTS
from app.core.delivery.engine import deliver_pending
from app.core.energycap.connection import client_from_settings
from app.core.journal.store import Journal
from app.core.listener.body import prepare_payload
from app.core.listener.commit import PushCommitter, PushJob
from app.core.mapping import parse_mapping_csv
from app.core.push_readers import parse_payload
from app.core.settings import EnergyCapSettings
from app.core.sources.devices import Device
from app.core.sources.register_store import RegisterStore
from tests.bench.bench_fake import KEY, sampling_validation
from tests.bench.push_bodies import BODIES, CHANNELS, channels_for
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

MAPPED_BYTES = 1 << 30  # as serve's delivery child maps the journal


def filled_journal(folder: Path, kind: str, requests: int) -> Journal:
    """A journal holding `requests` push requests of `kind`, committed 12 at a time."""
    journal = Journal(folder / "journal.sqlite3")
    committer = PushCommitter(journal, RegisterStore(folder / "registers.sqlite3"))
    device = Device(name="bench", connector=kind)
    jobs = []
    for index in range(requests):
        data, content_type = BODIES[kind](index, index % 16)
        payload = prepare_payload(data, {"Content-Type": content_type}, 10 << 20)
        parsed = parse_payload(kind, payload.data, payload.name, {})
        hints = list(getattr(parsed, "info", {}).get("mapping_hint") or [])
        jobs.append(PushJob(device, columns=parsed, hints=hints))  # type: ignore[arg-type]
    for first in range(0, requests, 12):
        committer.commit_group(jobs[first : first + 12])
    journal.map_in_memory(MAPPED_BYTES)
    return journal


def delivery_cpu(kind: str, requests: int) -> tuple[float, str]:
    """CPU ms per request of delivering a filled journal, and the run's report."""
    with tempfile.TemporaryDirectory() as folder:
        journal = filled_journal(Path(folder), kind, requests)
        rows = channels_for(kind, 16)
        table = parse_mapping_csv(
            "source_id,channel_import_id\n" + "".join(f"{s},{c}\n" for s, c in rows)
        )
        sampling_validation()
        with FakeEnergyCap(api_key=KEY) as fake:
            channels = [FakeChannel(1000 + n, f"CH{n:04d}", "Demand", "kW", 60)
                        for n in range(CHANNELS)]  # fmt: skip
            fake.add_meter(1, "B", channels, "UTC")
            settings = dataclasses.replace(EnergyCapSettings(), url=fake.url)
            client = client_from_settings(fake.url, settings)
            thresholds = gc.get_threshold()
            gc.collect()
            gc.freeze()  # as serve's delivery child does (serve_delivery)
            gc.set_threshold(YOUNG_OBJECTS, *thresholds[1:])
            began = time.thread_time()
            report = deliver_pending(journal, client, settings, table)
            used = time.thread_time() - began
            gc.set_threshold(*thresholds)
            gc.unfreeze()
        journal.close()
    return used / requests * 1e3, report.describe()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", default="acurev2100,aculink810")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ECAP_API_KEY", KEY)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for kind in args.kinds.split(","):
        figures = []
        for _ in range(args.rounds):
            ms, said = delivery_cpu(kind, args.requests)
            figures.append(ms)
        shown = " ".join(f"{f:.3f}" for f in figures)
        print(f"{kind:11s} delivery CPU ms per request: best {min(figures):.3f} (runs {shown}); "
              f"{said}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
