"""Where a device can reach the listener, and the Windows firewall rule asked on first enable."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from app.core.settings import Settings
from app.ui.context import AppContext
from app.ui.firewall import allow_port, elevated_command, netsh_arguments
from app.ui.window.main_window import MainWindow
from app.ui.wizards.push.network import push_urls, set_network_listening, usable
from app.ui.wizards.source_wizard import SOURCE, TEST


def test_lan_addresses_exclude_loopback_and_link_local_and_put_private_first() -> None:
    found = usable(["127.0.0.1", "169.254.3.4", "203.0.113.9", "192.168.1.20", "bad", "10.0.0.5"])
    assert found == ["10.0.0.5", "192.168.1.20", "203.0.113.9"]


def test_the_url_names_a_lan_address_only_when_listening_on_the_network() -> None:
    listener = Settings().listener
    addresses = lambda: ["127.0.0.2", "127.0.0.3"]  # noqa: E731 (stand-ins for LAN addresses)
    assert push_urls(listener, "gw", addresses) == [f"http://127.0.0.1:{listener.port}/push/gw"]
    set_network_listening(listener, True)
    assert (listener.host, listener.allow_lan) == ("0.0.0.0", True)
    assert push_urls(listener, "gw", addresses) == [
        f"http://127.0.0.2:{listener.port}/push/gw",
        f"http://127.0.0.3:{listener.port}/push/gw",
    ]
    listener.public_host = "meters.example.org"
    assert push_urls(listener, "gw", addresses)[0].startswith("http://meters.example.org:")
    set_network_listening(listener, False)
    assert listener.host == "127.0.0.1" and not listener.allow_lan


def test_with_no_network_address_the_url_is_this_pcs_and_the_page_says_why(
    qtbot: QtBot, context: AppContext
) -> None:
    listener = Settings().listener
    set_network_listening(listener, True)
    port = listener.port
    assert push_urls(listener, "gw", lambda: []) == [
        f"http://127.0.0.1:{port}/push/gw"
    ]  # not 0.0.0.0
    page = _push_page(qtbot, context)
    page.addresses = lambda: []  # a PC with no network connection
    page.network.setChecked(True)
    assert page.url.text() == f"http://127.0.0.1:{context.settings.listener.port}/push/plant-room"
    assert page.others.text().startswith("This PC has no network address a device can reach")
    page.addresses = lambda: ["127.0.0.2"]  # connected (127.0.0.2 stands for a LAN address)
    page.network.setChecked(False)
    page.network.setChecked(True)
    assert page.url.text().startswith("http://127.0.0.2:") and page.others.text() == ""


def test_the_firewall_rule_is_the_port_only_on_private_networks_asked_once(tmp_path: Path) -> None:
    assert netsh_arguments(8765)[-4:] == ["action=allow", "protocol=TCP", "localport=8765",
                                          "profile=private"]  # fmt: skip
    assert "-Verb RunAs" in elevated_command(8765)[-1]
    ran: list[list[str]] = []
    linux = allow_port(8765, tmp_path, platform="linux", run=ran.append)
    assert linux.startswith("meterbridge changes no firewall on this system") and "8765" in linux
    assert ran == []  # nothing to do outside Windows
    said = allow_port(8765, tmp_path, platform="win32", run=lambda c: ran.append(c) or 0)
    assert said == "Windows now lets devices on private networks reach port 8765."
    assert allow_port(8765, tmp_path, platform="win32", run=lambda c: ran.append(c) or 0) == ""
    assert len(ran) == 1  # asked once
    refused = allow_port(9000, tmp_path, platform="win32", run=lambda c: 1)
    assert refused.startswith("Windows did not add the firewall rule for port 9000")


def _push_page(qtbot: QtBot, context: AppContext) -> Any:
    window = MainWindow(context)
    qtbot.addWidget(window)
    wizard = window.actions_.open_wizard("episensor")
    qtbot.addWidget(wizard)
    wizard.page(SOURCE).name.setText("plant-room")
    wizard.next()
    assert wizard.currentId() == TEST
    return wizard.page(TEST)


def test_listen_on_the_network_runs_the_firewall_step_off_the_gui_thread(
    qtbot: QtBot, context: AppContext
) -> None:
    page = _push_page(qtbot, context)
    port = context.settings.listener.port
    page.network.setChecked(True)
    # Not done yet when the click returns: the step runs on a worker, progress shown meanwhile.
    assert page.firewall.text() == f"Letting devices reach port {port} through the firewall…"
    said = (
        "meterbridge changes no firewall on this system: if one is active, allow incoming "
        f"TCP port {port} from your devices' network."
    )
    qtbot.waitUntil(lambda: page.firewall.text() == said, timeout=10_000)
    page.network.setChecked(False)
    assert page.firewall.text() == ""


def test_a_slow_windows_prompt_leaves_the_wizard_responsive(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    """Windows' UAC prompt waits for the user: the wizard's event loop keeps turning meanwhile."""
    page = _push_page(qtbot, context)
    gui_thread, step_threads = threading.get_ident(), []
    answered = threading.Event()

    def windows_asks(port: int, marker_dir: Path) -> str:
        step_threads.append(threading.get_ident())
        answered.wait(10)  # the user has not answered Windows yet
        return allow_port(port, marker_dir, platform="win32", run=lambda _command: 0)

    page.allow_port = windows_asks
    turns = []
    ticker = QTimer()
    ticker.timeout.connect(lambda: turns.append(1))
    ticker.start(5)
    page.network.setChecked(True)
    qtbot.waitUntil(lambda: len(turns) >= 20, timeout=10_000)  # the GUI turns while Windows asks
    assert not answered.is_set() and "through the firewall…" in page.firewall.text()
    answered.set()
    port = context.settings.listener.port
    done = f"Windows now lets devices on private networks reach port {port}."
    qtbot.waitUntil(lambda: page.firewall.text() == done, timeout=10_000)
    ticker.stop()
    assert step_threads and step_threads[0] != gui_thread
