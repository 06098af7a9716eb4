"""The sentiment report's HTML builder on a temporary DuckDB whose marts are made by hand.

``create_marts`` writes the marts the report reads (with the columns the report uses, as the
dbt models define them) from generated message rows; the integration and end-to-end report
tests build their warehouses with it too.
"""

from __future__ import annotations

import base64
import io
import math
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from orchestration.reporting import ReportResource, build_report, charts, write_report
from orchestration.reporting import build as report_build
from orchestration.reporting import queries as q
from orchestration.reporting.html import CSP

FIRST_DAY = date(2026, 1, 1)
CHANNELS = ("chat", "email")
EVIL_CUSTOMER = '<script>alert("pwned")</script>'
EVIL_CONVERSATION = "conv-<img src=x onerror=alert(1)>"
TOPICS = ("refund", "delivery", "app <b>crash</b> & $5 or $10 fees")
GENERATED_AT = datetime(2026, 2, 1, 12, 0)


def sentiment_of(score: float, k: int) -> str:
    if k == 5:
        return "MIXED"
    return "POSITIVE" if score > 0.05 else "NEGATIVE" if score < -0.05 else "NEUTRAL"


def message_rows(days: int) -> list[tuple]:
    """(message_id, conversation_id, customer_id, channel, direction, created_at, created_date,
    status, sentiment, score, polarity, confidence, is_inbound, is_scored) per message: per day
    and channel one conversation of 10 messages (7 scored inbound, 2 outbound scored very
    positive, which the report must ignore, 1 unscored inbound), and one very negative
    conversation of a customer whose id is markup."""
    rows = []
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        for c, channel in enumerate(CHANNELS):
            conversation = f"conv-{day:%m%d}-{channel}"
            customer = f"cust-{(2 * d + c) % 9}"
            for k in range(10):
                at = datetime.combine(day, time(8 + k, 5 * c))
                message_id = f"{conversation}-{k}"
                if k in (3, 7):  # outbound
                    row = ("out", "scored", "POSITIVE", 0.95, 1, 0.9, False, True)
                elif k == 9:  # unscored inbound
                    row = ("in", "unsupported_language", None, None, None, None, True, False)
                else:
                    score = round(0.9 * math.sin(1.7 * d + 2.3 * c + 0.8 * k), 3)
                    sentiment = sentiment_of(score, k)
                    polarity = {"POSITIVE": 1, "NEGATIVE": -1}.get(sentiment, 0)
                    row = ("in", "scored", sentiment, score, polarity, 0.8, True, True)
                direction, status, sentiment, score, polarity, confidence, inbound, scored = row
                rows.append(
                    (message_id, conversation, customer, channel, direction, at, day)
                    + (status, sentiment, score, polarity, confidence, inbound, scored)
                )
        if d == min(days - 1, 3):
            for k, score in enumerate((-0.95, -0.97)):
                at = datetime.combine(day, time(20, k))
                rows.append(
                    (f"evil-{k}", EVIL_CONVERSATION, EVIL_CUSTOMER, "chat", "in", at, day)
                    + ("scored", "NEGATIVE", score, -1, 0.9, True, True)
                )
    return rows


def shift_rows(count: int) -> list[tuple]:
    """(shift_id, shift_type, direction, customer_id, conversation_id, previous_conversation_id,
    channel, before_score, after_score, score_change, occurred_at); the newest is last."""
    kinds = ("customer_flip", "conversation_drop", "conversation_recovery")
    rows = []
    for i in range(count):
        kind = kinds[i % 3]
        before, after = (0.6, -0.5) if kind != "conversation_recovery" else (-0.6, 0.4)
        customer = EVIL_CUSTOMER if i == count - 1 else f"cust-{i % 9}"
        conversation = f"conv-shift-{i:02d}"
        previous = f"conv-shift-{i:02d}-before" if kind == "customer_flip" else None
        shift_id = f"{kind}:{conversation}"
        at = datetime.combine(FIRST_DAY, time(9)) + timedelta(hours=7 * i)
        rows.append(
            (shift_id, kind, "negative" if after < before else "positive", customer)
            + (conversation, previous, CHANNELS[i % 2], before, after, after - before, at)
        )
    return rows


def anomaly_rows(count: int, days: int) -> list[tuple]:
    """(anomaly_id, day, channel, scored_count, negative_count, negative_share, baseline_mean,
    band_lower, band_upper, direction, z_score)."""
    rows = []
    for i in range(count):
        day = FIRST_DAY + timedelta(days=i % days)
        channel = CHANNELS[i // days % 2]
        direction = "below" if i % 5 == 4 else "above"
        share = 0.05 if direction == "below" else 0.6
        rows.append(
            (f"{channel}:{day}", day, channel, 40, round(40 * share), share, 0.25)
            + (0.15, 0.35, direction, 4.2 if direction == "above" else -3.4)
        )
    return rows


def topic_rows(messages: list[tuple]) -> list[tuple]:
    rows = []
    for n, m in enumerate(r for r in messages if r[12] and r[13]):
        for topic in {TOPICS[n % 3], TOPICS[0] if n % 4 == 0 else TOPICS[n % 3]}:
            rows.append((m[0], topic) + m[1:7] + (m[9], m[10], m[8], m[11]))
    return rows


MARTS_DDL = """
create schema if not exists marts;
create or replace table marts.fct_message_sentiment (
    message_id varchar, conversation_id varchar, customer_id varchar, channel varchar,
    direction varchar, created_at timestamp, created_date date, status varchar,
    sentiment varchar, score double, polarity integer, confidence double,
    is_inbound boolean, is_scored boolean);
create or replace table marts.fct_sentiment_shifts (
    shift_id varchar, shift_type varchar, direction varchar, customer_id varchar,
    conversation_id varchar, previous_conversation_id varchar, channel varchar,
    before_score double, after_score double, score_change double, occurred_at timestamp);
create or replace table marts.fct_sentiment_anomalies (
    anomaly_id varchar, day date, channel varchar, scored_count bigint, negative_count bigint,
    negative_share double, baseline_mean double, band_lower double, band_upper double,
    direction varchar, z_score double);
"""

DERIVED_MARTS = """
create or replace table marts.fct_conversation_sentiment as
select
    conversation_id,
    any_value(customer_id) as customer_id,
    any_value(channel) as channel,
    min(created_at) as started_at,
    count(*) filter (where is_inbound and is_scored) as scored_inbound_count,
    avg(score) filter (where is_inbound and is_scored) as sentiment_score,
    arg_min(score, created_at) filter (where is_inbound and is_scored) as first_inbound_score,
    arg_max(score, created_at) filter (where is_inbound and is_scored) as last_inbound_score,
    last_inbound_score - first_inbound_score as sentiment_change
from marts.fct_message_sentiment
group by conversation_id;

create or replace table marts.dim_customer_sentiment as
select customer_id, count(distinct conversation_id) as conversation_count
from marts.fct_message_sentiment
group by customer_id;

create or replace table marts.agg_sentiment_daily as
with inbound as (
    select created_date as day, channel, is_scored, sentiment, score
    from marts.fct_message_sentiment where is_inbound
    union all
    select created_date, 'all', is_scored, sentiment, score
    from marts.fct_message_sentiment where is_inbound
)
select
    day, channel,
    count(*) filter (where is_scored) as scored_count,
    avg(score) filter (where is_scored) as mean_score,
    (count(*) filter (where is_scored and sentiment = 'NEGATIVE'))
        / nullif(count(*) filter (where is_scored), 0) as negative_share
from inbound
group by day, channel;

create or replace table marts.agg_sentiment_weekly as
with inbound as (
    select cast(date_trunc('week', created_date) as date) as week_start, channel, is_scored,
        sentiment, score
    from marts.fct_message_sentiment where is_inbound
    union all
    select cast(date_trunc('week', created_date) as date), 'all', is_scored, sentiment, score
    from marts.fct_message_sentiment where is_inbound
)
select
    week_start, strftime(week_start, '%G-W%V') as week_label, channel,
    count(*) filter (where is_scored) as scored_count,
    avg(score) filter (where is_scored) as mean_score,
    (count(*) filter (where is_scored and sentiment = 'NEGATIVE'))
        / nullif(count(*) filter (where is_scored), 0) as negative_share
from inbound
group by week_start, channel;
"""

TOPIC_MARTS = """
create or replace table marts.fct_topic_sentiment (
    message_id varchar, topic varchar, conversation_id varchar, customer_id varchar,
    channel varchar, direction varchar, created_at timestamp, created_date date,
    score double, polarity integer, sentiment varchar, confidence double);
"""

TOPIC_WEEKLY = """
create or replace table marts.agg_topic_sentiment_weekly as
select
    cast(date_trunc('week', created_date) as date) as week_start,
    strftime(cast(date_trunc('week', created_date) as date), '%G-W%V') as week_label,
    topic,
    count(*) as mention_count,
    avg(score) as mean_score,
    count(*) filter (where sentiment = 'NEGATIVE') as negative_count,
    count(*) filter (where sentiment = 'NEGATIVE') / count(*) as negative_share
from marts.fct_topic_sentiment
group by all;
"""


def create_marts(
    connection, days: int = 21, topics: bool = True, shifts: int = 25, anomalies: int = 22
) -> list[tuple]:
    """Write every mart the report reads into ``connection``; returns the message rows."""
    messages = message_rows(days)
    connection.execute(MARTS_DDL)
    if messages:
        connection.executemany(
            f"insert into marts.fct_message_sentiment values ({', '.join(['?'] * 14)})", messages
        )
    if shifts:
        connection.executemany(
            f"insert into marts.fct_sentiment_shifts values ({', '.join(['?'] * 11)})",
            shift_rows(shifts),
        )
    if anomalies and days:
        connection.executemany(
            f"insert into marts.fct_sentiment_anomalies values ({', '.join(['?'] * 11)})",
            anomaly_rows(anomalies, days),
        )
    connection.execute(DERIVED_MARTS)
    if topics:
        connection.execute(TOPIC_MARTS)
        if rows := topic_rows(messages):
            connection.executemany(
                f"insert into marts.fct_topic_sentiment values ({', '.join(['?'] * 12)})", rows
            )
        connection.execute(TOPIC_WEEKLY)
    return messages


@pytest.fixture
def connection(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A warehouse with every mart and its report, built once for the tests that only read."""
    path = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        messages = create_marts(connection)
        report = build_report(connection, source="warehouse.duckdb", generated_at=GENERATED_AT)
    return messages, report


def images(page: str) -> list[Image.Image]:
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [Image.open(io.BytesIO(base64.b64decode(uri))) for uri in uris]


def table_rows(page: str, section: str) -> list[list[str]]:
    """The body rows of a section's table, as the cells' text (still escaped)."""
    body = page.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1])
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]


def headline_value(page: str, label: str) -> str:
    match = re.search(
        rf'<div class="label">{re.escape(label)}</div><div class="value[^"]*">([^<]*)</div>', page
    )
    assert match, f"no headline card {label!r}"
    return match.group(1)


def test_the_report_draws_every_chart_and_fills_every_table(full):
    _, report = full
    assert report.charts == ["daily", "weekly", "distribution", "topics"]
    drawn = images(report.html)
    assert len(drawn) == 4
    for image in drawn:
        assert image.format == "PNG" and image.width == 1060 and image.height > 150
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        non_white = sum(n for n, rgb in colours if rgb != (255, 255, 255))
        assert len(colours) > 50 and non_white > 0.05 * image.width * image.height
    assert "No data" not in report.html

    worst = table_rows(report.html, "worst")
    assert len(worst) == q.WORST_CONVERSATIONS
    scores = [float(row[4]) for row in worst]
    assert scores == sorted(scores) and scores[0] == pytest.approx(-0.96)
    # the first -> last change of the markup customer's conversation: -0.95 then -0.97
    assert worst[0][5:7] == ["-0.950 -&gt; -0.970", "-0.020"]

    anomalies = table_rows(report.html, "anomalies")
    assert len(anomalies) == q.LATEST_EVENTS
    days = [row[0] for row in anomalies]
    assert days == sorted(days, reverse=True) and days[0] == str(FIRST_DAY + timedelta(days=20))

    shifts = table_rows(report.html, "shifts")
    assert len(shifts) == q.LATEST_EVENTS
    newest = shift_rows(25)[-1]
    assert shifts[0][0] == f"{newest[10]:%Y-%m-%d %H:%M}"
    assert [row[0] for row in shifts] == sorted((row[0] for row in shifts), reverse=True)

    topics = table_rows(report.html, "topics")
    negatives = [int(row[2].replace(",", "")) for row in topics]
    assert len(topics) == len(TOPICS) and negatives == sorted(negatives, reverse=True)


def test_the_headline_numbers_are_those_of_the_messages(full):
    messages, report = full
    inbound = [m for m in messages if m[12]]
    scored = [m for m in inbound if m[13]]
    as_of = max(m[6] for m in messages)

    def negative_share(first: int, last: int) -> float:
        window = [m for m in scored if first <= (as_of - m[6]).days <= last]
        return sum(m[8] == "NEGATIVE" for m in window) / len(window)

    page = report.html
    assert headline_value(page, "Messages") == f"{len(messages):,}"
    assert headline_value(page, "Scored share") == f"{len(scored) / len(inbound):.1%}"
    assert headline_value(page, "Mean score") == f"{sum(m[9] for m in scored) / len(scored):+.3f}"
    last, previous = negative_share(0, 6), negative_share(7, 13)
    assert headline_value(page, "Negative share, last 7 days") == f"{last:.1%}"
    assert f"previous 7 days {previous:.1%} ({100 * (last - previous):+.1f} pp)" in page
    assert headline_value(page, "Anomalous days") == "22"
    assert headline_value(page, "Sentiment shifts") == "25"
    # The histogram counts scored inbound messages only, not the (scored) agent replies.
    assert sum(r["messages"] for r in report.data.histogram) == len(scored)

    markdown = report.headline_markdown.splitlines()
    assert markdown[:2] == ["| | value | detail |", "|---|---:|---|"]
    assert f"| Messages | {len(messages):,} |" in markdown[2]
    assert len(markdown) == 8


def test_ids_and_labels_from_the_warehouse_are_escaped(full):
    page = full[1].html
    assert "<script" not in page and "alert(" in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "conv-&lt;img src=x onerror=alert(1)&gt;" in page
    assert (
        "<b>crash</b>" not in page and "app &lt;b&gt;crash&lt;/b&gt; &amp; $5 or $10 fees" in page
    )
    # Every tag in the page is one of the builder's own.
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "div",
        "section", "figure", "img", "table", "thead", "tbody", "tr", "th", "td", "footer",
    }  # fmt: skip


def test_the_page_references_nothing_outside_itself(full):
    page = full[1].html
    assert page.count('<img src="data:image/png;base64,') == 4
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", page)
    assert re.findall(r"(?i)https?:|//[a-z0-9]|\b(?:ftp|file|wss?):", text) == []
    assert (
        re.findall(r'(?i)\b(?:src|href|action|srcset|poster)\s*=\s*"(?!data:image/png)', page) == []
    )
    assert re.findall(r"(?i)<(?:script|link|iframe|object|embed|base)\b|@import|url\(", page) == []
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page.replace(
        "&#x27;", "'"
    )
    assert "default-src 'none'" in CSP and "img-src data:" in CSP
    assert "style-src 'unsafe-inline'" in CSP


def test_a_fresh_warehouse_renders_with_no_data_notes(connection):
    report = build_report(connection, generated_at=GENERATED_AT)  # no marts schema at all
    assert report.charts == [] and images(report.html) == []
    for section in ("daily", "weekly", "distribution", "topics", "worst", "anomalies", "shifts"):
        body = report.html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert "No data: marts." in body and "is not built in this warehouse yet" in body
    assert headline_value(report.html, "Messages") == "n/a"
    assert "The warehouse holds no messages yet." in report.html
    assert "| Anomalous days | n/a |" in report.headline_markdown


def test_empty_marts_render_with_no_data_notes(connection):
    create_marts(connection, days=0, shifts=0, anomalies=0)
    report = build_report(connection, generated_at=GENERATED_AT)
    assert report.charts == []
    assert report.html.count('<p class="nodata">No data:') == 7
    assert "is not built" not in report.html
    assert headline_value(report.html, "Messages") == "0"
    assert headline_value(report.html, "Scored share") == "n/a"
    assert headline_value(report.html, "Anomalous days") == "0"
    assert headline_value(report.html, "Sentiment shifts") == "0"


def test_a_source_of_one_day_still_draws_its_trend(connection):
    create_marts(connection, days=1, anomalies=1)
    report = build_report(connection, generated_at=GENERATED_AT)
    assert report.charts == ["daily", "weekly", "distribution", "topics"]
    assert "previous 7 days n/a (n/a)" in report.html
    for image in images(report.html):
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 50


def test_missing_topic_marts_leave_only_their_section_empty(connection):
    create_marts(connection, topics=False)
    report = build_report(connection, generated_at=GENERATED_AT)
    assert report.charts == ["daily", "weekly", "distribution"]
    topics = report.html.split('<section id="topics">', 1)[1].split("</section>", 1)[0]
    assert "No data: marts.fct_topic_sentiment is not built in this warehouse yet." in topics
    assert report.html.count("No data") == 1


def test_the_file_is_replaced_atomically(connection, tmp_path, monkeypatch):
    create_marts(connection, days=2, topics=False)
    path = tmp_path / "out" / "report.html"
    report = write_report(connection, path)
    assert path.read_text(encoding="utf-8") == report.html
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(report_build.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(connection, path)
    assert path.read_text(encoding="utf-8") == report.html  # the old file is untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_the_report_goes_beside_the_warehouse_unless_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("SENTIMENT_REPORT_PATH", raising=False)
    warehouse = tmp_path / "data" / "sentiment.duckdb"
    assert ReportResource().report_path(warehouse) == tmp_path / "data" / "sentiment_report.html"
    monkeypatch.setenv("SENTIMENT_REPORT_PATH", str(tmp_path / "env.html"))
    assert ReportResource().report_path(warehouse) == tmp_path / "env.html"
    field = ReportResource(path=str(tmp_path / "field.html"))
    assert field.report_path(warehouse) == tmp_path / "field.html"


@pytest.mark.parametrize("variable", ["XDG_CONFIG_HOME", "XDG_CACHE_HOME"])
def test_matplotlib_gets_a_temporary_config_dir_when_home_is_not_writable(
    variable, tmp_path, monkeypatch
):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    charts.ensure_config_dir()
    assert "MPLCONFIGDIR" not in charts.os.environ  # both writable: matplotlib's own folders
    monkeypatch.setenv(variable, str(blocker / "sub"))  # cannot be created
    charts.ensure_config_dir()
    chosen = Path(charts.os.environ["MPLCONFIGDIR"])
    assert chosen.is_dir() and chosen.is_relative_to(charts.tempfile.gettempdir())
    assert not chosen.is_relative_to(Path(__file__).resolve().parents[2])
