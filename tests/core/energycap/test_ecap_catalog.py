"""EnergyCAP's lists for the mapping editor: a 3,000-meter account in five requests, paged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.energycap.catalog import (
    CatalogCancelled,
    channel_from_code,
    fetch_catalog,
    fetch_channels,
)
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "catalog-key"


def add_meters(fake: FakeEnergyCap, count: int) -> None:
    """`count` meters; every third has a second (demand, 15-minute) channel."""
    for n in range(1, count + 1):
        channels = [FakeChannel(100_000 + n, f"C{n}-KWH", "Use", "kWh", 1800)]
        if n % 3 == 0:
            channels.append(FakeChannel(200_000 + n, f"C{n}-KW", "Demand", "kW", 900))
        fake.add_meter(n, f"M{n}", channels)


@pytest.fixture(scope="module")
def big() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as fake:
        add_meters(fake, 3000)
        yield fake


def client(fake: FakeEnergyCap) -> EnergyCapClient:
    return EnergyCapClient(fake.url, KEY, retry=RetryPolicy(max_attempts=2, base_s=0.01))


def meter_list_requests(fake: FakeEnergyCap) -> list[dict[str, list[str]]]:
    return [r.query for r in fake.requests if r.path == "/api/v3/meter"]


def test_three_thousand_meters_load_in_five_requests(big: FakeEnergyCap) -> None:
    before = len(big.requests)
    seen: list[int] = []
    catalog = fetch_catalog(client(big), progress=lambda n, _m: seen.append(n))
    assert len(big.requests) - before == catalog.requests == 5  # types, units, 3 pages
    assert [q["pageNumber"] for q in meter_list_requests(big)[-3:]] == [["1"], ["2"], ["3"]]
    assert seen == [1000, 2000, 3000]
    assert [m.meter_id for m in catalog.meters] == list(range(1, 3001))
    meter = catalog.meters[2]
    assert (meter.code, meter.import_id) == ("M3", "M3")
    use, demand = meter.channels
    assert (use.channel_id, use.observation_type, use.unit, use.interval_minutes) == (
        100_003, "Use", "kWh", 30
    )  # fmt: skip
    assert (demand.observation_type, demand.unit, demand.interval_minutes) == ("Demand", "kW", 15)
    assert not use.detailed and use.import_id is None
    assert {"Use", "Demand"} <= set(catalog.observation_types) and "kW" in catalog.units


def test_a_small_page_size_still_reads_everything(big: FakeEnergyCap) -> None:
    catalog = fetch_catalog(client(big), page_size=700)
    assert len(catalog.meters) == 3000 and catalog.requests == 2 + 5


def test_cancel_stops_between_pages(big: FakeEnergyCap) -> None:
    before = len(meter_list_requests(big))
    pages: list[int] = []
    with pytest.raises(CatalogCancelled, match="after 1000 meters"):
        fetch_catalog(client(big), progress=lambda n, _m: pages.append(n),
                      cancelled=lambda: len(pages) >= 1)  # fmt: skip
    assert len(meter_list_requests(big)) - before == 1


def test_channel_import_ids_come_from_the_meter_s_own_list(big: FakeEnergyCap) -> None:
    channels = fetch_channels(client(big), 3)
    assert [(c.channel_id, c.import_id, c.detailed) for c in channels] == [
        (100_003, "C3-KWH", True), (200_003, "C3-KW", True)
    ]  # fmt: skip
    assert [r.path for r in big.requests[-1:]] == ["/api/v202101/meter/3/channel"]


def test_a_channel_code_of_another_shape_gives_no_guesses() -> None:
    assert channel_from_code(5, "ELEC-MAIN").observation_type is None
    assert channel_from_code(5, None).unit is None
    odd = channel_from_code(5, "Use:kWh:x:y:daily")
    assert (odd.observation_type, odd.unit, odd.interval_minutes) == ("Use", "kWh", None)
