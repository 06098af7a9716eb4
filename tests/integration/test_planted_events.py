"""Issue 7's target on the built-in sample: every event the generator plants (customers who
turn, conversations that worsen or recover, one anomalous day per channel) is found in the
built warehouse, and nothing is reported on the days it planted as calm.

The sample is big enough for every channel's anomalous day to pass the anomaly rules' minimum
volume (20 scored messages, 7 judged days before it): at 60,000 lines over 60 days the
smallest channel (Instagram) has about 25 scored customer messages on a weekday and 40-60 on
its anomalous day. The warehouse is built as the CLI's run builds it, into a temporary folder.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.full_load import run_full_load
from orchestration.sample.generator import write_sample

MESSAGES, DAYS, SEED = 60_000, 60, 7


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The built warehouse (read-only connection) and what its sample planted."""
    tmp = tmp_path_factory.mktemp("planted_events")
    source = tmp / "sample.jsonl"
    planted: dict = {}
    write_sample(source, MESSAGES, seed=SEED, days=DAYS, planted=planted)
    database = tmp / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SENTIMENT_SOURCE_PATH", str(source))
        env.setenv("SENTIMENT_SOURCE_FORMAT", "kustomer")
        env.setenv("SENTIMENT_WAREHOUSE_PATH", str(database))
        env.setenv("DBT_TARGET_PATH", str(tmp / "dbt_target"))
        env.setenv("DAGSTER_HOME", str(tmp))
        results = run_full_load(defs, dg.DagsterInstance.ephemeral(), source, "kustomer")
        assert results and all(r.success for r in results)
    with duckdb.connect(str(database), read_only=True) as connection:
        yield connection, planted


def shifts(connection, shift_type: str) -> dict[str, dict]:
    """The rows of marts.fct_sentiment_shifts of one type, by shift_id."""
    cursor = connection.execute(
        "select * from marts.fct_sentiment_shifts where shift_type = ?", [shift_type]
    )
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_the_sample_plants_enough_of_every_event(warehouse):
    _, planted = warehouse
    counts = {
        kind: len(planted[kind])
        for kind in ("customer_turn", "conversation_drop", "conversation_recovery")
    }
    assert min(counts.values()) >= 30, counts
    assert len(planted["anomalous_day"]) == 7
    assert all(len(days) >= 15 for days in planted["calm_day"].values()), planted["calm_day"]


def test_every_planted_customer_turn_is_a_customer_flip(warehouse):
    connection, planted = warehouse
    flips = shifts(connection, "customer_flip")
    missing = {}
    for customer, turn in planted["customer_turn"].items():
        row = flips.get(f"customer_flip:{customer}:{turn['conversation_id']}")
        found = row and {
            "direction": row["direction"],
            "previous_conversation_id": row["previous_conversation_id"],
            "conversation_id": row["conversation_id"],
        }
        if found != turn:
            missing[customer] = {"planted": turn, "found": found}
    assert not missing, f"planted customer turns not found as customer_flip: {missing}"


@pytest.mark.parametrize(
    ("kind", "shift_type", "direction"),
    [
        ("conversation_drop", "conversation_drop", "negative"),
        ("conversation_recovery", "conversation_recovery", "positive"),
    ],
)
def test_every_planted_conversation_shift_is_found(warehouse, kind, shift_type, direction):
    connection, planted = warehouse
    found = shifts(connection, shift_type)
    missing = sorted(
        conversation_id
        for conversation_id in planted[kind]
        if found.get(f"{shift_type}:{conversation_id}", {}).get("direction") != direction
    )
    assert not missing, f"planted {kind} conversations not found as {shift_type}: {missing}"


def test_every_planted_anomalous_day_is_an_anomaly_above_the_band(warehouse):
    connection, planted = warehouse
    anomalies = {
        (channel, day.isoformat()): direction
        for channel, day, direction in connection.execute(
            "select channel, day, direction from marts.fct_sentiment_anomalies"
        ).fetchall()
    }
    missing = {
        channel: day
        for channel, day in planted["anomalous_day"].items()
        if anomalies.get((channel, day)) != "above"
    }
    if missing:  # say why: the day's volume and share against its baseline
        daily = connection.execute(
            "select channel, day::varchar, scored_count, negative_share "
            "from marts.agg_sentiment_daily where channel <> 'all'"
        ).fetchall()
        context = {(c, d): (n, share) for c, d, n, share in daily}
        missing = {c: (d, context.get((c, d))) for c, d in missing.items()}
    assert not missing, (
        f"planted anomalous days not in fct_sentiment_anomalies as 'above' "
        f"(channel: (day, (scored_count, negative_share))): {missing}"
    )


def test_nothing_is_reported_on_a_calm_day(warehouse):
    connection, planted = warehouse
    rows = connection.execute(
        "select channel, day::varchar, direction, scored_count, negative_share, "
        "baseline_mean, baseline_stddev, baseline_days from marts.fct_sentiment_anomalies"
    ).fetchall()
    calm = {(channel, day) for channel, days in planted["calm_day"].items() for day in days}
    reported = [row for row in rows if (row[0], row[1]) in calm]
    assert not reported, (
        "anomalies on planted calm days (channel, day, direction, scored_count, "
        f"negative_share, baseline_mean, baseline_stddev, baseline_days): {reported}"
    )
    # the calm days are judged: most have the volume and the baseline to be reported
    judged = connection.execute(
        "select channel, day::varchar from marts.agg_sentiment_daily "
        "where channel <> 'all' and scored_count >= 20"
    ).fetchall()
    assert len(calm & set(judged)) >= 0.7 * len(calm)
