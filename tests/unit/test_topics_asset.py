"""The message_topics asset: its metadata, its warning under text policy none, what it logs,
and its error on a bad topics file."""

import logging

import dagster as dg
import duckdb
import pytest

from orchestration.assets.topics import message_topics
from orchestration.engines.vader import VaderEngine
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.resources import ComprehendResource, EngineResource, WarehouseResource
from orchestration.scoring import score_pending
from orchestration.text.prepare import TextSettings
from orchestration.topics.resource import TopicsResource
from tests.unit.test_topics_rescoring import MESSAGES

SECRET_SENTENCE = "Tracking shows nothing."  # part of m7's text


def prepared_warehouse(path, policy):
    with duckdb.connect(str(path)) as connection:
        connection.execute(RAW_SCHEMA_DDL)
        load_messages(connection, MESSAGES, [])
        score_pending(connection, VaderEngine(workers=1), settings=TextSettings(policy=policy))


def materialize(tmp_path, topics_text="refund: [refund]\ndelivery: [tracking, late]\n"):
    topics = tmp_path / "topics.yml"
    topics.write_text(topics_text)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [message_topics],
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "engine": EngineResource(engine="vader", workers=1, comprehend=ComprehendResource()),
            "topics": TopicsResource(path=str(topics)),
        },
        instance=instance,
        raise_on_error=False,
    )
    logs = [
        (entry.level, str(entry.user_message))
        for entry in instance.all_logs(result.run_id)
        if entry.step_key
    ]
    return result, logs


def metadata(result):
    event = result.get_asset_materialization_events()[0]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_asset_reports_what_it_did_and_logs_no_text(tmp_path, isolated_env):
    prepared_warehouse(tmp_path / "w.duckdb", "redacted")
    result, logs = materialize(tmp_path)
    assert result.success
    meta = metadata(result)
    assert meta["topics"] == ["refund", "delivery"] and meta["topics_added"] == meta["topics"]
    assert meta["messages_evaluated"] == 5 and meta["messages_without_text"] == 0
    assert meta["topic_rows_written"] == meta["dagster/row_count"] == 6
    assert meta["snippets_scored"] > 0
    assert not [m for level, m in logs if level >= logging.WARNING]
    assert all(SECRET_SENTENCE not in m and "refund is late" not in m for _, m in logs)


def test_under_text_policy_none_the_asset_warns_and_writes_no_rows(tmp_path, isolated_env):
    prepared_warehouse(tmp_path / "w.duckdb", "none")
    result, logs = materialize(tmp_path)
    assert result.success
    meta = metadata(result)
    assert meta["messages_without_text"] == 5 and meta["dagster/row_count"] == 0
    assert "text policy none" in meta["messages_without_text_note"]
    warnings = [m for level, m in logs if level == logging.WARNING]
    assert warnings == [
        "5 scored inbound messages have no cleaned text (text policy none): they get no topic rows"
    ]


def test_a_bad_topics_file_fails_the_run_naming_the_file(tmp_path, isolated_env):
    prepared_warehouse(tmp_path / "w.duckdb", "redacted")
    result, _ = materialize(tmp_path, "refund: []\n")
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert f"{tmp_path / 'topics.yml'}: topic 'refund' has an empty keyword list" in str(
        failure.cause or failure
    )


@pytest.fixture(autouse=True)
def _no_topics_env(monkeypatch):
    monkeypatch.delenv("SENTIMENT_TOPICS_PATH", raising=False)
