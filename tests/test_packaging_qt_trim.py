"""The bundle's two Qt cuts keep what the app uses: ICU's reduced data, no QtOpenGL binding."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.build_modules import build_module

REPO = Path(__file__).resolve().parents[1]
MIB = 2**20


def _qt_icu_data() -> Path:
    import PySide6

    found = sorted(Path(PySide6.__file__).parent.glob("Qt/lib/libicudata.so.*"))
    if not found or not sys.platform.startswith("linux"):
        pytest.skip("needs PySide6's Linux ICU data library")
    return found[0]


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("coll/root.res", True),
        ("coll/ucadata.icu", True),
        ("coll/en_GB.res", True),
        ("coll/res_index.res", True),
        ("zone/en.res", True),
        ("zoneinfo64.res", True),
        ("metaZones.res", True),
        ("cnvalias.icu", True),
        ("pool.res", True),
        ("coll/de.res", False),
        ("zone/fr_CA.res", False),
        ("sr_Latn_BA.res", False),
        ("brkitr/cjdict.dict", False),
        ("translit/root.res", False),
    ],
)
def test_icu_keeps_english_root_and_shared_tables(item: str, kept: bool) -> None:
    assert (build_module("icu_data").drop_reason(item) is None) == kept


def test_icu_keeps_single_byte_code_pages_only() -> None:
    icu = build_module("icu_data")
    assert icu.drop_reason("ibm-5348_P100-1997.cnv", 3200) is None  # windows-1252
    assert icu.drop_reason("gb18030.cnv", 232_000) is not None


def test_reduced_archive_holds_the_kept_items_unchanged() -> None:
    icu = build_module("icu_data")
    _symbol, common = icu.data_symbol(_qt_icu_data().read_bytes())
    header, items = icu.read_items(common)
    reduced, dropped = icu.reduce(common)
    again_header, again = icu.read_items(reduced)
    assert again_header == header
    kept = {name for name, _ in items} - {name for name, _ in dropped}
    assert {name for name, _ in again} == kept
    original = dict(items)
    assert all(content == original[name][: len(content)] for name, content in again)
    assert len(reduced) < len(common) / 4


PROBE = textwrap.dedent(
    """
    from PySide6.QtCore import QCollator, QCoreApplication, QLocale, QStringDecoder, QTimeZone
    app = QCoreApplication([])
    words = ["zebra", "Äpfel", "apple", "école", "eclair", "10 files", "9 files", "ß", "ss"]
    for name in ("en_US", "en_GB", "de_DE"):
        collator = QCollator(QLocale(name))
        collator.setNumericMode(True)
        print(name, sorted(words, key=collator.sortKey))
    zone = QTimeZone(b"America/New_York")
    long_name = QTimeZone.NameType.LongName
    print(zone.displayName(QTimeZone.TimeType.StandardTime, long_name, QLocale("en_US")))
    print([QStringDecoder(c).isValid() for c in ("windows-1252", "ISO-8859-15", "IBM850")])
    print(QLocale("tr_TR").toUpper("istanbul"))
    print(sum("libicudata" in line for line in open("/proc/self/maps")) > 0)
    """
)


def _probe(library_dir: Path | None) -> list[str]:
    env = dict(os.environ)
    if library_dir is not None:  # searched before the Qt libraries' own RUNPATH
        env["LD_LIBRARY_PATH"] = str(library_dir)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_qt_with_the_reduced_icu_data_sorts_and_names_zones_as_before(tmp_path: Path) -> None:
    source = _qt_icu_data()
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("needs a C compiler")
    target = tmp_path / source.name
    dropped = build_module("icu_data").build_library(source, target)
    assert dropped and target.stat().st_size < 6 * MIB < source.stat().st_size
    reduced = _probe(tmp_path)
    assert reduced == _probe(None)
    assert reduced[3] == "Eastern Standard Time"
    assert reduced[4] == "[True, True, True]"


def test_the_chart_draws_with_the_qtopengl_stand_in() -> None:
    script = textwrap.dedent(
        f"""
        import runpy, sys
        runpy.run_path({str(REPO / "build" / "rthook_no_qtopengl.py")!r})
        stand_in = sys.meta_path.pop()
        sys.meta_path.insert(0, stand_in)  # as in the bundle, where nothing else finds it
        from PySide6.QtGui import QColor, QImage
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        import pyqtgraph
        widget = pyqtgraph.PlotWidget()
        widget.plot([0, 1, 2, 3], [1, 3, 2, 4], pen=pyqtgraph.mkPen((255, 0, 0), width=3))
        widget.resize(400, 300)
        widget.show()
        app.processEvents()
        image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        red = QColor(255, 0, 0).rgb()
        print(sum(image.pixel(x, y) == red for x in range(400) for y in range(300)))
        print(any("QtOpenGL.abi3" in line for line in open("/proc/self/maps")))
        try:
            sys.modules["PySide6.QtOpenGL"].QOpenGLBuffer
        except AttributeError as error:
            print(error)
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    drawn, real_loaded, message = result.stdout.splitlines()[-3:]
    assert int(drawn) > 100, "the line was not drawn"
    assert real_loaded == "False"
    assert "QOpenGLBuffer" in message and "not in this bundle" in message


def test_the_stand_in_leaves_a_real_qtopengl_alone() -> None:
    script = textwrap.dedent(
        f"""
        import runpy, sys
        runpy.run_path({str(REPO / "build" / "rthook_no_qtopengl.py")!r})
        import PySide6.QtOpenGL
        print(PySide6.QtOpenGL.QOpenGLBuffer.__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["QOpenGLBuffer"]
