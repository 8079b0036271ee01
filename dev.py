"""Set up meterbridge's virtualenv from the committed lock, then run the app or the tests.

Usage (from the repository root, with any Python 3.11+):
    python3 dev.py run      # Linux/macOS   |  py dev.py run    # Windows PowerShell
    python3 dev.py test     # Linux/macOS   |  py dev.py test   # Windows PowerShell
    python3 dev.py lock     # refresh requirements*.lock from pyproject.toml, then test

Idempotent: the virtualenv (.venv) is created once and filled from
requirements-dev.lock (every package, transitive ones included, at an exact
version with its hashes), then the project itself is installed with --no-deps.
It is refilled only when the lock, pyproject.toml or the Python version
changed, so a second run starts straight away. Extra arguments go to the app
or to pytest.

`lock` is the one deliberate way to take newer dependencies: it resolves
pyproject.toml's ranges afresh for every platform (Windows, macOS, Linux;
Python 3.11 and later) into requirements.lock (runtime) and
requirements-dev.lock (runtime, test, build), reinstalls, and runs the tests.
Commit the two lock files only when the tests pass.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".meterbridge-installed"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
DEV_EXTRAS = ("test", "build", "lock")


def venv_python() -> Path:
    """Return the interpreter inside the project's virtualenv."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def venv_version() -> str:
    """The Python version .venv was made with (its pyvenv.cfg), whichever Python runs dev.py."""
    config = VENV / "pyvenv.cfg"
    for line in config.read_text(encoding="utf-8").splitlines() if config.exists() else []:
        key, _, value = line.partition("=")
        if key.strip() in {"version", "version_info"}:
            return value.strip()
    return sys.version.split()[0]


def wanted_stamp() -> str:
    """Hash of what the install depends on: the lock, pyproject and .venv's Python version."""
    digest = hashlib.sha256(DEV_LOCK.read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    digest.update(venv_version().encode())
    return digest.hexdigest()


def create_venv() -> None:
    """Create .venv with pip, or stop with what to install when this Python cannot."""
    if importlib.util.find_spec("ensurepip") is None:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        sys.exit(
            "This Python cannot create a virtualenv with pip: its 'ensurepip' module is "
            "missing.\nOn Debian or Ubuntu install it with:  sudo apt-get install python3-venv"
            f"  (or python{version}-venv)\nthen run this command again."
        )
    print("Creating virtualenv in .venv ...", flush=True)
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (OSError, subprocess.CalledProcessError) as error:
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit(f"Could not create the virtualenv in {VENV}: {error}")


def has_pip(python: Path) -> bool:
    """Whether the virtualenv's interpreter can run pip (a failed creation leaves it without)."""
    probe = [str(python), "-m", "pip", "--version"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def ensure_env() -> Path:
    """Create the virtualenv and install the locked set plus the project, if needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may run on an old Python
        sys.exit("meterbridge needs Python 3.11 or newer; this is " + sys.version.split()[0])
    python = venv_python()
    stamp = wanted_stamp()
    if python.exists() and STAMP.exists() and STAMP.read_text() == stamp:
        return python
    if python.exists() and not has_pip(python):
        shutil.rmtree(VENV)  # left half-made by an earlier attempt: start again
    if not python.exists():
        create_venv()
    print(f"Installing the locked dependencies ({DEV_LOCK.name}) into .venv ...", flush=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    # --require-hashes: every package must be in the lock with a matching hash; nothing
    # unpinned can slip in. The project itself then goes in without touching that set.
    subprocess.run([*pip, "--require-hashes", "-r", str(DEV_LOCK)], check=True, cwd=ROOT)
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", "."], check=True, cwd=ROOT)
    STAMP.write_text(stamp)
    return python


def compile_lock(python: Path, target: Path, extras: tuple[str, ...]) -> None:
    """Resolve pyproject.toml (with `extras`) for every platform into `target`, with hashes."""
    command = [str(python), "-m", "uv", "pip", "compile", "pyproject.toml", "--quiet"]
    command += ["--universal", "--python-version", "3.11", "--generate-hashes", "--upgrade"]
    command += [arg for extra in extras for arg in ("--extra", extra)]
    command += ["--custom-compile-command", "python3 dev.py lock", "-o", str(target)]
    print(f"Resolving {target.name} ...", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def refresh_lock(rest: list[str]) -> int:
    """Re-resolve both locks, reinstall from them, and run the test suite."""
    python = ensure_env()
    compile_lock(python, RUNTIME_LOCK, ())
    compile_lock(python, DEV_LOCK, DEV_EXTRAS)
    shutil.rmtree(VENV)  # a clean install from the new lock, as a fresh clone gets it
    python = ensure_env()
    print("Locks refreshed; running the tests against them ...", flush=True)
    return run_tests(python, rest)


def run_tests(python: Path, rest: list[str]) -> int:
    """Run pytest (Qt offscreen unless the caller chose a platform)."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    """Dispatch `run`, `test` or `lock`."""
    if not argv or argv[0] not in {"run", "test", "lock"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        return refresh_lock(rest)
    python = ensure_env()
    if command == "run":
        return subprocess.call([str(python), "-m", "app", *rest], cwd=ROOT)
    return run_tests(python, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
