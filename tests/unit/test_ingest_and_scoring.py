"""Loading (upsert, newest version wins, rejections kept) and scoring (cache, reruns)."""

from dataclasses import replace
from datetime import datetime

import duckdb
import pytest

from orchestration.engines.vader import VaderEngine
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.record import Message, Rejection


def message(message_id, body="I love it", updated_hour=10, language=None, channel="chat"):
    return Message(
        message_id=message_id,
        conversation_id="c1",
        customer_id="u1",
        channel=channel,
        direction="in",
        created_at=datetime(2026, 1, 2, 9),
        updated_at=datetime(2026, 1, 2, updated_hour),
        body=body,
        subject=None,
        language=language,
        source_name="f.jsonl",
        source_row=1,
    )


@pytest.fixture
def connection():
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        yield conn


class CountingEngine(VaderEngine):
    """VADER that remembers how many texts it was asked to score."""

    def __init__(self):
        super().__init__(workers=1)
        self.calls = 0

    def score_batch(self, texts, language):
        self.calls += len(texts)
        return super().score_batch(texts, language)


def test_duplicate_ids_keep_the_newest_update_in_and_across_loads(connection):
    stats = load_messages(
        connection,
        [message("m1", "old", 10), message("m1", "new", 12), message("m1", "mid", 11)],
        ["f.jsonl"],
    )
    assert (stats.rows, stats.inserted, stats.superseded_in_input) == (3, 1, 2)
    assert connection.execute("select body from raw.messages").fetchone() == ("new",)
    stats = load_messages(connection, [message("m1", "stale", 9)], ["g.jsonl"])
    assert (stats.unchanged, stats.updated) == (1, 0)
    assert connection.execute("select body from raw.messages").fetchone() == ("new",)
    stats = load_messages(connection, [message("m1", "edited", 13)], ["g.jsonl"])
    assert stats.updated == 1
    assert connection.execute("select body from raw.messages").fetchone() == ("edited",)


def test_a_large_load_upserted_in_slices_keeps_every_row_and_the_newest_version(
    connection, monkeypatch
):
    from orchestration import ingest

    monkeypatch.setattr(ingest, "UPSERT_ROWS", 7)  # 50 messages: 8 slices
    first = [message(f"m{i}", f"first {i}", 10) for i in range(50)]
    assert load_messages(connection, first, ["f.jsonl"]).inserted == 50
    later = [message(f"m{i}", f"edit {i}", 12 if i % 2 else 9) for i in range(60)]
    stats = load_messages(connection, later, ["g.jsonl"])
    assert (stats.inserted, stats.updated, stats.unchanged) == (10, 25, 25)
    bodies = dict(connection.execute("select message_id, body from raw.messages").fetchall())
    assert len(bodies) == 60
    for i in range(60):
        newer = i >= 50 or i % 2
        assert bodies[f"m{i}"] == (f"edit {i}" if newer else f"first {i}")


def test_rejections_are_stored_and_replaced_on_rerun_of_the_same_file(connection):
    items = [message("m1"), Rejection("f.jsonl", 2, "{bad", "malformed JSON: x")]
    for _ in range(2):
        stats = load_messages(connection, items, ["f.jsonl"])
    assert stats.rejected == 1
    assert connection.execute(
        "select source_row, raw_content, reason from raw.rejected_messages"
    ).fetchall() == [(2, "{bad", "malformed JSON: x")]


def test_each_distinct_text_is_scored_once_and_a_rerun_scores_nothing(connection):
    load_messages(
        connection, [message("m1", "thanks!"), message("m2", "thanks!"), message("m3", "awful")], []
    )
    engine = CountingEngine()
    stats = score_pending(connection, engine)
    assert (stats.messages, stats.texts_scored, engine.calls) == (3, 2, 2)
    assert (stats.duplicates_in_run, stats.cache_hits) == (1, 0)
    rerun = score_pending(connection, engine)
    assert (rerun.messages, engine.calls) == (0, 2)
    rows = dict(connection.execute("select message_id, score from raw.message_scores").fetchall())
    assert rows["m1"] == rows["m2"] > 0 > rows["m3"]


def test_an_edit_is_rescored_from_the_cache_when_its_text_is_known(connection):
    load_messages(connection, [message("m1", "awful"), message("m2", "great")], [])
    engine = CountingEngine()
    score_pending(connection, engine)
    load_messages(connection, [message("m1", "great", updated_hour=15)], [])
    stats = score_pending(connection, engine)
    assert (stats.messages, stats.cache_hits, engine.calls) == (1, 1, 2)
    assert connection.execute(
        "select polarity from raw.message_scores where message_id = 'm1'"
    ).fetchone() == (1,)


def test_unscorable_messages_get_a_status_not_a_neutral_score(connection):
    load_messages(
        connection,
        [
            message("empty", ""),
            message("mention", "@brand", channel="twitter"),
            message("german", "Das ist schlecht", language="de"),
        ],
        [],
    )
    score_pending(connection, CountingEngine())
    rows = connection.execute(
        "select message_id, status, status_reason, score, sentiment from raw.message_scores order by 1"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("empty", "empty"),
        ("german", "unsupported_language"),
        ("mention", "empty"),
    ]
    assert all(r[2] and r[3] is None and r[4] is None for r in rows)


def test_scoring_streams_in_chunks_and_scores_every_message_once(connection, monkeypatch):
    import orchestration.scoring as scoring

    monkeypatch.setattr(scoring, "CHUNK_ROWS", 2)
    texts = ["great", "awful", "great", "meh", "awful"]
    load_messages(connection, [message(f"m{i}", text) for i, text in enumerate(texts)], [])
    engine = CountingEngine()
    stats = score_pending(connection, engine)
    assert (stats.messages, engine.calls) == (5, 3)
    assert stats.cache_hits + stats.duplicates_in_run == 2
    assert connection.execute(
        "select count(*) from raw.message_scores where status = 'scored'"
    ).fetchone() == (5,)


def test_one_pool_per_pass_cleans_and_scores_like_the_serial_path(monkeypatch):
    """With small thresholds, a pass over several chunks cleans and scores on one worker
    pool; every row matches a single-process pass, and repeated texts are scored once."""
    import orchestration.engines.vader as vader
    import orchestration.parallel as parallel
    import orchestration.scoring as scoring

    for module, name, value in [
        (scoring, "CHUNK_ROWS", 25),
        (scoring, "CLEAN_CHUNK", 7),
        (scoring, "PARALLEL_CLEAN_MIN", 10),
        (vader, "CHUNK_TEXTS", 7),
        (vader, "PARALLEL_MIN_TEXTS", 10),
    ]:
        monkeypatch.setattr(module, name, value)
    pools_started = []
    real_pool = parallel.worker_pool

    def counting_pool(workers):
        pools_started.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(scoring, "worker_pool", counting_pool)
    shipped = []
    real_submit = parallel.submit_in_chunks

    def recording_submit(pool, function, items, chunk_size, min_items):
        name = getattr(function, "func", function).__name__  # a partial names its function
        shipped.append((name, pool is not None and len(items) >= min_items))
        return real_submit(pool, function, items, chunk_size, min_items)

    monkeypatch.setattr(scoring, "submit_in_chunks", recording_submit)
    monkeypatch.setattr(vader, "submit_in_chunks", recording_submit)

    bodies = [
        f"<p>Order {i % 40} arrived {'broken, awful' if i % 3 else 'fine, thanks'}</p>"
        "<blockquote>old thread</blockquote>"
        for i in range(80)
    ]
    messages = [message(f"m{i:03d}", body, channel="email") for i, body in enumerate(bodies)]
    results = {}
    for workers in (1, 2):
        with duckdb.connect() as conn:
            conn.execute(RAW_SCHEMA_DDL)
            load_messages(conn, messages, [])
            stats = score_pending(conn, VaderEngine(workers=workers))
            results[workers] = conn.execute(
                "select message_id, cleaned_text, status, score, confidence "
                "from raw.message_scores order by message_id"
            ).fetchall()
            assert (stats.messages, stats.texts_scored) == (80, len(set(bodies)))
            assert stats.cache_hits + stats.duplicates_in_run == 80 - len(set(bodies))
    assert results[1] == results[2]
    assert len(results[2]) == 80 and "old thread" not in results[2][0][1]
    assert pools_started == [1, 2]  # one pool per pass, not per chunk
    assert ("prepare_many", True) in shipped and ("score_texts", True) in shipped


def test_a_full_load_reads_only_new_or_changed_files_to_find_its_days(tmp_path, monkeypatch):
    import json

    import orchestration.full_load as full_load
    from orchestration.sources.location import list_source_files

    def write(name, day):
        record = {"message_id": name, "conversation_id": "c", "customer_id": "u",
                  "channel": "chat", "direction": "in", "created_at": f"{day}T10:00:00Z",
                  "body": "fine"}  # fmt: skip
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(record) + "\n")

    write("a", "2026-01-02")
    write("b", "2026-01-05")
    read = []
    real_days_of_files = full_load.days_of_files
    monkeypatch.setattr(
        full_load,
        "days_of_files",
        lambda conn, files, *args: read.extend(files) or real_days_of_files(conn, files, *args),
    )
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        assert full_load.source_days(tmp_path, "jsonl", conn) == ["2026-01-02", "2026-01-05"]
        assert len(read) == 2
        # File a was ingested (its version and its message are in the warehouse); b changes.
        (file_a,) = [f for f in list_source_files(str(tmp_path), (".jsonl",)) if "a.jsonl" in f.uri]
        conn.execute(
            "insert into raw.source_files (uri, version, messages, read_at) values (?, ?, 1, now())",
            [file_a.uri, file_a.version],
        )
        load_messages(conn, [replace(message("a"), source_name=file_a.uri)], [])
        write("b", "2026-01-07")
        read.clear()
        assert full_load.source_days(tmp_path, "jsonl", conn) == ["2026-01-02", "2026-01-07"]
        assert [f.uri for f in read] == [str(tmp_path.resolve() / "b.jsonl")]


def test_a_window_is_current_only_if_its_files_are_unchanged_loaded_for_it_and_present():
    from orchestration.source_manifest import loaded_window, window_is_current
    from orchestration.sources.location import SourceFile

    day = (datetime(2026, 1, 5), datetime(2026, 1, 6))
    week = (datetime(2026, 1, 1), datetime(2026, 1, 8))
    a, b = SourceFile("a", "v1", 1), SourceFile("b", "v1", 1)
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)

        def known(uri, version, first, last, loaded):
            conn.execute(
                "insert or replace into raw.source_files values (?, ?, ?, ?, 1, now(), ?, ?)",
                [uri, version, first, last, *loaded],
            )

        assert not window_is_current(conn, [a], day)  # never read
        known("a", "v1", datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 18), week)
        known("b", "v1", datetime(2026, 1, 2, 9), datetime(2026, 1, 2, 18), day)
        assert window_is_current(conn, [a, b], day)  # b's messages miss the day
        assert not window_is_current(conn, [a, SourceFile("b", "v2", 1)], day)  # b changed
        assert not window_is_current(conn, [b], day)  # a, with messages of the day, is gone
        assert not window_is_current(conn, [a, b], (datetime(2026, 1, 5), datetime(2026, 1, 9)))
    # Loaded windows join when they touch, and a gap is never counted as loaded.
    assert loaded_window(None, day) == day
    assert loaded_window((datetime(2026, 1, 6), datetime(2026, 1, 7)), day) == (
        datetime(2026, 1, 5),
        datetime(2026, 1, 7),
    )
    assert loaded_window((datetime(2026, 1, 8), datetime(2026, 1, 9)), day) == day
