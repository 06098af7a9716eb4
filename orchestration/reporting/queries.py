"""The SQL that reads the marts for the report, and the rows it returns.

Every query reads one mart of the ``marts`` schema. A mart that does not exist yet (a fresh
warehouse, or a model not built) leaves its sections empty instead of failing, and the page
says so; a mart that exists but lacks a column is a real error and raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

SCHEMA = "marts"

MESSAGES = "fct_message_sentiment"
CONVERSATIONS = "fct_conversation_sentiment"
CUSTOMERS = "dim_customer_sentiment"
DAILY = "agg_sentiment_daily"
WEEKLY = "agg_sentiment_weekly"
SHIFTS = "fct_sentiment_shifts"
ANOMALIES = "fct_sentiment_anomalies"
TOPICS = "fct_topic_sentiment"
TOPICS_WEEKLY = "agg_topic_sentiment_weekly"

# The marts the report reads: the sentiment_report asset depends on each of them.
REPORT_MARTS = (
    MESSAGES,
    CONVERSATIONS,
    CUSTOMERS,
    DAILY,
    WEEKLY,
    SHIFTS,
    ANOMALIES,
    TOPICS,
    TOPICS_WEEKLY,
)

DAILY_DAYS = 90  # the daily chart: the last 90 days that have data
WEEKLY_WEEKS = 52  # the weekly chart: the last 52 weeks
HISTOGRAM_BINS = 40  # bins of 0.05 over the score's range -1..1
TOP_TOPICS = 15
WORST_CONVERSATIONS = 20
LATEST_EVENTS = 20

HEADLINE_SQL = f"""
with

messages as (
    select created_date, is_inbound, is_scored, sentiment, score
    from {SCHEMA}.{MESSAGES}
),

bounds as (
    -- the 7-day windows end on the newest message's day, not the wall clock, so a report of
    -- the same warehouse says the same thing whenever it is built
    select max(created_date) as as_of from messages
)

select
    count(*) as messages,
    count(*) filter (where is_inbound) as inbound,
    count(*) filter (where is_inbound and is_scored) as scored,
    avg(score) filter (where is_inbound and is_scored) as mean_score,
    min(created_date) as first_day,
    any_value(bounds.as_of) as as_of,
    count(*) filter (
        where is_inbound and is_scored and created_date > bounds.as_of - 7
    ) as scored_last_7d,
    count(*) filter (
        where is_inbound and is_scored and sentiment = 'NEGATIVE'
        and created_date > bounds.as_of - 7
    ) as negative_last_7d,
    count(*) filter (
        where is_inbound and is_scored
        and created_date > bounds.as_of - 14 and created_date <= bounds.as_of - 7
    ) as scored_prev_7d,
    count(*) filter (
        where is_inbound and is_scored and sentiment = 'NEGATIVE'
        and created_date > bounds.as_of - 14 and created_date <= bounds.as_of - 7
    ) as negative_prev_7d
from messages
cross join bounds
"""

CONVERSATION_COUNT_SQL = f"select count(*) from {SCHEMA}.{CONVERSATIONS}"
CUSTOMER_COUNT_SQL = f"select count(*) from {SCHEMA}.{CUSTOMERS}"

ANOMALY_COUNTS_SQL = f"""
select
    count(*) as anomalies,
    count(*) filter (where direction = 'above') as anomalies_above
from {SCHEMA}.{ANOMALIES}
"""

SHIFT_COUNTS_SQL = f"""
select shift_type, count(*) as events
from {SCHEMA}.{SHIFTS}
group by shift_type
order by shift_type
"""

DAILY_SQL = f"""
with last as (select max(day) as last_day from {SCHEMA}.{DAILY})
select day, channel, scored_count, mean_score, negative_share
from {SCHEMA}.{DAILY}
cross join last
where day > last.last_day - $days
order by channel, day
"""

# The anomalies inside the daily chart's window, drawn on its negative-share panel.
ANOMALY_MARKERS_SQL = f"""
with last as (select max(day) as last_day from {SCHEMA}.{DAILY})
select day, channel, negative_share, direction
from {SCHEMA}.{ANOMALIES}
cross join last
where day > last.last_day - $days
order by day, channel
"""

WEEKLY_SQL = f"""
with weeks as (
    select distinct week_start from {SCHEMA}.{WEEKLY} order by week_start desc limit $weeks
)
select week_start, week_label, channel, scored_count, mean_score, negative_share
from {SCHEMA}.{WEEKLY}
where week_start in (select week_start from weeks)
order by channel, week_start
"""

HISTOGRAM_SQL = f"""
select
    greatest(least(cast(floor((score + 1) / (2.0 / $bins)) as integer), $bins - 1), 0) as bin,
    sentiment,
    count(*) as messages
from {SCHEMA}.{MESSAGES}
where is_inbound and is_scored and score is not null
group by all
order by bin, sentiment
"""

TOPICS_SQL = f"""
select
    topic,
    count(*) as mentions,
    count(*) filter (where sentiment = 'NEGATIVE') as negative_count,
    count(distinct conversation_id) as conversations,
    avg(score) as mean_score,
    count(*) filter (where sentiment = 'NEGATIVE') / count(*) as negative_share
from {SCHEMA}.{TOPICS}
group by topic
order by negative_count desc, mentions desc, topic
limit $top
"""

TOPICS_LATEST_WEEK_SQL = f"""
with latest as (select max(week_start) as week_start from {SCHEMA}.{TOPICS_WEEKLY})
select
    this_week.topic,
    this_week.week_label,
    this_week.mention_count,
    this_week.negative_count,
    this_week.negative_share,
    prev_week.negative_share as negative_share_prev_week
from {SCHEMA}.{TOPICS_WEEKLY} as this_week
inner join latest on this_week.week_start = latest.week_start
left join {SCHEMA}.{TOPICS_WEEKLY} as prev_week
    on prev_week.topic = this_week.topic
    and prev_week.week_start = this_week.week_start - 7
"""

WORST_CONVERSATIONS_SQL = f"""
select
    conversation_id, customer_id, channel, sentiment_score, first_inbound_score,
    last_inbound_score, sentiment_change, scored_inbound_count, started_at
from {SCHEMA}.{CONVERSATIONS}
where sentiment_score is not null
order by sentiment_score, started_at desc, conversation_id
limit $limit
"""

LATEST_ANOMALIES_SQL = f"""
select
    day, channel, direction, scored_count, negative_count, negative_share, baseline_mean,
    band_lower, band_upper, z_score
from {SCHEMA}.{ANOMALIES}
order by day desc, channel
limit $limit
"""

LATEST_SHIFTS_SQL = f"""
select
    occurred_at, shift_type, direction, customer_id, conversation_id,
    previous_conversation_id, channel, before_score, after_score, score_change
from {SCHEMA}.{SHIFTS}
order by occurred_at desc, shift_id
limit $limit
"""


@dataclass
class Headline:
    """The numbers at the top of the page (None: the mart they come from is not built)."""

    messages: int | None = None
    inbound: int | None = None
    scored: int | None = None
    mean_score: float | None = None
    first_day: date | None = None
    as_of: date | None = None
    scored_last_7d: int | None = None
    negative_last_7d: int | None = None
    scored_prev_7d: int | None = None
    negative_prev_7d: int | None = None
    conversations: int | None = None
    customers: int | None = None
    anomalies: int | None = None
    anomalies_above: int | None = None
    shifts: dict[str, int] | None = None

    @property
    def scored_share(self) -> float | None:
        return self.scored / self.inbound if self.inbound else None

    @property
    def negative_share_last_7d(self) -> float | None:
        return self.negative_last_7d / self.scored_last_7d if self.scored_last_7d else None

    @property
    def negative_share_prev_7d(self) -> float | None:
        return self.negative_prev_7d / self.scored_prev_7d if self.scored_prev_7d else None


@dataclass
class ReportData:
    """Everything the page shows, as plain rows (dicts keyed by column name)."""

    available: frozenset[str]
    headline: Headline
    daily: list[dict[str, Any]] = field(default_factory=list)
    anomaly_markers: list[dict[str, Any]] = field(default_factory=list)
    weekly: list[dict[str, Any]] = field(default_factory=list)
    histogram: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    topics_latest_week: list[dict[str, Any]] = field(default_factory=list)
    worst_conversations: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)

    def has(self, mart: str) -> bool:
        return mart in self.available


def rows(connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, params or {})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def existing_marts(connection) -> frozenset[str]:
    """The report's marts that exist in the warehouse (tables or views)."""
    found = connection.execute(
        "select table_name from information_schema.tables where table_schema = $schema",
        {"schema": SCHEMA},
    ).fetchall()
    return frozenset(name for (name,) in found) & frozenset(REPORT_MARTS)


def read_headline(connection, available: frozenset[str]) -> Headline:
    headline = Headline()
    if MESSAGES in available:
        (values,) = rows(connection, HEADLINE_SQL)
        for name, value in values.items():
            setattr(headline, name, value)
    if CONVERSATIONS in available:
        headline.conversations = connection.execute(CONVERSATION_COUNT_SQL).fetchone()[0]
    if CUSTOMERS in available:
        headline.customers = connection.execute(CUSTOMER_COUNT_SQL).fetchone()[0]
    if ANOMALIES in available:
        (counts,) = rows(connection, ANOMALY_COUNTS_SQL)
        headline.anomalies = counts["anomalies"]
        headline.anomalies_above = counts["anomalies_above"]
    if SHIFTS in available:
        headline.shifts = {r["shift_type"]: r["events"] for r in rows(connection, SHIFT_COUNTS_SQL)}
    return headline


def read_report_data(connection) -> ReportData:
    """Read every section of the report from the marts that exist."""
    available = existing_marts(connection)
    data = ReportData(available=available, headline=read_headline(connection, available))
    if DAILY in available:
        data.daily = rows(connection, DAILY_SQL, {"days": DAILY_DAYS})
        if ANOMALIES in available:
            data.anomaly_markers = rows(connection, ANOMALY_MARKERS_SQL, {"days": DAILY_DAYS})
    if WEEKLY in available:
        data.weekly = rows(connection, WEEKLY_SQL, {"weeks": WEEKLY_WEEKS})
    if MESSAGES in available:
        data.histogram = rows(connection, HISTOGRAM_SQL, {"bins": HISTOGRAM_BINS})
    if TOPICS in available:
        data.topics = rows(connection, TOPICS_SQL, {"top": TOP_TOPICS})
    if TOPICS_WEEKLY in available:
        data.topics_latest_week = rows(connection, TOPICS_LATEST_WEEK_SQL)
    if CONVERSATIONS in available:
        data.worst_conversations = rows(
            connection, WORST_CONVERSATIONS_SQL, {"limit": WORST_CONVERSATIONS}
        )
    if ANOMALIES in available:
        data.anomalies = rows(connection, LATEST_ANOMALIES_SQL, {"limit": LATEST_EVENTS})
    if SHIFTS in available:
        data.shifts = rows(connection, LATEST_SHIFTS_SQL, {"limit": LATEST_EVENTS})
    return data
