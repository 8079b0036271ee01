"""SIGKILL `meterbridge send` at chosen points, restart with `deliver`, prove nothing is lost.

Each case: the child kills itself at the point; `meterbridge deliver` then
completes; the fake holds every reading of the file with its value; no
request ever carried another value; the journal passes SQLite's integrity
check and its counts add up; sending the file again sends nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.energycap import FakeEnergyCap
from tests.reliability.harness import (
    file_values,
    journal_report,
    killed,
    meterbridge,
    prepare,
    send_args,
    stored,
    values_ever_sent,
    wanted,
)

TOTAL = 3 * 96


CASES = [
    ("after_journal_commit", "readings", "0"),
    ("mid_upload", "readings", "3"),
    ("after_upload_before_receipt", "readings", "4"),
    ("mid_upload", "import", "0"),
    ("during_task_poll", "import", "0"),
    ("after_upload_before_receipt", "import", "0"),
]


@pytest.mark.parametrize(("point", "api", "skip"), CASES, ids=[f"{p}-{a}" for p, a, _ in CASES])
def test_killed_send_then_deliver_loses_and_doubles_nothing(
    point: str, api: str, skip: str, fake: FakeEnergyCap, tmp_path: Path
) -> None:
    setup = prepare(tmp_path)
    if point == "mid_upload":
        path = "/api/v3/reading" if api == "readings" else "/api/v3/import"
        fake.inject(path, status=None, times=None, delay_s=0.3)
    if point == "during_task_poll":
        fake.task_delay_s = 0.5
    crashed = meterbridge(
        setup, send_args(setup, fake, "--api", api), point, METERBRIDGE_CRASH_SKIP=skip
    )
    assert killed(crashed), crashed.stdout + crashed.stderr
    fake.clear_faults()
    fake.wait_tasks()
    done = meterbridge(setup, ["deliver", "--ecap-url", fake.url, "--api", api])
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored(fake) == wanted(setup)
    assert values_ever_sent(fake) <= file_values(setup)
    integrity, counts, receipted = journal_report(setup)
    assert integrity == "ok"
    assert counts["confirmed"] == TOTAL
    assert counts["pending"] == counts["sent"] == counts["rejected"] == counts["held"] == 0
    assert receipted >= TOTAL
    again = meterbridge(setup, send_args(setup, fake, "--api", api))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{TOTAL} already delivered, nothing new to send" in again.stdout


def test_killed_deliver_after_an_outage_resumes(fake: FakeEnergyCap, tmp_path: Path) -> None:
    setup = prepare(tmp_path)
    fake.outage("/api/v3/reading")
    first = meterbridge(setup, send_args(setup, fake))
    assert first.returncode == 1, first.stdout + first.stderr
    assert "delivery stopped" in first.stderr and f"pending {TOTAL}" in first.stdout
    fake.clear_faults()
    args = ["deliver", "--ecap-url", fake.url]
    crashed = meterbridge(setup, args, "after_upload_before_receipt", METERBRIDGE_CRASH_SKIP="2")
    assert killed(crashed)
    assert meterbridge(setup, args).returncode == 0
    assert stored(fake) == wanted(setup)
    assert journal_report(setup)[1]["confirmed"] == TOTAL


def test_bare_deliver_after_a_crash_resumes_with_the_options_of_the_send(
    fake: FakeEnergyCap, tmp_path: Path
) -> None:
    setup = prepare(tmp_path)
    fake.inject("/api/v3/import", status=None, times=None, delay_s=0.3)
    args = send_args(setup, fake, "--api", "import", "--time-label", "end")
    assert killed(meterbridge(setup, args, "mid_upload"))
    fake.clear_faults()
    done = meterbridge(setup, ["deliver"], with_mapping=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"as the last send: --ecap-url {fake.url}, --api import" in done.stdout
    assert "--mapping" in done.stdout
    assert stored(fake) == wanted(setup)
