"""Analysts query the published copy while the pipeline writes the warehouse."""

import json
import subprocess
import sys
import textwrap

import dagster as dg
import duckdb

from orchestration.definitions import defs

READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, seconds = sys.argv[1], float(sys.argv[2])
    connection = duckdb.connect(path, read_only=True)
    reads, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.execute("select count(*), avg(sentiment_score) from marts.fct_conversation_sentiment").fetchall()
        connection.execute("select * from meta.published_build").fetchall()
        reads += 1
    print(reads)
    """
)


def test_a_reader_holds_the_published_copy_open_during_a_full_materialization(
    isolated_env, monkeypatch
):
    source = isolated_env / "messages.jsonl"
    source.write_text(
        "\n".join(
            json.dumps(
                {
                    "message_id": f"m{i}",
                    "conversation_id": f"c{i % 3}",
                    "customer_id": f"u{i % 2}",
                    "channel": "chat",
                    "direction": "in" if i % 2 else "out",
                    "created_at": f"2026-01-09T{i:02d}:00:00Z",
                    "body": "this is great" if i % 3 else "this is awful",
                }
            )
            for i in range(12)
        )
    )
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    job = defs.resolve_job_def("sentiment_warehouse")
    assert job.execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key="2026-01-09"
    ).success
    published = isolated_env / "warehouse.published.duckdb"
    assert published.exists()

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rerun = job.execute_in_process(
            instance=dg.DagsterInstance.get(), partition_key="2026-01-09"
        )
    finally:
        out, err = reader.communicate(timeout=60)

    assert rerun.success
    assert reader.returncode == 0, err
    assert int(out.strip()) > 0
    with duckdb.connect(str(published), read_only=True) as connection:
        assert connection.execute(
            "select count(*) from marts.fct_message_sentiment"
        ).fetchone() == (12,)
