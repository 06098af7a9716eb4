"""The report's charts: matplotlib figures drawn by the Agg backend into PNG bytes.

No pyplot: each chart is its own ``Figure`` on an Agg canvas, so nothing global changes and
charts can be drawn from any thread. Each function returns the PNG, or None when there is
nothing to draw (the page then shows a "no data" note).
"""

from __future__ import annotations

import base64
import io
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ALL_CHANNELS = "all"
SENTIMENT_COLORS = {
    "NEGATIVE": "#d62728",
    "MIXED": "#ff9f1c",
    "NEUTRAL": "#a0a4a8",
    "POSITIVE": "#2ca02c",
}
# Distinct, colour-blind-friendly colours for the channels (Okabe-Ito, then tab10's rest).
CHANNEL_PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#9467bd",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
)
DPI = 100
# A channel's point on a trend line needs this many scored messages: a day with two messages
# of which one is negative is not a 50% negative day worth a spike. The all-channels line
# keeps every point.
MIN_POINT_MESSAGES = 5
WIDTH_IN = 10.6  # 1060 px at 100 dpi: natural size inside the page's 1070 px sections


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def ensure_config_dir() -> None:
    """Give matplotlib a writable config and font-cache folder outside the repository.

    matplotlib keeps its settings in $MPLCONFIGDIR, else $XDG_CONFIG_HOME/matplotlib
    (~/.config/matplotlib), and its font cache in $MPLCONFIGDIR, else
    $XDG_CACHE_HOME/matplotlib (~/.cache/matplotlib). Where one is not writable (a service
    account without a home), it would build the font cache in a new temporary folder on every
    start and warn; a fixed folder under the system's temporary directory keeps one cache.
    Nothing is ever written into the working directory, and nothing is downloaded: the fonts
    ship inside the matplotlib wheel.
    """
    if os.environ.get("MPLCONFIGDIR"):
        return
    try:
        home = Path.home()
    except RuntimeError:  # no home directory at all
        home = None
    folders = [
        os.environ.get("XDG_CONFIG_HOME") or (home and home / ".config"),
        os.environ.get("XDG_CACHE_HOME") or (home and home / ".cache"),
    ]
    if all(folder and _writable(Path(folder) / "matplotlib") for folder in folders):
        return
    fallback = Path(tempfile.gettempdir()) / f"sentiment-warehouse-matplotlib-{os.getuid()}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(fallback)


def _figure(height_in: float, rows: int = 1, sharex: bool = True):
    ensure_config_dir()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return figure, axes


def to_png(figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" text chunk: the PNG carries pixels only.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def plain_label(value: Any) -> str:
    """Warehouse text as a plain matplotlib label: a pair of "$" would start math mode."""
    return str(value).replace("$", r"\$")


def channel_colors(channels: Iterable[str]) -> dict[str, str]:
    """One colour per channel, the same in every chart of a report."""
    names = sorted({c for c in channels if c != ALL_CHANNELS})
    return {name: CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i, name in enumerate(names)}


def trend_chart(
    rows: list[dict[str, Any]],
    x: str,
    colors: dict[str, str],
    markers: list[dict[str, Any]] | None = None,
) -> bytes | None:
    """Two panels sharing the time axis: the mean score and the negative share, one line per
    channel and a thick black line for all channels. ``markers`` (anomalies: day, channel,
    negative_share, direction) are drawn on the negative-share panel."""
    series: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        thin = row["channel"] != ALL_CHANNELS and (row["scored_count"] or 0) < MIN_POINT_MESSAGES
        values = (math.nan, math.nan) if thin else (row["mean_score"], row["negative_share"])
        series[row["channel"]].append((row[x], *map(_number, values)))
    if not any(
        not math.isnan(v) for points in series.values() for _, m, n in points for v in (m, n)
    ):
        return None
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import PercentFormatter

    figure, (score_ax, share_ax) = _figure(6.2, rows=2)
    order = sorted(c for c in series if c != ALL_CHANNELS)
    if ALL_CHANNELS in series:
        order.append(ALL_CHANNELS)  # drawn last, on top
    for channel in order:
        points = sorted(series[channel], key=lambda p: p[0])
        days = [p[0] for p in points]
        is_all = channel == ALL_CHANNELS
        style = {
            "color": "#111111" if is_all else colors.get(channel, "#7f7f7f"),
            "linewidth": 2.6 if is_all else 1.2,
            "alpha": 1.0 if is_all else 0.75,
            "label": "all channels" if is_all else plain_label(channel),
            "zorder": 3 if is_all else 2,
            # Lines of one or a few points would not show without markers.
            "marker": "o" if len(points) < 15 else None,
            "markersize": 4,
        }
        score_ax.plot(days, [p[1] for p in points], **style)
        share_ax.plot(days, [p[2] for p in points], **style)
    if markers:
        for direction, symbol, label in (
            ("above", "^", "anomaly: more negative than usual"),
            ("below", "v", "anomaly: less negative than usual"),
        ):
            chosen = [m for m in markers if m["direction"] == direction]
            if chosen:
                share_ax.scatter(
                    [m["day"] for m in chosen],
                    [_number(m["negative_share"]) for m in chosen],
                    marker=symbol,
                    s=80,
                    c=[colors.get(m["channel"], "#7f7f7f") for m in chosen],
                    edgecolors="#d62728" if direction == "above" else "#1f77b4",
                    linewidths=1.6,
                    zorder=4,
                    label=label,
                )
    score_ax.axhline(0, color="#888888", linewidth=0.8)
    score_ax.set_ylabel("mean score (-1..1)")
    share_ax.set_ylabel("negative share")
    share_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share_ax.set_ylim(bottom=0)
    locator = AutoDateLocator()
    share_ax.xaxis.set_major_locator(locator)
    share_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    handles, labels = share_ax.get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="outside upper center",
        ncols=min(len(labels), 6),
        frameon=False,
        fontsize=9,
    )
    return to_png(figure)


def histogram_chart(rows: list[dict[str, Any]], bins: int) -> bytes | None:
    """Scored inbound messages per score bin, stacked by sentiment class."""
    if not rows:
        return None
    counts: dict[str, list[int]] = {}
    for row in rows:
        counts.setdefault(row["sentiment"], [0] * bins)[row["bin"]] += row["messages"]
    width = 2 / bins
    lefts = [-1 + i * width for i in range(bins)]
    figure, (ax,) = _figure(3.6)
    bottom = [0] * bins
    known = [s for s in SENTIMENT_COLORS if s in counts]
    for sentiment in known + sorted(set(counts) - set(known)):
        heights = counts[sentiment]
        ax.bar(
            lefts,
            heights,
            width=width,
            bottom=bottom,
            align="edge",
            color=SENTIMENT_COLORS.get(sentiment, "#7f7f7f"),
            edgecolor="white",
            linewidth=0.4,
            label=sentiment.lower(),
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xlim(-1, 1)
    ax.set_xlabel("message score (-1 most negative .. 1 most positive)")
    ax.set_ylabel("messages")
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return to_png(figure)


def topics_chart(topics: list[dict[str, Any]]) -> bytes | None:
    """Topics ranked by negative mentions: negative mentions in red, the rest in grey."""
    if not topics:
        return None
    ranked = list(reversed(topics))  # barh draws bottom-up; the worst topic goes on top
    names = [plain_label(t["topic"]) for t in ranked]
    negative = [t["negative_count"] for t in ranked]
    other = [t["mentions"] - t["negative_count"] for t in ranked]
    figure, (ax,) = _figure(max(2.2, 0.42 * len(ranked) + 1.0), sharex=False)
    ax.barh(names, negative, color=SENTIMENT_COLORS["NEGATIVE"], label="negative mentions")
    ax.barh(names, other, left=negative, color="#c9cdd2", label="other mentions")
    for y, (neg, share) in enumerate(
        zip(negative, [t["negative_share"] for t in ranked], strict=True)
    ):
        ax.annotate(
            f"{neg:,} ({share:.0%})",
            (neg, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="#7a0c0c",
        )
    ax.set_xlabel("mentions in scored inbound messages")
    ax.grid(True, axis="x", color="#e5e5e5")
    ax.grid(False, axis="y")
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return to_png(figure)
