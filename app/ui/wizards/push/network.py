"""Where devices can reach the listener: this PC's network addresses and the push URL.

A gateway on the LAN cannot use ``127.0.0.1`` (that is the gateway itself), so
the wizard offers "Listen on the network" and fills a LAN address of this PC
into the URL. `firewall` adds the Windows rule for the port on first enable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

ANY_ADDRESS = "0.0.0.0"
LOOPBACK = "127.0.0.1"


def lan_addresses() -> list[str]:
    """This PC's IPv4 addresses that other machines can use (no loopback, no link-local)."""
    from PySide6.QtNetwork import QAbstractSocket, QNetworkInterface

    found: list[str] = []
    for interface in QNetworkInterface.allInterfaces():
        flags = interface.flags()
        if not (flags & QNetworkInterface.InterfaceFlag.IsUp) or (
            flags & QNetworkInterface.InterfaceFlag.IsLoopBack
        ):
            continue
        for entry in interface.addressEntries():
            ip = entry.ip()
            if ip.protocol() == QAbstractSocket.NetworkLayerProtocol.IPv4Protocol:
                found.append(ip.toString())
    return usable(found)


def usable(addresses: Iterable[str]) -> list[str]:
    """The addresses a device on the LAN can reach, private ones first, each once."""
    kept = []
    for text in dict.fromkeys(addresses):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local or address.is_unspecified:
            continue
        kept.append(address)
    return [str(a) for a in sorted(kept, key=lambda a: (not a.is_private, str(a)))]


def listens_on_network(listener: Any) -> bool:
    """Whether the listener settings let other machines connect."""
    return bool(listener.allow_lan) and listener.host not in ("127.0.0.1", "localhost", "::1")


def push_urls(
    listener: Any, name: str, addresses: Callable[[], list[str]] = lan_addresses
) -> list[str]:
    """Every URL a device can push to, the best first.

    On the network: the host name set in Settings, then each LAN address; else
    the loopback address (only this PC can push).
    """
    scheme = "https" if listener.tls_cert else "http"
    hosts: list[str] = []
    if listens_on_network(listener):
        hosts = [listener.public_host] if listener.public_host else []
        hosts += addresses() if listener.host == ANY_ADDRESS else [listener.host]
    if not hosts:  # (listening everywhere with no network address found: this PC only)
        hosts = [
            listener.public_host or (LOOPBACK if listener.host == ANY_ADDRESS else listener.host)
        ]
    return [f"{scheme}://{host}:{listener.port}/push/{name}" for host in dict.fromkeys(hosts)]


def set_network_listening(listener: Any, on: bool) -> None:
    """Turn listening on the network on (every interface) or off (this PC only)."""
    listener.allow_lan = on
    listener.host = ANY_ADDRESS if on else LOOPBACK
