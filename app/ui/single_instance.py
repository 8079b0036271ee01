"""One running app per user: a second launch asks the first to show its window."""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

RAISE = b"raise\n"
OPEN = b"open "  # followed by a file path and a newline: preview that file


def server_name(home: str) -> str:
    """A per-user, per-home name for the local socket."""
    digest = hashlib.sha256(f"{getpass.getuser()}|{home}".encode()).hexdigest()[:16]
    return f"meterbridge-{digest}"


def ask_running_instance(name: str, timeout_ms: int = 1000, files: list[str] | None = None) -> bool:
    """Tell a running instance to raise its window (and preview `files`); True if one answered."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(RAISE + b"".join(OPEN + f.encode("utf-8") + b"\n" for f in files or []))
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    """The first instance's listening side; emits `raise_requested` on a second launch."""

    raise_requested = Signal()
    files_requested = Signal(list)  # paths a second launch asked to preview

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self._sockets: list[QLocalSocket] = []
        self.server.newConnection.connect(self._on_server_new_connection)

    def listen(self) -> bool:
        """Start listening; clears a stale socket left by a crash."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        """Stop listening."""
        self.server.close()
        for socket in self._sockets:
            socket.abort()
        self._sockets.clear()

    def _on_server_new_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._sockets.append(socket)  # owned by the server; dropped when it closes
            socket.readyRead.connect(self._on_socket_ready_read)
            if socket.bytesAvailable():
                self._read(socket)

    def _on_socket_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if data.startswith(RAISE.strip()):
            self.raise_requested.emit()
        files = [line[len(OPEN) :].decode("utf-8", "replace")
                 for line in data.splitlines() if line.startswith(OPEN)]  # fmt: skip
        if files:
            self.files_requested.emit(files)
