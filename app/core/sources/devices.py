"""The registry of push devices: name, connector, token, zone, options and stats.

Definitions live in ``devices.json`` in the config folder; tokens never do:
only a SHA-256 hash of each token is kept there (a token is 256 random bits,
so a plain hash cannot be guessed back). When a secure OS keyring exists the
token itself is kept there too (``device-token:<name>``) so it can be shown
again; otherwise it is shown once, when the device is added.
Per-device statistics (last seen, readings received, last error, next
expected push) are kept in memory by the running listener and saved to
``device-stats.json`` in the data folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import statistics
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.secrets import NoKeyringError, SecretStore
from app.core.sources.device_checks import (
    PUSH_CONNECTORS,
    DeviceError,
    device_problem,
    validate,
    validate_options,
)
from app.core.sources.device_files import (
    DeviceFile,
    DeviceStats,
    device_document,
    device_problem_line,
    keep_broken_copy,
    load_stats,
    read_devices,
)
from app.core.sources.device_files import write_json as _write_json

__all__ = ["PUSH_CONNECTORS", "Device", "DeviceError", "DeviceRegistry", "validate"]

log = logging.getLogger(__name__)

TOKEN_SECRET = "device-token:{name}"


@dataclass
class Device:
    """One registered push device."""

    name: str
    connector: str
    tz: str = "UTC"
    options: dict[str, Any] = field(default_factory=dict)
    token_sha256: str = ""
    created: str = ""
    expected_interval_s: int = 0
    problem: str = field(default="", compare=False)  # why devices.json's entry is unusable

    @property
    def source(self) -> str:
        """The journal's source name for this device's readings."""
        return f"push:{self.name}"

    def reader_options(self) -> dict[str, Any]:
        """Options for the device's reader (device options plus zone and name)."""
        return {**self.options, "tz": self.options.get("tz") or self.tz, "device_name": self.name}


def hash_token(token: str) -> str:
    """The SHA-256 hex digest kept in place of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class DeviceRegistry:
    """Devices defined in a JSON file, with token checks and live statistics."""

    def __init__(
        self, path: Path, stats_path: Path | None = None, secret_store: SecretStore | None = None
    ) -> None:
        self.path = path
        self.stats_path = stats_path
        self.secret_store = secret_store
        self._lock = threading.Lock()
        self._devices: dict[str, Device] = {}
        self._by_hash: dict[str, str] = {}
        self._mtime: float | None = None
        self._broken: str | None = None  # devices.json is not JSON (line, column)
        self._problems: list[str] = []
        self._unusable: list[Any] = []  # entries that are no device, written back as they were
        self.kept_copy: Path | None = None  # where a broken devices.json was copied
        self._stats: dict[str, DeviceStats] = load_stats(stats_path)
        self._stats_changed = False
        self.reload(quiet=True)  # whoever opens the registry shows `problems` its own way

    # definitions -----------------------------------------------------------
    def reload(self, *, quiet: bool = False) -> None:
        """Read the definitions file (a missing file means no devices; see `problems`).

        Args:
            quiet: do not log what is wrong in the file (else each problem is logged).
        """
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        read: DeviceFile[Device] = DeviceFile()
        if mtime is not None:
            try:
                read = read_devices(self.path, Device)
            except OSError as exc:
                read = DeviceFile(broken=f"{self.path} cannot be read: {exc}")
        for problem in [] if quiet else [read.broken, *read.problems]:
            if problem:
                log.error("%s", problem)
        self._mtime, self._broken = mtime, read.broken
        if read.broken is not None:  # keep serving the devices known before the edit
            if self._devices and not quiet:
                log.error("the devices known before are served: %s", ", ".join(self._devices))
            return
        with self._lock:
            self._devices, self._unusable, self._problems = (
                read.devices,
                read.unusable,
                read.problems,
            )
            self._by_hash = {
                d.token_sha256: d.name
                for d in read.devices.values()
                if d.token_sha256 and isinstance(d.token_sha256, str)
            }

    @property
    def problems(self) -> list[str]:
        """What is wrong in ``devices.json``: the file, each bad entry or device, by name."""
        return [*([self._broken] if self._broken else []), *self._problems]

    def refresh(self) -> None:
        """Reload when the file changed on disk (devices added by the CLI while serving)."""
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        if mtime != self._mtime:
            self.reload()

    def _save(self) -> None:
        if self._broken is not None:  # never overwrite a hand-edited file silently
            copy = keep_broken_copy(self.path)
            log.warning(
                "%s could not be read; it was copied to %s before being rewritten (the devices "
                "it defined are there: restore them by hand)",
                self.path,
                copy,
            )
            self.kept_copy, self._broken = copy, None
        devices = [asdict(d) for d in self._devices.values()]
        _write_json(self.path, device_document(devices, self._unusable))
        self._mtime = self.path.stat().st_mtime

    def add(self, name: str, connector: str, tz: str = "UTC", **options: Any) -> str:
        """Register a device; returns its new token (shown to the user once).

        Raises:
            DeviceError: for a bad definition or a name already taken.
        """
        validate(name, connector, tz)
        validate_options(options, connector)
        self.refresh()
        if name in self._devices:
            raise DeviceError(f"a device named {name!r} exists; remove it first or pick a name")
        token = secrets.token_urlsafe(32)
        device = Device(
            name=name,
            connector=connector,
            tz=tz,
            options=dict(options),
            token_sha256=hash_token(token),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._devices[name] = device
            self._by_hash[device.token_sha256] = name
            self._save()
        self._keep_token(name, token)
        return token

    def update(
        self,
        name: str,
        *,
        tz: str | None = None,
        options: dict[str, Any] | None = None,
        unset: tuple[str, ...] = (),
        expected_interval_s: int | None = None,
    ) -> Device:
        """Change a device's zone, reader options or expected push interval (token kept).

        Raises:
            DeviceError: for an unknown device, zone or option, or a value it does not take.
        """
        self.refresh()
        device = self.get(name)
        missing = [k for k in unset if k not in device.options]
        if missing:
            shown = ", ".join(sorted(device.options)) or "none"
            raise DeviceError(f"option {missing[0]!r} is not set on {name} (set: {shown})")
        merged = {k: v for k, v in device.options.items() if k not in unset}
        merged.update(options or {})
        validate(name, device.connector, tz or device.tz)
        validate_options(
            {k: v for k, v in merged.items() if k not in device.options or device.options[k] != v},
            device.connector,
        )
        if expected_interval_s is not None and expected_interval_s < 0:
            raise DeviceError("the expected interval is a number of seconds, 0 or more")
        with self._lock:
            device.tz = tz or device.tz
            device.options = merged
            if expected_interval_s is not None:
                device.expected_interval_s = expected_interval_s
            self._recheck(device)
            self._save()
        return device

    def _recheck(self, device: Device) -> None:
        """Check a changed device again (a fixed zone clears its problem)."""
        fields = (device.connector, device.tz, device.options, device.token_sha256)
        problem = device_problem(device.name, *fields, device.expected_interval_s)
        device.problem = problem or ""
        self._problems = [p for p in self._problems if f"device {device.name!r}:" not in p]
        if device.problem:
            self._problems.append(device_problem_line(self.path, device.name, device.problem))

    def _keep_token(self, name: str, token: str) -> None:
        if self.secret_store is None:
            return
        # Without a keyring only the hash is kept: the token was shown once.
        with contextlib.suppress(NoKeyringError):
            self.secret_store.set(TOKEN_SECRET.format(name=name), token)

    def new_token(self, name: str) -> str:
        """Replace a device's token; the old one stops working at once."""
        device = self.get(name)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_hash.pop(device.token_sha256, None)
            device.token_sha256 = hash_token(token)
            self._by_hash[device.token_sha256] = name
            self._save()
        self._keep_token(name, token)
        return token

    def stored_token(self, name: str) -> str | None:
        """The token from the keyring, if one is kept there."""
        if self.secret_store is None:
            return None
        return self.secret_store.get(TOKEN_SECRET.format(name=name))

    def remove(self, name: str) -> None:
        """Forget a device and its token."""
        device = self.get(name)
        with self._lock:
            self._devices.pop(name, None)
            self._by_hash.pop(device.token_sha256, None)
            self._problems = [p for p in self._problems if f"device {name!r}:" not in p]
            self._save()
        if self.secret_store is not None:
            self.secret_store.delete(TOKEN_SECRET.format(name=name))

    def get(self, name: str) -> Device:
        """The device called `name`.

        Raises:
            DeviceError: when there is none (the message lists the known names).
        """
        device = self._devices.get(name)
        if device is None:
            names = ", ".join(sorted(self._devices)) or "none"
            raise DeviceError(f"no device named {name!r} (known: {names})")
        return device

    def find(self, name: str) -> Device | None:
        """The device called `name`, or None."""
        return self._devices.get(name)

    def all(self) -> list[Device]:
        """Every device, by name."""
        return [self._devices[k] for k in sorted(self._devices)]

    def owner_of(self, token: str) -> str | None:
        """The name of the device `token` belongs to, or None."""
        digest = hash_token(token)
        name = self._by_hash.get(digest)
        if name is None:
            return None
        device = self._devices.get(name)
        ok = device is not None and hmac.compare_digest(device.token_sha256, digest)
        return name if ok else None

    # statistics -------------------------------------------------------------
    def stats(self, name: str) -> DeviceStats:
        """A copy of the device's statistics."""
        with self._lock:
            return DeviceStats(**asdict(self._stats.get(name, DeviceStats())))

    def record_push(self, name: str, readings: int, now: datetime | None = None) -> None:
        """Count an accepted push and update last seen and next expected."""
        now = now or datetime.now(UTC)
        stamp = now.isoformat(timespec="seconds")
        with self._lock:
            stats = self._stats.setdefault(name, DeviceStats())
            if stats.last_seen == stamp:  # within the same second: only the counts change
                stats.requests += 1
                stats.readings_received += readings
                self._stats_changed = True
                return
            if stats.last_seen is not None:
                gap = (now - datetime.fromisoformat(stats.last_seen)).total_seconds()
                if gap >= 1.0:
                    stats.recent_gaps_s = [*stats.recent_gaps_s[-4:], gap]
            stats.last_seen = stamp
            stats.requests += 1
            stats.readings_received += readings
            stats.next_expected = self._next_expected(name, stats, now)
            self._stats_changed = True

    def _next_expected(self, name: str, stats: DeviceStats, now: datetime) -> str | None:
        device = self._devices.get(name)
        interval = float(device.expected_interval_s) if device else 0.0
        if not interval and stats.recent_gaps_s:
            interval = statistics.median(stats.recent_gaps_s)
        if not interval:
            return None
        return (now + timedelta(seconds=interval)).isoformat(timespec="seconds")

    def record_error(self, name: str, message: str, now: datetime | None = None) -> None:
        """Remember a failed push (the message is shown in `device list`)."""
        now = now or datetime.now(UTC)
        with self._lock:
            stats = self._stats.setdefault(name, DeviceStats())
            stats.last_seen = now.isoformat(timespec="seconds")
            stats.requests += 1
            stats.errors += 1
            stats.last_error = message[:500]
            stats.last_error_at = stats.last_seen
            self._stats_changed = True

    def meters(self, name: str) -> list[str]:
        """The meters (``<gateway>/<meter>``) a device's pushes have named so far."""
        with self._lock:
            return list(self._stats.get(name, DeviceStats()).meters)

    def record_meters(self, name: str, meters: list[str]) -> list[str]:
        """Remember the meters a push named; returns the ones new to this device."""
        return self._add_to(name, "meters", meters)

    def record_skipped(self, name: str, params: list[str]) -> list[str]:
        """Remember parameters the reader did not deliver; returns the ones not listed before."""
        return self._add_to(name, "skipped_params", params)

    def _add_to(self, name: str, attribute: str, items: list[str]) -> list[str]:
        if not items:
            return []
        with self._lock:
            stats = self._stats.setdefault(name, DeviceStats())
            listed: list[str] = getattr(stats, attribute)
            new = sorted(set(items) - set(listed))
            if new:
                setattr(stats, attribute, sorted({*listed, *new}))
                self._stats_changed = True
        if new:  # what a device has named decides how later pushes are filed: save now
            try:
                self.save_stats()
            except OSError as exc:  # never fails the push: kept in memory, saved next time
                with self._lock:
                    self._stats_changed = True
                log.warning("device statistics not saved now (%s); trying again later", exc)
        return new

    def save_stats(self) -> None:
        """Write the statistics file (when this registry has one and something changed)."""
        if self.stats_path is None or not self._stats_changed:
            return
        with self._lock:
            document = {name: asdict(s) for name, s in self._stats.items()}
            self._stats_changed = False
        _write_json(self.stats_path, document)
