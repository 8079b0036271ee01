"""The self-test's listener check: a push served over HTTPS on loopback.

A certificate for 127.0.0.1 is made for the test (it lives in a temporary folder
for a few seconds); a device is added to a registry there, the listener starts on
a free port with TLS, and two pushes are posted to it with that certificate as
the only trusted one: EpiSensor JSON, and the AcuRev 2100 sample as a
multipart/form-data upload. Two 200s prove the TLS stack (Python's ssl and
OpenSSL), the HTTP server, the multipart parser, the device check and the
journal commit are all in the bundle.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SENSOR = "000D6F0001A303D4_500"
POINTS = 3
UPLOAD = "acurev2100.csv"  # in the bundle's samples (resources/samples)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1, written to `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _push_body() -> bytes:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    rows = [
        {"exportId": SENSOR, "timestamp": start + 60 * i, "value": 1.5 * i} for i in range(POINTS)
    ]
    return json.dumps(rows).encode()


def listener_over_tls() -> str:
    """Serve one push over HTTPS on loopback; describe what was committed."""
    import requests

    from app.core.journal.store import Journal
    from app.core.listener.capture import CaptureStore
    from app.core.listener.server import PushListener
    from app.core.settings.listener import ListenerSettings
    from app.core.sources.devices import DeviceRegistry
    from app.core.sources.register_store import RegisterStore

    with tempfile.TemporaryDirectory(
        prefix="meterbridge-selftest-", ignore_cleanup_errors=True
    ) as tmp:
        folder = Path(tmp)
        cert, key = _certificate(folder)
        devices = DeviceRegistry(folder / "devices.json", folder / "device-stats.json")
        token = devices.add("selftest", "episensor")
        upload_token = devices.add("selftest-acurev", "acurev2100", meter="AcuRev2100")
        journal = Journal(folder / "journal.sqlite3")
        captures = CaptureStore(folder / "captures.sqlite3", max_count=3, max_bytes=2**20)
        settings = ListenerSettings(port=0, tls_cert=str(cert), tls_key=str(key))
        listener = PushListener(
            settings, devices, journal, RegisterStore(folder / "registers.sqlite3"), captures
        )
        listener.start()
        try:
            with requests.Session() as session:
                session.trust_env = False  # loopback: no proxy from the environment
                answer = session.post(
                    listener.url_for("selftest"),
                    data=_push_body(),
                    headers={"Authorization": f"Bearer {token}"},
                    verify=str(cert),
                    timeout=30,
                )
                upload = session.post(
                    listener.url_for("selftest-acurev"),
                    files={"file": (UPLOAD, _sample(UPLOAD), "text/csv")},
                    headers={"Authorization": f"Bearer {upload_token}"},
                    verify=str(cert),
                    timeout=30,
                )
        finally:
            listener.stop()
            journal.close()
    committed = _committed("push over HTTPS", answer)
    if committed != POINTS:
        raise ValueError(f"{POINTS} readings pushed, {committed} committed")
    uploaded = _committed(f"multipart upload of {UPLOAD}", upload)
    return (
        f"{POINTS} readings pushed and {uploaded} uploaded as multipart/form-data over HTTPS "
        f"on loopback, committed ({ssl.OPENSSL_VERSION})"
    )


def _sample(name: str) -> bytes:
    from app.core.resources import resource_path

    return resource_path("samples", name).read_bytes()


def _committed(what: str, answer: Any) -> int:
    """Readings the journal took new from a push's answer (a non-200 is an error)."""
    if answer.status_code != 200:
        raise ValueError(f"{what} answered {answer.status_code}: {answer.text[:200]}")
    committed = int(answer.json()["journal"]["new"])
    if committed <= 0:
        raise ValueError(f"{what}: nothing committed")
    return committed
