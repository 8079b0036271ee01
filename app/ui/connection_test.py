"""Prove an EnergyCAP host and key work, on a worker, with a plain answer (detail kept apart)."""

from __future__ import annotations

import sys
from typing import Any

from app.ui.workers import Worker

DETAILS = "\n\nDetails: "


def split_details(text: str) -> tuple[str, str]:
    """(the plain sentence, the technical detail) of a message made by `check_energycap`."""
    plain, _, detail = text.partition(DETAILS)
    return plain, detail


def check_energycap(url: str, key: str) -> str:
    """Call the client's `check()`; returns a plain sentence or raises with one (+ Details)."""
    from app.core.energycap.client import AuthError, EnergyCapClient, EnergyCapError, RetryPolicy
    from app.core.error_kinds import OUTAGE

    if not url.strip():
        raise ValueError("Choose an EnergyCAP host first.")
    if not key.strip():
        raise ValueError("Enter the API key first.")
    client = EnergyCapClient(url, key, timeout_s=20.0, retry=RetryPolicy(max_attempts=2))
    try:
        client.check()
    except AuthError as exc:
        raise ValueError(
            f"EnergyCAP refused the key: check it, and that it was made on this host.{DETAILS}{exc}"
        ) from None
    except EnergyCapError as exc:
        if exc.kind == OUTAGE:  # it answered, with 5xx or 429
            raise ValueError(
                f"EnergyCAP at {client.host} is not answering properly right now: try again "
                f"later.{DETAILS}{exc}"
            ) from None
        raise ValueError(
            f"EnergyCAP at {client.host} could not be reached: check the address and the "
            f"network.{DETAILS}{exc}"
        ) from None
    return f"The key works on {client.host}."


def energycap_test_worker(url: str, key: str) -> Worker:
    """A worker that runs `check_energycap` (not started)."""

    def job(_progress: Any, _cancelled: Any) -> str:
        return check_energycap(url, key)

    return Worker(job)


def no_keyring_help(platform: str = sys.platform) -> str:
    """What to do when no secure keyring exists, for this kind of computer, in plain words."""
    never = " meterbridge never writes the key to a plain file."
    env = "or set the ECAP_API_KEY environment variable before starting"
    if platform.startswith("win"):
        return ("Windows Credential Manager cannot be reached, so the API key cannot be saved "
                "safely. Sign in to Windows with your own account and start meterbridge again, "
                f"{env} it." + never)  # fmt: skip
    if platform == "darwin":
        return ("The macOS Keychain cannot be reached, so the API key cannot be saved safely. "
                "Unlock your login keychain (Keychain Access) and start meterbridge again, "
                f"{env} it." + never)  # fmt: skip
    return ("No keyring is running, so the API key cannot be saved safely. Install and unlock "
            "one (on Ubuntu or Debian: sudo apt install gnome-keyring, then sign out and in), "
            f"{env} meterbridge." + never)  # fmt: skip


def keyring_words(platform: str = sys.platform) -> str:
    """Where a saved key is kept, named as the user knows it."""
    if platform.startswith("win"):
        return "The API key is kept in Windows Credential Manager."
    if platform == "darwin":
        return "The API key is kept in the macOS Keychain."
    return "The API key is kept in your desktop's keyring."
