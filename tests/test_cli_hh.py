"""`meterbridge convert/send --connector auto` on UK HH files: layout and score printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from connectors.base import Source
from connectors.tabular.engine import UkHalfHourlyConnector
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

DATA = Path(__file__).resolve().parent / "data" / "hh"
KEY = "hh-cli-key-77"


def chosen(path: Path) -> tuple[float, str, float]:
    """(connector score, layout, layout score) as the uk-hh connector itself reports them."""
    connector = UkHalfHourlyConnector()
    source = Source.from_path(path)
    info = next(iter(connector.read(source, {}))).info
    return connector.sniff(source.head(), path.name), info["layout"], info["layout_score"]


@pytest.mark.parametrize(
    "path",
    [
        DATA / "energy-assets.csv",
        DATA / "sse.csv",
        DATA / "row-per-reading.csv",
        DATA / "stark-portal.csv",
    ],
    ids=lambda p: p.stem,
)
def test_convert_prints_connector_layout_and_scores(
    path: Path, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    score, layout, layout_score = chosen(path)
    code = main(["convert", str(path), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out.splitlines()
    assert code in (0, 1)
    expected = (
        f"{path}: connector uk-hh (score {score:.2f}), layout {layout} (score {layout_score:.2f})"
    )
    assert out[0] == expected
    assert layout == path.stem.replace("-hr", "")


def test_a_generic_file_names_no_layout(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("id,time,value\nm1,2025-01-15T00:30:00Z,1.5\n")
    code = main(["convert", str(path), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"{path}: connector generic (score 0.65)"


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        channel = FakeChannel(41, "HH-kWh", "Use", "kWh", 1800)
        server.add_meter(4, "1200000000001", [channel], "Europe/London")
        yield server


def test_send_prints_the_layout_and_delivers(
    home: Path,
    fake: FakeEnergyCap,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    path = DATA / "energy-assets.csv"
    score, layout, layout_score = chosen(path)
    main(["send", str(path), "--ecap-url", fake.url])
    out = capsys.readouterr().out
    assert f"{path}: connector uk-hh (score {score:.2f})" in out
    assert f"{path}: layout {layout} (score {layout_score:.2f})" in out
    got = fake.readings_for(41)
    assert got.loc[got["time"] == pd.Timestamp("2024-01-15T00:30Z"), "value"].tolist() == [101]
