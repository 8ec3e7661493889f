"""BOLT11 invoices: a pure, fast, spec-exact decoder and our own signing encoder.

    >>> from lnnotebook.bolt11 import decode, encode_invoice
    >>> invoice = decode("lnbc2500u1...")

Layout: ``constants`` (spec facts), ``bech32`` (the one bech32), ``errors``, ``invoice`` (``Invoice``,
``Hop``, ``Feature``), ``text`` (pasted text to hrp and data), ``fields`` (one reader per tagged field),
``rules`` (duplicates, strict/lenient, required fields), ``decoder``, ``addresses`` (fallbacks) and
``encoder``. Nothing here imports display code: ``set_html_renderer`` is how ``lnnotebook`` plugs in
Jupyter's rich display of an ``Invoice``.
"""

from __future__ import annotations

from lnnotebook.bolt11.addresses import decode_segwit_address, encode_segwit_address, fallback_field_data
from lnnotebook.bolt11.constants import (
    BECH32_CHARSET,
    DEFAULT_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    FEATURE_NAMES,
    MAX_INVOICE_LENGTH,
    NETWORKS,
)
from lnnotebook.bolt11.decoder import decode, decode_rows
from lnnotebook.bolt11.encoder import (
    DEFAULT_FIELD_ORDER,
    Raw,
    encode_data,
    encode_fields,
    encode_invoice,
    field_groups,
    hrp_amount,
    invoice_hrp,
    sign_invoice,
)
from lnnotebook.bolt11.errors import (
    AmountError,
    ChecksumError,
    FeatureError,
    FieldLengthError,
    FormatError,
    InvoiceError,
    MissingFieldError,
    NetworkError,
    SignatureError,
    TooLongError,
    TruncatedError,
)
from lnnotebook.bolt11.invoice import ROW_FIELDS, Feature, Hop, Invoice, feature_names, set_html_renderer

__all__ = [
    "BECH32_CHARSET",
    "DEFAULT_EXPIRY",
    "DEFAULT_FIELD_ORDER",
    "DEFAULT_MIN_FINAL_CLTV_EXPIRY",
    "FEATURE_NAMES",
    "MAX_INVOICE_LENGTH",
    "NETWORKS",
    "ROW_FIELDS",
    "AmountError",
    "ChecksumError",
    "Feature",
    "FeatureError",
    "FieldLengthError",
    "FormatError",
    "Hop",
    "Invoice",
    "InvoiceError",
    "MissingFieldError",
    "NetworkError",
    "Raw",
    "SignatureError",
    "TooLongError",
    "TruncatedError",
    "decode",
    "decode_rows",
    "decode_segwit_address",
    "encode_data",
    "encode_fields",
    "encode_invoice",
    "encode_segwit_address",
    "fallback_field_data",
    "feature_names",
    "field_groups",
    "hrp_amount",
    "invoice_hrp",
    "set_html_renderer",
    "sign_invoice",
]
