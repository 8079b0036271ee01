"""Linux: a smaller ICU data library for Qt (libicudata.so.<N>, 30.5 MiB in PySide6 6.11).

Only PySide6's Linux Qt ships ICU (Windows' Qt uses the system's icu.dll).
Qt Core is the only caller, and only of four services (`nm -D --undefined-only` of every
Qt library, plugin and binding, PySide6 6.11): collation (`ucol_*`: QCollator, the file
dialog's sorting), calendars and time-zone names (`ucal_*`: QTimeZone), code-page
converters (`ucnv_*`: QStringDecoder/Encoder given a non-Unicode codec name) and case
mapping (`u_strToUpper/Lower`: QLocale; its tables are built into libicuuc, not data).
The data library carries every service's data for every locale; this module writes a
copy holding what those calls read for English, the root locale (the fallback of every
other) and the tables that are not per locale, and builds it into a shared library with
the same name and symbol (`icudt<N>_dat`) with the C compiler.

The data is ICU's common-data archive ("CmnD"): a header, a table of contents of
(name, offset) sorted by name, then the items, each 16-byte aligned. Items are copied
unchanged; the table keeps its order, so ICU's binary search still works.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

SHT_DYNSYM = 11

# Items left out, as (pattern on the item's name inside the package, reason). First match.
DROPPED_ITEMS: tuple[tuple[str, str], ...] = (
    ("brkitr/*", "word/line break rules and dictionaries (3.2 MiB): Qt calls no ubrk_ function"),
    ("translit/*", "transliteration (1 MiB): Qt calls no utrans_ function"),
    ("rbnf/*", "spelled-out numbers: Qt calls no unum_ function (its number formats are its own)"),
)
# Code-page tables of this size and more are left out: the multi-byte ones (CJK, 4.4 MiB).
# Qt opens one only for a codec named in QStringDecoder/Encoder (never asked by
# meterbridge: files are decoded with Python's codecs); UTF-8/16/32, Latin-1 and ASCII
# are built into ICU's code, and the single-byte tables (Windows-125x, ISO-8859-x, DOS,
# Mac: 150 tables, 0.5 MiB) stay, as does cnvalias.icu (the names).
LARGE_CONVERTER_BYTES = 8192
# Locale files (`<tree>/<locale>.res`) stay only for these locales; the others fall back
# to root: Unicode's default sort order (QCollator, file dialogs: accented letters sort
# beside their base letter, as in English and German) and "GMT-05:00"-style time-zone
# names (QTimeZone.displayName, which meterbridge does not call).
# Qt's own locale data (month names, number formats ...) does not come from ICU.
KEPT_LOCALES: tuple[str, ...] = ("root", "en", "en_*")
LOCALE_FILE = re.compile(r"^(?:[a-z]+/)?([a-z]{2,3}(?:_[A-Za-z0-9]+)*)\.res$")
NOT_A_LOCALE = ("res_index",)  # each tree's index of locales, named like one


def drop_reason(name: str, size: int = 0) -> str | None:
    """Why the item `name` (e.g. "coll/de.res", no package prefix) is left out, or None."""
    if name.endswith(".cnv") and size >= LARGE_CONVERTER_BYTES:
        return "multi-byte code-page table (see LARGE_CONVERTER_BYTES)"
    for pattern, reason in DROPPED_ITEMS:
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    match = LOCALE_FILE.match(name)
    if match and match.group(1) not in NOT_A_LOCALE:
        locale = match.group(1)
        if not any(fnmatch.fnmatchcase(locale, kept) for kept in KEPT_LOCALES):
            return "locale data other than English (falls back to root)"
    return None


def _sections(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """(type, offset, size, link, entry size) of each ELF64 section header."""
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    found = []
    for index in range(shnum):
        _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + index * shentsize
        )
        found.append((kind, offset, size, link, entsize))
    return found


def _file_offset(data: bytes, address: int) -> int:
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        kind, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + index * phentsize
        )
        if kind == 1 and vaddr <= address < vaddr + filesz:
            return int(offset + address - vaddr)
    raise ValueError(f"address {address:#x} is in no loaded segment")


def data_symbol(library: bytes) -> tuple[str, bytes]:
    """The `icudt<N>_dat` symbol's name and bytes in an ICU data library."""
    sections = _sections(library)
    for kind, offset, size, link, entsize in sections:
        if kind != SHT_DYNSYM:
            continue
        strtab = sections[link][1]
        for position in range(offset, offset + size, entsize):
            name_at, _info, _other, _shndx, value, length = struct.unpack_from(
                "<IBBHQQ", library, position
            )
            name = library[strtab + name_at : library.index(b"\0", strtab + name_at)].decode()
            if re.fullmatch(r"icudt\d+_dat", name):
                start = _file_offset(library, value)
                return name, library[start : start + length]
    raise ValueError("no icudt<N>_dat symbol: not an ICU data library")


def read_items(common: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, bytes) items of a little-endian common-data archive."""
    (header_size,) = struct.unpack_from("<H", common, 0)
    if common[2:4] != b"\xda\x27" or common[12:16] != b"CmnD" or common[8] != 0:
        raise ValueError("not a little-endian ICU common-data archive (CmnD)")
    (count,) = struct.unpack_from("<I", common, header_size)
    table = [struct.unpack_from("<II", common, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for index, (name_at, data_at) in enumerate(table):
        start = header_size + name_at
        name = common[start : common.index(b"\0", start)].decode("ascii")
        end = table[index + 1][1] if index + 1 < count else len(common) - header_size
        items.append((name, common[header_size + data_at : header_size + end]))
    return common[:header_size], items


def write_items(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """A common-data archive of `items` (in the order given) after `header`."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    names_at = 4 + 8 * len(items)
    first_item = names_at + len(names)
    first_item += -first_item % 16
    table, body, name_at = [], bytearray(), names_at
    for name, content in items:
        table.append(struct.pack("<II", name_at, first_item + len(body)))
        name_at += len(name) + 1
        body += content + b"\0" * (-len(content) % 16)
    toc = struct.pack("<I", len(items)) + b"".join(table) + names
    return header + toc + b"\0" * (first_item - len(toc)) + bytes(body)


def reduce(common: bytes) -> tuple[bytes, list[tuple[str, str]]]:
    """The archive without the dropped items, and (item, reason) for each dropped."""
    header, items = read_items(common)
    kept, dropped = [], []
    for name, content in items:
        reason = drop_reason(name.split("/", 1)[1] if "/" in name else name, len(content))
        if reason is None:
            kept.append((name, content))
        else:
            dropped.append((name, reason))
    return write_items(header, kept), dropped


def build_library(source: Path, target: Path) -> list[tuple[str, str]] | None:
    """Write a reduced copy of the ICU data library `source` to `target`.

    Returns the items left out, or None (and no copy) without a C compiler.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    symbol, common = data_symbol(source.read_bytes())
    reduced, dropped = reduce(common)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        blob = Path(work, "data.bin")
        blob.write_bytes(reduced)
        assembly = Path(work, "data.S")
        assembly.write_text(
            f".section .rodata\n.globl {symbol}\n.type {symbol}, @object\n.balign 16\n"
            f'{symbol}:\n.incbin "{blob}"\n.size {symbol}, . - {symbol}\n'
            '.section .note.GNU-stack,"",@progbits\n',
            encoding="ascii",
        )
        subprocess.run(
            [
                compiler,
                "-shared",
                "-nostdlib",
                f"-Wl,-soname,{source.name}",
                "-Wl,-s",
                "-o",
                str(target),
                str(assembly),
            ],
            check=True,
            capture_output=True,
        )
    return dropped
