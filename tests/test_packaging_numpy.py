"""The release's numpy without BLAS: the locked sdist with meson options, cached, or the
locked wheel (and a plain message) where no compiler is installed (build/numpy_noblas.py)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tests.build_modules import build_module

REPO = Path(__file__).resolve().parents[1]


def test_the_locked_numpy_entries_come_with_their_hashes() -> None:
    import numpy

    noblas = build_module("numpy_noblas")
    entries = noblas.lock_entries((REPO / "requirements.lock").read_text("utf-8"), "numpy")
    pins = [entry.splitlines()[0].split(";")[0].strip() for entry in entries]
    assert f"numpy=={numpy.__version__}" in pins  # the one this Python installs
    for entry in entries:
        lines = entry.splitlines()
        assert lines[0].startswith("numpy==") and lines[0].rstrip().endswith("\\")
        assert len(lines) > 1 and all(
            line.strip().startswith("--hash=sha256:") for line in lines[1:]
        )
        assert not lines[-1].rstrip().endswith("\\")  # the entry ends with its last hash


def test_only_the_named_package_is_taken_from_the_lock() -> None:
    lock = (
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n    # via pandas\nnumpydoc==1.0 \\\n    --hash=sha256:cc\n"
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n    --hash=sha256:dd\n"
    )
    entries = build_module("numpy_noblas").lock_entries(lock, "numpy")
    assert entries == [
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb",
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n    --hash=sha256:dd",
    ]


def test_the_meson_options_go_on_the_requirement_line_before_its_hashes() -> None:
    noblas = build_module("numpy_noblas")
    entry = "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:aa"
    out = noblas.with_setup_args(entry, ("-Dblas=none", "-Dlapack=none"))
    assert out.splitlines() == [
        "numpy==2.4.6 ; python_full_version < '3.12' "
        "--config-settings=setup-args=-Dblas=none --config-settings=setup-args=-Dlapack=none \\",
        "    --hash=sha256:aa",
    ]
    assert {"-Dblas=none", "-Dlapack=none", "-Dallow-noblas=true"} <= set(noblas.SETUP_ARGS)


def test_the_cache_is_keyed_by_version_and_options(tmp_path: Path) -> None:
    noblas = build_module("numpy_noblas")
    one = noblas.cache_folder(tmp_path, "2.4.6", ("-Dblas=none",))
    assert one == noblas.cache_folder(tmp_path, "2.4.6", ("-Dblas=none",))
    assert one != noblas.cache_folder(tmp_path, "2.4.7", ("-Dblas=none",))
    assert one != noblas.cache_folder(tmp_path, "2.4.6", ("-Dblas=none", "-Dcpu-dispatch=none"))
    assert one.parent == tmp_path and one.name.startswith("numpy-2.4.6-")


def _programs(folder: Path, names: list[str]) -> str:
    folder.mkdir()
    for name in names:
        program = folder / name
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return str(folder)


@pytest.mark.skipif(os.name == "nt", reason="looks for cc and c++ (Windows: cl.exe)")
def test_without_a_compiler_the_release_says_so_and_freezes_the_locked_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    noblas = build_module("numpy_noblas")
    monkeypatch.setenv("PATH", _programs(tmp_path / "only-cc", ["cc"]))
    assert noblas.missing_compilers() == "a C and a C++ compiler (cc and c++: gcc/g++ or clang)"
    assert noblas.prepare(sys.executable, REPO / "requirements.lock", tmp_path) is None
    said = capsys.readouterr().err
    assert "cannot be built without BLAS here" in said and "over its size limit" in said
    assert not (tmp_path / "numpy-wheels").exists()
    monkeypatch.setenv("PATH", _programs(tmp_path / "both", ["cc", "c++"]))
    assert noblas.missing_compilers() is None


def _script(folder: Path, name: str, body: str) -> str:
    folder.mkdir(exist_ok=True)
    program = folder / name
    program.write_text("#!/bin/sh\n" + body)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return str(program)


@pytest.mark.skipif(os.name == "nt", reason="the stand-in programs are shell scripts")
def test_a_failed_build_says_why_and_freezes_the_locked_wheel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A Python whose pip cannot build (as on Windows with the Build Tools but no C++ workload).
    python = _script(
        tmp_path / "bin",
        "python",
        'case "$1" in\n'
        '  -c) case "$2" in *version*numpy*) echo 9.9.9;; *) echo cp311;; esac;;\n'
        '  *) echo "error: Microsoft Visual C++ 14.0 or greater is required." >&2; exit 1;;\n'
        "esac\n",
    )
    noblas = build_module("numpy_noblas")
    if noblas.missing_compilers() is not None:
        pytest.skip("no C/C++ compiler here: prepare() stops before building")
    assert noblas.prepare(python, REPO / "requirements.lock", tmp_path) is None
    said = capsys.readouterr().err
    assert "numpy could not be built without BLAS here" in said
    assert "exited with 1" in said and "over its size limit" in said
    assert not (tmp_path / "numpy-noblas").exists()  # nothing half-built is frozen


@pytest.mark.skipif(os.name == "nt", reason="the stand-in programs are shell scripts")
def test_the_build_tools_count_only_with_their_cpp_compiler(tmp_path: Path) -> None:
    noblas = build_module("numpy_noblas")
    with_cpp = _script(
        tmp_path / "a",
        "vswhere",
        f'case "$*" in *"-requires {noblas.VC_TOOLS}"*) echo "C:\\\\BuildTools";; esac\n',
    )
    assert noblas.has_vc_tools(with_cpp)
    without_cpp = _script(tmp_path / "b", "vswhere", "exit 0\n")  # installer, no workload
    assert not noblas.has_vc_tools(without_cpp)
    assert not noblas.has_vc_tools(str(tmp_path / "missing" / "vswhere"))
    assert "C++ workload" in noblas.WINDOWS_COMPILER
