"""lnnotebook: Lightning invoices in Jupyter.

Decode BOLT11 strings into typed pandas DataFrames, create invoices across providers (with a local
sandbox of each), compare them, and keep what you made.

    >>> import lnnotebook as ln
    >>> ln.decode("lnbc1...").amount_msat
    >>> ln.decode_frame(series_of_invoices)
    >>> ln.decode_offer("lno1...")  # BOLT 12 offers; ln.offers_frame(...) for many

Heavy or optional parts (HTTP clients, the sandbox, plotting, widgets, Parquet, streaming) load on first
use so that ``import lnnotebook`` stays cheap in a notebook; ``lnnotebook.dask`` and ``lnnotebook.polars``
are imported explicitly, as they register the ``.ln`` accessor on those libraries' Series.
"""

from __future__ import annotations

import importlib
from typing import Any

from lnnotebook.bolt11 import (
    AmountError,
    ChecksumError,
    FeatureError,
    FieldLengthError,
    FormatError,
    Hop,
    Invoice,
    InvoiceError,
    MissingFieldError,
    NetworkError,
    SignatureError,
    TooLongError,
    TruncatedError,
    decode,
    set_html_renderer,
)
from lnnotebook.errors import LnnotebookError
from lnnotebook.frames import decode_frame, hops_frame

__version__ = "0.1.0"


def _invoice_html(invoice: Invoice) -> str:
    """Jupyter's card for a decoded invoice; the display module (and segno) load on the first one."""
    from lnnotebook.display import invoice_html

    return invoice_html(invoice)


set_html_renderer(_invoice_html)  # the decoder itself stays free of display code

# Public names whose modules are imported on first access (name -> module).
_LAZY: dict[str, str] = {
    "connect": "lnnotebook.service",
    "create_invoices": "lnnotebook.service",
    "CreatedInvoice": "lnnotebook.providers.base",
    "Provider": "lnnotebook.providers.base",
    "ProviderError": "lnnotebook.providers.errors",
    "AuthenticationError": "lnnotebook.providers.errors",
    "RateLimitError": "lnnotebook.providers.errors",
    "InvalidRequestError": "lnnotebook.providers.errors",
    "ProviderUnavailableError": "lnnotebook.providers.errors",
    "UnexpectedResponseError": "lnnotebook.providers.errors",
    "SuspectInvoiceError": "lnnotebook.providers.errors",
    "AnswerLostError": "lnnotebook.providers.errors",
    "InvoiceMayExistError": "lnnotebook.providers.errors",
    "NotFoundError": "lnnotebook.providers.errors",
    "ConfigurationError": "lnnotebook.providers.errors",
    "sandbox": "lnnotebook.emulation.sandbox",
    "Sandbox": "lnnotebook.emulation.sandbox",
    "Ledger": "lnnotebook.service",
    "LedgerError": "lnnotebook.ledger",
    "history": "lnnotebook.service",
    "FilterError": "lnnotebook.service",
    "to_csv": "lnnotebook.export",
    "read_csv": "lnnotebook.export",
    "SchemaError": "lnnotebook.export",
    "compare": "lnnotebook.comparison",
    "lnurl_info": "lnnotebook.providers.lnurl.info",
    "encode_lnurl": "lnnotebook.providers.lnurl.lud01",
    "decode_lnurl": "lnnotebook.providers.lnurl.lud01",
    # BOLT 12 offers
    "decode_offer": "lnnotebook.bolt12",
    "offers_frame": "lnnotebook.bolt12",
    "offer_paths_frame": "lnnotebook.bolt12",
    "Offer": "lnnotebook.bolt12",
    "BlindedPath": "lnnotebook.bolt12",
    "OfferError": "lnnotebook.bolt12",
    "NotAnOfferError": "lnnotebook.bolt12",
    "OfferFormatError": "lnnotebook.bolt12",
    "OfferStreamError": "lnnotebook.bolt12",
    "OfferFieldError": "lnnotebook.bolt12",
    "OfferRuleError": "lnnotebook.bolt12",
    # node and wallet-server exports
    "read_invoices": "lnnotebook.nodes",
    "InvoiceExportError": "lnnotebook.nodes",
    "with_fiat": "lnnotebook.nodes.fiat",
    # files, Parquet
    "to_parquet": "lnnotebook.parquet",
    "read_parquet": "lnnotebook.parquet",
    "decode_file": "lnnotebook.streaming",
    # the sample invoices shipped with the package
    "sample_invoices": "lnnotebook.samples",
}

# Submodules imported on first attribute access: ``ln.plot.fees(...)`` needs no ``import lnnotebook.plot``.
_LAZY_SUBMODULES = frozenset({"plot", "widgets"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"lnnotebook.{name}")  # the import binds it as our attribute
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lnnotebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _LAZY_SUBMODULES)


__all__ = [
    "AmountError",
    "ChecksumError",
    "FeatureError",
    "FieldLengthError",
    "FormatError",
    "Hop",
    "Invoice",
    "InvoiceError",
    "LnnotebookError",
    "MissingFieldError",
    "NetworkError",
    "SignatureError",
    "TooLongError",
    "TruncatedError",
    "decode",
    "decode_frame",
    "hops_frame",
    *_LAZY,
]
