"""Site names kept as channel labels: a layout declares its label column, never guessed.

BANES exports name the site of each row in a `Location` column (the MPAN is at the end
of the row); Stark portal exports in `Site Name`. The connector hands them on as
`batch.info["labels"]` (source id -> site name); layouts without a declared label column
give none, whatever their other text columns hold.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Source
from connectors.tabular.engine import UkHalfHourlyConnector
from connectors.tabular.layout import builtin_layouts, layout_by_name
from tests.data.hh.compose import banes_lines

DATA = Path(__file__).resolve().parents[2] / "data" / "hh"


def labels_of(path: Path, **options: Any) -> dict[str, str]:
    """Every label the connector gives for a file (merged over its batches)."""
    found: dict[str, str] = {}
    for batch in UkHalfHourlyConnector().read(Source.from_path(path), options):
        found.update(batch.info.get("labels") or {})
    return found


def test_banes_location_becomes_the_label_of_each_mpan() -> None:
    assert labels_of(DATA / "banes.csv") == {
        "2200012767323": "School 1",
        "2200012833358": "School 2",
    }


def test_stark_portal_site_name_becomes_the_label() -> None:
    assert labels_of(DATA / "stark-portal.csv") == {"2100004035999": "School"}


def test_layouts_without_a_declared_label_column_give_no_labels() -> None:
    # sheffield.csv has a siteRef text column: not declared, so not taken as a label
    assert labels_of(DATA / "sheffield.csv") == {}
    assert labels_of(DATA / "imserv.csv") == {}


def test_only_banes_and_stark_portal_declare_a_label_column() -> None:
    declared = {layout.name: layout.channel_label for layout in builtin_layouts()}
    assert declared["banes"] == ("Location",)
    assert declared["stark-portal"] == ("Site Name",)
    assert [name for name, labels in declared.items() if labels] == ["banes", "stark-portal"]


def test_first_site_name_of_a_meter_wins_and_blank_names_are_skipped(tmp_path: Path) -> None:
    sites = [("2200000000001", ""), ("2200000000001", "Main school"), ("2200000000001", "Annex")]
    sites.append(("2200000000002", "   "))
    path = tmp_path / "banes.csv"
    path.write_text("\r\n".join(banes_lines(sites)), encoding="utf-8")
    assert labels_of(path) == {"2200000000001": "Main school"}


def test_labels_do_not_change_the_readings(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    named, blank = tmp_path / "a" / "banes.csv", tmp_path / "b" / "banes.csv"
    named.write_text("\n".join(banes_lines([("2200000000001", 'Hall, "old" wing')])))
    blank.write_text("\n".join(banes_lines([("2200000000001", "")])))

    def readings(path: Path) -> Any:
        batches = UkHalfHourlyConnector().read(Source.from_path(path), {})
        return next(b.readings for b in batches if len(b.readings))

    assert readings(named).equals(readings(blank))
    assert labels_of(named) == {"2200000000001": 'Hall, "old" wing'}


SITE_TEXT = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " ,'\"&()-/éü£"),
    min_size=1,
    max_size=60,
).filter(lambda text: text.strip() != "")


@settings(max_examples=40, deadline=None)
@given(names=st.lists(SITE_TEXT, min_size=1, max_size=5))
def test_any_site_name_round_trips_as_the_label(tmp_path_factory: Any, names: list[str]) -> None:
    sites = [(f"22000000000{i:02d}", name) for i, name in enumerate(names)]
    path = tmp_path_factory.mktemp("labels") / "banes.csv"
    path.write_bytes("\r\n".join(banes_lines(sites)).encode("utf-8"))
    assert labels_of(path) == {mpan: name.strip() for mpan, name in sites}


def test_real_banes_export_keeps_its_school_names(shared_sample: Any) -> None:
    path = shared_sample("uk-hh/energysparks_banes_0030-to-2400_mpan-at-end.csv")
    labels = labels_of(path)
    assert labels["2200012767323"] == "Bathford C of E Primary School Electrici"
    assert labels["2200012030374"] == "Church Hall High Littleton C of E Primary (Academy)"
    assert all(label.strip() for label in labels.values())


def test_a_layout_file_names_its_label_column() -> None:
    banes = layout_by_name("banes")
    assert banes.channel_label == ("Location",)
    assert layout_by_name("imserv").channel_label == ()
