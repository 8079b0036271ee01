"""Set up meterbridge's virtualenv and then run the app or the test suite.

Usage (from the repository root, with any Python 3.11+):
    python3 dev.py run      # Linux/macOS   |  py dev.py run    # Windows PowerShell
    python3 dev.py test     # Linux/macOS   |  py dev.py test   # Windows PowerShell

Idempotent: the virtualenv (.venv) is created once, and the project is
(re)installed only when pyproject.toml changed since the last install, so a
second run starts straight away. Extra arguments go to the app or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".meterbridge-installed"


def venv_python() -> Path:
    """Return the interpreter inside the project's virtualenv."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def wanted_stamp(extras: str) -> str:
    """Hash of what the install depends on: pyproject and the extras asked for."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(extras.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_env(extras: str) -> Path:
    """Create the virtualenv and install the project with `extras` if needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may run on an old Python
        sys.exit("meterbridge needs Python 3.11 or newer; this is " + sys.version.split()[0])
    python = venv_python()
    if not python.exists():
        print("Creating virtualenv in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = wanted_stamp(extras)
    if STAMP.exists() and STAMP.read_text() == stamp:
        return python
    print(f"Installing meterbridge[{extras}] into .venv ...", flush=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-q", "-e", f".[{extras}]"], check=True, cwd=ROOT)
    STAMP.write_text(stamp)
    return python


def main(argv: list[str]) -> int:
    """Dispatch `run` or `test`."""
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    python = ensure_env("test,build")
    if command == "run":
        return subprocess.call([str(python), "-m", "app", *rest], cwd=ROOT)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
