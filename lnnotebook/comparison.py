"""``compare(df)``: one row per provider from a ``create_invoices`` or ``history`` frame.

    >>> import lnnotebook as ln
    >>> with ln.sandbox() as sb:
    ...     frame = ln.create_invoices(sb.providers(), 1_000, "coffee", repeat=5)
    >>> ln.compare(frame)

What the frame needs: ``provider`` and ``bolt11``; ``error`` (a provider error marks a failed attempt),
``amount_sat``, ``fee_sat`` and ``elapsed_s`` are used when present. Everything the invoice itself says
(network, payee, expiry, route hints) is decoded here from ``bolt11``, so the result does not depend on
which decoded columns the frame kept (a CSV round trip, a ``history()`` frame and a ``create_invoices``
frame compare alike).

Route-hint fees (``route_fee_*``) are what a payer adds to reach the payee through the invoice's route
hints, the private channels the payee's side advertises. Per BOLT 7 a forwarding node charges
``fee_base_msat + amount_to_forward * fee_proportional_millionths / 1e6`` (integer msat, rounded
down as implementations do) on the amount *it forwards*. In a hint the last hop delivers the invoice
amount to the payee, and every earlier hop forwards the amount plus the fees of the hops after it,
so the fee accumulates from the payee backwards (``route_fee_msat``). A payer uses one route: the
cheapest hint counts for each invoice. Invoices without route hints have no route fee (missing, not
zero): the payee is reached over public channels whose fees the invoice does not state, so they are
left out of the route-fee statistics, and ``route_hinted`` says how many invoices those cover. The fee
of the public path from the payer to the first hinted node is not part of it either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype

from lnnotebook.bolt11 import Hop, Invoice, InvoiceError, decode_rows
from lnnotebook.schema import COMPARE_COLUMNS, METRIC_COLUMNS  # the result's columns and dtypes


def compare(df: pd.DataFrame) -> pd.DataFrame:
    """One row per provider (index ``provider``, in order of first appearance) summarising ``df``.

    ``df`` is a ``create_invoices`` or ``history`` frame (see the module docstring for the columns
    used). The result's columns are ``COMPARE_COLUMNS``, all nullable: ``invoices`` (created
    successfully), ``failures`` and ``failure_rate`` (provider errors, e.g. barkd rejecting an
    ``expiry``), ``undecodable`` (created without a usable BOLT11, e.g. Tazapay without the field),
    ``amount_sat_mean/min/max`` (the provider's ``amount_sat``), ``fee_sat_mean`` and ``fee_ppm_mean``
    (the provider's receive fee; missing where a provider reports none), ``route_hinted`` and
    ``route_fee_sat_*``/``route_fee_ppm_*`` (mean and median of each invoice's cheapest route-hint fee;
    invoices without hints are left out), ``expiry_s_min/median/max`` (decoded effective expiry),
    ``network``, ``payees`` (distinct payee keys) and ``latency_s_median`` (needs ``elapsed_s``).
    Statistics over no values are missing; an empty frame gives an empty table with these columns.

    The result is a ``Comparison``, a DataFrame that shows itself for reading (``comparison_view``:
    one column per provider, thousands separators, integers as integers, units on rates and times);
    anything derived from it (a selection, a sort) is a plain DataFrame.
    """
    return Comparison(summarise(invoice_metrics(df)))


class Comparison(pd.DataFrame):
    """``compare``'s table: the numbers as they are, shown in Jupyter and ``print`` as ``comparison_view``."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:  # derived frames are plain DataFrames
        return pd.DataFrame

    def _repr_html_(self) -> str:
        return comparison_html(self)

    def __repr__(self) -> str:
        return comparison_view(self).to_string()


# How each compare column reads: counts and sat amounts as integers where whole, rates as percentages,
# times with their unit. Columns not listed read as numbers with thousands separators.
_PERCENT = frozenset({"failure_rate"})
_DURATIONS = frozenset({"expiry_s_min", "expiry_s_median", "expiry_s_max"})
_SECONDS = frozenset({"latency_s_median"})
MISSING = "—"


def format_value(column: str, value: Any) -> str:
    """One value of a ``compare`` table as a person reads it (``MISSING`` when there is none)."""
    if _missing(value):
        return MISSING
    if isinstance(value, str):
        return value
    number = float(value)
    if column in _PERCENT:
        return f"{number * 100:.1f} %".replace(".0 %", " %")
    if column in _DURATIONS:
        from lnnotebook.display import format_duration  # display loads segno only when drawing a QR

        return format_duration(number)
    if column in _SECONDS:
        return f"{number * 1000:,.0f} ms" if number < 1 else f"{number:,.2f} s"
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.1f}"
    return f"{number:,.3f}".rstrip("0").rstrip(".") if abs(number) >= 0.001 else f"{number:.3g}"


def comparison_view(table: pd.DataFrame) -> pd.DataFrame:
    """A ``compare`` table for reading: one column per provider, one row per measure, as text."""
    formatted = {
        column: [format_value(str(column), value) for value in table[column].tolist()]
        for column in table.columns
    }
    return pd.DataFrame(formatted, index=table.index.astype(object), dtype=object).T


def comparison_html(table: pd.DataFrame) -> str:
    """``comparison_view`` as an HTML table (zebra rows, numbers right-aligned), escaped; the same in
    a cell's output and in the dashboard widget."""
    import html

    e = html.escape
    view = comparison_view(table)
    cell = "padding:3px 10px;border:none;"
    header = "".join(f'<th style="{cell}text-align:right">{e(str(name))}</th>' for name in view.columns)
    rows = []
    for position, (measure, values) in enumerate(view.iterrows()):
        zebra = "background:rgba(127,127,127,0.08);" if position % 2 else ""
        cells = "".join(f'<td style="{cell}text-align:right">{e(str(value))}</td>' for value in values)
        rows.append(
            f'<tr style="{zebra}"><th style="{cell}text-align:left">{e(str(measure))}</th>{cells}</tr>'
        )
    return (
        '<div class="lnnotebook-comparison" style="max-width:100%;overflow-x:auto">'
        '<table style="border-collapse:collapse;font-variant-numeric:tabular-nums">'
        f'<thead><tr><th style="{cell}text-align:left">provider</th>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def invoice_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Per-row quantities ``compare`` and ``lnnotebook.plot`` aggregate; ``df``'s index is kept.

    Columns (``METRIC_COLUMNS``): ``provider``; ``failed`` (a provider error); ``decoded`` (created and
    its BOLT11 decodes); ``amount_sat`` (the provider's record, or the decoded amount when the frame has
    no ``amount_sat``; on a failed row the amount asked for); ``fee_sat`` and ``fee_ppm`` (receive fee);
    ``route_count``, ``route_fee_msat`` and ``route_fee_ppm`` (cheapest route hint, see the module
    docstring); ``expiry_s``, ``network``, ``payee`` (decoded); ``elapsed_s``.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"compare needs a DataFrame from create_invoices or history, got {type(df).__name__}")
    missing = [column for column in ("provider", "bolt11") if column not in df.columns]
    if missing:
        raise ValueError(
            f"the frame has no {' or '.join(map(repr, missing))} column; compare needs a frame from "
            "lnnotebook.create_invoices or lnnotebook.history"
        )
    rows = len(df)
    failed = df["error"].notna().to_numpy(dtype=bool) if "error" in df.columns else np.zeros(rows, dtype=bool)
    texts = [None if _missing(text) else text for text in df["bolt11"].tolist()]
    # Only successful rows count as invoices; a LedgerError row carries an invoice but is an error.
    invoices = _decode_distinct([text if not bad else None for text, bad in zip(texts, failed)])

    amount_recorded = _int_column(df, "amount_sat")
    amount_sat: list[Any] = []
    route_count: list[Any] = []
    route_fee: list[Any] = []
    route_ppm: list[Any] = []
    expiry: list[Any] = []
    network: list[Any] = []
    payee: list[Any] = []
    for invoice, recorded in zip(invoices, amount_recorded):
        decoded_msat = None if invoice is None else invoice.amount_msat
        if recorded is None and decoded_msat is not None and "amount_sat" not in df.columns:
            recorded = decoded_msat // 1000
        amount_sat.append(recorded)
        if invoice is None:
            for column in (route_count, route_fee, route_ppm, expiry, network, payee):
                column.append(None)
            continue
        # An amountless invoice is paid with the amount the provider was asked for.
        amount_msat = decoded_msat if decoded_msat is not None else _times_1000(recorded)
        fee = cheapest_route_fee_msat(invoice.route_hints, amount_msat) if amount_msat is not None else None
        route_count.append(len(invoice.route_hints))
        route_fee.append(fee)
        route_ppm.append(None if fee is None or not amount_msat else fee * 1_000_000 / amount_msat)
        expiry.append(invoice.expiry)
        network.append(invoice.network)
        payee.append(invoice.payee)

    fee_sat = _int_column(df, "fee_sat")
    fee_ppm = [
        None if fee is None or not amount or bad else fee * 1_000_000 / amount
        for fee, amount, bad in zip(fee_sat, amount_sat, failed)
    ]
    elapsed = df["elapsed_s"] if "elapsed_s" in df.columns else pd.Series([None] * rows, dtype="Float64")
    data: dict[str, Any] = {
        "provider": df["provider"].to_numpy(dtype=object),
        "failed": failed,
        "decoded": [invoice is not None for invoice in invoices],
        "amount_sat": amount_sat,
        "fee_sat": [None if bad else fee for fee, bad in zip(fee_sat, failed)],
        "fee_ppm": fee_ppm,
        "route_count": route_count,
        "route_fee_msat": route_fee,
        "route_fee_ppm": route_ppm,
        "expiry_s": expiry,
        "network": network,
        "payee": payee,
        "elapsed_s": elapsed.astype("Float64").array,
    }
    frame = pd.DataFrame(
        {name: pd.array(data[name], dtype=pandas_dtype(dtype)) for name, dtype in METRIC_COLUMNS.items()},
        index=df.index,
    )
    return frame


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """The ``compare`` table from an ``invoice_metrics`` frame."""
    metrics = metrics[metrics["provider"].notna()]
    providers = pd.unique(metrics["provider"].to_numpy(dtype=object))
    rows = []
    for provider in providers:
        group = metrics[(metrics["provider"] == provider).to_numpy(dtype=bool)]
        ok = group[~group["failed"].to_numpy(dtype=bool)]
        decoded = ok[ok["decoded"].to_numpy(dtype=bool)]
        hinted = decoded[decoded["route_fee_msat"].notna().to_numpy(dtype=bool)]
        failures = int(group["failed"].sum())
        attempts = len(group)
        networks = sorted(set(decoded["network"].dropna()))
        route_fee_sat = hinted["route_fee_msat"].astype("Float64") / 1000
        rows.append(
            {
                "invoices": len(ok),
                "failures": failures,
                "failure_rate": failures / attempts if attempts else None,
                "undecodable": len(ok) - len(decoded),
                "amount_sat_mean": _stat(ok["amount_sat"], "mean"),
                "amount_sat_min": _stat(ok["amount_sat"], "min"),
                "amount_sat_max": _stat(ok["amount_sat"], "max"),
                "fee_sat_mean": _stat(ok["fee_sat"], "mean"),
                "fee_ppm_mean": _stat(ok["fee_ppm"], "mean"),
                "route_hinted": int((decoded["route_count"] > 0).sum()),
                "route_fee_sat_mean": _stat(route_fee_sat, "mean"),
                "route_fee_sat_median": _stat(route_fee_sat, "median"),
                "route_fee_ppm_mean": _stat(hinted["route_fee_ppm"], "mean"),
                "route_fee_ppm_median": _stat(hinted["route_fee_ppm"], "median"),
                "expiry_s_min": _stat(decoded["expiry_s"], "min"),
                "expiry_s_median": _stat(decoded["expiry_s"], "median"),
                "expiry_s_max": _stat(decoded["expiry_s"], "max"),
                "network": ", ".join(networks) if networks else None,
                "payees": decoded["payee"].nunique(dropna=True),
                "latency_s_median": _stat(ok["elapsed_s"], "median"),
            }
        )
    table = pd.DataFrame.from_records(rows, columns=list(COMPARE_COLUMNS))
    table.index = pd.Index(providers, dtype="string", name="provider")
    return table.astype(COMPARE_COLUMNS)


def route_fee_msat(route: Sequence[Hop], amount_msat: int) -> int:
    """What a payer adds (msat) for the payee to receive ``amount_msat`` through this route hint.

    Walks from the payee back: each hop charges ``fee_base_msat + floor(forwarded *
    fee_proportional_millionths / 1e6)`` on the amount it forwards, which includes the fees of the hops
    after it (BOLT 7 ``channel_update`` fees).
    """
    forwarded = int(amount_msat)
    for hop in reversed(route):
        forwarded += hop.fee_base_msat + forwarded * hop.fee_proportional_millionths // 1_000_000
    return forwarded - int(amount_msat)


def cheapest_route_fee_msat(routes: Sequence[Sequence[Hop]], amount_msat: int) -> int | None:
    """The lowest ``route_fee_msat`` over an invoice's route hints; None when it has none."""
    if not routes:
        return None
    return min(route_fee_msat(route, amount_msat) for route in routes)


# --- helpers -----------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _decode_distinct(texts: list[str | None]) -> list[Invoice | None]:
    """Decoded invoices (None where missing or invalid), each distinct string decoded once."""
    distinct = list(dict.fromkeys(text for text in texts if isinstance(text, str)))
    results = decode_rows(distinct) if distinct else []
    invoices = {
        text: None if isinstance(result, InvoiceError) else Invoice._from_row(result)
        for text, result in zip(distinct, results)
    }
    return [invoices.get(text) if isinstance(text, str) else None for text in texts]


def _int_column(df: pd.DataFrame, column: str) -> list[int | None]:
    if column not in df.columns:
        return [None] * len(df)
    values = pd.to_numeric(df[column], errors="coerce").astype("Float64")
    return [None if _missing(value) else int(value) for value in values.tolist()]


def _times_1000(sat: int | None) -> int | None:
    return None if sat is None else sat * 1000


def _stat(values: pd.Series, how: str) -> Any:
    present = values.dropna()
    if present.empty:
        return None
    return getattr(present, how)()


__all__ = [
    "COMPARE_COLUMNS",
    "METRIC_COLUMNS",
    "Comparison",
    "cheapest_route_fee_msat",
    "compare",
    "comparison_html",
    "comparison_view",
    "format_value",
    "invoice_metrics",
    "route_fee_msat",
    "summarise",
]
