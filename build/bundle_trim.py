"""What the frozen bundle leaves out, each cut with the reason it is safe (used by the spec).

PyInstaller's hooks take whole packages: every pyarrow library (Flight, S3,
Parquet ...), every Qt plugin of the modules imported, every Qt translation,
and on Linux the system libraries those plugins link (GTK, Wayland ...).
meterbridge needs a small part of that. The lists below are the data; the
functions apply them to PyInstaller's tables of modules and files.

Checked by the frozen `meterbridge-cli --self-test`, which exercises every
connector, the listener over TLS, the keyring, the main window, the tray and
the preview chart: a cut that was needed fails the release. How the pyarrow
cuts were checked: `grep -rn "pyarrow" app connectors` imports only
`pyarrow`, `pyarrow.compute` and `pyarrow.csv`, and pandas loads `pyarrow.lib`,
`pyarrow.compute` and `pyarrow.ipc` for its Arrow-backed strings; nothing else.
"""

from __future__ import annotations

import fnmatch
import posixpath
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from host_libraries import HOST_LIBRARIES

# Python modules left out (and with them their extension modules), with the reason.
DROPPED_MODULES: tuple[tuple[str, str], ...] = (
    ("tkinter", "the app's GUI is Qt"),
    ("pytest", "test tool, never imported by the app"),
    ("energycap", "the vendor SDK: tests only (the fake EnergyCAP validates against it)"),
    ("msrest", "the vendor SDK's runtime: tests only"),
    ("asyncssh", "the tests' SFTP server; the app's SFTP client is paramiko"),
    ("mypy", "type checker, development only"),
    ("ruff", "linter, development only"),
    ("pyarrow.flight", "Arrow Flight RPC: meterbridge never serves or fetches Flight"),
    ("pyarrow._flight", "Flight's extension module (and through it libarrow_flight)"),
    ("pyarrow.parquet", "Parquet files: meterbridge reads CSV/JSON/DF2 and writes CSV/JSON"),
    ("pyarrow._parquet", "Parquet's extension module"),
    ("pyarrow._parquet_encryption", "Parquet encryption: no Parquet at all"),
    ("pyarrow.dataset", "multi-file datasets: files are read one by one with pyarrow.csv"),
    ("pyarrow._dataset", "datasets' extension module"),
    ("pyarrow._dataset_orc", "ORC datasets: no ORC"),
    ("pyarrow._dataset_parquet", "Parquet datasets: no Parquet"),
    ("pyarrow._dataset_parquet_encryption", "Parquet datasets: no Parquet"),
    ("pyarrow.orc", "ORC files: not a format meterbridge reads"),
    ("pyarrow._orc", "ORC's extension module"),
    ("pyarrow.substrait", "Substrait query plans: no query engine is used"),
    ("pyarrow._substrait", "Substrait's extension module"),
    ("pyarrow.acero", "Acero query engine: only pyarrow.compute kernels are called"),
    ("pyarrow._acero", "Acero's extension module"),
    ("pyarrow.fs", "Arrow filesystems: files are opened by Python, never through Arrow's fs"),
    ("pyarrow._fs", "filesystems' extension module"),
    ("pyarrow._s3fs", "S3 filesystem: no cloud storage"),
    ("pyarrow._gcsfs", "Google Cloud Storage filesystem: no cloud storage"),
    ("pyarrow._azurefs", "Azure filesystem: no cloud storage"),
    ("pyarrow._hdfs", "HDFS filesystem: no Hadoop"),
    ("pyarrow.gandiva", "Gandiva expression compiler: not used (nor in current wheels)"),
    ("pyarrow.cuda", "CUDA memory: no GPU code"),
    ("pyarrow._cuda", "CUDA's extension module"),
    ("pyarrow.tests", "pyarrow's own tests"),
    ("pyarrow.interchange", "dataframe interchange protocol: pandas and pyarrow talk directly"),
    ("PySide6.QtTest", "Qt's test module: pyqtgraph imports it only if present"),
    ("PySide6.QtOpenGL", "Qt's OpenGL module: see the note below DROPPED_MODULES"),
    ("setuptools", "package builder: only cffi's compile-a-module path imports it, never run"),
    ("distutils", "package builder (setuptools' copy included): same as setuptools"),
    ("pkg_resources", "setuptools' resource API: nothing here imports it"),
    ("pydoc_data", "help() topic texts: the app never calls help()"),
    ("invoke", "paramiko imports it in a try, for ssh_config 'Match exec' (no ssh_config read)"),
    ("numpy.f2py", "Fortran wrapper generator: numpy loads it only when numpy.f2py is asked for"),
    ("pyarrow.conftest", "pyarrow's pytest set-up for its own tests (it imports cython)"),
    ("Cython", "Cython compiler (the build extra, to build numpy): never imported by the app"),
    ("cython", "Cython's shim module: same as Cython"),
    ("pyximport", "Cython's import-time compiler: same as Cython"),
    (
        "readline",
        "line editing for interactive prompts (and with it libreadline, libtinfo on Linux): "
        "the app has no prompt; cmd, pdb and code import it in a try. No such module on Windows",
    ),
    ("pandas._libs.sas", "SAS file reader: only pandas.read_sas loads it, never called"),
    # East Asian text codecs (0.9 MiB on Linux). meterbridge decodes files as UTF-8,
    # UTF-16 or Latin-1 only (connectors/tabular/text.py); a charset named by an HTTP
    # answer or push that is one of these becomes "unknown encoding" (LookupError),
    # which charset_normalizer (requests' guess for answers without a charset) skips.
    ("_codecs_jp", "Japanese codecs (Shift-JIS, EUC-JP, CP932): see the note above"),
    ("_codecs_kr", "Korean codecs (EUC-KR, CP949, Johab): see the note above"),
    ("_codecs_cn", "Chinese codecs (GB2312, GBK, GB18030, HZ): see the note above"),
    ("_codecs_tw", "Taiwanese codecs (Big5, CP950): see the note above"),
    ("_codecs_hk", "Hong Kong codec (Big5-HKSCS): see the note above"),
    ("_codecs_iso2022", "ISO-2022 codecs (JP, KR, CN mail encodings): see the note above"),
    ("_multibytecodec", "the machinery of the East Asian codecs only: see the note above"),
    ("pandas._libs.byteswap", "SAS reader's byte swapping: only pandas.read_sas loads it"),
)
# The QtOpenGL binding is left out (DROPPED_FILES "PySide6/QtOpenGL.*"): meterbridge draws
# nothing with OpenGL, but pyqtgraph 0.14 imports the module when the chart's modules load
# (PlotCurveItem, PColorMeshItem) and uses it only with its `useOpenGL` option, never set
# here. build/rthook_no_qtopengl.py (a runtime hook: frozen app only) gives it an empty
# stand-in; the self-test draws the preview chart. QtOpenGLWidgets (0.2 MiB) stays:
# pyqtgraph subclasses its QOpenGLWidget at import.

# Files left out, as (pattern, reason). A pattern is matched (fnmatch, any case) against
# the path inside the bundle with "/" separators; "*" also matches "/".
DROPPED_FILES: tuple[tuple[str, str], ...] = (
    # pyarrow libraries nothing loads once the modules above are gone
    ("pyarrow/*arrow_flight*", "Flight RPC library (31 MiB): only _flight loads it"),
    ("pyarrow/*arrow_s3*", "S3 filesystem library (17 MiB): only _s3fs loads it"),
    ("pyarrow/*gandiva*", "Gandiva (LLVM) library: only pyarrow.gandiva loads it"),
    ("pyarrow/*arrow_cuda*", "CUDA library: only pyarrow.cuda loads it"),
    ("pyarrow/*libarrow_python_flight*", "Flight's Python glue"),
    ("pyarrow/*libarrow_python_parquet_encryption*", "Parquet encryption's Python glue"),
    ("pyarrow/include/*", "C++ headers, for building extensions"),
    ("pyarrow/src/*", "C++ sources, for building extensions"),
    ("pyarrow/tests/*", "pyarrow's own test data"),
    ("pyarrow/*.pyx", "Cython sources (the compiled modules are kept)"),
    ("pyarrow/*.pxd", "Cython declarations"),
    ("pyarrow/*.pxi", "Cython includes"),
    ("pyarrow/*.lib", "Windows import libraries, for linking only"),
    ("pyarrow/*libarrow_python.so", "unversioned duplicate: the loader asks for .so.<N>"),
    ("pyarrow/*libarrow_python.so.*.*.*", "fully versioned duplicate of the same library"),
    # Qt: translations and the Test module
    ("PySide6/*translations/*", "Qt's own translations: the app's texts are English only"),
    ("PySide6/*Qt6Test*", "QtTest library: see PySide6.QtTest above"),
    (
        "PySide6/QtOpenGL.*",
        "QtOpenGL binding (8.5 MiB on Linux; QtOpenGL.abi3.so on Linux and macOS, "
        ".pyd on Windows): see PySide6.QtOpenGL above",
    ),
    # Qt plugins the app never loads (platforms: see KEPT_FILES)
    ("PySide6/*plugins/platforms/*", "display back ends other than the kept ones"),
    ("PySide6/*plugins/platformthemes/*", "GTK3/portal themes: they pull in GTK; Qt draws its own"),
    ("PySide6/*plugins/egldeviceintegrations/*", "EGLFS (embedded boards without a desktop)"),
    ("PySide6/*plugins/xcbglintegrations/*", "OpenGL on X11: no chart or view uses OpenGL"),
    ("PySide6/*plugins/generic/*", "evdev/tslib input for EGLFS (embedded boards)"),
    ("PySide6/*plugins/networkinformation/*", "QNetworkInformation: never asked"),
    (
        "PySide6/*plugins/wayland-*",
        "Wayland plugins: on Wayland, Qt runs the xcb plugin (XWayland)",
    ),
    ("PySide6/*Qt6WaylandClient*", "Wayland client library: only the Wayland plugins load it"),
    ("PySide6/*Qt6WlShellIntegration*", "Wayland shell library: only the Wayland plugins load it"),
    ("PySide6/*Qt6EglFs*", "EGLFS libraries: only the EGLFS plugins load them"),
    ("PySide6/*plugins/imageformats/*", "image formats other than the kept ones (no photos)"),
    ("PySide6/*opengl32sw.dll", "Windows software OpenGL (20 MiB): no OpenGL is drawn"),
    ("PySide6/*d3dcompiler*", "Direct3D shader compiler, for Qt Quick: not used"),
    (
        "pyqtgraph/icons/peegee/*",
        "pyqtgraph's logo (0.9 MiB): only pyqtgraph.mkQApp sets it; the app makes its own app",
    ),
)

# pyarrow libraries linked by every pyarrow binary but called by none of the ones kept
# (checked symbol by symbol at build time: build/elf_needed.py). On Linux the links are
# removed from copies of the kept binaries. Windows' import tables list only the DLLs
# actually called (pyarrow 26.0.1 win_amd64, `objdump -p`: lib, _compute, _csv, _json,
# _feather and arrow_python import only arrow, arrow_compute and arrow_python).
# macOS keeps them (no Mach-O editing here).
UNLINKED_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("parquet", "Parquet (13 MiB): no Parquet files"),
    ("arrow_dataset", "Datasets: files are read one at a time"),
    ("arrow_acero", "Acero query engine: only compute kernels are called"),
    ("arrow_substrait", "Substrait plans: no query engine"),
)
UNLINK = not sys.platform.startswith("darwin")

# Exceptions to DROPPED_FILES: what the app needs, with the reason.
KEPT_FILES: tuple[tuple[str, str], ...] = (
    ("PySide6/*plugins/platforms/*qxcb*", "Linux desktops (X11 and XWayland)"),
    ("PySide6/*plugins/platforms/*qoffscreen*", "no display: self-test, CI, servers"),
    ("PySide6/*plugins/platforms/*qminimal.*", "no display, the lightest back end"),
    ("PySide6/*plugins/platforms/*qwindows*", "the display back end on Windows"),
    ("PySide6/*plugins/platforms/*qcocoa*", "the display back end on macOS"),
    ("PySide6/*plugins/imageformats/*qico*", "the Windows icon (resources/meterbridge.ico)"),
    ("PySide6/*plugins/imageformats/*qsvg*", "the app icon (resources/meterbridge.svg)"),
)

# Linux: system libraries every target desktop has are left to the host (the list, with
# the rule and the reason for each: build/host_libraries.py).
LEAVE_HOST_LIBRARIES = sys.platform.startswith("linux")


# Linux: a shared library that is neither an extension module nor a Qt plugin stays only
# if a kept binary needs it (DT_NEEDED, transitively): GTK, cairo, Wayland ... came with
# dropped plugins. Windows and macOS bundles keep their libraries (the OS supplies those
# that plugins need; delay-loaded DLLs are not listed in the import tables).
PRUNE_UNNEEDED_LIBRARIES = sys.platform.startswith("linux")


# Linux: Qt's ICU data library is replaced by a copy holding only what Qt's ICU calls read
# for English and the root locale (30.5 -> 4.2 MiB; what goes and why: build/icu_data.py).
# Windows' Qt uses the system's icu.dll and macOS's Qt no ICU: nothing to do there.
ICU_DATA_LIBRARY = "PySide6/Qt/lib/libicudata.so.*"
REDUCE_ICU_DATA = sys.platform.startswith("linux")


def _matches(path: str, rules: Iterable[tuple[str, str]]) -> str | None:
    lowered = path.replace("\\", "/").lower()
    for pattern, reason in rules:
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return reason
    return None


def _unlinked_reason(path: str) -> str | None:
    base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if not UNLINK or not path.replace("\\", "/").startswith("pyarrow/"):
        return None
    for stem, reason in UNLINKED_LIBRARIES:
        if base.startswith((f"lib{stem}.", f"{stem}.")):
            return reason
    return None


def _host_reason(path: str) -> str | None:
    if not LEAVE_HOST_LIBRARIES or "/" in path.replace("\\", "/"):
        return None
    reason = _matches(path, HOST_LIBRARIES)
    return f"the host's (Linux desktops have it): {reason}" if reason else None


def drop_reason(path: str) -> str | None:
    """Why the file at `path` (inside the bundle) is left out, or None if it is kept."""
    reason = _matches(path, DROPPED_FILES) or _unlinked_reason(path) or _host_reason(path)
    if reason is None or _matches(path, KEPT_FILES) is not None:
        return None
    return reason


def excluded_modules() -> list[str]:
    """The module names for PyInstaller's `excludes`."""
    return [name for name, _ in DROPPED_MODULES]


def _is_root(path: str) -> bool:
    """Loaded by Python or by Qt by name (not through another library's import table)."""
    name = path.replace("\\", "/")
    base = name.rsplit("/", 1)[-1]
    return (
        ".cpython-" in base
        or ".abi3." in base
        or base.endswith(".pyd")
        or "/lib-dynload/" in name
        or "/plugins/" in name
        or base.startswith(("libpython", "python3"))
    )


def unlink_pyarrow(entries: list[tuple[str, str, str]], folder: Path) -> list[tuple[str, str, str]]:
    """Linux: the entries with pyarrow's binaries replaced by copies without the links."""
    if not (UNLINK and sys.platform.startswith("linux")):
        return entries
    from elf_needed import unlink

    libraries = {e[0].rsplit("/", 1)[-1]: Path(e[1]) for e in entries if _unlinked_reason(e[0])}
    out = []
    for dest, source, kind in entries:
        if (
            dest.startswith("pyarrow/")
            and kind in {"BINARY", "EXTENSION"}
            and not (_unlinked_reason(dest) or drop_reason(dest))
        ):
            target = folder / dest
            if unlink(Path(source), target, libraries):
                source = str(target)
        out.append((dest, source, kind))
    return out


def reduce_icu_data(
    entries: list[tuple[str, str, str]], folder: Path
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Linux: ICU's data library replaced by a reduced copy; returns (item, reason) cut."""
    if not REDUCE_ICU_DATA:
        return entries, []
    from icu_data import build_library

    out, cut = [], []
    for dest, source, kind in entries:
        if fnmatch.fnmatchcase(dest.replace("\\", "/"), ICU_DATA_LIBRARY):
            target = folder / dest
            dropped = build_library(Path(source), target)
            if dropped is None:
                print(f"no C compiler: {dest} stays whole (30 MiB)", file=sys.stderr)
            else:
                source = str(target)
                cut += [(f"{dest}: {item}", reason) for item, reason in dropped]
        out.append((dest, source, kind))
    return out, cut


def strip_linux(entries: list[tuple[str, str, str]], folder: Path) -> list[tuple[str, str, str]]:
    """Linux: binaries replaced by stripped copies where that is safe (build/elf_needed.py).

    Not on Windows (DLLs carry no debug information; PyInstaller advises against
    it) nor macOS (stripping would break the code signatures).
    """
    if not sys.platform.startswith("linux"):
        return entries
    from elf_needed import strip_copy

    out = []
    for dest, source, kind in entries:
        target = folder / dest
        binary = kind in {"BINARY", "EXTENSION"} and not drop_reason(dest)
        if binary and strip_copy(Path(source), target):
            source = str(target)
        out.append((dest, source, kind))
    return out


def prune(
    entries: list[tuple[str, str, str]],
    imports_of: Callable[[str], Iterable[str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Apply the lists to PyInstaller's (dest, source, kind) entries.

    Args:
        entries: `a.binaries` or `a.datas`.
        imports_of: the library names a binary file needs (its import table).

    Returns:
        The entries kept, and (dest, reason) for each left out.
    """
    kept, dropped = [], []
    for entry in entries:
        reason = drop_reason(entry[0])
        if reason is None:
            kept.append(entry)
        else:
            dropped.append((entry[0], reason))
    if not PRUNE_UNNEEDED_LIBRARIES:
        return kept, dropped
    return _prune_unneeded(kept, imports_of, dropped)


def without_links_to_dropped(
    entries: list[tuple[str, str, str]], dropped: list[tuple[str, str]]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """`entries` without SYMLINK entries pointing at what `dropped` names, and those added.

    PyInstaller puts links to libraries it found in package folders beside them in
    `_internal/` (as (dest, target relative to dest's folder, "SYMLINK") in `a.datas`);
    a link to a library left out would dangle.
    """
    kept, dropped = list(entries), list(dropped)
    while True:
        gone = {dest.replace("\\", "/") for dest, _ in dropped}
        dangling = [e for e in kept if e[2] == "SYMLINK" and _link_target(e) in gone]
        if not dangling:
            return kept, dropped
        for entry in dangling:
            kept.remove(entry)
            dropped.append((entry[0], f"link to {_link_target(entry)}, which is left out"))


def _link_target(entry: tuple[str, str, str]) -> str:
    folder = posixpath.dirname(entry[0].replace("\\", "/"))
    return posixpath.normpath(posixpath.join(folder, entry[1].replace("\\", "/")))


def _prune_unneeded(
    entries: list[tuple[str, str, str]],
    imports_of: Callable[[str], Iterable[str]],
    dropped: list[tuple[str, str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    libraries = [e for e in entries if e[2] == "BINARY" and not _is_root(e[0])]
    by_name = {e[0].replace("\\", "/").rsplit("/", 1)[-1]: e for e in libraries}
    needed: set[str] = set()
    todo = [e for e in entries if e[2] in {"BINARY", "EXTENSION"} and _is_root(e[0])]
    while todo:
        entry = todo.pop()
        for name in imports_of(entry[1]):
            if name in by_name and name not in needed:
                needed.add(name)
                todo.append(by_name[name])
    kept = []
    for entry in entries:
        base = entry[0].replace("\\", "/").rsplit("/", 1)[-1]
        if entry in libraries and base not in needed:
            dropped.append((entry[0], "no kept program or library links it"))
        else:
            kept.append(entry)
    return kept, dropped
