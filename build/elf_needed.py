"""Linux binaries for the bundle: over-linked DT_NEEDED entries removed, symbols stripped.

pyarrow's Linux wheels link every extension module and libarrow_python against
Parquet, Dataset, Acero and Substrait although they call none of their
functions: the loader would refuse to start without those 17 MiB of libraries.
`unlink` writes a copy of a binary whose dynamic section no longer names them;
it refuses when the binary does use a symbol one of them defines (checked with
binutils' `nm` when it is installed). ELF64 little-endian only (x86-64, arm64).

`strip_copy` strips symbol tables and debug information (libpython alone
carries 18 MiB of it), and keeps the original when the stripped file would not
load: `strip` breaks libraries whose segments patchelf moved (auditwheel's
numpy.libs), which the loader refuses with "ELF load command address/offset
not page-aligned" -- the same check is made here before the copy is used.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def _segments(data: bytes) -> list[tuple[int, int, int, int]]:
    """(type, file offset, virtual address, file size) of each program header."""
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    found = []
    for index in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + index * phentsize
        )
        found.append((p_type, offset, vaddr, filesz))
    return found


def _file_offset(segments: list[tuple[int, int, int, int]], address: int) -> int:
    for p_type, offset, vaddr, filesz in segments:
        if p_type == PT_LOAD and vaddr <= address < vaddr + filesz:
            return offset + address - vaddr
    raise ValueError(f"address {address:#x} is in no loaded segment")


def needed(data: bytes) -> tuple[int, list[tuple[int, int, str]]]:
    """The dynamic section's offset and its (tag, value, name-if-needed) entries."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    segments = _segments(data)
    dynamic = next(offset for p_type, offset, _v, _s in segments if p_type == PT_DYNAMIC)
    raw = []
    position = dynamic
    while True:
        tag, value = struct.unpack_from("<qQ", data, position)
        if tag == DT_NULL:
            break
        raw.append((tag, value))
        position += 16
    strtab = _file_offset(segments, next(v for t, v in raw if t == DT_STRTAB))
    entries = []
    for tag, value in raw:
        name = ""
        if tag == DT_NEEDED:
            end = data.index(b"\0", strtab + value)
            name = data[strtab + value : end].decode()
        entries.append((tag, value, name))
    return dynamic, entries


def _symbols(path: Path, defined: bool) -> set[str]:
    nm = shutil.which("nm")
    if nm is None:
        return set()
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run([nm, "-D", flag, str(path)], capture_output=True, text=True, check=True)
    return {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}


def unlink(source: Path, target: Path, libraries: dict[str, Path]) -> list[str]:
    """Copy `source` to `target` without the DT_NEEDED entries of `libraries` (name: path).

    Returns the names removed (none: `target` is a plain copy).
    Raises ValueError when `source` uses a symbol that one of them defines.
    """
    data = bytearray(source.read_bytes())
    dynamic, entries = needed(bytes(data))
    removed = [name for tag, _v, name in entries if tag == DT_NEEDED and name in libraries]
    if removed:
        wanted = _symbols(source, defined=False)
        for name in removed:
            used = wanted & _symbols(libraries[name], defined=True)
            if used:
                raise ValueError(f"{source.name} uses {len(used)} symbols of {name}")
    kept = [(t, v) for t, v, name in entries if not (t == DT_NEEDED and name in libraries)]
    padding = [(DT_NULL, 0)] * (len(entries) - len(kept) + 1)
    for index, (tag, value) in enumerate(kept + padding):
        struct.pack_into("<qQ", data, dynamic + index * 16, tag, value)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(data))
    shutil.copymode(source, target)
    return removed


def loadable(data: bytes) -> bool:
    """Whether every loadable segment is placed as the loader requires."""
    try:
        segments = _segments(data)
        (phoff,) = struct.unpack_from("<Q", data, 0x20)
        phentsize, _phnum = struct.unpack_from("<HH", data, 0x36)
        for index, (p_type, offset, vaddr, _size) in enumerate(segments):
            if p_type != PT_LOAD:
                continue
            (align,) = struct.unpack_from("<Q", data, phoff + index * phentsize + 48)
            if align > 1 and (vaddr - offset) % align:
                return False
    except (struct.error, ValueError):
        return False
    return True


def _alignments(data: bytes) -> list[tuple[int, int, int]]:
    """(type, file offset, alignment) of each program header."""
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    found = []
    for index in range(phnum):
        p_type, _flags, offset = struct.unpack_from("<IIQ", data, phoff + index * phentsize)
        (align,) = struct.unpack_from("<Q", data, phoff + index * phentsize + 48)
        found.append((p_type, offset, align))
    return found


SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL, SHT_RELA = 2, 3, 8, 9, 4


def _section_headers(data: bytes) -> list[list[int]]:
    """Each section header as a list of its ten fields (name ... entsize)."""
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    return [
        list(struct.unpack_from("<IIQQQQIIQQ", data, shoff + index * shentsize))
        for index in range(shnum)
    ]


def without_symbol_table(data: bytes) -> bytes | None:
    """`data` without its static symbol table (.symtab and its .strtab), or None.

    For libraries `strip` breaks (see the module's docstring): the two tables are
    cut out as a whole number of pages, so every loadable byte after them keeps its
    place within a page; the section names and headers that sat among them are
    written again in front of the hole. The loader reads neither table.
    """
    sections = _section_headers(data)
    symtabs = [i for i, s in enumerate(sections) if s[1] == SHT_SYMTAB]
    if len(symtabs) != 1 or any(
        s[1] in {SHT_REL, SHT_RELA} and s[6] == symtabs[0] for s in sections
    ):
        return None
    cut = {symtabs[0], sections[symtabs[0]][6]}
    if sections[sections[symtabs[0]][6]][1] != SHT_STRTAB:
        return None
    start = min(sections[i][4] for i in cut)
    end = max(sections[i][4] + sections[i][5] for i in cut)
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, _shnum = struct.unpack_from("<HH", data, 0x3A)
    # Everything between the tables' start and the next loadable byte is moved or cut.
    segments = _segments(data)
    after = min([o for t, o, _v, size in segments if size and o >= end] + [len(data)])
    if any(t == PT_LOAD and o < after and o + size > start for t, o, _v, size in segments):
        return None
    moved = [
        i
        for i, s in enumerate(sections)
        if i not in cut and s[1] != SHT_NOBITS and s[5] and start <= s[4] < after
    ]
    if any(sections[i][3] for i in moved):  # an allocated section in the hole
        return None
    gap = bytearray()
    for index in moved:
        offset, size = sections[index][4:6]
        sections[index][4] = start + len(gap)
        gap += data[offset : offset + size]
    for index in cut:
        sections[index][4], sections[index][5] = start, 0
    new_shoff = shoff
    if start <= shoff < after:
        gap += b"\0" * (-len(gap) % 8)
        new_shoff = start + len(gap)
        gap += b"\0" * (shentsize * len(sections))
    page = max([0x10000] + [a for t, o, a in _alignments(data) if t == PT_LOAD and o >= after])
    shift = (after - start - len(gap)) // page * page
    if shift <= 0:
        return None
    out = bytearray(data[:start] + gap + b"\0" * (after - shift - start - len(gap)) + data[after:])
    if new_shoff >= after:
        new_shoff -= shift
    struct.pack_into("<Q", out, 0x28, new_shoff)
    (phoff,) = struct.unpack_from("<Q", out, 0x20)
    phentsize, _phnum = struct.unpack_from("<HH", out, 0x36)
    for index, (_t, offset, _v, _size) in enumerate(segments):
        if offset >= after:
            struct.pack_into("<Q", out, phoff + index * phentsize + 8, offset - shift)
    for index, fields in enumerate(sections):
        if index not in moved and index not in cut and fields[4] >= after:
            fields[4] -= shift
        struct.pack_into("<IIQQQQIIQQ", out, new_shoff + index * shentsize, *fields)
    return bytes(out)


def strip_copy(source: Path, target: Path) -> bool:
    """Write a stripped copy of `source` to `target`; False (and no copy) if unsafe.

    When `strip`'s output would not load, only the static symbol table is cut out
    (`without_symbol_table`), if that can be done in place.
    """
    strip = shutil.which("strip")
    if strip is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [strip, "--strip-all", "-o", str(target), str(source)], capture_output=True, check=False
    )
    if result.returncode == 0 and loadable(target.read_bytes()):
        return True
    target.unlink(missing_ok=True)
    original = source.read_bytes()
    smaller = without_symbol_table(original) if original[:4] == b"\x7fELF" else None
    if smaller is None or not loadable(smaller):
        return False
    target.write_bytes(smaller)
    shutil.copymode(source, target)
    return True
