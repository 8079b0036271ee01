"""Only an OS keyring holds secrets: plaintext files and low-priority backends are refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend
import pytest

from app.core.secrets import NoKeyringError, SecretStore
from tests.fakes.memory_keyring import MemoryKeyring, installed


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt.file.PlaintextKeyring (priority 0.5, a file on disk)."""

    priority = 0.5  # type: ignore[assignment]


PlaintextKeyring.__module__ = "keyrings.alt.file"


class Unsure(MemoryKeyring):
    """A backend that rates itself below 1 without saying why."""

    priority = 0.9  # type: ignore[assignment]


class Chain(MemoryKeyring):
    """A chain of backends (as keyring's ChainerBackend): one OS keyring, one plaintext file."""

    priority = 10  # type: ignore[assignment]
    backends = (MemoryKeyring(), PlaintextKeyring())


for _cls in (PlaintextKeyring, Unsure, Chain):
    keyring.backend.KeyringBackend._classes.discard(_cls)  # never auto-detected


@contextmanager
def backend(instance: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(instance)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    ("instance", "words"),
    [
        (PlaintextKeyring(), "keeps secrets in a file on disk"),
        (Unsure(), "priority 0.9 < 1"),
        (Chain(), "keeps secrets in a file on disk"),
    ],
)
def test_plaintext_and_low_priority_backends_are_not_the_os_keyring(
    instance, words, monkeypatch
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", "from-the-environment")
    with backend(instance):
        store = SecretStore()
        assert not store.available
        said = store.backend_description()
        assert said.startswith("No secure keyring is available") and words in said
        with pytest.raises(NoKeyringError):
            store.set("energycap-api-key", "secret")
        assert store.get("energycap-api-key") == "from-the-environment"
    assert getattr(instance, "store", {}) == {}  # nothing was written through it


def test_an_os_keyring_is_used() -> None:
    with installed() as memory:
        store = SecretStore()
        assert store.available and "OS keyring" in store.backend_description()
        store.set("energycap-api-key", "k")
        assert memory.store == {("meterbridge", "energycap-api-key"): "k"}
