"""Why delivery paused, in one plain sentence, put on every row with readings waiting."""

from __future__ import annotations

from app.cli.gui.delivery import NOT_CONNECTED, DeliveryWatch, pause_in_plain_words
from app.ui.snapshot import NOT_CONNECTED as KEPT
from app.ui.snapshot import PAUSED, Snapshot, SourceRow, first_push_text, with_delivery


def test_each_kind_of_pause_in_plain_words() -> None:
    auth = "EnergyCAP at h refused the API key (HTTP 401): the API key or the host is wrong"
    assert pause_in_plain_words(auth, auth_failed=True).startswith(
        "Delivery paused: EnergyCAP refused the API key."
    )
    down = "EnergyCAP at h did not answer GET /api after 2 attempts (last: connection failed (E))"
    assert "cannot be reached" in pause_in_plain_words(down)
    assert "outage" in pause_in_plain_words("… after 5 attempts (last: HTTP 503)")
    for sentence in (pause_in_plain_words(auth), pause_in_plain_words(down)):
        assert "HTTP" not in sentence and "(" not in sentence


def test_the_watch_keeps_the_first_time_and_clears_on_delivery() -> None:
    watch = DeliveryWatch()
    assert watch.state.problem == NOT_CONNECTED
    watch.connected(True)
    assert watch.state.problem == ""
    watch.paused("x (HTTP 401)", auth_failed=True)
    since = watch.state.since
    watch.paused("x (HTTP 401)", auth_failed=True)
    assert watch.state.since == since and watch.state.detail == "x (HTTP 401)"
    watch.delivered()
    assert watch.state.paused == "" and watch.state.connected


def test_rows_with_pending_readings_carry_the_reason_others_keep_theirs() -> None:
    failed = SourceRow("job", "sftp", "failed", pending=3, last_error="host key changed")
    rows = [SourceRow("file", "uk-hh", "sending", pending=48),
            SourceRow("done", "uk-hh", "up to date"), failed]  # fmt: skip
    said = "EnergyCAP at h refused the API key (HTTP 401)"
    snap = with_delivery(Snapshot(sources=rows), "Delivery paused: refused", paused=True,
                         detail=said)  # fmt: skip
    assert [(r.state, r.last_error) for r in snap.sources] == [
        (PAUSED, "Delivery paused: refused"),
        ("up to date", ""),
        ("failed", "host key changed"),
    ]
    assert snap.sources[0].error_details == said  # the dashboard's Details… for that row
    assert snap.paused == "Delivery paused: refused"
    kept = with_delivery(Snapshot(sources=rows[:1]), NOT_CONNECTED, paused=False)
    assert (kept.sources[0].state, kept.sources[0].last_error, kept.paused) == (KEPT, "", "")


def test_first_push_text() -> None:
    assert first_push_text(None) == "Waiting for the first push…"
    seen = {"last_seen": "2026-06-01T09:32:00+00:00", "readings_received": 48}
    assert first_push_text(seen).startswith("✓ received 48 readings at ")
    empty = {**seen, "readings_received": 0}
    assert "no readings in it" in first_push_text(empty)
