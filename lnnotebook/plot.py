"""Charts of a ``create_invoices`` or ``history`` frame, one x position per provider.

    >>> import lnnotebook as ln
    >>> ln.plot.fees(frame)            # an Axes; pass ax= to draw into your own figure
    >>> ln.plot.dashboard(frame)       # a Figure with fees, expiries and amounts side by side

Conventions: every chart function takes ``ax=None`` and returns the Axes it drew on (a new figure
from pyplot when ``ax`` is None); ``dashboard`` returns a Figure that pyplot does not keep open, so
it shows once in Jupyter and can be saved with ``fig.savefig``. Nothing here calls ``plt.show()``.

Colours: a provider has the same colour in every chart and call (``provider_color``). The providers
registered when this module is imported get fixed colours, in registry order (``lnnotebook.providers``);
others get one from a spare palette, picked from a hash of the name and, when that colour is taken in
this session, the next free one. ``PROVIDER_COLORS`` may be edited to choose your own.

Failures and missing values: providers whose attempts all failed keep their x position (so the charts
line up with ``compare``) and show ``n/a``; failed attempts appear as crosses in ``amounts``; a
provider that reports no receive fee shows ``n/a`` rather than a zero bar.

Legends sit above each chart, outside the data, and list only what the chart draws (no "failed" entry
without a failed attempt, no "min–max" without a whisker).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any, Literal, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lnnotebook.comparison import invoice_metrics
from lnnotebook.nodes.fiat import SAT_PER_BTC, fiat_currencies
from lnnotebook.providers import registry_order

Unit = Literal["sat", "fiat"]

# matplotlib's tab10, then tab20's lighter shades. Registered providers take them in registry order
# (``lnnotebook.providers.registry_order``); the rest are spare colours for other providers.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
)
# Keep at least half the palette spare, however many providers are registered.
_KNOWN_COLORS = dict(zip(registry_order()[: len(_PALETTE) // 2], _PALETTE))
_SPARE_COLORS = tuple(color for color in _PALETTE if color not in _KNOWN_COLORS.values())
PROVIDER_COLORS: dict[str, str] = dict(_KNOWN_COLORS)
_colors_lock = threading.Lock()

MISSING_TEXT = "n/a"
_ROTATE_FROM = 4  # providers on an axis from which tick labels are slanted, so they cannot overlap
_LONG_LABEL = 12  # characters; longer labels are slanted even with few providers


def provider_color(name: str) -> str:
    """The colour of provider ``name`` (hex), the same for every chart in this session."""
    with _colors_lock:
        color = PROVIDER_COLORS.get(name)
        if color is None:
            used = set(PROVIDER_COLORS.values())
            # A stable hash (not hash(), which is salted per process) picks the first candidate.
            start = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")
            candidates = [
                _SPARE_COLORS[(start + step) % len(_SPARE_COLORS)] for step in range(len(_SPARE_COLORS))
            ]
            color = next((candidate for candidate in candidates if candidate not in used), candidates[0])
            PROVIDER_COLORS[name] = color
        return color


def fees(
    df: pd.DataFrame, ax: Axes | None = None, *, unit: Unit = "sat", currency: str | None = None
) -> Axes:
    """Mean fees per provider in ppm of the amount, with the min–max range as a whisker.

    Two bars per provider: the provider's receive fee (solid) and the fee a payer adds through the
    cheapest route hint (hatched; see ``lnnotebook.comparison`` for how it is computed). Invoices without
    the number are left out; a provider with none shows ``n/a``. ``unit="fiat"``: the fees in money, from
    the columns ``ln.with_fiat`` adds (``currency`` picks one when it added several).
    """
    metrics = invoice_metrics(df)
    columns, label = ("fee_ppm", "route_fee_ppm"), "fee (ppm of the amount)"
    if unit != "sat":
        metrics, label = _fiat_metrics(df, metrics, unit, currency)
        columns, label = ("fee_fiat", "route_fee_fiat"), f"fee ({label})"
    return _draw_fees(_axes(ax, _providers(metrics)), metrics, _providers(metrics), columns, label)


def expiries(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The decoded expiry of each provider's invoices: median as a bar, min–max as a whisker.

    The unit (s, min, h or days) follows the longest expiry and is named on the y axis.
    """
    metrics = invoice_metrics(df)
    return _draw_expiries(_axes(ax, _providers(metrics)), metrics, _providers(metrics))


def amounts(
    df: pd.DataFrame, ax: Axes | None = None, *, unit: Unit = "sat", currency: str | None = None
) -> Axes:
    """Every attempt's amount in sat: created invoices as dots, failed attempts as crosses.

    The y axis turns logarithmic when amounts span more than a factor of 100. ``unit="fiat"``: in money,
    from the columns ``ln.with_fiat`` adds (``currency`` picks one when it added several).
    """
    metrics = invoice_metrics(df)
    column, label = "amount_sat", "amount (sat)"
    if unit != "sat":
        metrics, label = _fiat_metrics(df, metrics, unit, currency)
        column, label = "amount_fiat", f"amount ({label})"
    return _draw_amounts(_axes(ax, _providers(metrics)), metrics, _providers(metrics), column, label)


def dashboard(df: pd.DataFrame) -> Figure:
    """A Figure with ``fees``, ``expiries`` and ``amounts`` side by side and one provider legend.

    The figure is closed in pyplot before it is returned: Jupyter shows the returned Figure once, and
    repeated calls do not accumulate open figures. Save it with ``fig.savefig("comparison.png")``.
    """
    metrics = invoice_metrics(df)
    providers = _providers(metrics)
    width = max(13.0, 3 * (1.2 + 0.75 * len(providers)))
    fig = plt.figure(figsize=(width, 5.2), layout="constrained")
    plt.close(fig)  # detach from pyplot: no second copy from the inline backend, no open-figure leak
    fee_ax, expiry_ax, amount_ax = fig.subplots(1, 3)
    _draw_fees(fee_ax, metrics, providers)
    _draw_expiries(expiry_ax, metrics, providers)
    _draw_amounts(amount_ax, metrics, providers)
    if providers:
        handles = [Patch(facecolor=provider_color(name), label=name) for name in providers]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(providers), 6),
            frameon=False,
        )
    attempts = len(metrics)
    failed = int(metrics["failed"].sum())
    fig.suptitle(
        f"{_count(attempts - failed, 'invoice')}, {_count(failed, 'failed attempt')}, "
        f"{_count(len(providers), 'provider')}",
        fontsize="medium",
    )
    return fig


# --- drawing ---------------------------------------------------------------------------------


def _providers(metrics: pd.DataFrame) -> list[str]:
    """Providers in order of first appearance, as ``compare`` lists them."""
    return [str(name) for name in pd.unique(metrics["provider"].dropna().to_numpy(dtype=object))]


def _axes(ax: Axes | None, providers: Sequence[str]) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=(max(6.4, 1.6 + 0.9 * len(providers)), 4.8), layout="constrained")
    return ax


def _provider_axis(ax: Axes, providers: Sequence[str]) -> np.ndarray:
    positions = np.arange(len(providers), dtype=float)
    ax.set_xticks(positions, labels=list(providers))
    if len(providers) >= _ROTATE_FROM or any(len(name) > _LONG_LABEL for name in providers):
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xlim(-0.6, max(len(providers), 1) - 0.4)
    ax.set_xlabel("provider")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if not providers:
        ax.text(0.5, 0.5, "no invoices", transform=ax.transAxes, ha="center", va="center", color="0.4")
    return positions


def _mark_missing(ax: Axes, x: float, text: str = MISSING_TEXT) -> None:
    ax.annotate(
        text,
        (x, 0),
        xycoords=("data", "axes fraction"),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize="small",
        color="0.35",
    )


def _bar_with_range(
    ax: Axes, x: float, values: pd.Series, center: str, width: float, color: str, hatch: str | None
) -> str:
    """A bar at the mean or median of ``values`` with a min–max whisker: ``"range"`` when the whisker
    was drawn, ``"bar"`` when only the bar, ``""`` when there are no values."""
    present = values.dropna().astype(float)
    if present.empty:
        return ""
    middle = float(present.mean() if center == "mean" else present.median())
    low, high = float(present.min()), float(present.max())
    ax.bar(
        x,
        middle,
        width=width,
        color=color if hatch is None else "none",
        edgecolor=color,
        hatch=hatch,
        linewidth=1.5,
    )
    if high > low:
        ax.errorbar(
            x, middle, yerr=[[middle - low], [high - middle]], fmt="none", ecolor="0.2", capsize=3, lw=1
        )
        return "range"
    return "bar"


def _legend(ax: Axes, handles: list) -> None:
    """The chart's key above its plotting area (never over data), only with the entries drawn."""
    if not handles:
        return
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(handles),
        fontsize="small",
        frameon=False,
        borderaxespad=0.3,
        handlelength=1.5,
        columnspacing=1.0,
    )


_MIN_MAX = Line2D([], [], color="0.2", lw=1, label="min–max")


def _fiat_metrics(df: pd.DataFrame, metrics: pd.DataFrame, unit: str, currency: str | None) -> tuple:
    """``metrics`` plus ``amount_fiat``, ``fee_fiat`` and ``route_fee_fiat`` in ``currency``; its label."""
    if unit != "fiat":
        raise ValueError(f"unit must be 'sat' or 'fiat', not {unit!r}")
    found = fiat_currencies(df)
    if currency is None and len(found) != 1:
        if not found:
            raise ValueError(
                "unit='fiat' needs the fiat columns ln.with_fiat(df, rates) adds; add them first"
            )
        raise ValueError(f"the frame has prices in {', '.join(found)}: pass currency= to pick one")
    code = (currency or found[0]).lower()
    if code not in found:
        raise ValueError(f"no {code} prices in the frame (ln.with_fiat added {', '.join(found) or 'none'})")
    metrics = metrics.copy()
    nothing = pd.Series(pd.NA, index=df.index, dtype="Float64")
    metrics["amount_fiat"] = df.get(f"amount_{code}", nothing).astype("Float64")
    metrics["fee_fiat"] = df.get(f"fee_{code}", nothing).astype("Float64")
    rate = df[f"btc_{code}"].astype("Float64")
    route_msat = cast(Any, metrics["route_fee_msat"].astype("Float64").array)  # NA stays NA
    metrics["route_fee_fiat"] = route_msat * rate.array / (1000 * SAT_PER_BTC)
    return metrics, code.upper()


def _draw_fees(
    ax: Axes,
    metrics: pd.DataFrame,
    providers: Sequence[str],
    columns: tuple[str, str] = ("fee_ppm", "route_fee_ppm"),
    label: str = "fee (ppm of the amount)",
) -> Axes:
    positions = _provider_axis(ax, providers)
    ok = metrics[~metrics["failed"].to_numpy(dtype=bool)]
    width = 0.38
    drawn: set[str] = set()
    for x, name in zip(positions, providers):
        rows = ok[(ok["provider"] == name).to_numpy(dtype=bool)]
        color = provider_color(name)
        for offset, column, hatch in ((-width / 2, columns[0], None), (width / 2, columns[1], "///")):
            values = rows[column].dropna()
            shape = _bar_with_range(ax, x + offset, values, "mean", width, color, hatch)
            if not shape:
                _mark_missing(ax, x + offset)
                continue
            drawn.update({column, shape})
            if (values == 0).all():
                _mark_missing(ax, x + offset, "0")  # a zero-height bar is invisible: say it is zero
    ax.set_ylabel(label)
    ax.set_title("Fees: provider receive fee vs route-hint fee", pad=24)
    _floor_at_zero(ax)
    handles: list[Artist] = []
    if columns[0] in drawn:
        handles.append(Patch(facecolor="0.45", edgecolor="0.45", label="receive fee (mean)"))
    if columns[1] in drawn:
        handles.append(Patch(facecolor="none", edgecolor="0.45", hatch="///", label="route-hint fee (mean)"))
    if "range" in drawn:
        handles.append(_MIN_MAX)
    _legend(ax, handles)
    return ax


def _draw_expiries(ax: Axes, metrics: pd.DataFrame, providers: Sequence[str]) -> Axes:
    positions = _provider_axis(ax, providers)
    usable = metrics[(~metrics["failed"] & metrics["decoded"]).to_numpy(dtype=bool)]
    longest = usable["expiry_s"].max() if usable["expiry_s"].notna().any() else 0
    unit, seconds = _time_unit(float(longest))
    shapes = set()
    for x, name in zip(positions, providers):
        values = usable.loc[(usable["provider"] == name).to_numpy(dtype=bool), "expiry_s"].astype("Float64")
        shape = _bar_with_range(ax, x, values / seconds, "median", 0.6, provider_color(name), None)
        shapes.add(shape)
        if not shape:
            _mark_missing(ax, x)
    ax.set_ylabel(f"expiry ({unit})")
    ax.set_title("Invoice expiry (decoded)", pad=24)
    _floor_at_zero(ax)
    handles: list = [Patch(facecolor="0.45", label="median")] if shapes - {""} else []
    if "range" in shapes:
        handles.append(_MIN_MAX)
    _legend(ax, handles)
    return ax


def _draw_amounts(
    ax: Axes,
    metrics: pd.DataFrame,
    providers: Sequence[str],
    column: str = "amount_sat",
    label: str = "amount (sat)",
) -> Axes:
    positions = _provider_axis(ax, providers)
    present = metrics[metrics[column].notna().to_numpy(dtype=bool)]
    for x, name in zip(positions, providers):
        rows = present[(present["provider"] == name).to_numpy(dtype=bool)]
        failed = rows["failed"].to_numpy(dtype=bool)
        values = rows[column].to_numpy(dtype=float)
        # Deterministic spread, so repeated identical amounts stay visible side by side.
        spread = np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else np.zeros(len(values))
        color = provider_color(name)
        ax.scatter(x + spread[~failed], values[~failed], s=28, color=color, alpha=0.8, zorder=3)
        ax.scatter(
            x + spread[failed], values[failed], s=40, color=color, marker="x", linewidths=1.5, zorder=3
        )
        if not len(values):
            _mark_missing(ax, x)
    values = present[column].to_numpy(dtype=float)
    positive = values[values > 0]
    if positive.size and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    elif positive.size:
        ax.set_ylim(0, positive.max() * 1.15)
    ax.set_ylabel(label)
    ax.set_title("Invoice amounts", pad=24)
    failed_any = bool(present["failed"].to_numpy(dtype=bool).any())
    created_any = bool((~present["failed"].to_numpy(dtype=bool)).any())
    handles = []
    if created_any:
        handles.append(Line2D([], [], ls="none", marker="o", color="0.45", label="created"))
    if failed_any:
        handles.append(
            Line2D([], [], ls="none", marker="x", color="0.45", markeredgewidth=1.5, label="failed")
        )
    _legend(ax, handles)
    return ax


def _floor_at_zero(ax: Axes) -> None:
    """Bars start at 0, with a little headroom above the tallest whisker."""
    _, top = ax.get_ylim()
    ax.set_ylim(0, top * 1.1 if top > 0 else 1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _time_unit(longest_seconds: float) -> tuple[str, int]:
    for unit, seconds in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if longest_seconds >= 2 * seconds:
            return unit, seconds
    return "s", 1


__all__ = ["PROVIDER_COLORS", "amounts", "dashboard", "expiries", "fees", "provider_color"]
