"""When a dbt build may be skipped: same inputs, same project, a covered window, published."""

from datetime import datetime

import duckdb
import pytest

from orchestration import build_state
from orchestration.raw_schema import RAW_SCHEMA_DDL

DAY = (datetime(2026, 1, 2), datetime(2026, 1, 3))
EVERYTHING = (datetime(1, 1, 1), datetime(9999, 12, 31))


@pytest.fixture
def connection():
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        conn.execute(
            "insert into raw.messages values ('m1', 'c', 'u', 'chat', 'in', '2026-01-02 10:00', "
            "'2026-01-02 10:00', 'fine', null, 'en', 'f.jsonl', 1, '2026-01-02 11:00', 'full')"
        )
        yield conn


def test_the_fingerprint_follows_every_change_to_the_inputs(connection):
    first = build_state.inputs_fingerprint(connection)
    assert build_state.inputs_fingerprint(connection) == first
    connection.execute("update raw.messages set body = 'awful'")
    edited = build_state.inputs_fingerprint(connection)
    assert edited != first
    connection.execute("delete from raw.messages")
    assert build_state.inputs_fingerprint(connection) not in (first, edited)


def test_a_build_is_current_only_when_published_and_covering_the_window(connection):
    inputs = build_state.inputs_fingerprint(connection)
    assert not build_state.build_is_current(connection, inputs, "p", DAY)
    build_state.record_build(connection, inputs, "p", EVERYTHING)
    assert not build_state.build_is_current(connection, inputs, "p", DAY)  # not published yet
    build_state.record_publish(connection)
    assert build_state.build_is_current(connection, inputs, "p", DAY)
    assert build_state.build_is_current(connection, inputs, "p", EVERYTHING)
    assert not build_state.build_is_current(connection, inputs, "other project", DAY)
    assert not build_state.build_is_current(connection, "other inputs", "p", DAY)


def test_a_day_build_does_not_vouch_for_other_days(connection):
    inputs = build_state.inputs_fingerprint(connection)
    build_state.record_build(connection, inputs, "p", DAY)
    build_state.record_publish(connection)
    assert build_state.build_is_current(connection, inputs, "p", DAY)
    next_day = (DAY[1], datetime(2026, 1, 4))
    assert not build_state.build_is_current(connection, inputs, "p", next_day)
    assert not build_state.build_is_current(connection, inputs, "p", EVERYTHING)


def test_a_build_that_started_vouches_for_nothing_until_a_whole_one_finishes(connection):
    inputs = build_state.inputs_fingerprint(connection)
    build_state.record_build(connection, inputs, "p", EVERYTHING)
    build_state.record_publish(connection)
    assert build_state.build_is_current(connection, inputs, "p", DAY)
    # A subset build from the UI (or a whole one that then fails) changes marts unrecorded.
    build_state.record_build_started(connection, "p", EVERYTHING)
    assert not build_state.build_is_current(connection, inputs, "p", DAY)
    assert not build_state.latest_build_published(connection)  # so the publish copies again
    build_state.record_publish(connection)
    assert not build_state.build_is_current(connection, inputs, "p", DAY)
    build_state.record_build(connection, inputs, "p", EVERYTHING)
    build_state.record_publish(connection)
    assert build_state.build_is_current(connection, inputs, "p", DAY)
