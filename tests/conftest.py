"""Test-wide setup: Qt offscreen, an isolated meterbridge home, the shared samples."""

from __future__ import annotations

import os
from collections.abc import Callable
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


SHARED_ABSENT = (
    "../shared/samples/{name} is absent: the real sample files beside the repository are not "
    "part of it (the generated samples in tests/data/ cover the same ground)"
)


def shared_sample_path(relative_path: str) -> Path:
    """Return ../shared/samples/`relative_path`, or skip the calling test saying it is absent.

    The real files in ../shared/samples (Energy Sparks' UK HH exports, hh-real,
    accuenergy-real, ...) are never copied into the repository, so a fresh clone has
    none of them. Every test that reads one must come through here (or the
    `shared_sample` fixture) so that it is reported as skipped, with the file named,
    instead of failing. What such a test covers must also be covered by a sample the
    project generates under tests/data/.

    Args:
        relative_path: a file or folder below ../shared/samples, e.g. "uk-hh" or
            "hh-real/some-export.csv".

    Returns:
        The absolute path, which exists.
    """
    path = SHARED_SAMPLES / relative_path
    if not path.exists():
        pytest.skip(SHARED_ABSENT.format(name=relative_path))
    return path


@pytest.fixture
def shared_sample() -> Callable[[str], Path]:
    """`shared_sample("hh-real/x.csv")` gives that real sample's Path, or skips the test.

    Use it in any test that reads ../shared/samples: see `shared_sample_path`.
    """
    return shared_sample_path


@pytest.fixture
def uk_samples() -> Path:
    """The real UK half-hourly exports in ../shared/samples/uk-hh; skips when absent."""
    return shared_sample_path("uk-hh")
