"""Daily partitions: reruns replace a day, edits are picked up, and the marts after any mix of
partition runs equal a full rebuild."""

import json

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.full_load import run_full_load

MARTS = (
    "fct_message_sentiment",
    "fct_conversation_sentiment",
    "dim_customer_sentiment",
    "agg_sentiment_daily",
)
# Columns that record when something ran, not what it says.
VOLATILE = {"scored_at"}


def record(
    message_id, day, hour, body, conversation="c1", customer="u1", direction="in", updated=None
):
    created = f"2026-01-{day:02d}T{hour:02d}:00:00Z"
    return {
        "message_id": message_id,
        "conversation_id": conversation,
        "customer_id": customer,
        "channel": "chat" if conversation != "c3" else "email",
        "direction": direction,
        "created_at": created,
        "updated_at": updated or created,
        "body": body,
    }


HISTORY = [
    record("m1", 5, 9, "My parcel is late again, very annoying"),
    record("m2", 5, 10, "We are sorry, it ships today", direction="out"),
    record("m3", 6, 8, "Still nothing. This is terrible!"),
    record("m4", 6, 9, "thanks", conversation="c2", customer="u2"),
    record("m5", 6, 23, "The refund arrived, great service", conversation="c3", customer="u1"),
    record("m6", 7, 0, "ok thanks, all good now"),
    record("m7", 7, 12, "thanks", conversation="c2", customer="u2"),
]


def write(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")


def run_day(day: str):
    result = defs.resolve_job_def("sentiment_warehouse").execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key=day
    )
    assert result.success
    return result


def metadata(result, asset):
    event = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    )
    return {name: value.value for name, value in event.materialization.metadata.items()}


def snapshot(database) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = {}
        for mart in MARTS:
            columns = [
                c[0]
                for c in connection.execute(f"describe marts.{mart}").fetchall()
                if c[0] not in VOLATILE
            ]
            rows = connection.execute(f"select {', '.join(columns)} from marts.{mart}").fetchall()
            tables[mart] = sorted(rows, key=repr)
        return tables


@pytest.fixture
def source(isolated_env, monkeypatch):
    path = isolated_env / "messages.jsonl"
    write(path, HISTORY)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(path))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    return path


def test_partition_runs_in_any_order_equal_a_full_rebuild(source, isolated_env, monkeypatch):
    for day in ("2026-01-06", "2026-01-07", "2026-01-05", "2026-01-06"):  # out of order, one rerun
        run_day(day)
    partitioned = snapshot(isolated_env / "warehouse.duckdb")

    rebuilt = isolated_env / "rebuilt.duckdb"
    monkeypatch.setenv("SENTIMENT_WAREHOUSE_PATH", str(rebuilt))
    assert all(r.success for r in run_full_load(defs, dg.DagsterInstance.get(), source, "jsonl"))

    assert partitioned == snapshot(rebuilt)
    assert len(partitioned["fct_message_sentiment"]) == len(HISTORY)
    assert len(partitioned["fct_conversation_sentiment"]) == 3


def test_a_rerun_replaces_its_day_and_scores_nothing(source, isolated_env):
    run_day("2026-01-06")
    rerun = run_day("2026-01-06")
    assert metadata(rerun, "message_scores")["messages_processed"] == 0
    assert metadata(rerun, "raw_messages")["inserted"] == 0
    # Every file is unchanged since it was loaded for this day: the rerun reads none.
    assert metadata(rerun, "raw_messages")["files_read"] == 0
    with duckdb.connect(str(isolated_env / "warehouse.duckdb"), read_only=True) as connection:
        ids = [
            r[0]
            for r in connection.execute(
                "select message_id from marts.fct_message_sentiment"
            ).fetchall()
        ]
    assert sorted(ids) == ["m3", "m4", "m5"]  # that day only, once each


def test_edits_and_removals_are_picked_up_by_the_next_run_of_their_day(source, isolated_env):
    run_day("2026-01-06")
    edited = [r for r in HISTORY if r["message_id"] != "m4"]  # m4 removed at the source
    for r in edited:
        if r["message_id"] == "m3":  # same text, new whitespace: cleaned text unchanged
            r.update(body="Still nothing.   This is terrible! ", updated_at="2026-01-08T10:00:00Z")
        if r["message_id"] == "m5":  # really rewritten
            r.update(
                body="Terrible. I hate this service, it is awful", updated_at="2026-01-08T11:00:00Z"
            )
    write(source, edited)

    rerun = run_day("2026-01-06")

    ingest, scoring = metadata(rerun, "raw_messages"), metadata(rerun, "message_scores")
    assert (ingest["updated"], ingest["removed"]) == (2, 1)
    # Both edits are re-examined; only the changed text goes to the engine.
    assert (scoring["messages_processed"], scoring["texts_scored"], scoring["cache_hits"]) == (
        2,
        1,
        1,
    )
    with duckdb.connect(str(isolated_env / "warehouse.duckdb"), read_only=True) as connection:
        rows = dict(
            connection.execute(
                "select message_id, polarity from marts.fct_message_sentiment"
            ).fetchall()
        )
        orphans = connection.execute(
            "select count(*) from raw.message_scores where message_id = 'm4'"
        ).fetchone()
    assert set(rows) == {"m3", "m5"} and rows["m5"] == -1
    assert orphans == (0,)


def test_a_daily_run_skips_unchanged_files_of_other_days(isolated_env, monkeypatch):
    folder = isolated_env / "exports"
    folder.mkdir()
    write(
        folder / "2026-01-05.jsonl",
        [r for r in HISTORY if r["created_at"].startswith("2026-01-05")],
    )
    write(
        folder / "2026-01-06.jsonl",
        [r for r in HISTORY if r["created_at"].startswith("2026-01-06")],
    )
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(folder))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    first = metadata(run_day("2026-01-05"), "raw_messages")
    assert (first["files_read"], first["files_skipped"]) == (2, 0)  # spans not known yet
    again = metadata(run_day("2026-01-05"), "raw_messages")
    assert (again["files_read"], again["files_skipped"]) == (0, 2)  # nothing changed
    write(  # the day's file changes (same rows, new version): its day is read again
        folder / "2026-01-05.jsonl",
        [r for r in HISTORY if r["created_at"].startswith("2026-01-05")][::-1],
    )
    changed = metadata(run_day("2026-01-05"), "raw_messages")
    assert (changed["files_read"], changed["files_skipped"]) == (1, 1)
    write(
        folder / "2026-01-07.jsonl",
        [r for r in HISTORY if r["created_at"].startswith("2026-01-07")],
    )
    new_day = metadata(run_day("2026-01-07"), "raw_messages")
    assert (new_day["files_read"], new_day["files_skipped"]) == (1, 2)  # only the new file
