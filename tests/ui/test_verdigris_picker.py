"""Verdigris wizard: after the credentials test, pick circuits in a checkable tree, by keyboard."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.pulls.jobs import JobStore
from app.core.pulls.verdigris_pull import VerdigrisConfig
from app.ui.context import AppContext
from app.ui.wizards.source_wizard import SOURCE, TEST, SourceWizard
from tests.fakes.verdigris import FakeVerdigris
from tests.ui.test_accessibility import unnamed_controls
from tests.ui.test_wizards import _enter, _finish, _type, _wizard


@pytest.fixture
def verdigris() -> Iterator[FakeVerdigris]:
    """Head office (40 circuits, Los Angeles) and an annex (circuits 300, 301, London)."""
    with FakeVerdigris(annex_circuits=["300", "301"]) as fake:
        yield fake


def _to_test_page(qtbot: QtBot, context: AppContext, fake: FakeVerdigris, secret: str) -> Any:
    wizard = _wizard(qtbot, context, "verdigris")
    page = wizard.page(SOURCE)
    _type(qtbot, page.client_id, fake.client_id)
    _type(qtbot, page.secret, secret)
    assert _enter(qtbot, wizard) == TEST
    test = wizard.page(TEST)
    test.auth_url, test.api_url = fake.token_url, fake.url
    return wizard, test


def _press(qtbot: QtBot, button: Any, test: Any) -> None:
    """Press `button` with Space and wait for the listing to end."""
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert test.busy.isVisible()  # the busy indicator shows while Verdigris is asked
    qtbot.waitUntil(lambda: not test.asking, timeout=20_000)


def test_pick_circuits_by_keyboard_and_only_those_are_saved(
    qtbot: QtBot, context: AppContext, verdigris: FakeVerdigris
) -> None:
    wizard, test = _to_test_page(qtbot, context, verdigris, verdigris.client_secret)
    assert _enter(qtbot, wizard) == TEST  # nothing chosen yet: Next is refused
    assert "Test the credentials to list the circuits" in test.error.text()
    _press(qtbot, test.button, test)
    assert "2 building(s) with 42 circuit(s)" in test.result.text()
    assert len(verdigris.token_times) == 1  # one token for the test and the listing
    picker = test.picker
    assert picker.summary.text() == "0 of 42 circuits chosen"
    assert unnamed_controls(test) == []
    _type(qtbot, picker.filter, "circuit 105")
    qtbot.keyClick(picker.check_shown, Qt.Key.Key_Space)
    _type(qtbot, picker.filter, "annex")
    qtbot.keyClick(picker.check_shown, Qt.Key.Key_Space)
    assert picker.checked_circuits() == ["105", "300", "301"]
    picker.tree.setFocus()  # Space on the current row clears or checks it
    circuit = picker.tree.findItems("301", Qt.MatchFlag.MatchRecursive, 1)[0]
    picker.tree.setCurrentItem(circuit)
    qtbot.keyClick(picker.tree, Qt.Key.Key_Space)
    assert picker.checked_circuits() == ["105", "300"]
    assert picker.summary.text() == "2 of 42 circuits chosen"
    saved = _finish(qtbot, wizard)
    assert saved["settings"]["ids"] == ["105", "300"]
    assert verdigris.client_secret not in json.dumps(saved)
    config = VerdigrisConfig.from_dict(JobStore(context.jobs_file).get("Verdigris").config)
    assert config.circuits == ["105", "300"]


def test_one_building_gives_its_zone_and_typed_ids_start_checked(
    qtbot: QtBot, context: AppContext, verdigris: FakeVerdigris
) -> None:
    wizard = _wizard(qtbot, context, "verdigris")
    page = wizard.page(SOURCE)
    _type(qtbot, page.client_id, verdigris.client_id)
    _type(qtbot, page.secret, verdigris.client_secret)
    _type(qtbot, page.ids, "300, 301")
    assert _enter(qtbot, wizard) == TEST
    test = wizard.page(TEST)
    test.auth_url, test.api_url = verdigris.token_url, verdigris.url
    _press(qtbot, test.button, test)
    assert test.picker.checked_circuits() == ["300", "301"]
    assert test.values() == {"ids": ["300", "301"], "timezone": "Europe/London"}


def test_wrong_secret_is_said_plainly_and_retry_works_after_a_fix(
    qtbot: QtBot, context: AppContext, verdigris: FakeVerdigris
) -> None:
    wizard, test = _to_test_page(qtbot, context, verdigris, "not-the-secret")
    _press(qtbot, test.button, test)
    assert "refused the client id or client secret" in test.result.text()
    assert "not-the-secret" not in test.result.text()
    assert test.retry.isVisible() and not test.picker.isEnabled()
    back = wizard.button(SourceWizard.WizardButton.BackButton)
    back.setFocus()
    qtbot.keyClick(back, Qt.Key.Key_Space)
    assert wizard.currentId() == SOURCE
    _type(qtbot, wizard.page(SOURCE).secret, verdigris.client_secret)
    assert _enter(qtbot, wizard) == TEST
    _press(qtbot, test.retry, test)
    assert test.picker.isEnabled() and not test.retry.isVisible()
    assert "The credentials work" in test.result.text()


def test_unreachable_verdigris_is_said_plainly(
    qtbot: QtBot, context: AppContext, verdigris: FakeVerdigris
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    wizard, test = _to_test_page(qtbot, context, verdigris, verdigris.client_secret)
    test.auth_url = f"http://127.0.0.1:{closed}/oauth/token"
    _press(qtbot, test.button, test)
    assert test.result.text() == (
        f"Not listed: Verdigris cannot be reached at http://127.0.0.1:{closed}/oauth/token: "
        "check the internet connection (or the proxy) and try again."
    )
    assert test.retry.isVisible()
    assert _enter(qtbot, wizard) == TEST


def test_a_blank_secret_uses_the_one_saved_for_the_client(
    qtbot: QtBot, context: AppContext, verdigris: FakeVerdigris
) -> None:
    """Editing a saved source leaves the secret blank: the keyring's is used for the test."""
    from app.core.pulls.verdigris_auth import secret_name

    context.secrets.set(secret_name(verdigris.client_id), verdigris.client_secret)
    wizard = _wizard(qtbot, context, "verdigris")
    page = wizard.page(SOURCE)
    page.secret.setPlaceholderText("saved")
    _type(qtbot, page.client_id, verdigris.client_id)
    test = wizard.page(TEST)
    test.auth_url, test.api_url = verdigris.token_url, verdigris.url
    wizard.setStartId(TEST)  # reach the test page as an edit would, past the secret check
    wizard.restart()
    _press(qtbot, test.button, test)
    assert "The credentials work" in test.result.text()
