"""Shared HTTP plumbing for provider clients: sessions with urllib3 Retry, and secret redaction.

Retry policy (one ``requests.Session`` per provider):

* Safe methods (GET, HEAD, ...) are retried on connection errors, read errors and retryable
  statuses, with exponential backoff, honouring ``Retry-After``.
* POST is retried on connection errors only (urllib3 counts those before the request is sent),
  unless the provider supports an idempotency key, in which case it is retried like a GET. A
  retried POST without an idempotency key could create a second invoice.

urllib3 logs full URLs (some providers put keys in the path or the query string), so a logging
filter on urllib3's loggers replaces every registered secret with ``***``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

REDACTED = "***"
_secrets: Counter[str] = Counter()
_secrets_lock = threading.Lock()
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.connection",
    "urllib3.poolmanager",
)


def register_secrets(values: Iterable[str]) -> None:
    """Make the log filter hide these values (counted, so two providers may share a secret)."""
    with _secrets_lock:
        _secrets.update(v for v in values if v)


def unregister_secrets(values: Iterable[str]) -> None:
    with _secrets_lock:
        _secrets.subtract(v for v in values if v)
        for value in [v for v, n in _secrets.items() if n <= 0]:
            del _secrets[value]


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Replace every secret (the given ones, or all registered ones) in ``text`` with ``***``."""
    if secrets is None:
        with _secrets_lock:
            secrets = list(_secrets)
    # Longest first, so a secret containing another is hidden whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_data(value: Any, secrets: Iterable[str], secret_fields: frozenset[str] = frozenset()) -> Any:
    """A copy of a decoded JSON value with secret strings and secret-named fields hidden."""
    secrets = list(secrets)
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if key in secret_fields and item is not None
                else redact_data(item, secrets, secret_fields)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_data(item, secrets, secret_fields) for item in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        with _secrets_lock:
            active = bool(_secrets)
        if active:
            record.msg = redact(record.getMessage())
            record.args = ()
        return True


_filter = _RedactingFilter()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_filter)


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_insecure: bool) -> str | None:
    """Return why ``url`` is unacceptable, or None. Plain http is only for loopback by default."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"url must be an http(s) URL with a host, got {url!r}"
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        return (
            f"refusing plain http:// to non-loopback host {parts.hostname!r} (credentials would travel "
            "unencrypted); use https:// or pass allow_insecure=True"
        )
    return None


def make_session(
    *,
    retries: int,
    backoff: float,
    retry_statuses: Iterable[int],
    retry_post: bool,
    pool_size: int = 32,
    user_agent: str = "lnnotebook",
) -> requests.Session:
    """A session whose adapter retries as described in the module docstring."""
    methods = set(Retry.DEFAULT_ALLOWED_METHODS) | ({"POST"} if retry_post else set())
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset(methods),
        status_forcelist=frozenset(retry_statuses),
        backoff_factor=backoff,
        respect_retry_after_header=True,
        # Return the last response instead of raising, so its error body reaches the user.
        raise_on_status=False,
        raise_on_redirect=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=2, pool_maxsize=pool_size)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.trust_env = False  # no .netrc or proxy surprises: credentials come from options only
    return session
