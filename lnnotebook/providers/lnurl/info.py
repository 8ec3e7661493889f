"""``lnnotebook.lnurl_info``: what LNURL-pay services offer, one row per address, without creating invoices.

    >>> ln.lnurl_info(["alice@example.com", "bob@example.org"])[["address", "min_sat", "max_sat"]]

Each address's payRequest (LUD-06) is fetched once, through the same client (``client.LnurlProvider``)
and so the same URL policy, timeouts and body caps; an address that fails gives a row with ``error``
and ``error_type`` instead of a failed call, so one dead service does not hide the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from lnnotebook.providers.errors import ProviderError
from lnnotebook.providers.lnurl.client import LnurlProvider

# The columns of lnurl_info(), in order, with their dtypes.
INFO_COLUMNS: dict[str, str] = {
    "address": "string",  # as given
    "pay_request_url": "string",
    "callback_host": "string",
    "min_sat": "Int64",  # minSendable rounded up to whole sats
    "max_sat": "Int64",  # maxSendable rounded down
    "min_sendable_msat": "Int64",
    "max_sendable_msat": "Int64",
    "comment_allowed": "Int64",  # LUD-12 characters; 0: no comments
    "description": "string",  # metadata text/plain
    "long_description": "string",
    "identifier": "string",  # text/identifier or text/email (LUD-16)
    "image": "boolean",
    "payer_data": "string",  # LUD-18 kinds asked for, comma-separated
    "payer_data_mandatory": "string",  # the kinds without which the service refuses
    "error": "string",
    "error_type": "string",
}


def lnurl_info(addresses: str | Iterable[str], *, workers: int = 4, **options: Any) -> pd.DataFrame:
    """One row per address (a Lightning Address, lnurl1..., lnurlp:// or https URL): its payRequest's
    limits in sat, comment length, metadata description and payer-data fields (``INFO_COLUMNS``).

    ``options`` are the lnurl client's connect() options (``read_timeout=``, ``allow_insecure=``...).
    """
    items = [addresses] if isinstance(addresses, str) else list(addresses)
    if not items:
        raise ValueError("lnurl_info needs at least one address")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        rows = list(pool.map(lambda address: _row(address, options), items))
    frame = pd.DataFrame.from_records(rows, columns=list(INFO_COLUMNS))
    return frame.astype(INFO_COLUMNS)


def _row(address: Any, options: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"address": address if isinstance(address, str) else repr(address)}
    try:
        client = LnurlProvider(address=address, **options)
        try:
            request = client.pay_request(fresh=True)
        finally:
            client.close()
    except ProviderError as error:
        row.update(error=str(error), error_type=type(error).__name__)
        return row
    summary = request.summary()
    row.update({key: summary[key] for key in INFO_COLUMNS if key in summary})
    row["callback_host"] = urlsplit(request.callback).hostname
    row["payer_data"] = ", ".join(sorted(request.payer_data)) or None
    row["payer_data_mandatory"] = ", ".join(request.mandatory_payer_data()) or None
    return row


__all__ = ["INFO_COLUMNS", "lnurl_info"]
