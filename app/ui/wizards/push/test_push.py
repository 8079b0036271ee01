"""“Send a test push”: post a body shaped like the device's to the listener, as the device would.

The body is well formed for the device type but carries no readings, so the
test proves the address, the token and the device name without putting
made-up readings into the journal (and so into EnergyCAP). Qt-free.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

# (content type, body, file name) per connector: what the device type posts, without readings.
SAMPLE_BODIES: dict[str, tuple[str, bytes, str]] = {
    "episensor": ("application/json", b"[]", "rkdap.json"),
    # A data logger file, named as loggers name them: <logger>-<gateway>-<meter>-<start>-<span>
    "acurev2100": ("text/csv", b"timestamp,EP_IMP_001_kWh\r\n",
                   "Logger1-{serial}-AcuRev2100-1700000000-15min.csv"),
    "aculink810": ("text/csv", b"timestamp,EP_IMP_kWh\r\n",
                   "Logger1-{serial}-Meter1-1700000000-15min.csv"),
    "readings": ("application/json", json.dumps({"readings": []}).encode(), "readings.json"),
}  # fmt: skip


@dataclass(frozen=True)
class TestPushAnswer:
    """What the listener answered a test push, in a sentence."""

    ok: bool
    text: str


def send_test_push(
    url: str, token: str, connector: str, serial: str = "", timeout_s: float = 10.0
) -> TestPushAnswer:
    """Post the sample body of `connector` to `url` with `token`; never raises.

    `serial` (the gateway or meter serial typed in the wizard) names the meter in
    the file name as the device's own logger would.
    """
    content_type, body, pattern = SAMPLE_BODIES.get(connector, SAMPLE_BODIES["readings"])
    name = pattern.format(serial=_safe(serial) or "TEST")
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", content_type)
    request.add_header("Content-Disposition", f'attachment; filename="{name}"')
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        return TestPushAnswer(False, _refused(exc.code))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return TestPushAnswer(
            False,
            f"The listener did not answer at {url} ({reason}). Is meterbridge listening on "
            "this address?",
        )
    if status != 200:  # 202: the body was held for mapping, so it was not read as expected
        return TestPushAnswer(False, _refused(status))
    return TestPushAnswer(True, "✓ The test push arrived: the address and the token work.")


def _refused(status: int) -> str:
    if status in (401, 403):
        return "The listener refused the token: copy it again from this page."
    if status == 202:
        return "The listener kept the test push but could not read it; see the device's log."
    if status == 404:
        return "The listener does not know this device: finish the wizard, then try again."
    return f"The listener answered the test push with an error (HTTP {status}); see the log."


def _safe(serial: str) -> str:
    """The serial as it may appear in a logger's file name (letters and digits)."""
    return "".join(c for c in serial if c.isalnum())
