"""The events the alerts watch, read from the marts, and how they are written down: one line
per event in the webhook's text, one row per event in the check's Markdown table.

Only ids, channels, dates, counts and scores appear: never a message's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import dagster as dg

from ..shift_types import SHIFT_LABELS

Event = dict[str, Any]

# The marts' own tolerance for thresholds: 0.2 - 1.2 is a change of -1.0.
TOLERANCE = 1e-9
TABLE_ROWS = 100


def slack_escape(value: object) -> str:
    """A value as Slack shows it literally: ``&``, ``<`` and ``>`` escaped, so an id can never
    form a mention or link such as ``<!channel>``."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def _band(event: Event) -> str:
    # A share lives in [0, 1]; the band's arithmetic can reach past either end.
    lower, upper = event["band_lower"], event["band_upper"]
    lower = None if lower is None else max(0.0, lower)
    upper = None if upper is None else min(1.0, upper)
    return f"{_pct(lower)} to {_pct(upper)}"


def _day(value: date | datetime | None) -> str:
    return "n/a" if value is None else f"{value:%Y-%m-%d}"


def _time(value: datetime | None) -> str:
    return "n/a" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class EventKind:
    """One family of alerted events: where they come from and how they read."""

    name: str  # raw.alert_log.event_kind
    table: str
    check_name: str
    check_description: str
    sql: str  # event_id first, then the columns the line and the table use
    uses_large_shift: bool
    headline: Callable[[int, float], str]
    line: Callable[[Event], str]
    columns: tuple[tuple[str, Callable[[Event], object]], ...]

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table.split("."))

    def params(self, large_shift: float) -> dict[str, float]:
        return {"large_shift": large_shift} if self.uses_large_shift else {}


def _anomaly_line(e: Event) -> str:
    return (
        f"- {slack_escape(e['channel'])} on {_day(e['day'])}: {_pct(e['negative_share'])} "
        f"negative ({e['negative_count']} of {e['scored_count']} scored) vs band {_band(e)} "
        f"(baseline mean {_pct(e['baseline_mean'])} over {e['baseline_days']} days, "
        f"z {_num(e['z_score'], '.1f')})"
    )


def _shift_line(e: Event) -> str:
    previous = (
        f", previous conversation {slack_escape(e['previous_conversation_id'])}"
        if e.get("previous_conversation_id")
        else ""
    )
    label = SHIFT_LABELS.get(e["shift_type"], e["shift_type"])
    return (
        f"- {slack_escape(label)}: customer {slack_escape(e['customer_id'])}, conversation "
        f"{slack_escape(e['conversation_id'])} ({slack_escape(e['channel'])}){previous}: "
        f"{_num(e['before_score'])} -> {_num(e['after_score'])} "
        f"({_num(e['score_change'], '+.2f')}) at {_time(e['occurred_at'])}"
    )


ANOMALIES = EventKind(
    name="anomaly",
    table="marts.fct_sentiment_anomalies",
    check_name="new_anomaly_alert",
    check_description="Alerts once per new anomaly: a day whose negative share of a channel "
    "rose above its trailing band (direction 'above'). Posts to the webhook when one is "
    "configured; WARN when there are new anomalies.",
    sql="""
        select
            anomaly_id as event_id, day, channel, scored_count, negative_count,
            negative_share, baseline_mean, band_lower, band_upper, baseline_days, z_score
        from marts.fct_sentiment_anomalies
        where direction = 'above'
        order by day desc, channel, anomaly_id
    """,
    uses_large_shift=False,
    headline=lambda n, _: (
        f"Sentiment alert: {_plural(n, 'new anomaly', 'new anomalies')}, a channel's daily "
        "negative share above its usual band"
    ),
    line=_anomaly_line,
    columns=(
        ("day", lambda e: _day(e["day"])),
        ("channel", lambda e: e["channel"]),
        ("negative share", lambda e: _pct(e["negative_share"])),
        ("negative / scored", lambda e: f"{e['negative_count']} / {e['scored_count']}"),
        ("band", _band),
        ("baseline mean", lambda e: _pct(e["baseline_mean"])),
        ("baseline days", lambda e: e["baseline_days"]),
        ("z", lambda e: _num(e["z_score"], ".1f")),
    ),
)

SHIFTS = EventKind(
    name="negative_shift",
    table="marts.fct_sentiment_shifts",
    check_name="large_negative_shift_alert",
    check_description="Alerts once per new large negative shift: a customer flip or "
    "conversation drop whose score change is at most minus the alerts' large_shift (default "
    "1.0). Posts to the webhook when one is configured; WARN when there are new shifts.",
    sql=f"""
        select
            shift_id as event_id, shift_type, customer_id, conversation_id,
            previous_conversation_id, channel, before_score, after_score, score_change,
            occurred_at
        from marts.fct_sentiment_shifts
        where direction = 'negative' and score_change <= -$large_shift + {TOLERANCE}
        order by occurred_at desc, shift_id
    """,
    uses_large_shift=True,
    headline=lambda n, large_shift: (
        f"Sentiment alert: {_plural(n, 'new large negative shift', 'new large negative shifts')}"
        f" (score change of -{large_shift:g} or worse)"
    ),
    line=_shift_line,
    columns=(
        ("type", lambda e: e["shift_type"]),
        ("customer", lambda e: e["customer_id"]),
        ("conversation", lambda e: e["conversation_id"]),
        ("previous conversation", lambda e: e["previous_conversation_id"]),
        ("channel", lambda e: e["channel"]),
        ("before", lambda e: _num(e["before_score"])),
        ("after", lambda e: _num(e["after_score"])),
        ("change", lambda e: _num(e["score_change"], "+.2f")),
        ("occurred at", lambda e: _time(e["occurred_at"])),
    ),
)

KINDS = (ANOMALIES, SHIFTS)


def message_text(kind: EventKind, events: list[Event], large_shift: float, max_lines: int) -> str:
    """The webhook's text: a headline, one line per event up to ``max_lines``, then how many
    more there are."""
    shown = events[: max(0, max_lines)]
    lines = [kind.headline(len(events), large_shift), *(kind.line(e) for e in shown)]
    if len(events) > len(shown):
        lines.append(f"... and {len(events) - len(shown)} more in {kind.table}")
    return "\n".join(lines)


def markdown_table(kind: EventKind, events: list[Event], max_rows: int = TABLE_ROWS) -> str:
    """The events as a Markdown table for the check's metadata (at most ``max_rows`` rows)."""
    headers = [name for name, _ in kind.columns]
    rows = [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *(
            "| " + " | ".join(md_cell(value(e)) for _, value in kind.columns) + " |"
            for e in events[:max_rows]
        ),
    ]
    if len(events) > max_rows:
        rows.append(f"\n... and {len(events) - max_rows} more in `{kind.table}`.")
    return "\n".join(rows)
