"""The EnergyCAP connection and mapping as the settings describe them, built in one place.

The CLI commands (`send`, `deliver`, `serve`, `pull`), the app's background
services and the GUI all need the same client (key from the keyring or
`ECAP_API_KEY`, retry policy from the settings) and the same mapping table
(the mapping file with the settings' default codes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core.mapping import Codes, MappingTable, load_mapping
from app.core.secrets import SecretStore
from app.core.settings import EnergyCapSettings, Settings

if TYPE_CHECKING:  # the HTTP client (requests) loads when a client is built, not for a mapping
    from app.core.energycap.client import EnergyCapClient

API_KEY_NAME = "energycap-api-key"
NO_KEY_MESSAGE = (
    "no EnergyCAP API key: save one in the app (kept in the OS keyring) "
    "or set the ECAP_API_KEY environment variable"
)


class ConnectionSetupError(ValueError):
    """No API key, or a host URL that cannot be used; the message says which."""


def client_from_settings(
    url: str,
    ecap: EnergyCapSettings,
    *,
    secrets: SecretStore | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EnergyCapClient:
    """An EnergyCAP client for `url` with the key and retry policy the settings give.

    Raises:
        ConnectionSetupError: when there is no API key or the URL is not usable.
    """
    from app.core.energycap.client import EnergyCapClient, RetryPolicy

    key = (secrets or SecretStore()).get(API_KEY_NAME)
    if not key:
        raise ConnectionSetupError(NO_KEY_MESSAGE)
    retry = RetryPolicy(ecap.max_attempts, ecap.backoff_base_s, ecap.backoff_cap_s)
    try:
        return EnergyCapClient(url, key, timeout_s=ecap.timeout_s, retry=retry, sleep=sleep)
    except ValueError as exc:
        raise ConnectionSetupError(str(exc)) from None


def default_codes(settings: Settings) -> dict[str, Codes]:
    """Default EnergyCAP codes per quantity, from `settings.defaults.codes`."""
    return {q: Codes(p[0], p[1]) for q, p in settings.defaults.codes.items() if len(p) >= 2}


def mapping_table(settings: Settings, path: str | None = None) -> MappingTable:
    """The mapping file (`path`, else the settings' one) with the default codes.

    Raises:
        MappingError: naming file, line, column and value when the file is wrong.
    """
    chosen = path or settings.mapping_file
    codes = default_codes(settings)
    return load_mapping(chosen, codes) if chosen else MappingTable(defaults=codes)
