"""Build meterbridge's release: freeze, self-test the frozen program, make the installer.

    python3 build/make_release.py [--skip-installer] [--skip-measure] [--update-manifest]

1. Sets up the project's virtualenv from the committed lock (dev.py's ensure_env installs
   requirements-dev.lock, build extra included), if needed: the release freezes the locked set.
   numpy is built from its locked sdist without BLAS (build/numpy_noblas.py: 26 MiB less;
   the wheel is cached in .build-work/numpy-wheels/) and put first on the freeze's path
   only; without a C/C++ compiler the locked wheel is frozen and the script says so.
2. Freezes the app with PyInstaller (build/meterbridge.spec) into dist/meterbridge/
   (PyInstaller's work folder is .build-work/, outside the tracked build/ folder).
   On Linux and macOS `meterbridge-cli` is then a hard link to `meterbridge` (one file).
   What is left out of the bundle, and why, is data in build/bundle_trim.py.
3. Runs the frozen `meterbridge-cli --self-test` (offscreen when there is no display);
   a failing self-test fails the release. It prints the versions it was frozen with.
4. Measures and prints (build/measure.py): the bundle's size, every file counted once;
   its size packed as the installer packs it (tar + LZMA2 preset 9, like `xz -9`); the
   time from start to the main window shown (offscreen, median of 5); resident memory
   and CPU time after 60 s idle with the listener and schedule running (Linux).
5. Guard: fails when the bundle is over the limit in build/bundle-manifest.json, naming
   the parts that grew most against the sizes recorded there (--update-manifest
   records the new sizes after a deliberate change).
6. On Windows, compiles installer.iss with Inno Setup's ISCC, passing the version,
   into dist/installer/. On Linux with Wine installed, build/check_installer.sh
   compiles it and installs, upgrades and uninstalls it in a throw-away Wine prefix.
"""

from __future__ import annotations

import argparse
import filecmp
import json
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
MANIFEST = ROOT / "build" / "bundle-manifest.json"
MIB = 2**20


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


def freeze(python: str, first_on_path: Path | None = None) -> Path:
    """Run PyInstaller, `first_on_path` before the virtualenv's packages; returns the bundle."""
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
    env = dict(os.environ)
    if first_on_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(first_on_path), *filter(None, [env.get("PYTHONPATH")])]
        )
        print(f"+ PYTHONPATH={env['PYTHONPATH']}", flush=True)
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, env=env)
    bundle = DIST / "meterbridge"
    share_program(bundle)
    return bundle


def share_program(bundle: Path) -> None:
    """Linux and macOS: `meterbridge-cli` becomes a hard link to `meterbridge` (one file).

    The two programs are the same bootloader with the same code archive; only Windows
    tells a console program from a windowed one, so there both stay real .exe files.
    On disk and in the tar the archive (about 14 MiB) is then stored once.
    """
    gui, cli = bundle / "meterbridge", bundle / "meterbridge-cli"
    if os.name == "nt" or not (gui.is_file() and cli.is_file()):
        return
    if gui.samefile(cli) or not filecmp.cmp(gui, cli, shallow=False):
        return  # already one file, or they differ (then both stay)
    cli.unlink()
    os.link(gui, cli)
    print(f"{cli.name} is a hard link to {gui.name} (the same program)", flush=True)


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


def growth(parts: dict[str, int], recorded: dict[str, int]) -> list[tuple[str, int]]:
    """The parts that are new or bigger than recorded, biggest growth first."""
    grown = [(name, size - recorded.get(name, 0)) for name, size in parts.items()]
    return sorted((item for item in grown if item[1] > 0), key=lambda item: -item[1])


def guard_size(total: int, parts: dict[str, int], update: bool) -> None:
    """Fail when the bundle is over this platform's limit, naming the largest newcomers."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    entry = manifest["platforms"].setdefault(
        sys.platform, {"limit_mib": manifest["default_limit_mib"], "parts": {}}
    )
    if update:
        entry["parts"] = parts
        MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        print(f"recorded the part sizes in {MANIFEST.relative_to(ROOT)}")
    newcomers = growth(parts, entry["parts"])[:5]
    named = ", ".join(f"{name} +{size / MIB:.1f} MiB" for name, size in newcomers) or "none"
    limit = entry["limit_mib"]
    print(f"limit {limit} MiB; grown since the manifest: {named}")
    if total > limit * MIB:
        raise SystemExit(
            f"bundle is {total / MIB:.1f} MiB, over the limit of {limit} MiB. "
            f"Largest newcomers: {named}. Leave them out in build/bundle_trim.py, "
            "or raise the limit in build/bundle-manifest.json and say why."
        )


def measure_bundle(bundle: Path, update_manifest: bool, quick: bool) -> None:
    """Print the release's figures (build/measure.py); fail when the bundle is too big."""
    sys.path.insert(0, str(ROOT / "build"))
    import measure

    sizes = measure.bundle_sizes(bundle)
    print(f"bundle: {sizes.total / MIB:.1f} MiB in {sizes.files} files (each counted once)")
    for name, size in list(sizes.parts.items())[:8]:
        print(f"  {size / MIB:7.1f} MiB  {name}")
    guard_size(sizes.total, sizes.parts, update_manifest)
    if quick:
        return
    print("packing as the installer would (tar + LZMA2 preset 9) ...", flush=True)
    print(f"packed: {measure.packed_size(bundle) / MIB:.1f} MiB", flush=True)
    starts = measure.window_times(bundle)
    shown = ", ".join(f"{s.seconds:.2f}" for s in starts)
    cpu = measure.median([s.cpu for s in starts])
    load = f"; load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(
        f"main window shown after {measure.median([s.seconds for s in starts]):.2f} s "
        f"(median of {shown}; CPU {cpu:.2f} s per start{load})"
    )
    idle = measure.idle_cost(bundle)
    if idle is not None:
        print(
            f"idle 60 s, listener {'listening' if idle.listening else 'NOT listening'}: "
            f"RSS {idle.rss_main / MIB:.0f} MiB (app), {idle.rss_all / MIB:.0f} MiB with its "
            f"{idle.processes - 1} child processes; CPU {idle.cpu_seconds:.2f} s in the minute",
            flush=True,
        )


def check_installer_under_wine(version: str) -> None:
    """Linux with Wine: compile installer.iss, install, upgrade, uninstall (a fresh prefix)."""
    if not shutil.which("wine"):
        print("Wine is not installed: the installer check (build/check_installer.sh) is skipped")
        return
    command = ["bash", str(ROOT / "build" / "check_installer.sh"), version]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def main() -> int:
    """Freeze, self-test, measure, and build (Windows) or check (Wine) the installer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-installer", action="store_true", help="no installer or its check")
    parser.add_argument("--skip-measure", action="store_true", help="size and guard only")
    parser.add_argument(
        "--update-manifest", action="store_true", help="record the part sizes as the new base"
    )
    args = parser.parse_args()
    version = read_version()
    print(f"meterbridge {version}", flush=True)
    python = project_python()
    sys.path.insert(0, str(ROOT / "build"))
    import numpy_noblas

    bundle = freeze(python, numpy_noblas.prepare(python, ROOT / "requirements.lock", WORK))
    self_test(bundle)
    measure_bundle(bundle, args.update_manifest, args.skip_measure)
    if os.name == "nt" and not args.skip_installer:
        make_installer(version)
    elif not args.skip_installer:
        print(
            "Not on Windows: the Linux bundle in dist/meterbridge/ is for servers and "
            "for testing the frozen program; the installer is built on Windows."
        )
        if sys.platform.startswith("linux"):
            check_installer_under_wine(version)
    print(f"release {version} ready in {DIST}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
