"""`meterbridge send FILE --connector auto` of every real file of ../shared/samples/hh-real
to the fake EnergyCAP (a real HTTP server on loopback that validates bodies against the
vendor SDK's models): every value arrives at its exact UTC instant, or the output names
it and the exit code is 1; a file that is not data exits 2 saying what it is.

The expected outcome of each file is in `tests/connectors/tabular/hh_real_corpus.py`. Skipped,
naming the file, when ../shared is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from tests.connectors.tabular.hh_real_corpus import CORPUS, Expected
from tests.fakes.energycap import FakeEnergyCap

KEY = "hh-corpus-key-16"


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.unknown_meter_policy = "autocreate"  # a meter per MPAN, as it comes
        yield server


def received(fake: FakeEnergyCap) -> pd.DataFrame:
    """What EnergyCAP stored: meter import id (the source id), time, value."""
    meter_of = {
        channel.channel_id: meter.import_id
        for meter in fake.tenant.meters.values()
        for channel in meter.channels
    }
    frame = fake.readings()
    frame["source"] = frame["channel_id"].map(meter_of)
    return frame


@pytest.mark.parametrize("expected", CORPUS, ids=lambda e: e.name)
def test_send_delivers_every_value_or_names_it(
    expected: Expected,
    shared_sample: Callable[[str], Path],
    home: Path,
    fake: FakeEnergyCap,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = shared_sample(f"hh-real/{expected.name}")
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    code = main(["send", str(path), "--connector", "auto", "--ecap-url", fake.url])
    out = capsys.readouterr()
    said = out.out + out.err
    assert code == expected.exit_code, said
    got = received(fake)
    if expected.layout is None:
        assert expected.refused in said and got.empty
        return
    assert f"layout {expected.layout}" in said
    sent = expected.readings if expected.sent is None else expected.sent
    assert len(got) == sent, said
    for (source, when), value in expected.values.items():
        at = got[(got["source"] == source) & (got["time"] == pd.Timestamp(when, tz="UTC"))]
        assert at["value"].tolist() == [value], (source, when)
    for _kind, line, words in expected.problems:
        assert words in said
        if line is not None:
            assert f"{expected.name}:{line}" in said
