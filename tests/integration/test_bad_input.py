"""Bad input through the whole job: each bad line ends in quarantine or a clear unscored
status, the run does not crash, and no line is lost."""

import json

import dagster as dg
import duckdb

from orchestration.definitions import defs

GOOD = {
    "message_id": "ok",
    "conversation_id": "c1",
    "customer_id": "u1",
    "channel": "chat",
    "direction": "in",
    "created_at": "2026-01-02T10:00:00Z",
    "body": "The courier was late again, very annoying.",
}


def test_bad_lines_are_quarantined_or_unscored_and_none_is_lost(isolated_env, monkeypatch):
    lines = [
        json.dumps(GOOD).encode(),
        b'{"message_id": "truncated", "body": "hel',
        json.dumps(GOOD | {"message_id": "no-customer", "customer_id": ""}).encode(),
        json.dumps(
            GOOD | {"message_id": "bad-time", "created_at": "2026-13-45T99:00:00Z"}
        ).encode(),
        json.dumps(GOOD | {"message_id": "empty", "body": ""}).encode(),
        json.dumps(
            GOOD | {"message_id": "huge", "body": "this is bad and I hate it " * 4000}
        ).encode(),
        json.dumps(GOOD | {"message_id": "latin1"}).encode().replace(b"annoying", b"\xe9nnoying"),
    ]
    source = isolated_env / "messages.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")

    result = defs.resolve_job_def("sentiment_warehouse").execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key="2026-01-02"
    )

    assert result.success
    with duckdb.connect(str(isolated_env / "warehouse.duckdb"), read_only=True) as connection:
        landed = dict(
            connection.execute(
                "select message_id, status from marts.fct_message_sentiment"
            ).fetchall()
        )
        rejected = dict(
            connection.execute("select source_row, reason from raw.rejected_messages").fetchall()
        )
        huge_length = connection.execute(
            "select length(body) from raw.messages where message_id = 'huge'"
        ).fetchone()
    assert landed == {"ok": "scored", "empty": "empty", "huge": "scored"}
    expected = {
        2: "malformed JSON",
        3: "missing required field: customer_id",
        4: "bad timestamp in created_at",
        7: "invalid UTF-8",
    }
    assert set(rejected) == set(expected)
    for row, reason in expected.items():
        assert rejected[row].startswith(reason), rejected[row]
    assert len(landed) + len(rejected) == len(lines)
    assert huge_length == (104_000,)
