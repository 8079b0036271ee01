"""Secrets in the OS keyring, with an environment variable for headless runs.

Never falls back to plaintext: when no secure keyring backend exists,
`SecretStore.available` is False, `backend_description` says so plainly, and
`set` raises `NoKeyringError` so the caller can ask the user what to do.

Secure means an OS keyring: a backend of priority 1 or more (keyring's own
scale: the OS keyrings rate 5 and up) that does not keep secrets in a plain
file. keyrings.alt's backends (a plaintext file, a file "encrypted" with a
password kept beside it, ...) rate below 1 and are refused by name too; a
chain of backends is secure only if every backend in it is.

`keyring` is imported when a secret is first read or written, not with this module: commands
that never touch a secret (`meterbridge --help`, `device list`) do not pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keyring.backend

log = logging.getLogger(__name__)

SERVICE = "meterbridge"

# Secret name -> environment variable accepted for headless runs.
ENV_FALLBACKS: dict[str, str] = {
    "energycap-api-key": "ECAP_API_KEY",
    "verdigris-client-secret": "VERDIGRIS_CLIENT_SECRET",
    "sftp-password": "SFTP_PASSWORD",
}


class NoKeyringError(RuntimeError):
    """No secure keyring backend is available on this machine."""


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _members(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    """The backends a chainer passes secrets to (itself when it is not a chainer)."""
    chained = getattr(backend, "backends", None)
    return list(chained) if isinstance(chained, (list, tuple)) and chained else [backend]


def insecure_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why `backend` cannot be trusted with secrets, in plain words; None when it can."""
    for member in _members(backend):
        name = _backend_name(member)
        lowered = name.lower()
        if "fail" in lowered or "null" in lowered:
            return f"{name} cannot store anything"
        if lowered.startswith("keyrings.alt") or "plaintext" in lowered:
            return (
                f"{name} keeps secrets in a file on disk (keyrings.alt), readable by anyone "
                "who can read your files; it is not the OS keyring"
            )
        if float(member.priority) < 1:
            return f"{name} rates itself as not secure (keyring priority {member.priority} < 1)"
    return None


def _is_insecure(backend: keyring.backend.KeyringBackend) -> bool:
    return insecure_reason(backend) is not None


@dataclass
class SecretStore:
    """A small store over `keyring`, scoped to one service name."""

    service: str = SERVICE

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        """The keyring backend in use."""
        import keyring

        return keyring.get_keyring()

    @property
    def available(self) -> bool:
        """Whether a secure backend can hold secrets."""
        try:
            return not _is_insecure(self.backend)
        except Exception:  # keyring backends may fail to initialise in odd environments
            return False

    def backend_description(self) -> str:
        """A plain sentence naming the backend, or saying why it is not used."""
        backend = self.backend
        name = _backend_name(backend)
        if self.available:
            return f"Secrets are kept in the OS keyring ({name})."
        try:
            why = insecure_reason(backend) or "it did not start"
        except Exception:  # a backend that fails even to describe itself
            why = "it did not start"
        return (
            f"No secure keyring is available: {why}. Secrets cannot be saved; "
            "give them through environment variables for headless runs."
        )

    def get(self, name: str, *, env: str | None = None) -> str | None:
        """The secret from the keyring, else from its environment variable."""
        import keyring.errors

        value: str | None = None
        if self.available:
            try:
                value = keyring.get_password(self.service, name)
            except keyring.errors.KeyringError as exc:
                log.warning("keyring read of %s failed: %s", name, type(exc).__name__)
        if value:
            return value
        variable = env or ENV_FALLBACKS.get(name)
        return os.environ.get(variable) if variable else None

    def set(self, name: str, value: str) -> None:
        """Store a secret.

        Raises:
            NoKeyringError: when no secure backend exists (never a plaintext fallback).
        """
        if not self.available:
            raise NoKeyringError(self.backend_description())
        import keyring

        keyring.set_password(self.service, name, value)

    def delete(self, name: str) -> None:
        """Forget a secret (no error if it was not there)."""
        if not self.available:
            return
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(self.service, name)
