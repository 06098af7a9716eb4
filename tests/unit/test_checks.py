from datetime import datetime

import duckdb
import pytest

from orchestration.checks import COMPLETE, IN_RANGE, score_checks
from orchestration.engines.vader import VaderEngine
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.record import Message

DAY = (datetime(2026, 1, 9), datetime(2026, 1, 10))


def message(message_id, body):
    return Message(
        message_id,
        "c1",
        "u1",
        "chat",
        "in",
        datetime(2026, 1, 9, 10),
        datetime(2026, 1, 9, 10),
        body,
        None,
        None,
        "f",
        1,
    )


@pytest.fixture
def connection():
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        load_messages(conn, [message("a", "great"), message("b", ""), message("c", "awful")], [])
        yield conn


def results(connection):
    return {r.check_name: r for r in score_checks(connection, DAY)}


def test_checks_pass_when_every_message_is_scored_or_explained(connection):
    score_pending(connection, VaderEngine(workers=1))
    checks = results(connection)
    assert checks[COMPLETE].passed and checks[IN_RANGE].passed
    assert checks[COMPLETE].metadata["messages"].value == 3


def test_missing_unexplained_and_out_of_range_scores_fail_with_counts(connection):
    score_pending(connection, VaderEngine(workers=1))
    connection.execute("delete from raw.message_scores where message_id = 'a'")
    connection.execute("update raw.message_scores set status_reason = null where message_id = 'b'")
    connection.execute("update raw.message_scores set score = 1.5 where message_id = 'c'")
    checks = results(connection)
    assert not checks[COMPLETE].passed and not checks[IN_RANGE].passed
    counts = {k: v.value for k, v in checks[COMPLETE].metadata.items()}
    assert (counts["without_score_row"], counts["unexplained"]) == (1, 1)
    assert checks[IN_RANGE].metadata["out_of_range"].value == 1
