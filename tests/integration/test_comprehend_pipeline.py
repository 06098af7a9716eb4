"""The Comprehend engine end to end: full materializations through ``endpoint_url`` against
the suite's fake Comprehend endpoint (JSON 1.1, as boto3 sends it), with faults injected."""

import os

import dagster as dg
import duckdb
import pytest

from orchestration.assets.ingest import raw_messages
from orchestration.assets.scoring import message_scores
from orchestration.definitions import defs
from orchestration.resources import build_resources
from orchestration.sample.generator import write_sample
from tests.conftest import partition_tags
from tests.fakes import FaultPlan

RPS = 40


@pytest.fixture
def comprehend_env(isolated_env, fake_comprehend, monkeypatch):
    source = isolated_env / "sample.jsonl"
    write_sample(source, 600, seed=11)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_COMPREHEND_MAX_RPS", str(RPS))
    monkeypatch.setenv("SENTIMENT_COMPREHEND_CONCURRENCY", "2")
    return isolated_env, fake_comprehend


def run_job(full: bool = False):
    """The whole job, or (faster, when no mart is checked) the ingest and scoring assets,
    over every day of the current source."""
    tags = partition_tags(
        os.environ["SENTIMENT_SOURCE_PATH"], os.environ.get("SENTIMENT_SOURCE_FORMAT", "kustomer")
    )
    if full:
        return defs.resolve_job_def("sentiment_warehouse").execute_in_process(
            instance=dg.DagsterInstance.get(), raise_on_error=False, tags=tags
        )
    return dg.materialize(
        [raw_messages, message_scores],
        resources=build_resources(),
        instance=dg.DagsterInstance.get(),
        raise_on_error=False,
        tags=tags,
    )


def metadata(result, asset):
    # A run over several days records the step once per day, with the same metadata.
    event = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    )
    return {name: value.value for name, value in event.materialization.metadata.items()}


def test_throttling_and_failing_documents_end_scored_and_billed_once(comprehend_env):
    tmp, fake = comprehend_env
    fake.plan = FaultPlan(throttle_rate=0.10, doc_fail_once_rate=0.02, seed=5)

    result = run_job()

    assert result.success
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        statuses = dict(
            connection.execute(
                "select status, count(*) from raw.message_scores group by 1"
            ).fetchall()
        )
        texts = connection.execute("select count(*) from raw.score_cache").fetchone()[0]
        # Undetermined short texts are scored as English (the default undetermined_language).
        sent = {
            r[0]
            for r in connection.execute(
                "select distinct replace(language, 'und', 'en') from raw.message_scores "
                "where status = 'scored'"
            ).fetchall()
        }
        languages = {
            r[0]
            for r in connection.execute("select distinct language from raw.score_cache").fetchall()
        }
    assert "engine_error" not in statuses and statuses["scored"] > 500
    # Non-English messages (detected, or tagged by the source) go to Comprehend in their own
    # language; none is left out.
    assert languages == sent and len(sent) >= 3
    throttled = sum(r.status == 400 for r in fake.requests)
    assert throttled > 0 and not fake.violations
    assert max(fake.billed.values()) == 1 and len(fake.billed) == texts
    scoring = metadata(result, "message_scores")
    assert scoring["billed_units"] >= 3 * texts and scoring["estimated_cost_usd"] > 0
    assert scoring["document_errors_retried"] > 0 and scoring["documents_failed"] == 0
    assert scoring["documents_saved_by_cache"] > 0
    assert fake.max_requests_in_window(1.0) <= RPS

    rerun = run_job()
    assert rerun.success and metadata(rerun, "message_scores")["texts_scored"] == 0
    assert max(fake.billed.values()) == 1


def test_a_document_that_always_fails_is_listed_and_retried_by_the_next_run(
    comprehend_env, monkeypatch
):
    tmp, fake = comprehend_env
    source = tmp / "two.jsonl"
    source.write_text(
        '{"message_id": "a", "conversation_id": "c", "customer_id": "u", "channel": "chat", '
        '"direction": "in", "created_at": "2026-01-02T10:00:00Z", "body": "I love it"}\n'
        '{"message_id": "b", "conversation_id": "c", "customer_id": "u", "channel": "chat", '
        '"direction": "in", "created_at": "2026-01-02T10:01:00Z", "body": "cursed text"}\n'
    )
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    fake.plan = FaultPlan(always_fail_texts={"cursed text"})

    first = run_job()
    assert first.success
    listed = metadata(first, "message_scores")["engine_errors"]
    assert [e["message_id"] for e in listed] == ["b"] and "INTERNAL_SERVER_ERROR" in listed[0][
        "error"
    ]

    fake.plan = FaultPlan()
    second = run_job()
    assert metadata(second, "message_scores")["messages_processed"] == 1  # only the failed one
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute(
            "select count(*) from raw.message_scores where status = 'scored'"
        ).fetchone() == (2,)
    assert fake.billed["I love it"] == 1


def test_access_denied_fails_at_once_and_the_rerun_sends_only_what_has_no_score(comprehend_env):
    tmp, fake = comprehend_env
    fake.plan = FaultPlan(fatal_error="AccessDeniedException", fatal_after_requests=8)

    failed = run_job()

    assert not failed.success
    failure = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"][0]
    assert "comprehend:BatchDetectSentiment" in str(failure.event_specific_data.error)
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        committed = connection.execute("select count(*) from raw.score_cache").fetchone()[0]
    assert committed > 0  # the parts finished before the failure were kept

    fake.plan = FaultPlan()
    rerun = run_job()
    assert rerun.success
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        texts = connection.execute("select count(*) from raw.score_cache").fetchone()[0]
    assert metadata(rerun, "message_scores")["texts_scored"] == texts - committed
    # Only the batches in flight when the run died (one part at most) were sent twice.
    sent_twice = sum(1 for count in fake.billed.values() if count > 1)
    assert sent_twice <= 2 * 25 * 2


def test_targeted_sentiment_feeds_the_entity_mart(comprehend_env, monkeypatch):
    tmp, fake = comprehend_env
    monkeypatch.setenv("SENTIMENT_TARGETED", "1")
    result = run_job(full=True)
    assert result.success
    entities = metadata(result, "message_entities")
    assert entities["texts_analysed"] > 0 and entities["entity_mentions"] > 0
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select count(*), count(distinct message_id), count(*) filter (where polarity = -1) from marts.fct_entity_sentiment"
        ).fetchone()
        english = connection.execute(
            "select count(*) from marts.fct_entity_sentiment e join marts.fct_message_sentiment m using (message_id) where m.language <> 'en'"
        ).fetchone()
    assert rows[0] > 0 and rows[1] > 0 and rows[2] > 0
    assert english == (0,)
    targeted_calls = sum(r.operation == "BatchDetectTargetedSentiment" for r in fake.requests)
    rerun = run_job(full=True)
    assert rerun.success and metadata(rerun, "message_entities")["texts_analysed"] == 0
    assert (
        sum(r.operation == "BatchDetectTargetedSentiment" for r in fake.requests) == targeted_calls
    )
