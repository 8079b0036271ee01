"""Each real error the core raises, through the real code path, in its plain sentence.

The sentence is chosen by the error's kind (its type, or a typed field such as the HTTP
status: app/core/error_kinds.py), not by its words: the fakes answer on loopback as
EnergyCAP, Verdigris or a closed port would, and the files are really missing or
unreadable.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from pytestqt.qtbot import QtBot

from app.core.error_kinds import MISSING, UNREACHABLE
from app.core.pulls.jobs import JobStore
from app.core.pulls.sftp.connect import SftpConfig, SftpFolder
from app.core.pulls.verdigris_auth import secret_name
from app.core.pulls.verdigris_pull import VerdigrisConfig
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.mapping.editor import MappingEditor
from app.ui.preview.window import PreviewWindow
from app.ui.window.main_window import MainWindow
from app.ui.window.pull_range import PullRangeDialog
from connectors.base import Source
from tests.fakes.energycap import FakeEnergyCap
from tests.ports import free_port
from tests.ui.test_plain_errors import run_key_test

UNREACHABLE_WORDS = "the server could not be reached: check the address and the network."


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    return window


def _last_error(window: MainWindow, name: str) -> str:
    table = window.sources.table
    rows = [r for r in range(table.rowCount()) if table.item(r, 0).text() == name]
    return table.item(rows[0], 8).text() if rows else ""


def test_an_sftp_pull_of_a_server_that_is_not_there_says_so_in_the_banner_and_its_row(
    qtbot: QtBot, context: AppContext
) -> None:
    port = free_port()
    config = SftpConfig(host="127.0.0.1", user="meters", folders=[SftpFolder("/in")],
                        port=port, timeout_s=5)  # fmt: skip
    JobStore(context.jobs_file).save("collector", "sftp", config.to_dict(), timedelta(hours=1),
                                     datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
    window = _window(qtbot, context)
    window.sources.select("collector")
    window.sources.buttons_by_name["run"].click()  # no services: a worker runs the job
    qtbot.waitUntil(lambda: "failed" in window.banner.label.text(), timeout=30_000)
    assert window.banner.label.text() == f"“collector” failed: {UNREACHABLE_WORDS}"
    assert f"cannot reach 127.0.0.1:{port}" in window.banner.details  # the error's own words
    job = JobStore(context.jobs_file).get("collector")
    assert job.last_kind == UNREACHABLE  # kept beside the message for the dashboard
    window.refresh()
    qtbot.waitUntil(lambda: _last_error(window, "collector") != "", timeout=10_000)
    assert _last_error(window, "collector") == f"The last run failed: {UNREACHABLE_WORDS}"


def test_pull_a_range_from_a_verdigris_that_cannot_be_reached(
    qtbot: QtBot, context: AppContext
) -> None:
    port = free_port()
    config = VerdigrisConfig(client_id="campus-client", circuits=["100"], interval="1h",
                             kinds=["energy"], auth_url=f"http://127.0.0.1:{port}/oauth/token",
                             api_url=f"http://127.0.0.1:{port}")  # fmt: skip
    JobStore(context.jobs_file).save("campus", "verdigris", config.to_dict(), timedelta(hours=1),
                                     datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
    context.secrets.set(secret_name("campus-client"), "a-secret")
    dialog = PullRangeDialog(context, "campus")
    qtbot.addWidget(dialog)
    dialog.since.setDate(QDate.currentDate().addDays(-2))
    dialog.until.setDate(QDate.currentDate().addDays(-1))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not pulled"), timeout=30_000)
    assert dialog.status.text() == f"Not pulled: {UNREACHABLE_WORDS}"
    assert not dialog.status.details_button.isHidden()
    assert "cannot reach the Verdigris token endpoint" in dialog.status.details


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("outage", "is not answering properly right now: try again later."),
        ("closed", "could not be reached: check the address and the network."),
    ],
)
def test_the_wizards_key_test_tells_an_outage_from_a_host_not_reached(
    qtbot: QtBot,
    context: AppContext,
    tmp_path: Path,
    energycap: FakeEnergyCap,
    answer: str,
    said: str,
) -> None:
    if answer == "outage":
        energycap.outage(status=503)  # EnergyCAP answers, with 503, every time
        context.settings.energycap.url = energycap.url
    else:
        context.settings.energycap.url = f"http://127.0.0.1:{free_port()}"
    context.secrets.set(API_KEY_SECRET, "test-key")
    context.save()
    _wizard_kept, page = run_key_test(qtbot, context, tmp_path)
    assert page.result.text().startswith("EnergyCAP at 127.0.0.1:")
    assert page.result.text().endswith(said)
    assert "did not answer GET /api/v3/" in page.result.details


def _editor(qtbot: QtBot, context: AppContext) -> MappingEditor:
    editor = MappingEditor(context)
    qtbot.addWidget(editor)
    return editor


def test_importing_a_mapping_that_is_gone_or_not_text_says_which(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    editor = _editor(qtbot, context)
    assert not editor.import_csv(tmp_path / "gone.csv")
    assert editor.status.text() == (
        "Not imported: gone.csv cannot be opened: the file or folder is not there "
        "(moved or deleted?)."
    )
    assert "No such file" in editor.status.details
    sheet = tmp_path / "saved-as-unicode.csv"  # a spreadsheet's "Unicode text": UTF-16
    sheet.write_bytes("source_id,channel_import_id\nMPAN1,C1\n".encode("utf-16"))
    assert not editor.import_csv(sheet)
    assert editor.status.text() == (
        "Not imported: saved-as-unicode.csv cannot be opened: the file's text is in an "
        "encoding meterbridge cannot read."
    )
    assert "codec can't decode" in editor.status.details


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may read any file")
def test_importing_a_mapping_this_pc_may_not_read_says_so(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    locked = tmp_path / "locked.csv"
    locked.write_text("source_id,channel_import_id\nMPAN1,C1\n", encoding="utf-8")
    locked.chmod(0)
    editor = _editor(qtbot, context)
    assert not editor.import_csv(locked)
    assert editor.status.text() == (
        "Not imported: locked.csv cannot be opened: this PC does not allow meterbridge to "
        "open that file or folder."
    )


def test_a_file_gone_before_its_preview_is_read_says_so(
    qtbot: QtBot, context: AppContext, hh_samples: Path, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes((hh_samples / "banes.csv").read_bytes())
    ranked = context.registry.rank(Source.from_path(path))
    path.unlink()  # moved away between the drop and the read
    window = PreviewWindow(path, ranked, context.mapping_table())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.load_failed, timeout=30_000):
        window.start()
    assert window.message.text() == (
        "Cannot read this file: the file or folder is not there (moved or deleted?)."
    )
    assert window.details_button.isVisible() and "export.csv" in window.details


def test_a_pull_recorded_before_kinds_were_kept_is_still_read_for_its_kind(
    qtbot: QtBot, context: AppContext
) -> None:
    store = JobStore(context.jobs_file)
    now = datetime.now(UTC)
    store.save("old-job", "sftp", {}, timedelta(hours=1), now + timedelta(hours=1))
    with store._connect() as db:  # as an older version left it: no kind beside the words
        db.execute(
            "UPDATE jobs SET last_status='failed', last_kind=NULL, last_message=? WHERE name=?",
            ("cannot reach 10.0.0.9:22: [Errno 113] No route to host", "old-job"),
        )
    window = _window(qtbot, context)
    assert _last_error(window, "old-job") == f"The last run failed: {UNREACHABLE_WORDS}"


def test_an_outage_is_told_from_a_host_not_reached_by_its_type_not_its_words(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    # 503 to every request, "try again at once": the client's every attempt is used up.
    energycap.inject("/", status=503, times=None, retry_after=0)
    context.settings.energycap.url = energycap.url
    context.secrets.set(API_KEY_SECRET, "test-key")
    editor = _editor(qtbot, context)
    editor.fetch_catalog()  # Load from EnergyCAP
    state = editor.pane.state
    qtbot.waitUntil(lambda: state.text().startswith("Not loaded"), timeout=60_000)
    assert state.text() == (
        "Not loaded: the server is not answering properly right now: try again later."
    )
    # Its words ("did not answer") were once read as "could not be reached".
    assert "did not answer GET /api/" in state.toolTip() and "HTTP 503" in state.toolTip()


def test_an_sftp_folder_gone_from_the_server_says_so(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    from tests.fakes.sftp_server import start_server

    server = start_server(tmp_path)
    try:
        config = SftpConfig(host="127.0.0.1", port=server.port, user=server.user,
                            folders=[SftpFolder(server.remote("gone"))],
                            key_file=str(server.client_key),
                            host_key_fingerprint=server.fingerprint)  # fmt: skip
        JobStore(context.jobs_file).save("collector", "sftp", config.to_dict(),
                                         timedelta(hours=1),
                                         datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
        window = _window(qtbot, context)
        window.sources.select("collector")
        window.sources.buttons_by_name["run"].click()
        qtbot.waitUntil(lambda: "“collector”" in window.banner.label.text(), timeout=30_000)
    finally:
        server.stop()
    assert window.banner.label.text() == (
        "“collector” failed: the file or folder is not there (moved or deleted?)."
    )
    assert "cannot list the folder" in window.banner.details
    assert JobStore(context.jobs_file).get("collector").last_kind == MISSING  # from its type
