"""The kinds of source a wizard can set up, and which pages each one walks through."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WizardKind:
    """A source kind: its connector, title, and whether it pushes or is pulled."""

    kind: str
    title: str
    connector: str
    push: bool = False
    summary: str = ""


WIZARD_KINDS: tuple[WizardKind, ...] = (
    WizardKind("episensor", "EpiSensor gateway…", "episensor", True,
               "The gateway pushes JSON readings to meterbridge's listener."),
    WizardKind("acurev2100", "AcuRev 2100 meter…", "acurev2100", True,
               "The meter's data logger posts CSV or JSON logs to the listener."),
    WizardKind("aculink810", "AcuLink 810 gateway…", "aculink810", True,
               "The gateway posts its devices' logs to the listener."),
    WizardKind("uk-hh", "UK half-hourly files…", "uk-hh", False,
               "48-column files from a data collector, in a folder or on an SFTP server."),
    WizardKind("verdigris", "Verdigris…", "verdigris", False,
               "meterbridge pulls energy readings from the Verdigris API on a schedule."),
    WizardKind("generic", "Generic CSV / readings file…", "generic", False,
               "Any CSV with an id, a time and a value per row."),
)  # fmt: skip


def kind_named(kind: str) -> WizardKind:
    """The kind called `kind` (uk-hh-sftp counts as uk-hh).

    Raises:
        KeyError: for an unknown kind.
    """
    wanted = "uk-hh" if kind == "uk-hh-sftp" else kind
    for item in WIZARD_KINDS:
        if item.kind == wanted:
            return item
    raise KeyError(f"unknown source kind {kind!r}")
