"""Test-wide setup: Qt offscreen, an isolated meterbridge home, the shared samples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO.parent / "shared" / "samples"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty meterbridge home; METERBRIDGE_HOME points at it; no keyring secrets leak in."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("METERBRIDGE_HOME", str(folder))
    monkeypatch.delenv("ECAP_API_KEY", raising=False)
    return folder


@pytest.fixture
def uk_samples() -> Path:
    """The real UK half-hourly exports in ../shared/samples/uk-hh."""
    folder = SHARED_SAMPLES / "uk-hh"
    assert folder.is_dir(), f"shared samples missing at {folder}"
    return folder
