"""Every HTTP concern of every provider client: one ``Transport`` per client.

A ``Transport`` owns one ``requests.Session`` with explicit timeouts and a urllib3 ``Retry``, checks the
base URL, registers the client's secrets with the log redaction, sends requests, decodes JSON, and maps
every failure (connection, timeout, HTTP status, a body that is not JSON) to a ``ProviderError``
subclass. Which subclass an HTTP status means, and where a provider puts its message in an error body,
are hooks the client supplies (``Provider._error_class``/``_error_message``).

Retry policy (one ``requests.Session`` per client):

* Safe methods (GET, HEAD, ...) are retried on connection errors, read errors and retryable
  statuses, with exponential backoff, honouring ``Retry-After``.
* POST is retried on connection errors only (urllib3 counts those before the request is sent),
  unless the provider supports an idempotency key, in which case it is retried like a GET. A
  retried POST without an idempotency key could create a second invoice.

urllib3 logs full URLs (some providers put keys in the path or the query string), so a logging
filter on urllib3's loggers replaces every registered secret with ``***``.

A misbehaving server cannot take more than its share:

* redirects are never followed off the configured origin (the request's body and credential headers
  would go to another host), and never for a POST (a create that moved is an error, not a retry);
* a ``Retry-After`` is honoured up to ``MAX_RETRY_AFTER_S`` seconds;
* a response body may be at most ``MAX_BODY_BYTES`` after decompression, and must arrive within one
  read timeout in total (the read timeout alone bounds each socket read, not a body sent a byte at a
  time);
* JSON nested deeper than ``MAX_JSON_DEPTH`` is refused (no ``RecursionError``; redaction walks
  iteratively).
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from ipaddress import ip_address
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lnnotebook.options import env_var
from lnnotebook.providers.errors import (
    AnswerLostError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    UnexpectedResponseError,
)

REDACTED = "***"
MAX_RETRY_AFTER_S = 5.0  # a longer Retry-After is cut to this (an answer is then an error, not a hang)
MAX_BODY_BYTES = 1 << 20  # 1 MiB, decompressed: provider answers are a few kB
MAX_JSON_DEPTH = 64  # provider answers nest a handful of levels
MAX_REDIRECTS = 3  # same-origin GET redirects followed before giving up
_secrets: Counter[str] = Counter()
_secrets_lock = threading.Lock()
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.connection",
    "urllib3.poolmanager",
)

# (status, provider message, action) -> the error class; (decoded body or None, body text) -> message.
ErrorClassHook = Callable[[int, str, str], "type[ProviderError]"]
ErrorMessageHook = Callable[[Any, str], str]


# --- secrets and redaction ----------------------------------------------------------------------


def register_secrets(values: Iterable[str]) -> None:
    """Make the log filter hide these values (counted, so two clients may share a secret)."""
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
    """A copy of a decoded JSON value with secret strings and secret-named fields hidden.

    Walks with an explicit stack, so no nesting depth raises ``RecursionError``.
    """
    secrets = list(secrets)

    def copy(item: Any) -> Any:
        if isinstance(item, dict):
            target: dict[Any, Any] | list[Any] = {}
        elif isinstance(item, list):
            target = []
        else:
            return redact(item, secrets) if isinstance(item, str) else item
        pending.append((item, target))
        return target

    pending: list[tuple[Any, Any]] = []
    root = copy(value)
    while pending:
        source, target = pending.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                target[key] = REDACTED if key in secret_fields and item is not None else copy(item)
        else:
            target.extend(copy(item) for item in source)
    return root


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when a decoded JSON value nests containers deeper than ``limit`` (checked iteratively)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


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


# --- base URLs and sessions ---------------------------------------------------------------------


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


class CappedRetry(Retry):
    """urllib3's Retry, sleeping at most ``max_retry_after`` seconds for a ``Retry-After``."""

    max_retry_after: float = MAX_RETRY_AFTER_S

    def get_retry_after(self, response: urllib3.BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)

    def new(self, **kw: Any) -> CappedRetry:
        retry = super().new(**kw)  # urllib3 builds the next one with type(self): keep the cap too
        retry.max_retry_after = self.max_retry_after
        return retry


def make_session(
    *,
    retries: int,
    backoff: float,
    retry_statuses: Iterable[int],
    retry_post: bool,
    pool_size: int = 32,
    user_agent: str = "lnnotebook",
    max_retry_after: float = MAX_RETRY_AFTER_S,
) -> requests.Session:
    """A session whose adapter retries as described in the module docstring."""
    methods = set(Retry.DEFAULT_ALLOWED_METHODS) | ({"POST"} if retry_post else set())
    retry = CappedRetry(
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
    retry.max_retry_after = max_retry_after
    adapter = HTTPAdapter(max_retries=retry, pool_connections=2, pool_maxsize=pool_size)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.trust_env = False  # no .netrc or proxy surprises: credentials come from options only
    return session


# --- error mapping ------------------------------------------------------------------------------


def default_error_message(body: Any, text: str) -> str:
    """The provider's own message from an error body: a usual key, else the start of the text."""
    if isinstance(body, Mapping):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return text.strip()[:300] or "(empty body)"


def default_error_class(status: int, message: str, action: str) -> type[ProviderError]:
    """Which ProviderError subclass a failed HTTP status means."""
    if status in (401, 403):
        return AuthenticationError
    if status == 429:
        return RateLimitError
    if status == 404:
        return NotFoundError
    if 400 <= status < 500:
        return InvalidRequestError
    if status >= 500:
        return ProviderUnavailableError
    return UnexpectedResponseError


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date); None when absent or odd."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Transport:
    """One client's HTTP: session, timeouts, retries, redaction and error mapping (module docstring).

    ``provider`` names the client in errors; ``secrets`` are hidden from every message and log line
    while the transport is open; ``error_class``/``error_message`` are the provider's hooks.
    """

    def __init__(
        self,
        provider: str,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        retries: int,
        backoff: float,
        retry_statuses: Iterable[int],
        retry_post: bool,
        allow_insecure: bool = False,
        secrets: Iterable[str] = (),
        error_class: ErrorClassHook = default_error_class,
        error_message: ErrorMessageHook = default_error_message,
        max_retry_after: float = MAX_RETRY_AFTER_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.provider = provider
        self.url = url.rstrip("/")
        problem = check_base_url(self.url, allow_insecure=allow_insecure)
        if problem:
            raise ConfigurationError(
                f"option 'url' ({env_var(provider, 'url')}): {problem}", provider=provider, field="url"
            )
        self.timeout = (connect_timeout, read_timeout)
        self._error_class = error_class
        self._error_message = error_message
        self._secrets = tuple(s for s in secrets if s)
        self.max_body_bytes = max_body_bytes
        self._origin = _origin(self.url)
        self.session = make_session(
            retries=retries,
            backoff=backoff,
            retry_statuses=retry_statuses,
            retry_post=retry_post,
            user_agent=f"lnnotebook ({provider})",
            max_retry_after=max_retry_after,
        )
        register_secrets(self._secrets)
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            unregister_secrets(self._secrets)
            self.session.close()

    def __repr__(self) -> str:
        return f"<Transport {self.provider!r} url={self.redact(self.url)!r}>"

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        ok: Iterable[int] = (200,),
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[requests.Response, Any]:
        """Send one request; return (response, decoded JSON body) or raise a ProviderError.

        ``action`` says what the call was for ("create invoice"); it leads every error message.
        """
        shown = f"{method} {self.redact(path)}"
        response = self._exchange(method, self.url + path, action, shown, json_body, params, headers)
        if response.status_code not in tuple(ok):
            raise self._http_error(response, action, shown)
        body, problem = _decode_json(response)
        if problem is not None:
            snippet = self.redact(response.text)[:120]  # redact first: a cut can split a secret
            raise UnexpectedResponseError(
                f"{action}: {shown} returned HTTP {response.status_code} with a body that is {problem}: "
                f"{snippet!r}",
                provider=self.provider,
                status=response.status_code,
            )
        return response, body

    def _exchange(
        self,
        method: str,
        url: str,
        action: str,
        shown: str,
        json_body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        """The final response, its body read: same-origin GET redirects followed, no others."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, action, shown, json_body, params, headers)
            if not response.is_redirect:
                self._read_body(response, action, shown)
                return response
            target = urljoin(url, response.headers["Location"])
            response.close()
            if method.upper() not in ("GET", "HEAD") or _origin(target) != self._origin:
                where = "another origin" if _origin(target) != self._origin else "the same origin"
                raise UnexpectedResponseError(
                    f"{action}: {shown} was redirected (HTTP {response.status_code}) to {where}, "
                    f"{self.redact(target)!r}; not followed (only GET requests follow redirects, and "
                    f"only within {self.redact(self.url)!r})",
                    provider=self.provider,
                    status=response.status_code,
                )
            url, params = target, None  # the Location carries its own query
        raise UnexpectedResponseError(
            f"{action}: {shown} was redirected more than {MAX_REDIRECTS} times", provider=self.provider
        )

    def _send(
        self,
        method: str,
        url: str,
        action: str,
        shown: str,
        json_body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        failure: str | None = None
        lost = False
        try:
            return self.session.request(
                method,
                url,
                json=json_body,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,  # requests would resend the body and our headers anywhere
                stream=True,  # the body is read by _read_body, within its limits
            )
        except requests.exceptions.RequestException as exc:
            failure = self._describe_exception(exc)
            lost = _answer_lost(exc)
        # Raised outside the except block: the requests exception (its text holds the full URL,
        # which can hold keys) must not ride along as __context__.
        error_class = AnswerLostError if lost else ProviderUnavailableError
        raise error_class(f"{action}: {shown} failed: {failure}", provider=self.provider)

    def _read_body(self, response: requests.Response, action: str, shown: str) -> None:
        """Read the body into ``response`` (``.content``, ``.text``, ``.json()``) within the limits."""
        read_timeout = self.timeout[1]
        deadline = time.monotonic() + read_timeout
        chunks: list[bytes] = []
        size = 0
        failure: str | None = None
        try:
            while True:
                if time.monotonic() > deadline:
                    failure = f"the body did not arrive within {read_timeout:g} s (read timeout)"
                    break
                chunk = response.raw.read1(65536, decode_content=True)  # returns what has arrived
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body_bytes:
                    break
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            failure = f"reading the body failed ({type(exc).__name__}: {self.redact(str(exc))[:300]})"
        finally:
            response.close()
        if failure is not None:  # the request was answered, but the answer did not all arrive
            raise AnswerLostError(f"{action}: {shown}: {failure}", provider=self.provider)
        if size > self.max_body_bytes:
            raise UnexpectedResponseError(
                f"{action}: {shown} returned HTTP {response.status_code} with a body over "
                f"{self.max_body_bytes} bytes (after decompression); not read further",
                provider=self.provider,
                status=response.status_code,
            )
        response._content = b"".join(chunks)  # where requests keeps a body it has read (.text, .json())

    def _http_error(self, response: requests.Response, action: str, shown: str) -> ProviderError:
        text = response.text
        body, problem = _decode_json(response)
        if problem is not None:
            body = None  # the hooks get the text alone
        # The text is redacted before the message hook may cut it short (a cut secret would no
        # longer match), and the message again after (it may come from the parsed body).
        message = self.redact(self._error_message(body, self.redact(text)))
        status = response.status_code
        error_class = self._error_class(status, message, action)
        full = f"{action}: {shown} returned HTTP {status}: {message}"
        if error_class is RateLimitError:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                full += f" (retry after {retry_after:g} s)"
            return RateLimitError(
                full, provider=self.provider, status=status, provider_message=message, retry_after=retry_after
            )
        return error_class(full, provider=self.provider, status=status, provider_message=message)

    def _describe_exception(self, exc: requests.exceptions.RequestException) -> str:
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            kind = f"connection timed out after {self.timeout[0]:g} s"
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            kind = f"no response within {self.timeout[1]:g} s (read timeout)"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            kind = "connection failed"
        else:
            kind = type(exc).__name__
        detail = self.redact(str(exc))
        return f"{kind} ({type(exc).__name__}: {detail[:300]})"


def _answer_lost(exc: requests.exceptions.RequestException) -> bool:
    """True when the request may have reached the server: anything but a failure to connect."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return not isinstance(
            reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
        )
    return False


def _decode_json(response: requests.Response) -> tuple[Any, str | None]:
    """(decoded body, None), or (None, what is wrong with it)."""
    try:
        body = response.json()
    except RecursionError:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError:
        return None, "not valid JSON"
    if json_depth_exceeds(body):
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return body, None


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a malformed port is another origin than ours
        return scheme, "", -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER_S",
    "REDACTED",
    "CappedRetry",
    "Transport",
    "check_base_url",
    "default_error_class",
    "default_error_message",
    "is_loopback",
    "json_depth_exceeds",
    "make_session",
    "parse_retry_after",
    "redact",
    "redact_data",
    "register_secrets",
    "unregister_secrets",
]
