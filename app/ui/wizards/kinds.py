"""The kinds of source a wizard can set up, and which pages each one walks through."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.sources.records import PUSH_KINDS


@dataclass(frozen=True)
class WizardKind:
    """A source kind the wizard sets up: its menu title and what it is, in a sentence."""

    kind: str
    title: str
    summary: str

    @property
    def connector(self) -> str:
        """The connector that reads this kind (its id is the kind's name)."""
        return self.kind

    @property
    def push(self) -> bool:
        """Whether devices of this kind push to the listener (else meterbridge pulls)."""
        return self.kind in PUSH_KINDS


WIZARD_KINDS: tuple[WizardKind, ...] = (
    WizardKind("episensor", "EpiSensor gateway…",
               "The gateway pushes JSON readings to meterbridge's listener."),
    WizardKind("acurev2100", "AcuRev 2100 meter…",
               "The meter's data logger posts CSV or JSON logs to the listener."),
    WizardKind("aculink810", "AcuLink 810 gateway…",
               "The gateway posts its devices' logs to the listener."),
    WizardKind("uk-hh", "UK half-hourly files…",
               "48-column files from a data collector, in a folder or on an SFTP server."),
    WizardKind("verdigris", "Verdigris…",
               "meterbridge pulls energy readings from the Verdigris API on a schedule."),
    WizardKind("generic", "Generic CSV / readings file…",
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
