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
import json
import logging
import re
import secrets
import statistics
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.secrets import NoKeyringError, SecretStore
from app.core.sources.device_files import read_devices as _read_devices
from app.core.sources.device_files import write_json as _write_json
from app.core.sources.validation import zone_known

log = logging.getLogger(__name__)

PUSH_CONNECTORS = ("episensor", "aculink810", "acurev2100", "readings")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TOKEN_SECRET = "device-token:{name}"


class DeviceError(ValueError):
    """A device definition that cannot be used; the message says what to change."""


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

    @property
    def source(self) -> str:
        """The journal's source name for this device's readings."""
        return f"push:{self.name}"

    def reader_options(self) -> dict[str, Any]:
        """Options for the device's reader (device options plus zone and name)."""
        return {**self.options, "tz": self.options.get("tz") or self.tz, "device_name": self.name}


@dataclass
class DeviceStats:
    """What the listener has seen of a device."""

    last_seen: str | None = None
    requests: int = 0
    readings_received: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    next_expected: str | None = None
    recent_gaps_s: list[float] = field(default_factory=list)
    meters: list[str] = field(default_factory=list)  # "<gateway>/<meter>" keys sent so far
    skipped_params: list[str] = field(default_factory=list)  # parameters not delivered


def hash_token(token: str) -> str:
    """The SHA-256 hex digest kept in place of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate(name: str, connector: str, tz: str) -> None:
    """Check a device definition.

    Raises:
        DeviceError: naming the bad field.
    """
    if not NAME_PATTERN.match(name):
        raise DeviceError(
            f"device name {name!r}: use 1-64 letters, digits, '.', '_' or '-' (it goes in the URL)"
        )
    if connector not in PUSH_CONNECTORS:
        raise DeviceError(f"connector {connector!r}: use one of {', '.join(PUSH_CONNECTORS)}")
    _check_zone(tz, "The time zone")


def _check_zone(tz: Any, what: str) -> None:
    """Raise `DeviceError` naming `tz` unless it is a time zone this PC knows."""
    if not zone_known(tz):
        hint = "use a name such as Europe/London or America/New_York"
        raise DeviceError(f"{what} {tz!r} is not a time zone this PC knows; {hint}")


def validate_options(options: dict[str, Any], connector: str) -> None:
    """Check the reader options a device is given (names, kinds and allowed values).

    Raises:
        DeviceError: naming the option and what it accepts (an unknown name: the valid ones).
    """
    from app.core.push_readers import option_problem  # the readers load pandas: only when checking

    mapping = options.get("mapping")
    if isinstance(mapping, dict) and "tz" in mapping:  # the zone of times the mapping reads
        _check_zone(mapping["tz"], "The mapping's time zone")
    problem = option_problem(connector, options)
    if problem:
        raise DeviceError(problem)


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
        self._stats: dict[str, DeviceStats] = self._load_stats()
        self._stats_changed = False
        self.reload()

    # definitions -----------------------------------------------------------
    def reload(self) -> None:
        """Read the definitions file (a missing file means no devices)."""
        devices: dict[str, Device] = {}
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        if mtime is not None:
            try:
                devices = _read_devices(self.path, Device)
            except (OSError, ValueError, TypeError) as exc:
                log.error(
                    "device file %s cannot be read (%s); keeping the devices known", self.path, exc
                )
                self._mtime = mtime
                return
        with self._lock:
            self._devices = devices
            self._by_hash = {d.token_sha256: d.name for d in devices.values() if d.token_sha256}
            self._mtime = mtime

    def refresh(self) -> None:
        """Reload when the file changed on disk (devices added by the CLI while serving)."""
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        if mtime != self._mtime:
            self.reload()

    def _save(self) -> None:
        document = {"version": 1, "devices": [asdict(d) for d in self._devices.values()]}
        _write_json(self.path, document)
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
            self._save()
        return device

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

    def _load_stats(self) -> dict[str, DeviceStats]:
        if self.stats_path is None or not self.stats_path.exists():
            return {}
        try:
            document = json.loads(self.stats_path.read_text(encoding="utf-8"))
            return {name: DeviceStats(**value) for name, value in document.items()}
        except (OSError, ValueError, TypeError):
            return {}
