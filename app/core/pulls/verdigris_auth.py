"""Verdigris OAuth2 client credentials with a token cache that survives restarts.

The token request is form-encoded (RFC 6749); an endpoint that refuses that
encoding (400/415 about the body) is asked once more with JSON, and the
encoding that worked is kept with the token. Verdigris allows 20 token
requests an hour, so the short-lived access token
(never the client secret) is kept until it expires: in the OS keyring when a
secure one exists, else in a user-only (0600) file in the data folder. The
client secret comes from the keyring (``verdigris-client-secret``) or, headless,
``VERDIGRIS_CLIENT_SECRET``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.errors
import requests

from app.core.secrets import SecretStore
from connectors.verdigris.api import (
    DEFAULT_AUDIENCE,
    DEFAULT_AUTH_URL,
    TOKEN_BODIES,
    RateLimiter,
    Token,
    VerdigrisApi,
    VerdigrisError,
    limiter_for,
    request_token,
)

log = logging.getLogger(__name__)

SECRET_NAME = "verdigris-client-secret"
TOKEN_FILE = "verdigris-token.json"
RATE_FILE = "verdigris-requests.json"
TOKEN_REQUESTS_PER_HOUR = 20  # Verdigris' documented limit; it does not report what is left
EARLY_S = 120  # renew this long before expiry: a run must not start on a dying token


class TokenCache(Protocol):
    """Where the access token waits between runs."""

    def load(self, key: str) -> Token | None:
        """The cached token for `key`, if any."""
        ...

    def store(self, key: str, token: Token) -> None:
        """Keep `token` for `key`."""
        ...


class FileTokenCache:
    """Tokens in a JSON file readable by the user only (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, key: str) -> Token | None:
        """The cached token for `key`, if the file holds one."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8")).get(key)
        except (OSError, ValueError):
            return None
        return _token(entry)

    def store(self, key: str, token: Token) -> None:
        """Write the token (atomically, created 0600)."""
        try:
            document: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            document = {}
        document[key] = _entry(token)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


class KeyringTokenCache:
    """Tokens in the OS keyring, one entry per client and endpoint.

    A keyring that refuses the entry (Windows Credential Manager holds at most
    1,280 characters; a JWT can be longer) hands it to `fallback`, the 0600 file.
    """

    def __init__(self, fallback: FileTokenCache, service: str = "meterbridge") -> None:
        self.service = service
        self.fallback = fallback

    def load(self, key: str) -> Token | None:
        """The cached token for `key` from the keyring, else from the fallback file."""
        try:
            text = keyring.get_password(self.service, f"verdigris-token:{key}")
            found = _token(json.loads(text)) if text else None
        except Exception:  # any backend failure: a token can always be asked for again
            found = None
        return found or self.fallback.load(key)

    def store(self, key: str, token: Token) -> None:
        """Keep the token in the keyring (else in the fallback file)."""
        try:
            keyring.set_password(self.service, f"verdigris-token:{key}", json.dumps(_entry(token)))
        except Exception as exc:  # backends raise their own types (pywintypes.error ...)
            log.info("keyring refused the Verdigris token (%s); using the file", type(exc).__name__)
            self.fallback.store(key, token)


def _entry(token: Token) -> dict[str, str]:
    return {
        "access_token": token.access_token,
        "expires_at": token.expires_at.isoformat(),
        "body": token.body,
    }


def _token(entry: Any) -> Token | None:
    if not isinstance(entry, dict):
        return None
    try:
        body = str(entry.get("body")) if entry.get("body") in TOKEN_BODIES else TOKEN_BODIES[0]
        return Token(entry["access_token"], datetime.fromisoformat(entry["expires_at"]), body)
    except (KeyError, TypeError, ValueError):
        return None


def default_cache(data_dir: Path, secrets: SecretStore | None = None) -> TokenCache:
    """The keyring when a secure one exists, else the 0600 file in `data_dir`."""
    file_cache = FileTokenCache(data_dir / TOKEN_FILE)
    if (secrets or SecretStore()).available:
        return KeyringTokenCache(file_cache)
    return file_cache


@dataclass
class VerdigrisAuth:
    """Hands out bearer tokens, requesting one only when the cached one expires.

    Use an instance as the ``token`` callable of `VerdigrisApi`.
    """

    client_id: str
    secret: Callable[[], str | None]
    cache: TokenCache
    auth_url: str = DEFAULT_AUTH_URL
    audience: str = DEFAULT_AUDIENCE
    session: requests.Session | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    token_requests: int = 0
    # Counted with the API's requests: one server may rate-limit both endpoints.
    limiter: RateLimiter | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        """The cache key: one token per client, endpoint and audience."""
        return f"{self.client_id}@{self.auth_url}#{self.audience}"

    def __call__(self, renew: bool = False) -> str:
        """A valid access token; `renew` forces a new one (after a 401)."""
        with self._lock:
            cached = self.cache.load(self.key)
            early = timedelta(seconds=EARLY_S)
            if cached is not None and cached.expires_at - early > self.clock() and not renew:
                return cached.access_token
            token = self._request(cached.body if cached else TOKEN_BODIES[0])
            try:
                self.cache.store(self.key, token)
            except (OSError, keyring.errors.KeyringError) as exc:
                log.warning("could not cache the Verdigris token: %s", type(exc).__name__)
            return token.access_token

    def _request(self, encoding: str) -> Token:
        """A new token, with the body encoding that worked last (form by default).

        When the endpoint refuses the encoding itself (400/415, not the
        credentials), the other one is tried once; the one that worked is kept
        with the token, so the next request uses it straight away.
        """
        try:
            return self._request_as(encoding)
        except VerdigrisError as exc:
            if not exc.body_refused:
                raise
            other = "json" if encoding == "form" else "form"
            log.info("the Verdigris token endpoint refused a %s body; trying %s", encoding, other)
            return self._request_as(other)

    def _request_as(self, encoding: str) -> Token:
        secret = self.secret()
        if not secret:
            raise VerdigrisError(
                "no Verdigris client secret: save it in the settings (kept in the OS keyring) "
                "or set VERDIGRIS_CLIENT_SECRET for headless runs"
            )
        if not self.client_id:
            raise VerdigrisError("no Verdigris client id: give --client-id or save it in a job")
        self.token_requests += 1
        log.info("requesting a Verdigris access token for client %s", self.client_id)
        if self.limiter is not None:
            self.limiter.wait()
        try:
            return request_token(
                self.auth_url,
                self.client_id,
                secret,
                audience=self.audience,
                session=self.session,
                encoding=encoding,
            )
        finally:
            if self.limiter is not None:
                self.limiter.done()


def secret_name(client_id: str) -> str:
    """The keyring entry of one client's secret (several Verdigris accounts can coexist)."""
    return f"{SECRET_NAME}:{client_id}"


def client_secret(store: SecretStore, client_id: str) -> str | None:
    """The client's own keyring entry, else the shared one, else ``VERDIGRIS_CLIENT_SECRET``."""
    return store.get(secret_name(client_id)) or store.get(SECRET_NAME)


def build_auth(
    client_id: str,
    data_dir: Path,
    *,
    auth_url: str = DEFAULT_AUTH_URL,
    audience: str = DEFAULT_AUDIENCE,
    secrets: SecretStore | None = None,
    api_url: str | None = None,
) -> VerdigrisAuth:
    """The usual object graph: secret from the SecretStore, default token cache."""
    store = secrets or SecretStore()
    return VerdigrisAuth(
        client_id=client_id,
        secret=lambda: client_secret(store, client_id),
        cache=default_cache(data_dir, store),
        auth_url=auth_url,
        audience=audience,
        limiter=limiter_for(api_url) if api_url else None,
    )


@contextmanager
def shared_rate(api: VerdigrisApi, path: Path) -> Iterator[None]:
    """Carry the rate limiter's last requests across processes (runs back to back).

    Without it a run started within a second of the previous one could send
    its first requests into the same second as the last ones before it.
    """
    try:
        stamps = json.loads(path.read_text(encoding="utf-8")).get(api.base_url, [])
        api.limiter.seed_wall([float(t) for t in stamps])
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    try:
        yield
    finally:
        try:
            path.write_text(json.dumps({api.base_url: api.limiter.recent_wall()}), "utf-8")
        except OSError as exc:
            log.warning("could not keep the Verdigris request times: %s", exc)
