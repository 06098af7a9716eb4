"""The report page: one HTML document with its styles inline and its charts as data URIs.

Every value read from the warehouse goes through :func:`html.escape` (:func:`text`); the only
markup is this module's own. The page has no script, and its Content-Security-Policy forbids
loading anything but the inline styles and the ``data:`` images.
"""

from __future__ import annotations

import html
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..shift_types import SHIFT_LABELS
from . import queries as q
from .charts import MIN_POINT_MESSAGES

# default-src 'none' forbids every fetch (scripts, styles, fonts, frames, connections); only the
# inline <style> and data: images are allowed. base-uri and form-action are not covered by
# default-src, so they are closed too.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

SHIFT_COUNTS = {
    "customer_flip": "customer flips",
    "conversation_drop": "conversation drops",
    "conversation_recovery": "recoveries after an agent reply",
}
ANOMALY_DIRECTIONS = {"above": "more negative than usual", "below": "less negative than usual"}

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2430;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 6px; }
.subtitle, .explain, footer { color: #5b6573; }
.explain { margin: 0 0 12px; max-width: 900px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 18px 20px;
  margin: 18px 0; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 18px 0; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 12px 16px; }
.card .label { color: #5b6573; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 28px; font-weight: 650; margin: 2px 0; }
.card .detail { color: #5b6573; font-size: 13px; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { background: #f7f8fa; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  overflow-wrap: anywhere; }
.neg { color: #b3261e; }
.pos { color: #1e7b34; }
.nodata { background: #fff8e1; border: 1px dashed #e0b84c; border-radius: 6px; padding: 10px 14px;
  color: #6b5200; margin: 8px 0; }
footer { font-size: 12px; margin-top: 24px; }
"""


def text(value: Any) -> str:
    """A value as escaped HTML text."""
    return html.escape("" if value is None else str(value), quote=True)


# -- formatting ----------------------------------------------------------------------------


def fmt_int(value: Any) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def fmt_score(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):+.3f}"


def fmt_share(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1%}"


def fmt_points(value: Any) -> str:
    """A change of shares, in percentage points."""
    return "n/a" if value is None else f"{100 * float(value):+.1f} pp"


def fmt_time(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def fmt_day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def tone(value: Any, negative_is_bad: bool = True) -> str | None:
    """CSS class for a signed value: red when it is bad news, green when good."""
    if value is None or value == 0:
        return None
    bad = value < 0 if negative_is_bad else value > 0
    return "neg" if bad else "pos"


# -- headline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineItem:
    label: str
    value: str
    detail: str
    tone: str | None = None


def headline_items(headline: q.Headline) -> list[HeadlineItem]:
    """The headline numbers, formatted, for the page's cards and the asset's metadata."""
    h = headline
    people = []
    if h.inbound is not None:
        people.append(f"{fmt_int(h.inbound)} inbound from customers")
    if h.conversations is not None:
        people.append(f"{fmt_int(h.conversations)} conversations")
    if h.customers is not None:
        people.append(f"{fmt_int(h.customers)} customers")
    change = (
        None
        if h.negative_share_last_7d is None or h.negative_share_prev_7d is None
        else h.negative_share_last_7d - h.negative_share_prev_7d
    )
    if h.as_of is None:
        window = "no messages yet"
    else:
        window = (
            f"{fmt_int(h.scored_last_7d)} scored messages to {fmt_day(h.as_of)}; "
            f"previous 7 days {fmt_share(h.negative_share_prev_7d)} ({fmt_points(change)})"
        )
    if h.anomalies is None:
        anomalies = HeadlineItem("Anomalous days", "n/a", f"marts.{q.ANOMALIES} is not built")
    else:
        anomalies = HeadlineItem(
            "Anomalous days",
            fmt_int(h.anomalies),
            f"{fmt_int(h.anomalies_above)} more negative than usual (day and channel)",
            "neg" if h.anomalies_above else None,
        )
    if h.shifts is None:
        shifts = HeadlineItem("Sentiment shifts", "n/a", f"marts.{q.SHIFTS} is not built")
    else:
        parts = [f"{fmt_int(n)} {SHIFT_COUNTS.get(t, t)}" for t, n in sorted(h.shifts.items())]
        shifts = HeadlineItem(
            "Sentiment shifts", fmt_int(sum(h.shifts.values())), "; ".join(parts) or "none"
        )
    return [
        HeadlineItem("Messages", fmt_int(h.messages), "; ".join(people)),
        HeadlineItem(
            "Scored share",
            fmt_share(h.scored_share),
            f"{fmt_int(h.scored)} inbound messages carry a score",
        ),
        HeadlineItem(
            "Mean score",
            fmt_score(h.mean_score),
            "scored inbound messages, -1 (negative) .. 1 (positive)",
            tone(h.mean_score),
        ),
        HeadlineItem(
            "Negative share, last 7 days",
            fmt_share(h.negative_share_last_7d),
            window,
            tone(change, negative_is_bad=False),
        ),
        anomalies,
        shifts,
    ]


def headline_markdown(headline: q.Headline) -> str:
    """The headline numbers as a Markdown table (the asset's metadata)."""
    lines = ["| | value | detail |", "|---|---:|---|"]
    for item in headline_items(headline):
        cells = [item.label, item.value, item.detail]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


# -- building blocks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    cell: Callable[[dict[str, Any]], Any]
    kind: str = ""  # "num" (right-aligned) or "id" (monospace)
    tone: Callable[[dict[str, Any]], str | None] | None = None


def table(columns: list[Column], rows: list[dict[str, Any]]) -> str:
    head = "".join(f'<th class="{c.kind}">{text(c.label)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            classes = " ".join(filter(None, [column.kind, column.tone and column.tone(row)]))
            cells.append(f'<td class="{classes}">{text(column.cell(row))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def no_data(reason: str) -> str:
    return f'<p class="nodata">No data: {text(reason)}</p>'


def missing_or_empty(data: q.ReportData, mart: str, empty: str) -> str:
    if not data.has(mart):
        return no_data(f"marts.{mart} is not built in this warehouse yet.")
    return no_data(empty)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def figure(png: bytes, uri: str, alt: str, name: str) -> str:
    width, height = png_size(png)
    return (
        f'<figure class="chart" data-chart="{text(name)}"><img src="{uri}" alt="{text(alt)}" '
        f'width="{width}" height="{height}"></figure>'
    )


def section(anchor: str, title: str, explain: str, body: str) -> str:
    return (
        f'<section id="{text(anchor)}"><h2>{text(title)}</h2>'
        f'<p class="explain">{text(explain)}</p>{body}</section>'
    )


# -- sections ------------------------------------------------------------------------------


def change_cell(before_key: str, after_key: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{fmt_score(r[before_key])} -> {fmt_score(r[after_key])}"


WORST_COLUMNS = [
    Column("#", lambda r: r["_rank"], "num"),
    Column("conversation", lambda r: r["conversation_id"], "id"),
    Column("customer", lambda r: r["customer_id"], "id"),
    Column("channel", lambda r: r["channel"]),
    Column("score", lambda r: fmt_score(r["sentiment_score"]), "num", lambda r: "neg"),
    Column(
        "first -> last inbound", change_cell("first_inbound_score", "last_inbound_score"), "num"
    ),
    Column(
        "change",
        lambda r: fmt_score(r["sentiment_change"]),
        "num",
        lambda r: tone(r["sentiment_change"]),
    ),
    Column("scored msgs", lambda r: fmt_int(r["scored_inbound_count"]), "num"),
    Column("started (UTC)", lambda r: fmt_time(r["started_at"]), "num"),
]

ANOMALY_COLUMNS = [
    Column("day", lambda r: fmt_day(r["day"]), "num"),
    Column("channel", lambda r: r["channel"]),
    Column(
        "direction",
        lambda r: ANOMALY_DIRECTIONS.get(r["direction"], r["direction"]),
        tone=lambda r: "neg" if r["direction"] == "above" else "pos",
    ),
    Column("negative share", lambda r: fmt_share(r["negative_share"]), "num"),
    Column(
        "usual band",
        lambda r: f"{fmt_share(r['band_lower'])} .. {fmt_share(r['band_upper'])}",
        "num",
    ),
    Column("baseline", lambda r: fmt_share(r["baseline_mean"]), "num"),
    Column("z", lambda r: "n/a" if r["z_score"] is None else f"{r['z_score']:+.1f}", "num"),
    Column(
        "negative / scored",
        lambda r: f"{fmt_int(r['negative_count'])} / {fmt_int(r['scored_count'])}",
        "num",
    ),
]

SHIFT_COLUMNS = [
    Column("when (UTC)", lambda r: fmt_time(r["occurred_at"]), "num"),
    Column("event", lambda r: SHIFT_LABELS.get(r["shift_type"], r["shift_type"])),
    Column("customer", lambda r: r["customer_id"], "id"),
    Column("conversation", lambda r: r["conversation_id"], "id"),
    Column("previous conversation", lambda r: r["previous_conversation_id"] or "", "id"),
    Column("channel", lambda r: r["channel"]),
    Column("before -> after", change_cell("before_score", "after_score"), "num"),
    Column(
        "change", lambda r: fmt_score(r["score_change"]), "num", lambda r: tone(r["score_change"])
    ),
]


def topic_columns(latest_week: str | None) -> list[Column]:
    columns = [
        Column("#", lambda r: r["_rank"], "num"),
        Column("topic", lambda r: r["topic"]),
        Column("negative mentions", lambda r: fmt_int(r["negative_count"]), "num", lambda r: "neg"),
        Column("mentions", lambda r: fmt_int(r["mentions"]), "num"),
        Column("negative share", lambda r: fmt_share(r["negative_share"]), "num"),
        Column(
            "mean score",
            lambda r: fmt_score(r["mean_score"]),
            "num",
            lambda r: tone(r["mean_score"]),
        ),
        Column("conversations", lambda r: fmt_int(r["conversations"]), "num"),
    ]
    if latest_week:
        columns += [
            Column(
                f"negative share {latest_week}",
                lambda r: fmt_share(r["_week"].get("negative_share")),
                "num",
            ),
            Column(
                "vs previous week",
                lambda r: fmt_points(r["_week"].get("_change")),
                "num",
                lambda r: tone(r["_week"].get("_change"), negative_is_bad=False),
            ),
        ]
    return columns


def topics_table(data: q.ReportData) -> str:
    weeks = {r["topic"]: dict(r) for r in data.topics_latest_week}
    for week in weeks.values():
        before, now = week.get("negative_share_prev_week"), week.get("negative_share")
        week["_change"] = None if before is None or now is None else now - before
    latest = data.topics_latest_week[0]["week_label"] if data.topics_latest_week else None
    rows = [
        r | {"_rank": i, "_week": weeks.get(r["topic"], {})}
        for i, r in enumerate(data.topics, start=1)
    ]
    return table(topic_columns(latest), rows)


def render_page(
    data: q.ReportData,
    charts: dict[str, tuple[bytes, str] | None],
    generated_at: datetime,
    source: str = "",
) -> str:
    """The whole page. ``charts`` maps a chart's name to its (PNG, data URI), or None."""
    h = data.headline

    def chart(name: str, alt: str) -> str | None:
        drawn = charts.get(name)
        return figure(drawn[0], drawn[1], alt, name) if drawn else None

    cards = "".join(
        f'<div class="card"><div class="label">{text(i.label)}</div>'
        f'<div class="value{" " + i.tone if i.tone else ""}">{text(i.value)}</div>'
        f'<div class="detail">{text(i.detail)}</div></div>'
        for i in headline_items(h)
    )
    period = (
        f"Messages from {fmt_day(h.first_day)} to {fmt_day(h.as_of)} (UTC days)."
        if h.as_of
        else "The warehouse holds no messages yet."
    )
    built = f"Built {generated_at:%Y-%m-%d %H:%M} UTC" + (f" from {source}" if source else "") + "."

    sections = []
    daily = chart("daily", "Daily mean score and negative share per channel")
    sections.append(
        section(
            "daily",
            "Daily trend per channel",
            f"Mean score and share of negative messages per UTC day over the last "
            f"{q.DAILY_DAYS} days with data, scored inbound messages only. The black line is "
            f"all channels; a channel's day with fewer than {MIN_POINT_MESSAGES} scored "
            "messages leaves a gap in its line. Triangles mark anomalous days (negative share "
            "outside the channel's trailing 28-day band).",
            daily or missing_or_empty(data, q.DAILY, "no scored inbound messages yet."),
        )
    )
    weekly = chart("weekly", "Weekly mean score and negative share per channel")
    sections.append(
        section(
            "weekly",
            "Weekly trend per channel",
            f"The same per ISO week (Monday start), the last {q.WEEKLY_WEEKS} weeks.",
            weekly or missing_or_empty(data, q.WEEKLY, "no weeks with scored messages yet."),
        )
    )
    histogram = chart("distribution", "Distribution of message scores")
    sections.append(
        section(
            "distribution",
            "Distribution of message scores",
            "Scored inbound messages per score bin of 0.05, coloured by sentiment class.",
            histogram or missing_or_empty(data, q.MESSAGES, "no scored inbound messages yet."),
        )
    )
    topics_body = chart("topics", "Topics ranked by negative mentions")
    if topics_body:
        topics_body += topics_table(data)
    sections.append(
        section(
            "topics",
            "Topics ranked by negative volume",
            f"The {q.TOP_TOPICS} topics with the most negative mentions (the sentences of a "
            "scored inbound message that mention the topic are negative), over all days.",
            topics_body
            or missing_or_empty(data, q.TOPICS, "no message mentions a configured topic yet."),
        )
    )
    worst = [r | {"_rank": i} for i, r in enumerate(data.worst_conversations, start=1)]
    sections.append(
        section(
            "worst",
            f"The {q.WORST_CONVERSATIONS} most negative conversations",
            "By conversation score (confidence-weighted mean of its scored inbound messages), "
            "with the first and last inbound message's score and the change between them.",
            table(WORST_COLUMNS, worst)
            if worst
            else missing_or_empty(data, q.CONVERSATIONS, "no conversation has a score yet."),
        )
    )
    sections.append(
        section(
            "anomalies",
            "Latest anomalies",
            f"The {q.LATEST_EVENTS} newest days on which a channel's negative share left its "
            "trailing 28-day band (mean +/- 3 standard deviations), newest first.",
            table(ANOMALY_COLUMNS, data.anomalies)
            if data.anomalies
            else missing_or_empty(data, q.ANOMALIES, "no anomalous day found."),
        )
    )
    sections.append(
        section(
            "shifts",
            "Latest sentiment shifts",
            f"The {q.LATEST_EVENTS} newest shifts, newest first: customers whose polarity "
            "flipped between their last two conversations, conversations that dropped from "
            "their first to their last inbound message, and conversations that recovered "
            "after the first agent reply.",
            table(SHIFT_COLUMNS, data.shifts)
            if data.shifts
            else missing_or_empty(data, q.SHIFTS, "no shift found."),
        )
    )

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{text(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Customer sentiment report</title>\n"
        f"<style>{STYLE}</style></head>\n"
        "<body><main>\n"
        "<h1>Customer sentiment report</h1>\n"
        f'<p class="subtitle">{text(period)} {text(built)}</p>\n'
        f'<div class="cards">{cards}</div>\n' + "\n".join(sections) + "\n<footer>Written by the "
        "sentiment_report asset from the warehouse's marts. This file is self-contained: its "
        "charts are embedded images and it loads nothing from the network.</footer>\n"
        "</main></body></html>\n"
    )
