"""`meterbridge gui FILE…`: the files open in previews, in this app or the one already running."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.cli import build_parser
from app.ui.context import AppContext
from app.ui.single_instance import SingleInstance, ask_running_instance, server_name
from app.ui.window.main_window import MainWindow

DATA = Path(__file__).resolve().parents[1] / "data" / "hh"


def test_gui_takes_files_to_preview() -> None:
    args = build_parser(["gui"]).parse_args(["gui", "a.csv", "b.df2"])
    assert args.files == ["a.csv", "b.df2"] and not args.minimized


def test_a_second_launch_hands_its_files_to_the_running_window(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    first = SingleInstance(server_name(str(tmp_path)))
    assert first.listen()
    first.files_requested.connect(window.open_paths)
    wanted = [str(DATA / "stark.df2"), str(DATA / "banes.csv")]
    try:
        with qtbot.waitSignals([window.preview_opened, window.preview_opened], timeout=10_000):
            assert ask_running_instance(first.name, files=wanted)
    finally:
        first.close()
    assert [p.path.name for p in window.previews] == ["stark.df2", "banes.csv"]
    for preview in window.previews:
        qtbot.addWidget(preview)
        assert preview.isVisible()
