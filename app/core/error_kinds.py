"""What kind of failure an error is: a stable word the GUI turns into one plain sentence.

Our errors say it themselves: a `kind` set by their class (`AuthError` is always
``refused``) or where they are raised, from a typed field (an HTTP status, the
standard library error they wrap). The standard library's own file and network
errors get theirs from their type. A failure that is stored (a job's last run) keeps
its kind beside its message, so the sentence is chosen again later without
reading the message. "" means no kind in particular: the message says it all.

The connectors (which import nothing of `app`) use the same words, literally
(`connectors.base.SourceError.kind`, `connectors.base.http_status_kind`).
"""

from __future__ import annotations

import socket

REFUSED = "refused"  # the server refused the key, password or login
UNREACHABLE = "unreachable"  # no connection, no answer in time, a name that does not resolve
OUTAGE = "outage"  # the server answered, but with 5xx or 429: it is not working right now
MISSING = "missing"  # a file or folder that is not there
PERMISSION = "permission"  # this PC does not let us open the file or folder
ENCODING = "encoding"  # a file's text in an encoding we cannot read
KINDS = frozenset({REFUSED, UNREACHABLE, OUTAGE, MISSING, PERMISSION, ENCODING})

BY_TYPE: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (FileNotFoundError, MISSING),
    (PermissionError, PERMISSION),
    (UnicodeDecodeError, ENCODING),
    ((ConnectionError, TimeoutError, socket.gaierror), UNREACHABLE),
)


class KindedError(Exception):
    """An error that says what kind of failure it is (`kind`: one of `KINDS`, or "")."""

    kind: str = ""

    def __init__(self, message: str = "", *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


def kind_of(error: BaseException) -> str:
    """The kind of `error`: its own `kind`, else its standard type's; "" when neither says.

    Args:
        error: any exception (ours, the standard library's or a library's).

    Returns:
        One of `KINDS`, or "".
    """
    own = getattr(error, "kind", "")
    if isinstance(own, str) and own in KINDS:
        return own
    return next((kind for types, kind in BY_TYPE if isinstance(error, types)), "")
