"""A working in-memory keyring backend (keyring's own plug-in interface) for tests.

It is taken out of keyring's backend discovery at import, so only a test that
installs it with `installed()` ever uses it; every other test keeps the
machine's real backend (on CI: none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in a dict."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


# Never auto-detected: a test opts in explicitly.
keyring.backend.KeyringBackend._classes.discard(MemoryKeyring)


@contextmanager
def installed() -> Iterator[MemoryKeyring]:
    """Use a fresh MemoryKeyring for the block, then restore the previous backend."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@contextmanager
def no_keyring() -> Iterator[None]:
    """Behave as a machine without a secure keyring for the block."""
    import keyring.backends.fail

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)
