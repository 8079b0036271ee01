"""Held pushes of the devices, for the desktop app: counts, bodies, preview, save, send.

A thin facade over the capture store, the device registry and
`app.core.listener.replay`, so the dashboard ("12 pushes held: map them"), the
map-by-example dialog and the "Send held pushes" action need no SQL and no
reader knowledge. Qt-free; every method is quick for the bounded store
(at most ``listener.capture_max_count`` bodies).
"""

from __future__ import annotations

from typing import Any

from app.core.listener.capture import HELD, Capture, CaptureStore
from app.core.listener.push_intake import PushIntake
from app.core.listener.replay import BodyResult, Commit, ReplayReport, preview_held, replay_held
from app.core.sources.devices import Device, DeviceRegistry


class HeldPushes:
    """What the app shows and does about pushes held for mapping."""

    def __init__(self, devices: DeviceRegistry, captures: CaptureStore) -> None:
        self.devices = devices
        self.captures = captures
        self.intake = PushIntake(devices, captures)

    def counts(self) -> dict[str, int]:
        """Held pushes per device (devices with none left out)."""
        return self.captures.held_counts()

    def bodies(self, device: str) -> list[Capture]:
        """The device's held bodies, oldest first."""
        found = [self.captures.get(i.id) for i in self.captures.list(device, status=HELD)]
        return [c for c in reversed(found) if c is not None]

    def device(self, name: str) -> Device:
        """The registered device (raises `DeviceError` naming the known ones)."""
        self.devices.refresh()
        return self.devices.get(name)

    def preview(self, name: str, mapping: dict[str, Any] | None) -> list[BodyResult]:
        """What each held body gives with `mapping` (None: the device's options as they are)."""
        options = {"mapping": mapping} if mapping else {}
        return preview_held(self.device(name), self.captures, self.intake, options)

    def save_mapping(self, name: str, mapping: dict[str, Any]) -> Device:
        """Store `mapping` as the device's ``mapping`` option (checked like `device map`)."""
        return self.devices.update(name, options={"mapping": mapping})

    def send(self, name: str, commit: Commit) -> ReplayReport:
        """Replay every held body of the device into the journal through `commit`."""
        return replay_held(self.device(name), self.captures, self.intake, commit)


def held_row_text(counts: dict[str, int]) -> str:
    """The dashboard's line: ``12 pushes held: map them`` (empty when none are held)."""
    total = sum(counts.values())
    if not total:
        return ""
    return f"{total} push{'es' if total != 1 else ''} held: map them"
