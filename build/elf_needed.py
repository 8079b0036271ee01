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


def strip_copy(source: Path, target: Path) -> bool:
    """Write a stripped copy of `source` to `target`; False (and no copy) if unsafe."""
    strip = shutil.which("strip")
    if strip is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [strip, "--strip-all", "-o", str(target), str(source)], capture_output=True, check=False
    )
    if result.returncode != 0 or not loadable(target.read_bytes()):
        target.unlink(missing_ok=True)
        return False
    return True
