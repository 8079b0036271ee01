"""Wizard validation: plain messages for wrong input, None for good input."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.pulls.sftp.host_keys import fingerprint_of
from app.core.sources import validation as v


@pytest.mark.parametrize(
    ("check", "good", "bad", "says"),
    [
        (v.check_name, "Head office 2", "bad/name", "Use letters"),
        (v.check_host, "sftp.collector.example", "bad host!", "is not a host name"),
        (v.check_host, "192.0.2.10", "", "Enter the host"),
        (v.check_port, "22", "70000", "1 to 65535"),
        (v.check_token, "x" * 16, "short", "at least 16"),
        (v.check_timezone, "America/New_York", "Mars/Olympus", "is not a time zone"),
        (v.check_time_of_day, "06:30", "6.30", "HH:MM"),
        (v.check_remote_path, "/outgoing", "outgoing", "starts with '/'"),
        (v.check_url, "https://app.energycap.com", "app.energycap.com", "full address"),
    ],
)
def test_checks(check: object, good: str, bad: str, says: str) -> None:
    assert check(good) is None  # type: ignore[operator]
    assert says in check(bad)  # type: ignore[operator]


def test_https_only_and_interval_bounds() -> None:
    assert "https://" in (v.check_url("http://x.example", https_only=True) or "")
    assert v.check_interval_minutes(30) is None
    assert v.check_interval_minutes(0) is not None
    assert v.check_interval_minutes(8 * 24 * 60) is not None


def test_fingerprints_as_ssh_keygen_prints_them() -> None:
    fingerprint = fingerprint_of(b"an ssh host key blob")
    assert fingerprint.startswith("SHA256:") and len(fingerprint) == 7 + 43
    assert v.check_fingerprint(fingerprint) is None
    assert v.check_fingerprint("MD5:" + ":".join(["ab"] * 16)) is None
    assert "SHA256" in (v.check_fingerprint("not-a-fingerprint") or "")


def test_files_folders_tokens_and_urls(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("x", encoding="utf-8")
    assert v.check_existing_file(str(tmp_path / "m.csv")) is None
    assert "No file at" in (v.check_existing_file(str(tmp_path / "none.csv")) or "")
    assert v.check_existing_folder(str(tmp_path)) is None
    assert v.check_existing_folder("") == "Choose a folder."
    assert v.check_token(v.new_token()) is None
    assert v.push_url("192.0.2.5", 8765, "push/gw") == "http://192.0.2.5:8765/push/gw"
    assert v.first_error(None, "second", "third") == "second"
    assert v.common_timezones()[0] == "Europe/London"
