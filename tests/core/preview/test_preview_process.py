"""Big previews convert in a child process: same result as in-process, cancellable, and a
file that cannot be read is reported in words."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.core.connector_catalog import build_registry
from app.core.mapping import MappingTable
from app.core.preview.data import PreviewCancelled, PreviewRequest, load_preview
from app.core.preview.process import PreviewFailed, load_preview_in_process, use_process
from connectors.base import Source


def _request(path: Path) -> PreviewRequest:
    return PreviewRequest(build_registry().get("uk-hh"), Source.from_path(path), {}, MappingTable())


def test_child_gives_the_same_preview(hh_samples: Path) -> None:
    path = hh_samples / "stark-portal.csv"  # preamble, footer, CR-only lines, a BST day
    here = load_preview(_request(path))
    assert len(here.mapped) == 3 * 48  # the "-" day has none
    seen: list[int] = []
    there = load_preview_in_process(_request(path), progress=lambda n, _m: seen.append(n))
    assert there.mapped.equals(here.mapped)
    assert (there.report.flags == here.report.flags).all()
    assert (
        there.columns is not None and there.columns.value.tolist() == here.mapped["value"].tolist()
    )
    assert seen and seen[-1] == len(here.mapped)
    last = there.mapped.sort_values("time").iloc[-1]  # 11/07/24, label 00:00 = 23:00 UTC
    assert (str(last["time"]), last["value"]) == ("2024-07-11 23:00:00+00:00", 448)
    assert last["origin"] == "stark-portal.csv:13:00:00"  # file:line:column


def test_cancel_stops_the_child(hh_samples: Path) -> None:
    path = hh_samples / "sheffield.csv"
    stop = threading.Event()
    stop.set()
    with pytest.raises(PreviewCancelled):
        load_preview_in_process(_request(path), cancelled=stop.is_set)


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "export.csv"
    page.write_text("<html><body>Session expired</body></html>", encoding="utf-8")
    with pytest.raises(PreviewFailed) as failure:
        load_preview_in_process(_request(page))
    assert "export.csv" in str(failure.value)


def test_only_big_files_use_a_child(tmp_path: Path) -> None:
    small, big = tmp_path / "s.csv", tmp_path / "b.csv"
    small.write_bytes(b"x" * 10)
    big.write_bytes(b"x" * 2_000_000)
    assert not use_process(small) and use_process(big)
    assert not use_process(tmp_path / "missing.csv")
