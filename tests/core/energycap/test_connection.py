"""The one place that builds the EnergyCAP client and mapping table from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.energycap.connection import ConnectionSetupError, client_from_settings, mapping_table
from app.core.settings import EnergyCapSettings, Settings
from tests.fakes.memory_keyring import installed, no_keyring


def test_no_key_anywhere_is_a_plain_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECAP_API_KEY", raising=False)
    with no_keyring(), pytest.raises(ConnectionSetupError, match="no EnergyCAP API key"):
        client_from_settings("https://app.energycap.com", EnergyCapSettings())


def test_key_from_the_keyring_and_a_bad_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECAP_API_KEY", raising=False)
    with installed() as ring:
        ring.set_password("meterbridge", "energycap-api-key", "k-123")
        with pytest.raises(ConnectionSetupError) as refused:
            client_from_settings("http://example.com", EnergyCapSettings())
        assert "k-123" not in str(refused.value)  # the key never appears in a message
        client = client_from_settings("https://app.energycap.com", EnergyCapSettings())
    assert client is not None


def test_mapping_table_uses_the_settings_codes(tmp_path: Path) -> None:
    settings = Settings()
    settings.defaults.codes["kWh"] = ["Usage", "KWH"]
    assert mapping_table(settings).codes_for("kWh").observation_type == "Usage"
    mapping = tmp_path / "m.csv"
    mapping.write_text("source_id,meter_import_id\nA,M-A\n", encoding="utf-8")
    table = mapping_table(settings, str(mapping))
    assert [r.meter_import_id for r in table.rows] == ["M-A"]
    assert table.codes_for("kWh").unit == "KWH"
