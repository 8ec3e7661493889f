"""Errors raised by provider clients.

Every error carries the provider name, the HTTP status (None when no response came back) and the
provider's own message, so a notebook user can tell which provider said what. Messages are built
from redacted text only: no credential ever reaches ``str(error)``, ``repr(error)`` or the
exception chain (clients raise these ``from None``).
"""

from __future__ import annotations

from typing import Any

from lnnotebook.errors import LnnotebookError


class ProviderError(LnnotebookError):
    """Base class: something went wrong talking to (or configuring) an invoice provider."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        provider_message: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.provider_message = provider_message
        self.field = field

    def __str__(self) -> str:
        return f"{self.provider}: {self.message}"

    def __repr__(self) -> str:
        parts = [f"provider={self.provider!r}", f"status={self.status!r}", f"message={self.message!r}"]
        if self.provider_message is not None:
            parts.append(f"provider_message={self.provider_message!r}")
        if self.field is not None:
            parts.append(f"field={self.field!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self):  # keyword-only constructor: keep errors picklable across processes
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[ProviderError], message: str, state: dict) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigurationError(ProviderError, ValueError):
    """A connect() option is missing, unknown or malformed (raised before any request)."""


class AuthenticationError(ProviderError):
    """The provider rejected the credentials (HTTP 401/403)."""


class RateLimitError(ProviderError):
    """The provider asked us to slow down (HTTP 429). ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidRequestError(ProviderError, ValueError):
    """The request was refused as invalid: by our own validation (status None) or by the provider (4xx)."""


class NotFoundError(InvalidRequestError):
    """The provider does not know the invoice asked about."""


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached, timed out, or answered with a server error (5xx)."""


class AnswerLostError(ProviderUnavailableError):
    """The request was sent but its answer was lost (a read timeout, or the connection dropped after
    sending): the provider may have acted on it. A create that ends so is looked up (``Provider``)."""


class InvoiceMayExistError(AnswerLostError):
    """A create's answer was lost and the provider could not tell, now, whether it made the invoice.

    The ledger keeps the attempt as ``unknown`` (``attempt``: its ledger id, ``reference``: the client
    reference sent with it); ``lnnotebook.Ledger().reconcile()`` settles it later."""

    def __init__(self, message: str, *, attempt: Any = None, reference: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.attempt = attempt
        self.reference = reference


class UnexpectedResponseError(ProviderError):
    """The provider answered, but not in the documented shape (bad JSON, missing fields, odd status)."""


class SuspectInvoiceError(UnexpectedResponseError):
    """The provider created an invoice, but its answer contradicts the request (another amount, an
    invoice that does not decode...). ``invoice`` is what it created: it is in the ledger too, with
    this error, because an invoice that exists must never be lost."""

    def __init__(self, message: str, *, invoice: Any, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.invoice = invoice
