"""UI test setup: an isolated home, an in-memory keyring, the fake EnergyCAP, no stray workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from app.core.paths import resolve_paths
from app.ui.context import AppContext
from app.ui.main_thread_gc import install
from tests.fakes.fixtures import energycap  # noqa: F401
from tests.fakes.memory_keyring import MemoryKeyring, installed

# The offscreen platform plugin keeps QPlatformWindow's defaults for propagateSizeHints()
# and raise(), which say they are unsupported (qWarning) whenever a window with a menu
# bar is shown or raised. It is the test platform talking, not the app.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ignore only the offscreen plugin's size-hint warning in the UI tests."""
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True, scope="session")
def _gc_on_the_gui_thread(qapp: QApplication) -> None:
    """As in the app: cycles (holding widgets of earlier tests) are collected on the GUI
    thread, never by a worker thread that happens to allocate (app/ui/main_thread_gc.py)."""
    install(qapp)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The in-memory backend (kept out of keyring's discovery), active for the test."""
    with installed() as ring:
        yield ring


@pytest.fixture
def context(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> Iterator[AppContext]:
    """A fresh app context in an empty home (autostart files go under tmp too)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    yield AppContext.load(resolve_paths(home).ensure())
    QThreadPool.globalInstance().waitForDone(10_000)
