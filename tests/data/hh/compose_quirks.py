"""Compose the samples of real-export quirks (issue 16) in tests/data/hh.

Run once (`.venv/bin/python tests/data/hh/compose_quirks.py`); the files are committed.
Each reproduces, with made-up meters and values, a quirk of the real files from other
tools in ../shared/samples/hh-real (never copied here), so the suite covers it without
them: rows without a header (BGlobal, IMServ), UTF-16 with and without a byte-order
mark (one mangled), `1 07 2024` dates with `12:00 AM` labels, Chellow's own CSV,
the Stark .df2 details, and the lines that used to be dropped without a word.
Value of slot s (0-based half-hour) in row r (1-based) is `r*100 + s + 1`.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
END = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]  # 00:30 … 00:00
START = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 30)]  # 00:00 … 23:30
AMPM = [f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}" for h in range(24) for m in (0, 30)]


def vals(row: int) -> list[str]:
    return [str(row * 100 + s + 1) for s in range(48)]


def write(name: str, lines: list[str], newline: str = "\n") -> None:
    (HERE / name).write_bytes((newline.join(lines) + newline).encode())


def bglobal() -> None:
    """No header; dd/mm/yyyy; 48 values from 00:00 UTC; a blank value; a blank last line."""
    first = vals(1)
    first[1] = ""
    rows = [
        "2000000000011,E04M00001,15/07/2024," + ",".join(first),
        "2000000000011,E04M00001,16/07/2024," + ",".join(vals(2)),
        "",
    ]
    write("bglobal-no-header.csv", rows, "\r\n")


def imserv_no_header() -> None:
    """No header; dd/mm/yy; 48 values from 00:00 local; CRLF and LF mixed."""
    one = "10545307,K0229111D6,15/07/24," + ",".join(vals(1))
    two = "10545307,K0229111D6,16/07/24," + ",".join(vals(2))
    (HERE / "imserv-no-header.csv").write_bytes(f"{one}\r\n{two}\n".encode())


def highlands_utf16() -> None:
    """Row per reading in UTF-16LE: one with a mangled byte-order mark (two U+FFFD in
    UTF-8) and empty lines, one with a real BOM and CRLF."""
    rows = ["sep=,", "MPR,ReadDatetime,kWh,ReadType"]
    rows += [f"1700000000001,15 Jul 2024 {e}:00,{s + 1}.5,Actual" for s, e in enumerate(END[:4])]
    text = "\n\n".join(rows) + "\n\n"
    mangled = b"\xef\xbf\xbd\xef\xbf\xbd" + text.encode("utf-16-le")
    (HERE / "highlands-utf16-mangled-bom.csv").write_bytes(mangled)
    (HERE / "highlands-utf16-bom.csv").write_bytes("\r\n".join(rows).encode("utf-16"))


def solar_for_schools() -> None:
    """`id,name,date,type,MPAN` then 12-hour start labels; date `1 07 2024`."""
    head = "id,name,date,type,MPAN," + ",".join(AMPM)
    write(
        "solar-for-schools.csv", [head, "225,School,1 07 2024,C,2000000000022," + ",".join(vals(1))]
    )


def chellow_simple() -> None:
    """Chellow's CSV: UTC half-hour starts, an ACTIVE and a REACTIVE_IMP channel."""
    rows = ["MPAN core, Channel Type, Time, Value, Status"]
    rows += [
        f"2000000000033, ACTIVE, 2024-07-15 {s}, {i + 1}.0, A" for i, s in enumerate(START[:3])
    ]
    rows += ["2000000000033, REACTIVE_IMP, 2024-07-15 00:00, 9.5, E"]
    write("chellow-simple.csv", rows, "\r\n")


def stark_df2_details() -> None:
    """The .df2 details: `#O mpan,,,`, `#O mpan-name`, `#S2`, seconds, a two-digit year,
    and the autumn change day (times are UTC: 01:00 and 01:30 come once each)."""
    lines = ["#F2", "#O 2000000000044,,,", "#S 1"]
    lines += [f"27/10/2024,{e},{i + 1},A" for i, e in enumerate(END[:5])]
    lines += ["#O 2000000000055-outstation7", "#S2", "15/07/24 ,12:30:00 ,  7.25 , E"]
    (HERE / "stark-details.df2").write_bytes(("\r\n".join(lines)).encode())  # no last newline


def banes_dropouts() -> None:
    """BANES rows that used to vanish silently: a line cut after its date, a row with
    values but no date, blank cells, an id Excel rounded, a quote never closed."""
    head = "ID,Date,Location,Type,PostCode,Units,Total Units,"
    head += ",".join(f"[{e}]" for e in END[:-1]) + ",[24:00],M1_Code1,M1_Code2"

    def row(n: int, day: str, cells: list[str], mpan: str) -> str:
        quoted = ",".join(f'"{c}"' for c in cells)
        return f'"id{n}","{day}","School","Electricity","BA1 7UB","kWh","1",{quoted},"{mpan}","S"'

    gaps = vals(4)
    gaps[10] = gaps[11] = ""
    lines = [
        head,
        row(1, "Jul 15 2024 12:00AM", vals(1), "2200000000066"),
        '"id2","Jul 16 2024"',
        row(3, "", vals(3), "2200000000066"),
        row(4, "Jul 17 2024 12:00AM", gaps, "2200000000066"),
        row(5, "Jul 18 2024 12:00AM", vals(5), "2.2E+12"),
        '"id6","Jul 19 2024 12:00AM","Sch',
    ]
    write("banes-dropouts.csv", lines, "\r\n")


def all_blank() -> None:
    """An IMServ file whose one row has every value blank."""
    head = "Site Id,Meter Number,Reading Date," + ",".join(START)
    write("imserv-all-blank.csv", [head, "10545307,K0229111D6,15/07/24" + "," * 48])


if __name__ == "__main__":
    for build in (bglobal, imserv_no_header, highlands_utf16, solar_for_schools):
        build()
    for build in (chellow_simple, stark_df2_details, banes_dropouts, all_blank):
        build()
