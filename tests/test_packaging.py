"""The PyInstaller spec and the Inno Setup script reference files that exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "build" / "meterbridge.spec"
ISS = REPO / "installer.iss"


def spec_paths() -> list[Path]:
    """Every `ROOT / "a" / "b"` path written in the spec."""
    text = SPEC.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r'ROOT((?:\s*/\s*"[^"]+")+)', text):
        parts = re.findall(r'"([^"]+)"', match.group(1))
        found.append(REPO.joinpath(*parts))
    return found


def test_spec_references_existing_files() -> None:
    paths = spec_paths()
    assert len(paths) >= 4, "the spec should name its entry, icon, resources and layouts"
    missing = [str(p.relative_to(REPO)) for p in paths if not p.exists()]
    assert missing == []


def test_spec_builds_onedir_with_windowed_app_and_console_cli() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert "COLLECT(" in text, "onedir needs COLLECT"
    assert 'program("meterbridge", console=False)' in text
    assert 'program("meterbridge-cli", console=True)' in text


def iss_settings() -> dict[str, str]:
    settings = {}
    for line in ISS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\w+)=(.*)$", line.strip())
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def test_iss_references_existing_files_and_is_per_user() -> None:
    settings = iss_settings()
    assert (REPO / settings["SetupIconFile"].replace("\\", "/")).exists()
    assert settings["PrivilegesRequired"] == "lowest"
    assert re.fullmatch(r"\{\{[0-9A-F-]{36}\}", settings["AppId"])
    assert settings["AppVersion"] == "{#AppVersion}", "the version comes from the release script"
    text = ISS.read_text(encoding="utf-8")
    assert 'Name: "startwithwindows"' in text
    assert "CurrentVersion\\Run" in text
    assert "CloseApplications=force" in text


def test_release_script_passes_version_and_bundle_to_iscc() -> None:
    text = (REPO / "build" / "make_release.py").read_text(encoding="utf-8")
    assert "/DAppVersion=" in text and "/DSourceDir=" in text
    assert re.search(r'"--workpath",\s*str\(WORK\)', text)
    assert re.search(r'"--distpath",\s*str\(DIST\)', text)
    assert 'WORK = ROOT / ".build-work"' in text, "PyInstaller's work folder stays outside build/"
