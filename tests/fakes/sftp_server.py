"""A real SFTP server on loopback for tests: OpenSSH's sshd when it runs here, else asyncssh.

Both serve a local folder (`root`); `remote(rel)` is the path a client uses
for ``root/rel``. `fingerprint` is the host key's SHA256 fingerprint as
OpenSSH prints it; `change_host_key()` restarts the server with a new key.
The asyncssh server accepts a password and a public key; sshd (run as the
current user, which only allows that user) accepts the public key only.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import asyncssh
import paramiko

from tests.ports import free_port

log = logging.getLogger(__name__)

SSHD = Path(os.environ.get("METERBRIDGE_TEST_SSHD", "/usr/sbin/sshd"))
PASSWORD = "pa55word"


def make_client_key(folder: Path) -> Path:
    """An unencrypted ed25519 client key in OpenSSH format; returns its path."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = folder / "id_ed25519"
    key.write_private_key(str(path))
    key.write_public_key(str(path) + ".pub")
    path.chmod(0o600)
    return path


class _Sftp(asyncssh.SFTPServer):
    """asyncssh's SFTP server, refusing to open files named ``locked*`` (like mode 000)."""

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if path.rsplit(b"/", 1)[-1].startswith(b"locked"):
            raise asyncssh.SFTPError(asyncssh.FX_PERMISSION_DENIED, "Permission denied")
        return super().open(path, pflags, attrs)


class AsyncSshServer:
    """asyncssh's SFTP server in a thread, chrooted to `root`."""

    kind = "asyncssh"

    def __init__(
        self,
        root: Path,
        client_key: Path,
        user: str = "collector",
        key_types: tuple[str, ...] = ("ssh-ed25519",),
    ) -> None:
        self.root = root
        self.user = user
        self.client_key = client_key
        self.port = free_port()
        self.key_types = key_types
        self._host_keys = [asyncssh.generate_private_key(t) for t in key_types]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._listener: Any = None
        self._connections: set[Any] = set()
        self._serve()

    def _serve(self) -> None:
        authorized = asyncssh.read_authorized_keys(str(self.client_key) + ".pub")
        server = self

        class Auth(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                server._connections.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                return

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == server.user and password == PASSWORD

        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1", self.port, server_host_keys=self._host_keys,
                authorized_client_keys=authorized, server_factory=Auth,
                sftp_factory=lambda chan: _Sftp(chan, chroot=str(self.root).encode()),
            )  # fmt: skip

        self._listener = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)

    @property
    def fingerprint(self) -> str:
        """The (first) host key's SHA256 fingerprint."""
        return str(self._host_keys[0].get_fingerprint("sha256"))

    @property
    def host_key_blob(self) -> bytes:
        """The (first) host key's public blob, as fingerprints hash it."""
        return bytes(self._host_keys[0].public_data)

    @property
    def fingerprints(self) -> dict[str, str]:
        """Every host key's fingerprint by key type."""
        return {
            t: str(k.get_fingerprint("sha256"))
            for t, k in zip(self.key_types, self._host_keys, strict=True)
        }

    def remote(self, rel: str) -> str:
        """The client's path for ``root/rel``."""
        return "/" + rel.strip("/")

    def change_host_key(self) -> None:
        """Restart with a new host key on the same port."""
        self._close_listener()
        self._host_keys = [asyncssh.generate_private_key(t) for t in self.key_types]
        self._serve()

    def _close_listener(self) -> None:
        async def close() -> None:
            self._listener.close()
            await self._listener.wait_closed()
            for conn in list(self._connections):
                conn.close()
                await conn.wait_closed()
            self._connections.clear()
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)

    def stop(self) -> None:
        """Stop the server and its loop."""
        self._close_listener()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class OpenSshServer:
    """OpenSSH's sshd on a free port, run as the current user with key login."""

    kind = "openssh"

    def __init__(self, root: Path, client_key: Path, work: Path) -> None:
        self.root = root
        self.user = getpass.getuser()
        self.client_key = client_key
        self.work = work
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        shutil.copy(str(client_key) + ".pub", work / "authorized_keys")
        self._new_host_key()
        self._start()

    def _new_host_key(self) -> None:
        key = asyncssh.generate_private_key("ssh-ed25519")
        path = self.work / "host_ed25519"
        path.unlink(missing_ok=True)
        key.write_private_key(str(path))
        path.chmod(0o600)
        self._fingerprint = str(key.get_fingerprint("sha256"))
        self.host_key_blob = bytes(key.public_data)

    def _start(self) -> None:
        config = self.work / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.work / 'host_ed25519'}\n"
            f"PidFile {self.work / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.work / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nSubsystem sftp internal-sftp\n"
        )
        self._process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                self.stop()  # closes the stderr pipe
                raise RuntimeError(f"sshd exited: {err.strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.05)
                continue
            self._probe_login()
            return
        raise RuntimeError("sshd did not start listening")

    def _probe_login(self) -> None:
        """Log in once: sshd may run yet refuse this user (a locked account, no PAM)."""
        transport = paramiko.Transport(("127.0.0.1", self.port))
        try:
            transport.start_client(timeout=10)
            transport.auth_publickey(self.user, paramiko.PKey.from_path(str(self.client_key)))
            paramiko.SFTPClient.from_transport(transport).listdir(str(self.root))  # type: ignore[union-attr]
        except (OSError, paramiko.SSHException) as exc:
            self.stop()
            raise RuntimeError(f"sshd refused a test login: {exc}") from exc
        finally:
            transport.close()

    @property
    def fingerprint(self) -> str:
        """The host key's SHA256 fingerprint."""
        return self._fingerprint

    def remote(self, rel: str) -> str:
        """The absolute path of ``root/rel`` (sshd is not chrooted)."""
        return str(self.root / rel.strip("/"))

    def change_host_key(self) -> None:
        """Restart with a new host key on the same port."""
        self.stop()
        self._new_host_key()
        self._start()

    def stop(self) -> None:
        """Stop sshd."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        if self._process is not None and self._process.stderr:
            self._process.stderr.close()


def start_server(tmp: Path) -> AsyncSshServer | OpenSshServer:
    """OpenSSH's sshd when it is installed and starts here, else asyncssh's server."""
    root, work = tmp / "server-root", tmp / "server-work"
    root.mkdir()
    work.mkdir()
    key = make_client_key(work)
    if SSHD.exists():
        try:
            return OpenSshServer(root, key, work)
        except (OSError, RuntimeError) as exc:
            log.warning("sshd cannot run here (%s); using asyncssh's server", exc)
    return AsyncSshServer(root, key)
