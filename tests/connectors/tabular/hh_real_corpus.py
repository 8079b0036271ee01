"""What each real file of ../shared/samples/hh-real must give (issue 16's corpus).

Not a test module: the table is shared by `test_hh_real_corpus.py` (the connector
picked as `--connector auto` picks it) and `tests/test_cli_hh_corpus.py` (`meterbridge
send` to the fake EnergyCAP). The files are never copied into the repository; their
sources and licences are in ../shared/samples/hh-real/NOTICE.md. Each row states the
readings count, a few exact values at exact UTC instants (interval ends), the problems
named (kind, physical line, words of the message) and the exit code of `send`.

Time basis as documented in docs/reference/uk-hh.md: .df2 times are UTC half-hour
ends; BGlobal rows without a header are UTC days; Chellow's CSV gives UTC starts;
everything else is Europe/London local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BAD, HELD, WARN = "bad_value", "held_back", "warning"


@dataclass(frozen=True)
class Expected:
    """The outcome of one corpus file."""

    name: str
    layout: str | None  # None: refused as a whole (exit 2)
    readings: int
    values: dict[tuple[str, str], float] = field(default_factory=dict)  # (source, UTC end)
    problems: tuple[tuple[str, int | None, str], ...] = ()  # (kind, line, words)
    exit_code: int = 0
    refused: str = ""  # words of the whole-file error
    absent: tuple[tuple[str, str], ...] = ()  # (source, UTC end) that must not be sent
    sent: int | None = None  # readings `send` delivers, when not `readings`


CORPUS: tuple[Expected, ...] = (
    Expected(
        "chellow-bg-no-header.csv",
        "bglobal",
        96,
        {
            ("2292056799106", "2008-07-06T00:30"): 0.262,
            ("2292056799106", "2008-07-06T01:30"): 0.252,
            ("2292056799106", "2008-07-08T00:00"): 0.29,
            ("maptest", "2008-07-08T00:30"): 0.7,
        },
        ((WARN, 1, "1 of 48 half-hours are blank"), (WARN, 3, "47 of 48 half-hours are blank")),
        absent=(("2292056799106", "2008-07-06T01:00"),),
    ),
    Expected(
        "chellow-df2-autumn-clock-change-2005.df2",
        "stark-df2",
        4,
        {
            ("2234751614211-2", "2005-10-30T00:00"): 51.8,
            ("2234751614211-2", "2005-10-30T00:30"): 44.6,
            ("2234751614211-2", "2005-10-30T01:00"): 22.6,
            ("2234751614211-2", "2005-10-30T01:30"): 20.4,
        },
    ),
    Expected(
        "chellow-df2-bad-mpan-beginning.df2",
        "stark-df2",
        4,
        {
            ("2204707514535", "2006-10-09T00:30"): 3.6,
            ("2204707514535", "2006-10-09T01:00"): 3.8,
            ("2204707514535", "2006-10-09T02:00"): 3.6,
        },
    ),
    Expected(
        "chellow-df2-current-test-2024.df2",
        "stark-df2",
        3,
        {
            ("2248274887874", "2024-04-16T00:30"): 0.77,
            ("2248274887874", "2024-04-16T01:00"): 0.064,
            ("2248274887874", "2024-04-16T01:30"): 0.0,
        },
    ),
    Expected(
        "chellow-df2-estimated.df2",
        "stark-df2",
        3,
        {
            ("2204707514535-2", "2005-12-15T07:30"): 1.0,
            ("2204707514535-2", "2005-12-15T08:30"): 1.0,
        },
    ),
    Expected(
        "chellow-df2-header-but-no-data.df2",
        "stark-df2",
        0,
        {},
        ((WARN, None, "no reading lines"),),
    ),
    Expected(
        "chellow-df2-malformed-line.df2",
        "stark-df2",
        0,
        {},
        ((BAD, 4, "not a df2 reading line"),),
        exit_code=1,
    ),
    Expected(
        "chellow-df2-multi-outstation-padded.df2",
        "stark-df2",
        6,
        {
            ("2234751614211-2", "2005-11-15T00:30"): 1.0,
            ("2298132107763", "2005-12-29T00:30"): 0.0,
            ("2279074116080-2", "2005-11-16T00:30"): 1.0,
            ("2234797618470-2", "2005-09-15T00:30"): 1.0,
            ("2208836932301", "2005-09-15T00:30"): 3.0,
            ("2208836932301", "2010-03-15T12:30"): 0.0,
        },
    ),
    Expected(
        "chellow-df2-spring-clock-change-2014.df2",
        "stark-df2",
        1,
        {("2208836932301", "2014-03-30T01:00"): 0.0},
    ),
    Expected(
        "chellow-df2-two-digit-year.df2",
        "stark-df2",
        5,
        {
            ("9934751614212-2", "2005-11-15T00:30"): 1.0,
            ("9998132107764", "2005-12-29T00:30"): 0.0,
            ("2208836932301", "2005-09-15T00:30"): 3.0,
        },
    ),
    Expected(
        "chellow-simple-csv.csv",
        "chellow-simple",
        1,
        {("2204707514535", "2005-09-15T00:30"): 1.0},
    ),
    Expected(
        "energysparks-banes-bad-one-date.csv",
        "banes",
        48,
        {
            ("2200012767323", "2019-11-13T00:30"): 0.969,
            ("2200012767323", "2019-11-14T00:00"): 1.034,
        },
        ((BAD, 3, "not a date"),),
        exit_code=1,
    ),
    Expected(
        "energysparks-banes-missing-data.csv",
        "banes",
        95,
        {("2200012767323", "2019-11-13T00:30"): 0.969, ("2200012767323", "2019-11-15T00:00"): 0.0},
        ((WARN, 2, "1 of 48 half-hours are blank"),),
        absent=(("2200012767323", "2019-11-14T00:00"),),
    ),
    Expected(
        "energysparks-banes-missing-invalid-mpan.csv",
        "banes",
        96,
        {("1234567890", "2019-11-14T00:30"): 0.969, ("1.23405E+12", "2019-11-16T00:00"): 1.034},
        ((BAD, 3, "no meter id"), (WARN, 4, "Excel rounded")),
        exit_code=1,
    ),
    Expected(
        "energysparks-banes-sql-rows-affected-footer.csv",
        "banes",
        48,
        {
            ("2200012030347", "2018-09-02T23:30"): 0.165,
            ("2200012030347", "2018-09-03T23:00"): 0.151,
        },
    ),
    Expected(
        "energysparks-banes-truncated-middle-row.csv",
        "banes",
        144,
        {
            ("2200012030347", "2018-09-02T23:30"): 0.165,
            ("2200012030349", "2018-09-06T23:00"): 0.151,
        },
        ((BAD, 3, "cut off"),),
        exit_code=1,
    ),
    Expected(
        "energysparks-energy-assets-html-page.csv",
        None,
        0,
        exit_code=2,
        refused="an HTML web page titled 'Dataserve - Powered by SenseLogix'",
    ),
    Expected(
        "energysparks-highlands-example-missing-half-hours.csv",
        "row-per-reading",
        526,
        {("1710035168313", "2019-08-25T23:30"): 14.4, ("1712050781307", "2019-08-26T23:30"): 12.8},
    ),
    Expected(
        "energysparks-highlands-example-offset.csv",
        "row-per-reading",
        382,
        {("1700052624128", "2019-12-03T00:00"): 1.0, ("1710035166005", "2019-12-03T00:00"): 6.3},
    ),
    Expected(
        "energysparks-highlands-example.csv",
        "row-per-reading",
        480,
        {("1710035168313", "2019-08-25T23:30"): 14.4, ("1710035168313", "2019-08-26T23:00"): 15.2},
    ),
    Expected(
        "energysparks-highlands-rpr-some-missing-readings.csv",
        "row-per-reading",
        94,
        {("1700052624128", "2019-12-03T00:00"): 1.0, ("1710146092002", "2019-12-03T00:00"): 25.1},
    ),
    Expected(
        "energysparks-highlands-utf16-bom-crlf.csv",
        "row-per-reading",
        6,
        {("1700051513402", "2019-09-02T23:30"): 0.4, ("1700051906970", "2019-09-04T23:00"): 20.2},
    ),
    Expected(
        "energysparks-highlands-utf16-nulls-empty-lines.csv",
        "row-per-reading",
        15,
        {("1700051910531", "2019-08-26T23:30"): 4.6, ("1700051910531", "2019-08-27T06:30"): 7.5},
    ),
    Expected(
        "energysparks-imserv-all-missing-readings.csv",
        "imserv",
        28,
        {("10545307", "2018-11-12T00:30"): 9.9, ("10545307", "2018-11-12T14:00"): 42.422516},
        ((WARN, 2, "20 of 48 half-hours are blank"),),
        absent=(("10545307", "2018-11-12T14:30"),),
    ),
    Expected(  # two rows for one meter-day: the pipeline's guard names the values that differ
        "energysparks-imserv-duplicate-rows.csv",
        "imserv",
        96,
        exit_code=1,
        sent=9,  # the half-hours where both rows say 0
    ),
    Expected(
        "energysparks-imserv-incomplete-row.csv",
        "imserv",
        0,
        {},
        ((BAD, 2, "the line has 3 fields"),),
        exit_code=1,
    ),
    Expected(
        "energysparks-imserv-malformed-quote.csv",
        "imserv",
        48,
        {("10545307", "2018-11-12T00:30"): 9.9, ("10545307", "2018-11-13T00:00"): 1.116382},
        ((BAD, 3, "never closed"),),
        exit_code=1,
    ),
    Expected(
        "energysparks-imserv-mixed-line-endings-no-header.csv",
        "imserv-headerless",
        144,
        {("2200013680374", "2017-03-31T23:30"): 5.7, ("2200013680374", "2018-03-31T23:00"): 5.4},
    ),
    Expected(
        "energysparks-imserv-no-readings.csv",
        "imserv",
        0,
        {},
        ((WARN, 2, "48 of 48 half-hours are blank"), (BAD, None, "no readings in the file")),
        exit_code=1,
    ),
    Expected(
        "energysparks-imserv-some-missing-readings.csv",
        "imserv",
        124,
        {("10545307", "2017-11-11T00:30"): 9.9, ("10545307", "2018-11-13T14:00"): 42.422516},
        ((WARN, 4, "20 of 48 half-hours are blank"),),
    ),
    Expected(
        "energysparks-imserv-valid-no-header.csv",
        "imserv-headerless",
        48,
        {("10545307", "2018-11-12T00:30"): 9.9, ("10545307", "2018-11-13T00:00"): 1.116382},
    ),
    Expected(
        "energysparks-not-a-csv-png.csv",
        None,
        0,
        exit_code=2,
        refused="a PNG image",
    ),
    Expected(
        "energysparks-sheffield-extra-empty-column.csv",
        "sheffield",
        96,
        {("2336533093112", "2019-12-10T00:30"): 6.25, ("2336533093112", "2019-12-12T00:00"): 5.29},
    ),
    Expected(
        "energysparks-sheffield-gas-hr0030.csv",
        "energy-assets",
        96,
        {
            ("6326701", "2017-09-11T23:30"): 0.0,
            ("6326701", "2017-09-12T14:30"): 5.653,
            ("6326701", "2017-09-12T15:00"): 16.959,
        },
    ),
    Expected(
        "energysparks-sheffield-no-siteref-extra-column.csv",
        "sheffield",
        4176,
        {
            ("2380001727391", "2019-08-04T23:30"): 0.743,
            ("2380001727391", "2019-11-01T00:00"): 0.634,
        },
        ((HELD, None, "2019-10-27 held back"),),
        exit_code=1,
    ),
    Expected(
        "energysparks-sheffield-one-empty-row.csv",
        "sheffield",
        96,
        {
            ("2380001730739", "2020-01-01T00:30"): 5.955,
            ("2333300681718", "2019-12-31T00:30"): 1.208,
        },
        ((WARN, 3, "48 of 48 half-hours are blank"),),
    ),
    Expected(
        "energysparks-solar-for-schools-12h-ampm.csv",
        "solar-for-schools",
        48,
        {
            ("91030083649169", "2016-08-31T23:30"): 5.616,
            ("91030083649169", "2016-09-01T23:00"): 6.264,
        },
    ),
)
