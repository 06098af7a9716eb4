"""The short summary the CLI prints after a run."""

from __future__ import annotations

from pathlib import Path

import duckdb

SUMMARY_TABLES = (
    "raw.messages",
    "raw.rejected_messages",
    "raw.message_scores",
    "marts.fct_message_sentiment",
    "marts.fct_conversation_sentiment",
    "marts.dim_customer_sentiment",
    "marts.agg_sentiment_daily",
    "marts.agg_language_daily",
    "marts.agg_sentiment_weekly",
    "marts.fct_sentiment_shifts",
    "marts.fct_sentiment_anomalies",
    "marts.fct_topic_sentiment",
)

MOST_NEGATIVE_SQL = """
select conversation_id, customer_id, channel, round(sentiment_score, 3) as sentiment_score,
       scored_inbound_count
from marts.fct_conversation_sentiment
where sentiment_score is not null
order by sentiment_score, conversation_id
limit 5
"""


def table_counts(connection: duckdb.DuckDBPyConnection, prefix: str = "") -> dict[str, int]:
    """Rows of each summary table whose name starts with ``prefix``, in the summary's order."""
    return {
        t: connection.execute(f"select count(*) from {t}").fetchone()[0]
        for t in SUMMARY_TABLES
        if t.startswith(prefix)
    }


def most_negative_conversations(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    return connection.execute(MOST_NEGATIVE_SQL).fetchall()


def format_summary(
    warehouse: Path,
    dagster_home: str | None = None,
    published: Path | None = None,
    report: Path | None = None,
    docs: Path | None = None,
) -> str:
    """Rows per table, the five most negative conversations, and where to go next."""
    # The marts are read from the published copy when there is one: in lake mode the
    # warehouse's marts are views over Parquet files (on S3 they need httpfs and settings),
    # while the copy holds them as tables, as analysts see them.
    marts_file = published if published and Path(published).exists() else warehouse
    with duckdb.connect(str(marts_file), read_only=True) as connection:
        marts = table_counts(connection, "marts.")
        negative = most_negative_conversations(connection)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        counts = table_counts(connection, "raw.") | marts
    width = max(len(name) for name in counts)
    lines = ["", "Rows per table:"]
    lines += [f"  {name:<{width}}  {count:>10,}" for name, count in counts.items()]
    lines += ["", "Five most negative conversations:"]
    lines.append(
        f"  {'conversation':<20} {'customer':<16} {'channel':<10} {'score':>7} {'inbound':>8}"
    )
    for conversation, customer, channel, score, inbound in negative:
        lines.append(
            f"  {conversation:<20} {customer:<16} {channel:<10} {score:>7.3f} {inbound:>8}"
        )
    home = f"DAGSTER_HOME={dagster_home} " if dagster_home else ""
    lines += [
        "",
        f"Warehouse: {warehouse}",
        f"Analysts:  {published or warehouse} (a read-only copy you can open while runs write)",
        *([f"Report:    {report} (open it in a browser; it works offline)"] if report else []),
        *([f"Model docs: {docs}"] if docs else []),
        f"Lineage UI: make ui   (= {home}.venv/bin/dagster dev -w workspace.yaml with .venv/bin on PATH; then open http://127.0.0.1:3000)",
        f"Query:      .venv/bin/python -c \"import duckdb; print(duckdb.connect('{published or warehouse}', "
        "read_only=True).sql('select * from marts.agg_sentiment_daily order by day desc limit 10'))\"",
    ]
    return "\n".join(lines)
