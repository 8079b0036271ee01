"""`list_channels`: the wizard's listing of Verdigris buildings and circuits, with one token."""

from __future__ import annotations

import socket

import pytest

from app.core.pulls.verdigris_pull import list_channels
from connectors.verdigris.api import VerdigrisError
from tests.fakes.verdigris import FakeVerdigris


def test_buildings_with_their_circuits_and_zones_for_one_token() -> None:
    with FakeVerdigris(annex_circuits=["300"]) as fake:
        found = list_channels(fake.client_id, fake.client_secret, auth_url=fake.token_url,
                              api_url=fake.url)  # fmt: skip
        assert len(fake.token_times) == 1
    assert [(b.name, b.timezone) for b in found] == [
        ("Head office", "America/Los_Angeles"), ("Annex", "Europe/London")
    ]  # fmt: skip
    circuits = [n.id for _d, n in found[0].walk() if n.kind == "circuit"]
    assert sorted(circuits, key=int) == [str(i) for i in range(100, 140)]
    assert [n.id for _d, n in found[1].walk() if n.kind == "circuit"] == ["300"]


def test_wrong_secret_is_named_without_the_secret() -> None:
    with FakeVerdigris() as fake, pytest.raises(VerdigrisError) as info:
        list_channels(fake.client_id, "guess-123", auth_url=fake.token_url, api_url=fake.url)
    assert "refused the client id or client secret" in str(info.value)
    assert "guess-123" not in str(info.value)


def test_unreachable_api_is_said_plainly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with FakeVerdigris() as fake, pytest.raises(VerdigrisError) as info:
        list_channels(fake.client_id, fake.client_secret, auth_url=fake.token_url, api_url=closed)
    assert str(info.value) == (
        f"Verdigris cannot be reached at {closed}: check the internet connection (or the proxy) "
        "and try again."
    )


def test_missing_credentials_are_asked_for() -> None:
    with pytest.raises(VerdigrisError, match="Enter the client id and client secret"):
        list_channels(" ", "")
