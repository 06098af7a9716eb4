"""The alert checks in the real pipeline: a fixture with one anomalous day and one conversation
that turns sour, built by the warehouse job into a temporary DuckDB by the project's dbt
models, with a local webhook receiver whose URL is in ``SENTIMENT_ALERT_WEBHOOK_URL`` (set
through monkeypatch; the project's resource only names that variable). A rerun posts nothing
more."""

import json
from datetime import date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from orchestration.alerts import AlertsResource
from orchestration.alerts.checks import alert_checks
from orchestration.alerts.resource import LARGE_SHIFT_ENV, WEBHOOK_ENV
from orchestration.definitions import defs
from tests.conftest import partition_tags
from tests.unit.test_alerts import TOKEN, WebhookReceiver

pytestmark = pytest.mark.integration

POSITIVE = "Thank you so much, this is great and I love it!"
NEGATIVE = "This is terrible and awful, I hate it, the worst service ever."
CALM_DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(9)]
BAD_DAY = date(2026, 1, 10)
ALERT_CHECK_KEYS = {key for check in alert_checks for key in check.check_keys}


def message(message_id, conversation, customer, text, when: datetime, direction="in"):
    return {
        "message_id": message_id,
        "conversation_id": conversation,
        "customer_id": customer,
        "channel": "chat",
        "direction": direction,
        "created_at": when.isoformat() + "Z",
        "body": text,
    }


def fixture_messages() -> list[dict]:
    """20 chat conversations a day (one per customer): 0 to 2 negative on the nine calm days (a band of a few
    percent), 15 on the bad day; and on the bad day one more conversation that starts happy
    and ends furious (a drop of about -1.8)."""
    messages = []
    for day in [*CALM_DAYS, BAD_DAY]:
        negatives = 15 if day == BAD_DAY else day.day % 3
        for i in range(20):
            when = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=i)
            text = NEGATIVE if i < negatives else POSITIVE
            messages.append(message(f"m-{day}-{i}", f"c-{day}-{i}", f"u-{day}-{i}", text, when))
    start = datetime(BAD_DAY.year, BAD_DAY.month, BAD_DAY.day, 12)
    messages += [
        message("sour-1", "c-sour", "u-sour", POSITIVE, start),
        message("sour-2", "c-sour", "u-sour", "Let me check.", start + timedelta(minutes=1), "out"),
        message("sour-3", "c-sour", "u-sour", NEGATIVE, start + timedelta(minutes=30)),
    ]
    return messages


def test_the_alert_checks_are_wired_into_the_project():
    assert defs.resolve_asset_graph().asset_check_keys >= ALERT_CHECK_KEYS
    job = defs.resolve_job_def("sentiment_warehouse")
    assert set(job.asset_layer.asset_graph.asset_check_keys) >= ALERT_CHECK_KEYS
    # The project's resource names the variable holding the URL; no field could hold the URL.
    alerts = defs.resources["alerts"]
    assert isinstance(alerts, AlertsResource)
    assert alerts.webhook_url_env == WEBHOOK_ENV
    assert "webhook_url" not in AlertsResource.model_fields


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alerts")
    source = tmp / "messages.jsonl"
    source.write_text("".join(json.dumps(m) + "\n" for m in fixture_messages()))
    database = tmp / "warehouse.duckdb"
    receiver = WebhookReceiver().start()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SENTIMENT_SOURCE_PATH", str(source))
            env.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
            env.setenv("SENTIMENT_WAREHOUSE_PATH", str(database))
            env.setenv("DBT_TARGET_PATH", str(tmp / "dbt_target"))
            env.setenv("SENTIMENT_WORKERS", "1")
            env.setenv(WEBHOOK_ENV, receiver.url)
            env.delenv(LARGE_SHIFT_ENV, raising=False)
            job = defs.resolve_job_def("sentiment_warehouse")
            instance = dg.DagsterInstance.ephemeral()
            tags = partition_tags(source, "jsonl")
            first = job.execute_in_process(instance=instance, tags=tags)
            posted_after_first = len(receiver.requests)
            rerun = job.execute_in_process(instance=instance, tags=tags)
    finally:
        receiver.stop()
    with duckdb.connect(str(database), read_only=True) as connection:
        yield connection, first, rerun, receiver, posted_after_first


def alert_evaluations(result) -> dict:
    return {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.asset_check_key in ALERT_CHECK_KEYS
    }


def test_the_marts_hold_the_planted_events(built):
    connection, first, _, _, _ = built
    assert first.success
    anomalies = connection.execute(
        "select anomaly_id, direction from marts.fct_sentiment_anomalies"
    ).fetchall()
    assert anomalies == [(f"chat:{BAD_DAY}", "above")]
    drop = connection.execute(
        "select score_change from marts.fct_sentiment_shifts "
        "where shift_id = 'conversation_drop:c-sour'"
    ).fetchone()
    assert drop is not None and drop[0] <= -1.0


def test_each_new_event_is_posted_once_in_the_first_run(built):
    connection, first, _, receiver, posted_after_first = built
    evaluations = alert_evaluations(first)
    assert set(evaluations) == {"new_anomaly_alert", "large_negative_shift_alert"}
    for evaluation in evaluations.values():
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.WARN
        assert evaluation.metadata["posted"].value is True
    assert posted_after_first == 2
    texts = sorted(json.loads(r["body"])["text"] for r in receiver.requests)
    assert all(r["headers"]["Content-Type"] == "application/json" for r in receiver.requests)
    anomaly, shift = sorted(texts, key=lambda t: "anomal" not in t)
    assert anomaly.splitlines()[0].startswith("Sentiment alert: 1 new anomaly")
    # 15 negative of the 20 conversations, plus the sour one's two messages.
    assert anomaly.splitlines()[1].startswith(
        f"- chat on {BAD_DAY}: 72.7% negative (16 of 22 scored) vs band 0.0% to"
    )
    assert "- conversation drop: customer u-sour, conversation c-sour (chat):" in shift
    for text in texts:
        assert POSITIVE not in text and NEGATIVE not in text
    logged = connection.execute(
        "select event_kind, event_id, status from raw.alert_log order by all"
    ).fetchall()
    assert logged == [
        ("anomaly", f"chat:{BAD_DAY}", "posted"),
        ("negative_shift", "conversation_drop:c-sour", "posted"),
    ]
    assert TOKEN not in str(connection.execute("select * from raw.alert_log").fetchall())
    # Nor in what Dagster stored of the run: its config and its events.
    assert TOKEN not in json.dumps(first.dagster_run.run_config)
    assert not [event for event in first.all_events if TOKEN in str(event)]


def test_a_rerun_posts_nothing(built):
    _, _, rerun, receiver, posted_after_first = built
    assert rerun.success
    evaluations = alert_evaluations(rerun)
    assert set(evaluations) == {"new_anomaly_alert", "large_negative_shift_alert"}
    assert all(e.passed for e in evaluations.values())
    assert len(receiver.requests) == posted_after_first


def test_the_marts_job_runs_the_alert_checks_too():
    job = defs.resolve_job_def("build_marts")
    assert ALERT_CHECK_KEYS.issubset(job.asset_layer.asset_graph.asset_check_keys)
