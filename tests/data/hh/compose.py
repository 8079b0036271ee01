"""Compose the golden UK half-hourly inputs of tests/data/hh from the documented headers.

Run once (`.venv/bin/python tests/data/hh/compose.py`); the files are committed.
Value of slot s (0-based half-hour of the row) in row r (1-based) is `r*100 + s + 1`
unless a test needs a gap, a flag or a bad cell, which the row builders below set.

Each quirk seen in the real exports (../shared/samples/uk-hh, never copied here) is
reproduced in a generated file, so the suite covers it without them: CR-only line
endings, a preamble and a footer (stark-portal.csv), a `sep=,` line (row-per-reading.csv,
energy-assets-noisy.csv), blank lines and SQL-style dates with the MPAN at the end of the
row (banes.csv), a real zero `0.0` (imserv.csv), an empty kVArh block (sheffield.csv).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
END = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]  # 00:30 … 00:00
START = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 30)]  # 00:00 … 23:30


def vals(row: int, count: int = 48) -> list[str]:
    return [str(row * 100 + s + 1) for s in range(count)]


def write(name: str, lines: list[str], newline: str = "\n", prefix: bytes = b"") -> None:
    (HERE / name).write_bytes(prefix + newline.join(lines).encode() + newline.encode())


def energy_assets() -> None:
    r1, r2 = vals(1), vals(2)
    r2[23], r2[24] = "", "-"  # 12:00 and 12:30 labels missing
    lines = ["MPAN,Meter,Date," + ",".join(END) + ",Total"]
    lines.append("1200000000001,M1,15/01/2024," + ",".join(r1) + ",999")
    lines.append("1200000000001,M1,15/07/2024," + ",".join(r2) + ",999")
    write("energy-assets.csv", lines)
    hr = [f"hr{m // 60:02d}{m % 60:02d}" for m in range(30, 1441, 30)]
    write(
        "energy-assets-hr.csv", ["Channel,Date," + ",".join(hr), "C77,2024-01-15," + ",".join(r1)]
    )
    noisy = ["sep=,", "", '"MPAN","Meter","Date",' + ",".join(f'"{e}:00"' for e in END)]
    noisy += ["", '"1200000000002","M 2","15-Jan-24",' + ",".join(f'"{v}"' for v in vals(1)), ""]
    write("energy-assets-noisy.csv", noisy, "\r\n", b"\xef\xbb\xbf")


def imserv() -> None:
    r1 = vals(1)
    r1[2] = "0.0"  # a real zero (01:00-01:30 GMT), not a gap
    lines = ["Site Id,Meter Number,Reading Date," + ",".join(START)]
    lines.append("10545307,K0229111D6,15/01/24," + ",".join(r1))
    write("imserv.csv", lines)
    head = ",".join(f"{s},{s} Flag" for s in START)
    cells = [f"{v},{'E' if i in (0, 47) else 'A'}" for i, v in enumerate(vals(1))]
    lines = [
        "Site Id,Meter Number,Reading Date," + head,
        "10545307,K02,16/07/2024," + ",".join(cells),
    ]
    write("imserv-flags.csv", lines)


def stark() -> None:
    pre = ["", "Meter Sequential - Variable Length - CSV kWh - Electricity"]
    pre += ["Report Date,11/07/24 00:00:00", "Report Run Date,12/07/24 15:15:44"]
    pre += [
        "Company Name,Pretend Council",
        "Reporting Set,NHH 2100 - EMD",
        "Meters in Reporting Set,1",
    ]
    pre += [""]
    head = "Company Name,Site Name,Online Meter Name,MPAN,Meter ID,Type,Est,Date," + ",".join(END)
    rows = [
        '"Pretend","School","NHH 2100",2100004035999,EMD,KWH,A,15/01/24,' + ",".join(vals(1)),
        '"Pretend","School","NHH 2100",2100004035999,EMD,KWH,E,16/01/24,' + ",".join(vals(2)),
        '"Pretend","School","NHH 2100",2100004035999,EMD,KWH,-,17/01/24,' + ",".join(vals(3)),
        '"Pretend","School","NHH 2100",2100004035999,EMD,KWH,A,11/07/24,' + ",".join(vals(4)),
    ]
    zone = "(UTC+00:00) Dublin, Edinburgh, Lisbon, London (With Daylight Saving)"
    foot = ["", f'"Report Time Zone: {zone}"', ""]
    write("stark-portal.csv", [*pre, head, *rows, *foot], "\r")


def sse() -> None:
    head = "MPAN,Meter Serial Number,Units,Date," + ",".join(f"{s},{s} Flag" for s in START)
    lines = [head]
    for row, unit in ((1, "KWH"), (2, "LAG"), (3, "LEAD")):
        cells = [f"{v},{'E' if i == 10 else 'A'}" for i, v in enumerate(vals(row))]
        lines.append(f"1900000000009,S123,{unit},15/01/2024," + ",".join(cells))
    write("sse.csv", lines)


def edf_historic() -> None:
    head = "MPAN,Date (UTC),Total kWh," + ",".join(f"{s},Type" for s in START)
    status = ["Actual"] * 48
    status[5], status[6] = "Estimated", "-"
    cells = ",".join(f"{v},{t}" for v, t in zip(vals(1), status, strict=True))
    write("edf-historic.csv", [head, f"1600000000005,27-10-2024,1234,{cells}"])


def edf_portal() -> None:
    head = "MPAN,Date," + ",".join(f"HH{n}" for n in range(1, 51)) * 1
    head += "," + ",".join(f"HH{n}" for n in range(1, 51))
    lines = [head]
    for row, day, filled in ((1, "27/10/2024", 50), (2, "31/03/2024", 46), (3, "15/01/2024", 48)):
        values = vals(row, filled) + [""] * (50 - filled)
        status = ["Actual"] * filled + ["-"] * (50 - filled)
        status[0] = "Estimated"
        lines.append(f"1700000000007,{day}," + ",".join(values) + "," + ",".join(status))
    write("edf-portal.csv", lines)


def settlement() -> None:
    lines = ["MPAN,Date,Total," + ",".join(f"HH{n}" for n in range(1, 51))]
    for row, day, filled in ((1, "2025-10-26", 50), (2, "2025-03-30", 46), (3, "2025-01-15", 48)):
        lines.append(
            f"1800000000003,{day},0," + ",".join(vals(row, filled) + ["-"] * (50 - filled))
        )
    write("settlement-50.csv", lines)


def npower() -> None:
    head = "mpan,rdate,TotalConsumptionKwh,MaxDemand,colStatuskwh," + ",".join(
        f"Kwh{n}" for n in range(1, 49)
    )
    lines = [head, "1300000000004,15/01/2024,100,5,A," + ",".join(vals(1))]
    lines.append("1300000000004,16/01/2024,100,5,E," + ",".join(vals(2)))
    write("npower.csv", lines)


def sheffield() -> None:
    head = "siteRef,MPAN,ConsumptionDate," + ",".join(f"kWh_{n}" for n in range(1, 49))
    head += "," + ",".join(f"kVArh_{n}" for n in range(1, 49))
    line = "School,2336533093112,15/01/2024," + ",".join(vals(1)) + "," + ",".join(vals(5))
    eight = [f"{float(v):.8f}" for v in vals(2)]  # 201.00000000: the real export's precision
    empty = "School,2336533093112,16/01/2024," + ",".join(eight) + "," * 48  # no kVArh at all
    write("sheffield.csv", [head, line, empty])


def british_gas() -> None:
    cols = ",".join(f"interval_{n}_indicator,interval_{n}" for n in range(1, 49))
    head = "consumption_source,mpxn,msn,meter_read_type,reading_date," + cols
    cells = ",".join(f"{'E' if i == 2 else 'A'},{v}" for i, v in enumerate(vals(1)))
    write("british-gas.csv", [head, f"DC,1400000000006,MSN1,A,15/01/2024,{cells}"])


def banes_lines(sites: list[tuple[str, str]]) -> list[str]:
    """BANES lines: header, a blank line, one row per (MPAN, Location site name), a blank line.

    The site name is quoted as the real export quotes it (a `"` inside doubled), so any
    text can be a Location (tests of the channel label use this).
    """
    head = "ID,Date,Location,Type,PostCode,Units,Total Units,"
    head += ",".join(f"[{e}]" for e in END[:-1]) + ",[24:00],M1_Code1,M1_Code2"
    rows = []
    for row, (mpan, name) in enumerate(sites, start=1):  # one MPAN per row, at the end
        cells = ",".join(f'"{v}"' for v in vals(row))
        location = '"' + name.replace('"', '""') + '"'
        site = f'"id{row}","Jul 15 2024 12:00AM",{location},"Electricity","BA1 7UB","kWh"'
        rows.append(f'{site},"1",{cells},"{mpan}","E10BG{row}"')
    return [head, "", *rows, ""]


def banes() -> None:
    sites = [("2200012767323", "School 1"), ("2200012833358", "School 2")]
    write("banes.csv", banes_lines(sites), "\r\n")


def row_per_reading() -> None:
    lines = ["sep=,", "MPR,ReadDatetime,kWh,ReadType"]
    for s in range(48):
        minutes = (s + 1) * 30
        day = "15 Jan 2024" if minutes < 1440 else "16 Jan 2024"
        flag = "Estimated" if s == 3 else "Actual"
        hhmm = f"{(minutes // 60) % 24:02d}:{minutes % 60:02d}:00"
        lines.append(f"1712423842469,{day} {hhmm},{s + 1},{flag}")
    write("row-per-reading.csv", lines)


def df2() -> None:
    lines = ["#F2", "#O 2000000000008", "#S 1"]
    for s in range(48):
        minutes = (s + 1) * 30
        lines.append(
            f"15/01/2024,{minutes // 60:02d}:{minutes % 60:02d},{s + 1},{'E' if s == 0 else 'A'}"
        )
    write("stark.df2", lines, "\r\n")


if __name__ == "__main__":
    for build in (energy_assets, imserv, stark, sse, edf_historic, edf_portal, settlement):
        build()
    for build in (npower, sheffield, british_gas, banes, row_per_reading, df2):
        build()
