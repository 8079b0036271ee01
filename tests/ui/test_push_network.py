"""Where a device can reach the listener, and the Windows firewall rule asked on first enable."""

from __future__ import annotations

from pathlib import Path

from app.core.settings import Settings
from app.ui.firewall import allow_port, elevated_command, netsh_arguments
from app.ui.wizards.push.network import push_urls, set_network_listening, usable


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


def test_the_firewall_rule_is_the_port_only_on_private_networks_asked_once(tmp_path: Path) -> None:
    assert netsh_arguments(8765)[-4:] == ["action=allow", "protocol=TCP", "localport=8765",
                                          "profile=private"]  # fmt: skip
    assert "-Verb RunAs" in elevated_command(8765)[-1]
    ran: list[list[str]] = []
    assert allow_port(8765, tmp_path, platform="linux", run=ran.append) == ""
    assert ran == []  # nothing to do outside Windows
    said = allow_port(8765, tmp_path, platform="win32", run=lambda c: ran.append(c) or 0)
    assert said == "Windows now lets devices on private networks reach port 8765."
    assert allow_port(8765, tmp_path, platform="win32", run=lambda c: ran.append(c) or 0) == ""
    assert len(ran) == 1  # asked once
    refused = allow_port(9000, tmp_path, platform="win32", run=lambda c: 1)
    assert refused.startswith("Windows did not add the firewall rule for port 9000")
