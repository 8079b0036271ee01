"""Prove an EnergyCAP host and key work, on a worker, with a plain answer."""

from __future__ import annotations

from typing import Any

from app.ui.workers import Worker


def check_energycap(url: str, key: str) -> str:
    """Call the client's `check()`; returns a plain sentence or raises with one."""
    from app.core.energycap.client import AuthError, EnergyCapClient, EnergyCapError, RetryPolicy

    if not url.strip():
        raise ValueError("Choose an EnergyCAP host first.")
    if not key.strip():
        raise ValueError("Enter the API key first.")
    client = EnergyCapClient(url, key, timeout_s=20.0, retry=RetryPolicy(max_attempts=2))
    try:
        client.check()
    except AuthError as exc:
        raise ValueError(
            f"EnergyCAP refused the key ({exc}). A key works only on the host it was made on."
        ) from None
    except EnergyCapError as exc:
        raise ValueError(f"EnergyCAP could not be reached: {exc}") from None
    return f"The key works on {client.host}."


def energycap_test_worker(url: str, key: str) -> Worker:
    """A worker that runs `check_energycap` (not started)."""

    def job(_progress: Any, _cancelled: Any) -> str:
        return check_energycap(url, key)

    return Worker(job)
