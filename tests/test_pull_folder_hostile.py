"""`meterbridge pull folder` against a hostile folder: links out, escape codes, non-finite cells."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.fixtures import energycap  # noqa: F401
from tests.test_pull_folder_cli import ecap, env, hours, inbox, pull, put  # noqa: F401

SECRET_LINE = "root:x:0:0:the secret first line"


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_links_out_of_the_folder_are_not_followed_nor_quoted(
    inbox: Path,  # noqa: F811
    ecap: FakeEnergyCap,  # noqa: F811
    env: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "passwd.csv").write_text(SECRET_LINE + "\n")
    (outside / "meters.csv").write_text(hours("M2", [9.0]))
    (inbox / "link.csv").symlink_to(outside / "passwd.csv")
    (inbox / "data.csv").symlink_to(outside / "meters.csv")
    put(inbox / "ok.csv", hours("M1", [1.5]))
    (inbox / "sub").mkdir()
    put(inbox / "sub" / "in.csv", hours("M1", [2.5], day=2))
    (inbox / "near.csv").symlink_to(inbox / "sub" / "in.csv")  # inside: may be read
    code = main(pull(inbox, ecap))
    out = capsys.readouterr()
    assert code == 0, out
    assert "root:x" not in out.out + out.err
    assert f"{inbox / 'link.csv'}: a link to a file outside the watched folder" in out.out
    assert sorted(ecap.readings_for(11)["value"]) == [1.5, 2.5]
    assert ecap.readings_for(12).empty  # the linked meters.csv was never read


def test_control_characters_in_file_names_are_escaped(
    inbox: Path,  # noqa: F811
    ecap: FakeEnergyCap,  # noqa: F811
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    if sys.platform == "win32":
        pytest.skip("Windows file names cannot hold control characters")
    name = "evil\x1b]0;owned\x07\x1b[2J.csv"
    put(inbox / name, "<!DOCTYPE html><html>\x1b[31mnot data</html>\n")
    put(inbox / "bad\x1b[31mvalues.csv", hours("M1", [float("inf"), 2.5]).replace("inf", "1e400"))
    code = main(pull(inbox, ecap))
    out = capsys.readouterr()
    assert code == 1, out
    shown = out.out + out.err
    assert "\x1b" not in shown and "\x07" not in shown
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.csv" in shown
    assert "bad\\x1b[31mvalues.csv:2, column value, value '1e400'" in shown
    assert ecap.readings_for(11)["value"].tolist() == [2.5]
