"""UI test setup: an isolated home, an in-memory keyring, the fake EnergyCAP, no stray workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from PySide6.QtCore import QThreadPool

from app.core.paths import resolve_paths
from app.ui.context import AppContext
from tests.fakes.fixtures import energycap  # noqa: F401

# The offscreen platform plugin keeps QPlatformWindow's defaults for propagateSizeHints()
# and raise(), which say they are unsupported (qWarning) whenever a window with a menu
# bar is shown or raised. It is the test platform talking, not the app.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ignore only the offscreen plugin's size-hint warning in the UI tests."""
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A file-less keyring backend: a stand-in for the OS store in tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The in-memory backend, made the active keyring for the test."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def context(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> Iterator[AppContext]:
    """A fresh app context in an empty home (autostart files go under tmp too)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    yield AppContext.load(resolve_paths(home).ensure())
    QThreadPool.globalInstance().waitForDone(10_000)
