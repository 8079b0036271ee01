"""Set-ups several desktop tests share: a file's preview opened and read, the app connected
to the fake EnergyCAP."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.preview.window import PreviewWindow
from connectors.base import Source
from tests.fakes.energycap import FakeEnergyCap
from tests.ports import free_port


def open_preview(qtbot: QtBot, context: AppContext, path: Path) -> PreviewWindow:
    """The preview of `path` with the connectors ranked as for a dropped file, once read."""
    candidates = context.registry.rank(Source.from_path(path))
    window = PreviewWindow(path, candidates, context.mapping_table())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignals([window.loaded, window.settled], timeout=60_000):
        window.start()
    return window


def connect_to_fake(context: AppContext, energycap: FakeEnergyCap) -> None:
    """Saved settings that deliver to the fake (meters made on first use) with a working key,
    the listener on a free loopback port."""
    energycap.unknown_meter_policy = "autocreate"
    context.settings.energycap.url = energycap.url
    context.settings.listener.port = free_port()
    context.secrets.set(API_KEY_SECRET, "test-key")
    context.save()
