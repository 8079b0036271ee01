"""The PyInstaller spec and the Inno Setup script reference files that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_modules import build_module

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
    assert "PrivilegesRequiredOverridesAllowed" not in settings, "per-user only"
    text = ISS.read_text(encoding="utf-8")
    assert 'Name: "startwithwindows"' in text
    assert "CurrentVersion\\Run" in text


def iss_define(name: str) -> str:
    match = re.search(rf'^#define {name} "([^"]*)"', ISS.read_text(encoding="utf-8"), re.M)
    assert match, name
    return match.group(1)


def test_start_with_windows_arguments_are_the_apps_own() -> None:
    from app.cli import build_parser

    text = ISS.read_text(encoding="utf-8")
    assert '""{app}\\{#AppExe}"" {#TrayArgs}"' in text, "the Run value passes TrayArgs"
    words = iss_define("TrayArgs").split()
    args = build_parser(words).parse_args(words)
    assert args.command == "gui" and args.minimized


def test_upgrade_closes_the_app_and_removes_the_old_bundle() -> None:
    settings = iss_settings()
    assert settings["CloseApplications"] == "force"
    assert "AppMutex" not in settings, "AppMutex stops Setup before the app can be closed"
    text = ISS.read_text(encoding="utf-8")
    assert 'Type: filesandordirs; Name: "{app}\\_internal"' in text
    from app.core.winmutex import MUTEX_NAME

    assert iss_define("AppMutexName") == MUTEX_NAME, "the uninstaller checks the app's mutex"


def test_silent_uninstall_never_asks() -> None:
    code = ISS.read_text(encoding="utf-8").split("[Code]", 1)[1]
    asking = code[code.index("procedure CurUninstallStepChanged") :]
    assert "not UninstallSilent" in asking.split("MsgBox", 1)[0]
    assert "/REMOVEUSERDATA" in code


def test_release_script_passes_version_and_bundle_to_iscc() -> None:
    text = (REPO / "build" / "make_release.py").read_text(encoding="utf-8")
    assert "/DAppVersion=" in text and "/DSourceDir=" in text
    assert re.search(r'"--workpath",\s*str\(WORK\)', text)
    assert re.search(r'"--distpath",\s*str\(DIST\)', text)
    assert 'WORK = ROOT / ".build-work"' in text, "PyInstaller's work folder stays outside build/"


def test_every_cut_from_the_bundle_says_why_it_is_safe() -> None:
    trim = build_module("bundle_trim")
    for table in (trim.DROPPED_MODULES, trim.DROPPED_FILES, trim.KEPT_FILES, trim.HOST_LIBRARIES):
        for name, reason in table:
            assert name and len(reason.split()) >= 2, (name, reason)
    assert "pyarrow.flight" in trim.excluded_modules()
    assert "pyarrow.compute" not in trim.excluded_modules()


@pytest.mark.parametrize(
    "path",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/libqminimal.so",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6\\plugins\\imageformats\\qsvg.dll",
        "PySide6/Qt/plugins/imageformats/libqico.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6\\plugins\\styles\\qmodernwindowsstyle.dll",
        "pyarrow/libarrow.so.2600",
        "pyarrow/libarrow_compute.so.2600",
        "pyarrow/libarrow_python.so.2600",
        "pyarrow/_csv.cpython-311-x86_64-linux-gnu.so",
        "pyarrow\\arrow.dll",
        "PySide6/QtOpenGLWidgets.abi3.so",
        "PySide6\\QtOpenGLWidgets.pyd",
        "PySide6/Qt/lib/libQt6OpenGL.so.6",
    ],
)
def test_what_the_app_needs_stays_in_the_bundle(path: str) -> None:
    assert build_module("bundle_trim").drop_reason(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "pyarrow/libarrow_flight.so.2600",
        "pyarrow\\arrow_flight.dll",
        "pyarrow/libarrow_s3.so.2600",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6\\translations\\qtbase_de.qm",
        "PySide6\\opengl32sw.dll",
        "PySide6/QtOpenGL.abi3.so",
        "PySide6\\QtOpenGL.pyd",
    ],
)
def test_what_the_app_never_loads_is_left_out(path: str) -> None:
    assert build_module("bundle_trim").drop_reason(path)


@pytest.mark.parametrize(
    ("path", "left_to_the_host"),
    [
        ("libX11.so.6", True),
        ("libfontconfig.so.1", True),
        ("libglib-2.0.so.0", True),
        ("libdbus-1.so.3", True),
        ("libsystemd.so.0", True),
        ("libgssapi_krb5.so.2", True),
        ("libz.so.1", True),
        ("libzstd.so.1", True),
        ("libstdc++.so.6", False),  # the bundle's may be newer than the host's
        ("libxcb-cursor.so.0", False),  # a stock Ubuntu lacks it
        ("libxkbcommon-x11.so.0", False),
        ("libssl.so.3", False),  # Python's own OpenSSL
        ("liblzma.so.5", False),  # Python's _lzma
        ("libbrotlidec.so.1", False),
        ("PySide6/Qt/lib/libQt6Core.so.6", False),
        ("pyarrow/libz.so.1", False),  # only libraries at the top of the bundle
    ],
)
def test_linux_desktop_libraries_are_left_to_the_host(path: str, left_to_the_host: bool) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux bundle's system libraries")
    reason = build_module("bundle_trim").drop_reason(path)
    assert (reason is not None) == left_to_the_host, reason
    if reason:
        assert reason.startswith("the host's"), reason


def test_links_to_what_was_left_out_go_too() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux bundle's layout (links beside _internal's libraries)")
    trim = build_module("bundle_trim")
    entries = [
        ("pyarrow/lib.cpython-311-x86_64-linux-gnu.so", "lib.so", "EXTENSION"),
        ("pyarrow/libarrow.so.2600", "arrow.so", "BINARY"),
        ("pyarrow/libparquet.so.2600", "parquet.so", "BINARY"),
        ("libarrow.so.2600", "pyarrow/libarrow.so.2600", "SYMLINK"),
        ("libparquet.so.2600", "pyarrow/libparquet.so.2600", "SYMLINK"),
    ]
    needs = {"lib.so": ["libarrow.so.2600"]}
    binaries, dropped = trim.prune(entries[:3], lambda path: needs.get(path, []))
    links, dropped = trim.without_links_to_dropped(entries[3:], dropped)
    assert [dest for dest, _, _ in binaries + links] == [
        "pyarrow/lib.cpython-311-x86_64-linux-gnu.so",
        "pyarrow/libarrow.so.2600",
        "libarrow.so.2600",
    ]
    assert ("libparquet.so.2600", "link to pyarrow/libparquet.so.2600, which is left out") in (
        dropped
    )


def _pyarrow_lib() -> Path:
    import pyarrow

    found = sorted(Path(pyarrow.__file__).parent.glob("lib.cpython-*.so"))
    if not found or not sys.platform.startswith("linux"):
        pytest.skip("needs pyarrow's Linux extension module")
    return found[0]


def test_unlinking_removes_only_the_named_libraries(tmp_path: Path) -> None:
    elf = build_module("elf_needed")
    source = _pyarrow_lib()
    folder = source.parent
    drop = {p.name: p for p in folder.glob("libparquet.so.*") if p.name.count(".") == 2}
    before = [name for tag, _v, name in elf.needed(source.read_bytes())[1] if tag == 1]
    removed = elf.unlink(source, tmp_path / source.name, drop)
    after = [
        name for tag, _v, name in elf.needed((tmp_path / source.name).read_bytes())[1] if tag == 1
    ]
    assert removed == list(drop) and removed
    assert after == [name for name in before if name not in drop]


def test_unlinking_refuses_a_library_whose_symbols_are_used(tmp_path: Path) -> None:
    elf = build_module("elf_needed")
    source = _pyarrow_lib()
    if shutil.which("nm") is None:
        pytest.skip("binutils' nm is not installed")
    arrow = {p.name: p for p in source.parent.glob("libarrow.so.*") if p.name.count(".") == 2}
    with pytest.raises(ValueError, match=r"uses \d+ symbols of libarrow"):
        elf.unlink(source, tmp_path / source.name, arrow)


def test_stripping_keeps_a_library_loadable(tmp_path: Path) -> None:
    elf = build_module("elf_needed")
    source = _pyarrow_lib()
    if shutil.which("strip") is None:
        pytest.skip("binutils' strip is not installed")
    target = tmp_path / source.name
    assert elf.strip_copy(source, target)
    assert elf.loadable(target.read_bytes())
    assert target.stat().st_size < source.stat().st_size


def test_a_library_strip_would_break_loses_only_its_symbol_table(tmp_path: Path) -> None:
    import numpy

    elf = build_module("elf_needed")
    libs = Path(numpy.__file__).parent.parent / "numpy.libs"
    found = sorted(libs.glob("libscipy_openblas*.so"))
    if not found or not sys.platform.startswith("linux"):
        pytest.skip("needs numpy's Linux OpenBLAS (patchelf'd by auditwheel)")
    copy = tmp_path / "numpy.libs"
    shutil.copytree(libs, copy)
    source = copy / found[0].name
    smaller = elf.without_symbol_table(source.read_bytes())
    assert smaller is not None and elf.loadable(smaller)
    assert len(smaller) < source.stat().st_size - 512 * 1024
    source.write_bytes(smaller)
    script = (
        "import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); f = lib.scipy_cblas_ddot64_;"
        "f.restype = ctypes.c_double; D = ctypes.c_double * 3;"
        "print(f(ctypes.c_int64(3), D(1, 2, 3), ctypes.c_int64(1), D(4, 5, 6), ctypes.c_int64(1)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(source)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "32.0"
    nm = shutil.which("nm")
    if nm:
        dynamic = subprocess.run([nm, "-D", str(source)], capture_output=True, text=True)
        assert "scipy_cblas_ddot64_" in dynamic.stdout


def test_bundle_size_counts_every_file_once(tmp_path: Path) -> None:
    measure = build_module("measure")
    bundle = tmp_path / "meterbridge"
    (bundle / "_internal" / "pyarrow").mkdir(parents=True)
    (bundle / "meterbridge").write_bytes(b"p" * 1000)
    (bundle / "meterbridge-cli").write_bytes(b"p" * 1000)  # identical: counted once
    (bundle / "_internal" / "pyarrow" / "libarrow.so").write_bytes(b"a" * 3000)
    (bundle / "_internal" / "libarrow.so").symlink_to("pyarrow/libarrow.so")  # not followed
    (bundle / "_internal" / "zz_hard.so").hardlink_to(
        bundle / "_internal" / "pyarrow" / "libarrow.so"
    )
    (bundle / "_internal" / "other.so").write_bytes(b"o" * 1000)  # same size, other bytes
    sizes = measure.bundle_sizes(bundle)
    assert sizes.total == 1000 + 3000 + 1000
    assert sizes.parts["_internal/pyarrow"] == 3000
    assert sizes.parts["_internal/other.so"] == 1000


def test_the_guard_names_the_largest_newcomers() -> None:
    release = build_module("make_release")
    recorded = {"_internal/PySide6": 90 * 2**20, "_internal/pyarrow": 57 * 2**20}
    now = {
        "_internal/PySide6": 91 * 2**20,
        "_internal/pyarrow": 50 * 2**20,
        "_internal/scipy": 40 * 2**20,
    }
    assert release.growth(now, recorded) == [
        ("_internal/scipy", 40 * 2**20),
        ("_internal/PySide6", 2**20),
    ]


def test_packed_size_is_xz_of_a_tar(tmp_path: Path) -> None:
    measure = build_module("measure")
    bundle = tmp_path / "meterbridge"
    bundle.mkdir()
    (bundle / "zeros.bin").write_bytes(bytes(2**20))
    packed = measure.packed_size(bundle)
    assert 0 < packed < 2**20 // 100, "a megabyte of zeros packs to almost nothing"
