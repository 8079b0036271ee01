"""Errors as one plain sentence, the technical detail kept behind “Details…”.

Messages that reach the GUI come from many places: our own plain sentences, the
EnergyCAP client's ("did not answer GET /api/v3/… after 2 attempts (last: …)"),
SFTP and HTTP libraries, the mapping parser ("mapping:2: source … needs exactly
one of …"). `plain_and_details` keeps a plain message as it is and turns a
technical one into a sentence a facility manager can act on; the original
text becomes the detail. Which sentence comes from the error's kind
(`app.core.error_kinds`: its type, or a typed field such as the HTTP status),
never from its words; only a failure stored as text with no kind beside it (a
refusal reason EnergyCAP wrote, a job run recorded before kinds were kept) is
read for one (`kind_in_text`). `DetailsLine` shows the sentence with a Details…
button that appears only when there is detail. Tracebacks go to the log file
only (`app.ui.workers` logs them); never into a message.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from app.core.error_kinds import (
    ENCODING,
    MISSING,
    OUTAGE,
    PERMISSION,
    REFUSED,
    UNREACHABLE,
    kind_of,
)

DETAILS = "\n\nDetails: "  # a message made plain already, with its technical part after
LONGEST_PLAIN = 160

TECHNICAL = re.compile(
    r"Traceback|\w(Error|Exception)\b|\[Errno|errno|HTTP/\d|/api/v\d|\bGET /|\bPOST /|"
    r"<[\w.]+ object|0x[0-9a-f]{6,}|\w+\.\w+\.\w+\(|:\d+: |attempts \(last",
)
CAUSES = {
    REFUSED: "the server refused the key or password: check it and try again.",
    UNREACHABLE: "the server could not be reached: check the address and the network.",
    MISSING: "the file or folder is not there (moved or deleted?).",
    PERMISSION: "this PC does not allow meterbridge to open that file or folder.",
    OUTAGE: "the server is not answering properly right now: try again later.",
    ENCODING: "the file's text is in an encoding meterbridge cannot read.",
}
# Only for failures kept as text without their kind (see the module's docstring).
KINDS_IN_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b40[13]\b|unauthori[sz]ed|forbidden|authenticat|refused the (key|client"
            r"|login)|invalid_client|bad credentials|publickey",
            re.I,
        ),
        REFUSED,
    ),
    (
        re.compile(
            r"could not be reached|did not answer|connection (refused|failed|reset|"
            r"error|aborted)|timed? ?out|name or service not known|getaddrinfo|"
            r"unreachable|no route to host|network is|temporary failure in name",
            re.I,
        ),
        UNREACHABLE,
    ),
    (re.compile(r"no such file|not found: '?/|FileNotFoundError", re.I), MISSING),
    (re.compile(r"permission denied|PermissionError|access is denied", re.I), PERMISSION),
    (re.compile(r"\b5\d\d\b|service unavailable|bad gateway|outage", re.I), OUTAGE),
    (re.compile(r"UnicodeDecodeError|codec can't decode|not valid UTF", re.I), ENCODING),
)


def kind_in_text(message: str) -> str:
    """The kind of a failure known only by its words (stored without its kind); or ""."""
    return next((kind for pattern, kind in KINDS_IN_TEXT if pattern.search(message)), "")


def plain_and_details(
    error: str | BaseException, what: str = "", *, kind: str | None = None
) -> tuple[str, str]:
    """(one plain sentence, the technical detail or "") of an error or its message.

    `what` says what failed ("The pull of “Site A” failed"); it leads the sentence
    when the message had to be put in plain words. An exception's kind picks the
    sentence (`app.core.error_kinds.kind_of`); for text, `kind` is the kind stored
    with it ("" for none in particular), and only text kept without one (None) is
    read for its kind.
    """
    # The standard library's words ("'utf-8' codec can't decode byte 0xff …") are never
    # the sentence, even when they look plain; ours are, when they are plain.
    library = False
    if isinstance(error, BaseException):
        kind = kind_of(error)
        library = bool(kind) and getattr(error, "kind", None) is None
        error = str(error) or type(error).__name__
    message = (error or "").strip()
    if DETAILS in message:
        plain, _, detail = message.partition(DETAILS)
        return _joined(what, plain) if what else plain, detail.strip()
    if not message:
        return (f"{what}." if what else "Something went wrong."), ""
    if not library and not TECHNICAL.search(message):
        first = _first_sentence(message)
        if len(first) <= LONGEST_PLAIN:
            plain = _joined(what, first) if what else first
            return plain, "" if first == message else message
    cause = CAUSES.get(kind_in_text(message) if kind is None else kind, "")
    lead = what or "That did not work"
    if cause:
        return f"{lead}: {cause}", message
    return f"{lead}; Details… says why.", message


NOT_FOUND = re.compile(
    r"^(?P<what>ESA channel|Channel|Meter|Data point) with (?P<field>\w+) '?(?P<id>[^'\r\n]*?)'? "
    r"not found\.?$",
    re.I,
)
IDS_NAMED = 3


def plain_refusals(reasons: list[str], count: int) -> tuple[str, str]:
    """(one plain sentence, EnergyCAP's own words) for `count` refused readings.

    EnergyCAP names what it could not find ("Meter with meterImportId '22…' not
    found", one reason per meter); those become one sentence naming the ids and
    what to do. Any other reason goes through `plain_and_details`.
    """
    distinct = list(dict.fromkeys(r.strip() for r in reasons if r and r.strip()))
    lead = f"EnergyCAP refused {count:,} reading(s)"
    details = "\n".join(distinct)
    missing: dict[tuple[str, bool], list[str]] = {}
    for reason in distinct:
        found = NOT_FOUND.match(reason)
        if found is None:
            plain, technical = plain_and_details(reason, lead)
            return plain, details if (technical or len(distinct) > 1) else ""
        missing.setdefault(_thing(found), []).append(found["id"])
    if not missing:
        return f"{lead}.", ""
    (what, by_import_id), ids = next(iter(missing.items()))
    many = "s" if len(ids) > 1 else ""
    thing = f"{what}{many} with the import id{many}" if by_import_id else f"{what}{many}"
    more = f" and {len(ids) - IDS_NAMED} more" if len(ids) > IDS_NAMED else ""
    them = "them" if many else "it"
    plain = (
        f"{lead}: it has no {thing} {', '.join(ids[:IDS_NAMED])}{more}. "
        f"Map {them} (Mapping) or add {them} in EnergyCAP."
    )
    return plain, details


def refusal_reason(reason: str) -> str:
    """One refusal reason of EnergyCAP's, short, in plain words (a Dead letters cell)."""
    found = NOT_FOUND.match(reason.strip())
    if found is None:
        return plain_and_details(reason)[0]
    what, by_import_id = _thing(found)
    thing = f"{what} with the import id" if by_import_id else what
    return f"EnergyCAP has no {thing} {found['id']}"


def _thing(found: re.Match[str]) -> tuple[str, bool]:
    """What EnergyCAP did not find ("meter", "ESA channel"), and whether by its import id."""
    what = found["what"].lower().replace("esa ", "ESA ")
    return what, found["field"].lower() not in ("channelid", "esachannelid")


def _first_sentence(text: str) -> str:
    line = text.splitlines()[0].strip()
    found = re.match(r"(.+?[.!?])(\s|$)", line)
    return found.group(1) if found else line


def _joined(what: str, plain: str) -> str:
    return f"{what}: {plain}" if plain else f"{what}."


def show_details_box(parent: QWidget, plain: str, details: str) -> QMessageBox:
    """The technical detail, in a box the user can copy from (not modal to the app)."""
    box = QMessageBox(QMessageBox.Icon.Information, "Details", plain, parent=parent)
    box.setDetailedText(details)
    box.setAccessibleName("Details")
    box.open()
    return box


class DetailsLine(QWidget):
    """A message line (red for an error) with “Details…” when there is technical detail."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setAccessibleName(name)
        self.details = ""
        self.details_button = QPushButton("Details…")
        self.details_button.setAccessibleName(f"Details of the {name.lower()}")
        self.details_button.clicked.connect(self.show_details)
        self.details_button.hide()
        self.box: QMessageBox | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.details_button)

    def text(self) -> str:
        """The sentence shown."""
        return self.label.text()

    def setText(self, text: str) -> None:  # as QLabel, so it can stand in for one
        """A message that is no error (no Details)."""
        self.say(text)

    def say(self, text: str, *, error: bool = False, details: str = "") -> None:
        """Show `text`; `details` waits behind the button."""
        self.label.setText(text)
        self.label.setStyleSheet("color: #d03a2f;" if error else "")
        self.details = details
        self.details_button.setVisible(bool(details))

    def error(self, error: str | BaseException, what: str = "", kind: str | None = None) -> None:
        """Show an error (or its message) in plain words, its technical part behind Details…"""
        plain, details = plain_and_details(error, what, kind=kind)
        self.say(plain, error=True, details=details)

    def show_details(self) -> QMessageBox:
        """Open the Details box."""
        self.box = show_details_box(self, self.label.text(), self.details)
        return self.box
