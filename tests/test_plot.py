"""lnnotebook.plot on the Agg backend: returned Axes, labels and units, colours, readability, failures."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import lnnotebook as ln  # noqa: E402
from lnnotebook import plot  # noqa: E402

SIX = ["barkd", "tazapay", "lnpay", "lnpay-legacy", "lnbits", "my-own-provider"]
CHARTS = {"fees": plot.fees, "expiries": plot.expiries, "amounts": plot.amounts}


@pytest.fixture(autouse=True)
def no_show_and_no_leaks(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("the library must never call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """(two-provider frame, six-provider frame); both include a failed attempt."""
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    with ln.sandbox(seed="plot") as sb:
        clients = sb.providers(ledger=ledger)
        small = ln.create_invoices(clients, 1_000, "plot", repeat=3, progress=False)
        large = ln.create_invoices(clients, 250_000, "plot", expiry=900, progress=False)  # barkd fails
    frame = pd.concat([small, large], ignore_index=True)
    two = frame[frame["provider"].isin(["barkd", "lnpay"])].reset_index(drop=True)
    # Six providers: the four emulators' rows again under two more names.
    sources = itertools.cycle(["barkd", "tazapay", "lnpay", "lnpay-legacy"])
    parts = []
    for name, source in zip(SIX, sources):
        part = frame[frame["provider"] == source].copy()
        part["provider"] = name
        parts.append(part)
    six = pd.concat(parts, ignore_index=True)
    six["provider"] = six["provider"].astype("string")
    return two, six


def bar_colors(ax) -> dict[int, set[str]]:
    """Provider position -> edge colours of the bars drawn there."""
    colors: dict[int, set[str]] = {}
    for patch in ax.patches:
        if isinstance(patch, Rectangle):
            position = round(patch.get_x() + patch.get_width() / 2)
            colors.setdefault(position, set()).add(to_hex(patch.get_edgecolor()))
    return colors


def point_colors(ax) -> dict[int, set[str]]:
    colors: dict[int, set[str]] = {}
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and len(collection.get_offsets()):
            position = round(float(collection.get_offsets()[0][0]))
            colors.setdefault(position, set()).add(to_hex(collection.get_facecolor()[0]))
    return colors


def tick_texts(ax) -> list[str]:
    return [label.get_text() for label in ax.get_xticklabels()]


def legend_texts(legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


@pytest.mark.parametrize("name", CHARTS)
def test_draws_into_the_given_axes_without_new_figures(frames, name):
    two, _ = frames
    fig, ax = plt.subplots()
    before = plt.get_fignums()
    assert CHARTS[name](two, ax=ax) is ax
    assert plt.get_fignums() == before
    plt.close(fig)


@pytest.mark.parametrize("name", CHARTS)
def test_without_ax_a_new_figure(frames, name):
    two, _ = frames
    before = set(plt.get_fignums())
    ax = CHARTS[name](two)
    assert set(plt.get_fignums()) - before == {ax.figure.number}


def test_labels_titles_and_units(frames):
    two, _ = frames
    fees = plot.fees(two, ax=plt.figure().subplots())
    assert fees.get_ylabel() == "fee (ppm of the amount)" and fees.get_xlabel() == "provider"
    assert "fee" in fees.get_title().lower()
    expiries = plot.expiries(two, ax=plt.figure().subplots())
    assert expiries.get_ylabel() == "expiry (h)"  # lnpay's 24 h is the longest: hours
    assert "expiry" in expiries.get_title().lower()
    amounts = plot.amounts(two, ax=plt.figure().subplots())
    assert amounts.get_ylabel() == "amount (sat)" and "amount" in amounts.get_title().lower()
    assert amounts.get_yscale() == "log"  # 1_000 to 250_000 sat
    short = plot.expiries(two[two["provider"] == "barkd"], ax=plt.figure().subplots())
    assert short.get_ylabel() == "expiry (min)"  # barkd's 3600 s


def test_fee_bars_show_compare_means(frames):
    two, _ = frames
    table = ln.compare(two)
    ax = plot.fees(two, ax=plt.figure().subplots())
    heights = {}
    for patch in ax.patches:
        kind = "route" if patch.get_hatch() else "receive"
        heights[(round(patch.get_x() + patch.get_width() / 2), kind)] = patch.get_height()
    for position, name in enumerate(table.index):
        assert heights[(position, "receive")] == pytest.approx(table.loc[name, "fee_ppm_mean"])
        assert heights[(position, "route")] == pytest.approx(table.loc[name, "route_fee_ppm_mean"])


def test_colours_are_the_same_in_every_chart_and_call(frames):
    _, six = frames
    expected = {position: {plot.provider_color(name)} for position, name in enumerate(SIX)}
    assert plot.provider_color("barkd") == "#1f77b4" and plot.provider_color("lnbits") == "#9467bd"
    assert len({plot.provider_color(name) for name in SIX}) == 6  # no two providers share a colour
    for _ in range(2):
        fig = plot.dashboard(six)
        fee_ax, expiry_ax, amount_ax = fig.axes
        assert bar_colors(fee_ax) == expected
        assert bar_colors(expiry_ax) == expected
        assert point_colors(amount_ax) == expected
        handles = fig.legends[0].legend_handles
        assert [to_hex(handle.get_facecolor()) for handle in handles] == [plot.provider_color(n) for n in SIX]
    # A provider's colour does not depend on which others are on the chart.
    alone = plot.expiries(six[six["provider"] == "my-own-provider"], ax=plt.figure().subplots())
    assert bar_colors(alone) == {0: {plot.provider_color("my-own-provider")}}


def test_unknown_names_get_distinct_stable_colours():
    names = [f"provider-{index}" for index in range(8)]
    colors = [plot.provider_color(name) for name in names]
    assert len(set(colors) | set(plot._KNOWN_COLORS.values())) == len(colors) + len(plot._KNOWN_COLORS)
    assert [plot.provider_color(name) for name in names] == colors


def assert_readable(fig: Figure, axes, providers: list[str]) -> None:
    """Tick labels name the providers, do not overlap each other and are not cut off."""
    canvas = FigureCanvasAgg(fig)  # dashboard figures are detached from pyplot's canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    figure_box = fig.bbox
    for ax in axes:
        labels = ax.get_xticklabels()
        assert [label.get_text() for label in labels] == providers
        boxes = [label.get_window_extent(renderer) for label in labels]
        for box in boxes:
            assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1 and figure_box.y0 <= box.y0
        angle = labels[0].get_rotation() if labels else 0
        if angle == 0:
            for first, second in itertools.combinations(boxes, 2):
                assert not first.overlaps(second), f"tick labels overlap on {ax.get_title()!r}"
        elif len(labels) > 1:
            # Slanted labels are parallel strips anchored one tick apart: they stay clear of each other
            # when the tick spacing times sin(angle) exceeds a line of text.
            spacing = abs(boxes[1].x1 - boxes[0].x1)
            fonts = [label.get_fontproperties() for label in labels]
            line = max(renderer.get_text_width_height_descent("Ag", font, False)[1] for font in fonts)
            assert spacing * math.sin(math.radians(angle)) > line, (
                f"slanted labels overlap on {ax.get_title()!r}"
            )


@pytest.mark.parametrize("count", [2, 6])
def test_readable_with_two_or_six_providers(frames, count):
    two, six = frames
    frame = two if count == 2 else six
    providers = list(pd.unique(frame["provider"]))
    assert len(providers) == count
    fig = plot.dashboard(frame)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert legend_texts(fig.legends[0]) == providers
    assert legend_texts(fig.axes[0].get_legend()) == [
        "receive fee (mean)",
        "route-hint fee (mean)",
        "min–max",
    ]
    assert legend_texts(fig.axes[1].get_legend()) == ["median", "min–max"]
    assert legend_texts(fig.axes[2].get_legend()) == ["created", "failed"]
    assert_readable(fig, fig.axes, providers)
    for name, chart in CHARTS.items():
        ax = chart(frame)
        assert_readable(ax.figure, [ax], providers), name


def test_dashboard_leaves_no_open_figure(frames):
    two, _ = frames
    before = plt.get_fignums()
    for _ in range(3):
        fig = plot.dashboard(two)
    assert plt.get_fignums() == before
    fig.savefig(__import__("io").BytesIO(), format="png")  # still renders after pyplot let it go
    assert "invoice" in fig._suptitle.get_text()


def test_failures_and_missing_values(frames):
    two, six = frames
    failed_only = two[two["error"].notna()]
    assert len(failed_only) == 1  # barkd's attempt with an expiry
    fig = plot.dashboard(failed_only)
    fee_ax, expiry_ax, amount_ax = fig.axes
    assert tick_texts(fee_ax) == ["barkd"]
    assert [text.get_text() for text in fee_ax.texts] == ["n/a", "n/a"]
    assert [text.get_text() for text in expiry_ax.texts] == ["n/a"]
    (crosses,) = [c for c in amount_ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    assert crosses.get_offsets()[0][1] == 250_000  # the failed attempt, at the amount asked for
    assert fig._suptitle.get_text() == "0 invoices, 1 failed attempt, 1 provider"
    # tazapay and lnpay-legacy report no receive fee: n/a over their solid bar's slot, not a zero bar.
    fee_ax = plot.fees(six, ax=plt.figure().subplots())
    labels = {round(text.xy[0] + 0.19): text.get_text() for text in fee_ax.texts}
    assert labels == {1: "n/a", 2: "0", 3: "n/a", 5: "n/a"}  # lnpay's fee is a real zero


def test_empty_frame(frames):
    two, _ = frames
    fig = plot.dashboard(two.iloc[:0])
    for ax in fig.axes:
        assert tick_texts(ax) == [] and [text.get_text() for text in ax.texts] == ["no invoices"]
        assert ax.get_ylabel()
    assert not fig.legends


def test_matplotlib_is_imported_only_for_plotting():
    code = (
        "import sys, lnnotebook as ln\n"
        "assert 'matplotlib' not in sys.modules\n"
        "ln.compare\n"
        "assert 'matplotlib' not in sys.modules\n"
        "assert callable(ln.plot.dashboard) and 'matplotlib' in sys.modules\n"
        "import lnnotebook.plot\n"
        "assert ln.plot is sys.modules['lnnotebook.plot']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_legends_sit_outside_the_data_and_list_only_what_is_drawn(frames):
    two, six = frames
    for frame in (two, six):
        fig = plot.dashboard(frame)
        renderer = fig._get_renderer()  # a detached figure has a base canvas; this lays it out
        fig.draw(renderer)
        for ax in fig.axes:
            legend, plotting_area = ax.get_legend(), ax.get_window_extent(renderer)
            assert legend.get_window_extent(renderer).y0 >= plotting_area.y1 - 1, ax.get_title()
    ok = two[two["error"].isna()]
    fig = plot.dashboard(ok)
    assert legend_texts(fig.axes[2].get_legend()) == ["created"], "no 'failed' entry without failures"
    same = ok.groupby("provider").head(1)  # one invoice each: no min–max whisker is drawn
    fig = plot.dashboard(same)
    assert "min–max" not in legend_texts(fig.axes[1].get_legend())
    assert legend_texts(plot.amounts(two[two["error"].notna()]).get_legend()) == ["failed"]
