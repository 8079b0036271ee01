"""Build meterbridge's release: freeze, self-test the frozen program, make the installer.

    python build/make_release.py [--skip-installer]

1. Sets up the project's virtualenv from the committed lock (dev.py's ensure_env installs
   requirements-dev.lock, build extra included), if needed: the release freezes the locked set.
2. Freezes the app with PyInstaller (build/meterbridge.spec) into dist/meterbridge/
   (PyInstaller's work folder is .build-work/, outside the tracked build/ folder).
3. Runs the frozen `meterbridge-cli --self-test` (offscreen when there is no display);
   a failing self-test fails the release.
4. On Windows, compiles installer.iss with Inno Setup's ISCC, passing the version,
   into dist/installer/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
WORK = ROOT / ".build-work"
SPEC = ROOT / "build" / "meterbridge.spec"
ISS = ROOT / "installer.iss"


def read_version() -> str:
    """The version from app/_version.py (the package's single source)."""
    namespace: dict[str, str] = {}
    exec((ROOT / "app" / "_version.py").read_text(encoding="utf-8"), namespace)
    return namespace["__version__"]


def project_python() -> str:
    """The virtualenv interpreter, installed by dev.py from requirements-dev.lock if needed.

    The lock pins every package (PyInstaller included) with hashes, so the release freezes
    exactly the set the tests ran against.
    """
    sys.path.insert(0, str(ROOT))
    import dev

    return str(dev.ensure_env())


def freeze(python: str) -> Path:
    """Run PyInstaller; returns the bundle folder."""
    command = [
        python,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--workpath",
        str(WORK),
        "--distpath",
        str(DIST),
        str(SPEC),
    ]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return DIST / "meterbridge"


def self_test(bundle: Path) -> None:
    """Run the frozen self-test; raise if it fails."""
    name = "meterbridge-cli.exe" if os.name == "nt" else "meterbridge-cli"
    env = dict(os.environ)
    if os.name != "nt" and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["METERBRIDGE_HOME"] = str(WORK / "selftest-home")
    print(f"+ {bundle / name} --self-test", flush=True)
    result = subprocess.run([str(bundle / name), "--self-test"], env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"frozen self-test failed (exit {result.returncode})")


def find_iscc() -> str | None:
    """Inno Setup's command-line compiler, if installed."""
    found = shutil.which("ISCC") or shutil.which("iscc")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").exists():
            return str(Path(base) / "Inno Setup 6" / "ISCC.exe")
    return None


def make_installer(version: str) -> None:
    """Compile installer.iss with the version (Windows only)."""
    iscc = find_iscc()
    if iscc is None:
        raise SystemExit("Inno Setup 6 (ISCC.exe) not found: install it from jrsoftware.org")
    command = [
        iscc,
        f"/DAppVersion={version}",
        f"/DSourceDir={DIST / 'meterbridge'}",
        f"/O{DIST / 'installer'}",
        str(ISS),
    ]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def main() -> int:
    """Freeze, self-test, and on Windows build the installer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-installer", action="store_true", help="stop after the self-test")
    args = parser.parse_args()
    version = read_version()
    print(f"meterbridge {version}", flush=True)
    bundle = freeze(project_python())
    self_test(bundle)
    if os.name == "nt" and not args.skip_installer:
        make_installer(version)
    elif os.name != "nt":
        print(
            "Not on Windows: the Linux bundle in dist/meterbridge/ is for servers and "
            "for testing the frozen program; the installer is built on Windows."
        )
    print(f"release {version} ready in {DIST}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
