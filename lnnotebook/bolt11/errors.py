"""Errors raised when a BOLT11 invoice cannot be decoded.

Every error is an ``InvoiceError``, itself a ``ValueError`` (so ``except ValueError`` keeps working) and
an ``LnnotebookError``; the subclasses say what kind of thing was wrong, and the message says it in words.
"""

from __future__ import annotations

from lnnotebook.errors import LnnotebookError


class InvoiceError(LnnotebookError, ValueError):
    """The text is not a valid BOLT11 invoice. ``field`` names the part at fault when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self):  # keep ``field`` when errors cross process boundaries (workers > 1)
        return (self.__class__, (str(self),), {"field": self.field})


class FormatError(InvoiceError):
    """Not shaped like a bech32 invoice (separator, characters, case, field layout), or a field whose
    content breaks a rule: both ``d`` and ``h``, a ``d`` that is not UTF-8."""


class TooLongError(FormatError):
    """Longer than the 7089 characters lnd and rust-lightning accept."""


class TruncatedError(FormatError):
    """The data ends before a field, the timestamp or the signature does."""


class ChecksumError(InvoiceError):
    """The bech32 checksum does not match: a typo or a copy that lost characters."""


class NetworkError(InvoiceError):
    """The prefix is not ``ln`` followed by a known currency (bc, tb, tbs, bcrt)."""


class AmountError(InvoiceError):
    """The amount in the prefix is malformed or not a whole number of millisatoshis."""


class SignatureError(InvoiceError):
    """The signature is unrecoverable, high-S where ``n`` is given, or not by the payee."""


class FeatureError(InvoiceError):
    """The invoice requires a feature (an even bit) that is not known."""


class MissingFieldError(InvoiceError):
    """A field the spec requires is missing: ``p``, ``s``, or both ``d`` and ``h``."""


class FieldLengthError(InvoiceError):
    """A field with a fixed length (``p``, ``h``, ``s``, ``n``) or a route hint has the wrong length."""


__all__ = [
    "AmountError",
    "ChecksumError",
    "FeatureError",
    "FieldLengthError",
    "FormatError",
    "InvoiceError",
    "MissingFieldError",
    "NetworkError",
    "SignatureError",
    "TooLongError",
    "TruncatedError",
]
