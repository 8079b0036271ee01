"""The SFTP wizard's "Log in and list the files": a real login, and what the source would take."""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

SHOWN = 5


def list_what_would_be_taken(
    host: str, port: int, user: str, password: str, key_file: str, fingerprint: str,
    folders: list[str],
) -> str:  # fmt: skip
    """Log in (checking the host key `fingerprint`), list each folder; one plain paragraph.

    Raises:
        ValueError: in plain words, when the login or a listing fails.
    """
    from app.core.pulls.sftp.connect import SftpConfig, SftpError, SftpFolder, connect
    from app.core.pulls.sftp.state import SftpState

    config = SftpConfig(host=host, user=user, port=port, key_file=key_file,
                        host_key_fingerprint=fingerprint,
                        folders=[SftpFolder(path=f) for f in folders])  # fmt: skip
    lines = []
    with tempfile.TemporaryDirectory() as scratch:  # nothing is pinned or remembered here
        state = SftpState(Path(scratch) / "state.sqlite3")
        try:
            with connect(config, state, password or None) as client:
                lines.append(f"✓ Logged in to {host} as {user}.")
                lines += [_folder_line(client, folder.path) for folder in config.folders]
        except SftpError as exc:
            raise ValueError(str(exc)) from None
    return "\n".join(lines)


def _folder_line(client: object, path: str) -> str:
    try:
        entries = client.listdir_attr(path)  # type: ignore[attr-defined]
    except OSError as exc:
        return f"{path}: cannot be listed ({exc})."
    names = sorted(e.filename for e in entries if stat.S_ISREG(e.st_mode or 0))
    if not names:
        return f"{path}: no files yet; new ones will be taken as they arrive."
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"{path}: {len(names)} file(s) would be taken: {', '.join(names[:SHOWN])}{more}."
