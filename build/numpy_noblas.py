"""numpy for the frozen app, built from its locked sdist without BLAS and LAPACK.

numpy's wheels link OpenBLAS (with gfortran and quadmath: 26 MiB of the Linux
bundle, numpy.libs/) for linear algebra, which meterbridge never does: its
arrays are sorted, compared, summed and converted. numpy supports a build
without any BLAS (meson options below; `numpy.linalg` and `dot`/`matmul` then
use numpy's own slower loops). The frozen self-test checks dot, matmul and sort.

The sdist is the one pinned, with its hashes, in requirements.lock (pip checks
them: `--require-hashes`); its build tools (meson-python, meson, ninja, Cython)
come from the lock's `build` extra in the project's virtualenv
(`--no-build-isolation`). The wheel is cached under the build's work folder,
keyed by numpy's version and the options, and installed into a folder of its
own that only the freeze puts first on the path (PYTHONPATH): the development
virtualenv keeps the locked wheel.

Without a C and a C++ compiler (Windows without the Visual Studio Build Tools'
C++ workload, a machine without gcc/g++), or when the build fails all the same,
the release freezes the locked wheel and says so, and why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Passed to numpy's meson build (meson.options in numpy's sdist).
SETUP_ARGS: tuple[str, ...] = (
    "-Dblas=none",  # no BLAS library, not even one found on the build machine
    "-Dlapack=none",  # nor LAPACK
    "-Dallow-noblas=true",  # numpy's own loops for dot, matmul and linalg instead
)


def lock_entries(lock_text: str, name: str) -> list[str]:
    """The entries (requirement line and its hash lines) for `name` in a pip lock file.

    A lock may pin several versions behind environment markers (one per Python
    range); pip installs the one whose marker matches and ignores the others.
    """
    entries: list[str] = []
    current: list[str] | None = None
    for line in lock_text.splitlines():
        if current is not None:
            if line.startswith((" ", "\t")) and line.strip().startswith("--hash="):
                current.append(line)
                continue
            entries.append("\n".join(current))
            current = None
        if line.split("==", 1)[0].strip().lower() == name.lower() and "==" in line:
            current = [line]
    if current is not None:
        entries.append("\n".join(current))
    return entries


def with_setup_args(entry: str, setup_args: tuple[str, ...]) -> str:
    """`entry` with pip's per-requirement config settings passing `setup_args` to meson."""
    first, _, rest = entry.partition("\n")
    continued = first.rstrip().endswith("\\")
    head = first.rstrip().removesuffix("\\").rstrip()
    options = " ".join(f"--config-settings=setup-args={arg}" for arg in setup_args)
    return f"{head} {options}" + (" \\" if continued else "") + (f"\n{rest}" if rest else "")


def cache_folder(root: Path, version: str, setup_args: tuple[str, ...]) -> Path:
    """Where the wheel of numpy `version` built with `setup_args` is kept."""
    key = hashlib.sha256("\n".join(setup_args).encode()).hexdigest()[:12]
    return root / f"numpy-{version}-{key}"


# The Visual Studio component that holds the C and C++ compiler (cl.exe) for x64; the
# Build Tools installer can be present without it ("Desktop development with C++").
VC_TOOLS = "Microsoft.VisualStudio.Component.VC.Tools.x86.x64"
WINDOWS_COMPILER = (
    'the Visual Studio Build Tools with the C++ workload ("Desktop development with C++": cl.exe)'
)


def missing_compilers() -> str | None:
    """What is missing to compile numpy here, or None."""
    if os.name == "nt":
        vswhere = Path(
            os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"),
            "Microsoft Visual Studio",
            "Installer",
            "vswhere.exe",
        )
        if shutil.which("cl") or (vswhere.exists() and has_vc_tools(str(vswhere))):
            return None
        return WINDOWS_COMPILER
    c = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if c and cxx:
        return None
    return "a C and a C++ compiler (cc and c++: gcc/g++ or clang)"


def has_vc_tools(vswhere: str) -> bool:
    """Whether an installed Visual Studio (or its Build Tools) has the C++ compiler."""
    command = [vswhere, "-latest", "-products", "*", "-requires", VC_TOOLS]
    command += ["-property", "installationPath"]
    try:
        found = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


def _run_python(python: str, code: str) -> str:
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def build_wheel(python: str, lock: Path, cache_root: Path) -> Path:
    """The numpy wheel built without BLAS (from the cache when already built)."""
    version = _run_python(python, "import importlib.metadata as m; print(m.version('numpy'))")
    tag = _run_python(python, "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
    folder = cache_folder(cache_root, version, SETUP_ARGS)
    found = sorted(folder.glob(f"numpy-{version}-{tag}-*.whl"))
    if found:
        print(f"numpy {version} without BLAS: cached wheel {found[0].name}", flush=True)
        return found[0]
    entries = lock_entries(lock.read_text(encoding="utf-8"), "numpy")
    if not entries:
        raise SystemExit(f"numpy is not pinned in {lock.name}")
    folder.mkdir(parents=True, exist_ok=True)
    requirements = folder / "numpy-requirement.txt"
    text = "\n".join(with_setup_args(entry, SETUP_ARGS) for entry in entries)
    requirements.write_text(text + "\n", encoding="utf-8")
    scripts = str(Path(python).parent)  # the virtualenv's cython and ninja programs
    env = dict(os.environ, PATH=scripts + os.pathsep + os.environ.get("PATH", ""))
    command = [python, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps"]
    command += ["--no-binary", "numpy", "--no-build-isolation", "--require-hashes"]
    command += ["-r", str(requirements), "-w", str(folder)]
    print(f"building numpy {version} without BLAS from its locked sdist ...", flush=True)
    started = time.monotonic()
    subprocess.run(command, check=True, env=env)
    print(f"numpy built in {time.monotonic() - started:.0f} s", flush=True)
    found = sorted(folder.glob(f"numpy-{version}-{tag}-*.whl"))
    if not found:
        raise SystemExit(f"pip built no numpy {version} wheel for {tag} in {folder}")
    return found[0]


def install_overlay(python: str, wheel: Path, site: Path) -> Path:
    """`wheel` installed into `site` (alone), unless it already is; returns `site`."""
    stamp = site / ".wheel"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == wheel.name:
        return site
    shutil.rmtree(site, ignore_errors=True)
    command = [python, "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    command += ["--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(command, check=True)
    stamp.write_text(wheel.name, encoding="utf-8")
    return site


def prepare(python: str, lock: Path, work: Path) -> Path | None:
    """The folder to put first on the freeze's path, or None to freeze the locked wheel."""
    missing = missing_compilers()
    if missing is not None:
        print(
            f"numpy cannot be built without BLAS here: {missing} is not installed. "
            "Freezing numpy's locked wheel with OpenBLAS instead: the bundle is about "
            "26 MiB bigger and will be over its size limit.",
            file=sys.stderr,
            flush=True,
        )
        return None
    try:
        wheel = build_wheel(python, lock, work / "numpy-wheels")
    except subprocess.CalledProcessError as exc:
        step = " ".join(str(part) for part in exc.cmd[1:4])
        print(
            f"numpy could not be built without BLAS here ({step} exited with {exc.returncode}; "
            "its messages are above). Freezing numpy's locked wheel with OpenBLAS instead: "
            "the bundle is about 26 MiB bigger and will be over its size limit.",
            file=sys.stderr,
            flush=True,
        )
        return None
    return install_overlay(python, wheel, work / "numpy-noblas")
