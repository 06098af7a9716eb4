"""The Parquet lake writer: files per day, only what changed, swapped in whole, on disk and S3."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lake import LAKE_TABLES, sync_lake, writer
from orchestration.lake.duckdb_s3 import configure, s3_settings
from orchestration.lake.layout import STAGING_DIR
from orchestration.raw_schema import RAW_SCHEMA_DDL
from tests.fakes.s3_server import MotoS3

DAY = datetime(2024, 3, 1)


@pytest.fixture
def warehouse():
    connection = duckdb.connect()
    connection.execute(RAW_SCHEMA_DDL)
    yield connection
    connection.close()


def add_messages(connection, count: int, day_offset: int = 0, prefix: str = "m") -> None:
    """``count`` messages (and a score each) spread over three days from DAY + offset."""
    params = {"n": count, "day": DAY + timedelta(days=day_offset), "prefix": prefix}
    connection.execute(
        """
        insert into raw.messages
        select $prefix || i, 'c1', 'u1', 'chat', 'in', created, created, 'text ' || i, null,
               'en', 'file.jsonl', i + 1, created, 'full'
        from (
            select range as i,
                   $day::timestamp + to_days(cast(range % 3 as integer))
                                   + to_hours(cast(range % 24 as integer)) as created
            from range($n)
        )
        """,
        params,
    )
    connection.execute(
        """
        insert into raw.message_scores (message_id, text_hash, status, sentiment, score,
                                        message_updated_at)
        select message_id, 'h' || message_id, 'scored', 'POSITIVE', source_row / 100, created_at
        from raw.messages
        where starts_with(message_id, $prefix)
          and message_id not in (select message_id from raw.message_scores)
        """,
        {"prefix": prefix},
    )


def files(root: Path, table: str) -> list[str]:
    return sorted(str(p.relative_to(root / table)) for p in (root / table).rglob("*.parquet"))


def test_sources_are_written_one_file_per_day_with_the_raw_columns(warehouse, tmp_path):
    add_messages(warehouse, 30)
    stats = sync_lake(warehouse, str(tmp_path))
    assert files(tmp_path, "messages") == [
        "day=2024-03-01/data.parquet",
        "day=2024-03-02/data.parquet",
        "day=2024-03-03/data.parquet",
    ]
    assert files(tmp_path, "message_scores") == files(tmp_path, "messages")
    for table in ("conversations", "customers", "entity_mentions", "message_topics"):
        assert files(tmp_path, table) == ["data.parquet"]
    assert stats.files_written == 10 and stats.rows_written == 60
    # exactly the raw table's columns, in order; the day is only the folder's key
    raw = [r[0] for r in warehouse.execute("describe raw.messages").fetchall()]
    assert pq.read_schema(tmp_path / "messages/day=2024-03-02/data.parquet").names == raw
    lake = warehouse.execute(
        f"""
        select message_id, day, body from read_parquet(
            '{tmp_path}/messages/*/*.parquet', hive_partitioning = true)
        order by message_id
        """
    ).fetchall()
    expected = warehouse.execute(
        "select message_id, cast(created_at as date), body from raw.messages order by message_id"
    ).fetchall()
    assert lake == expected
    assert not any((tmp_path / STAGING_DIR).iterdir())  # nothing staged is left behind


def test_a_sync_rewrites_only_the_files_whose_rows_changed(warehouse, tmp_path):
    add_messages(warehouse, 30)
    sync_lake(warehouse, str(tmp_path))
    before = {
        f: (tmp_path / "messages" / f).stat().st_mtime_ns for f in files(tmp_path, "messages")
    }
    assert sync_lake(warehouse, str(tmp_path)).files_written == 0

    # one message of the second day edited: that day's messages file, nothing else
    warehouse.execute("update raw.messages set body = 'edited' where message_id = 'm1'")
    stats = sync_lake(warehouse, str(tmp_path))
    assert stats.files_written == 1 and stats.tables["messages"] == 1
    after = {f: (tmp_path / "messages" / f).stat().st_mtime_ns for f in files(tmp_path, "messages")}
    assert [f for f in before if before[f] != after[f]] == ["day=2024-03-02/data.parquet"]
    edited = warehouse.execute(
        f"select body from '{tmp_path}/messages/day=2024-03-02/data.parquet' "
        "where message_id = 'm1'"
    ).fetchone()
    assert edited == ("edited",)


def test_a_day_whose_rows_are_gone_loses_its_file(warehouse, tmp_path):
    add_messages(warehouse, 30)
    sync_lake(warehouse, str(tmp_path))
    warehouse.execute(
        "delete from raw.message_scores where message_id in (select message_id "
        "from raw.messages where cast(created_at as date) = '2024-03-03')"
    )
    warehouse.execute("delete from raw.messages where cast(created_at as date) = '2024-03-03'")
    stats = sync_lake(warehouse, str(tmp_path))
    assert stats.files_deleted == 2
    assert files(tmp_path, "messages") == [
        "day=2024-03-01/data.parquet",
        "day=2024-03-02/data.parquet",
    ]
    assert not (tmp_path / "messages/day=2024-03-03").exists()


def test_an_empty_table_has_a_schema_file_until_it_has_days(warehouse, tmp_path):
    sync_lake(warehouse, str(tmp_path))
    assert files(tmp_path, "messages") == ["day=1970-01-01/data.parquet"]
    empty = pq.read_table(tmp_path / "messages/day=1970-01-01/data.parquet")
    assert empty.num_rows == 0 and "message_id" in empty.schema.names
    add_messages(warehouse, 3)
    sync_lake(warehouse, str(tmp_path))
    assert "day=1970-01-01/data.parquet" not in files(tmp_path, "messages")
    assert len(files(tmp_path, "messages")) == 3


def test_a_sync_killed_between_the_swap_and_its_record_is_repaired(warehouse, tmp_path):
    add_messages(warehouse, 30)
    sync_lake(warehouse, str(tmp_path))
    warehouse.execute("update raw.messages set body = 'late' where message_id = 'm0'")

    # the edited day's file is swapped in, then the run dies before recording it
    def killed(*_):
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_record", killed)
        with pytest.raises(KeyboardInterrupt):
            sync_lake(warehouse, str(tmp_path), tables=["messages"])
    recorded = "select fingerprint from raw.lake_files where file_key = ?"
    key = "messages/day=2024-03-01/data.parquet"
    stale = warehouse.execute(recorded, [key]).fetchone()
    # the next sync sees the record behind the rows, writes the file again and records it
    assert sync_lake(warehouse, str(tmp_path), tables=["messages"]).files_written == 1
    assert warehouse.execute(recorded, [key]).fetchone() != stale
    assert sync_lake(warehouse, str(tmp_path), tables=["messages"]).files_written == 0
    row = warehouse.execute(
        f"select body from '{tmp_path}/{key}' where message_id = 'm0'"
    ).fetchone()
    assert row == ("late",)


def test_years_of_days_are_written_one_file_each(warehouse, tmp_path):
    """More days than DuckDB keeps files open in one partitioned COPY (100)."""
    warehouse.execute(
        """
        insert into raw.messages
        select 'y' || range, 'c', 'u', 'chat', 'in', created, created, 'text', null, 'en',
               'file.jsonl', range + 1, created, 'full'
        from (select range, timestamp '2021-01-01' + to_hours(cast(hash(range) % 10000 as integer))
                             as created from range(200000))
        """
    )
    stats = sync_lake(warehouse, str(tmp_path), tables=["messages"])
    days = warehouse.execute(
        "select count(distinct cast(created_at as date)) from raw.messages"
    ).fetchone()[0]
    assert days > 400 and stats.files_written == days
    assert len(files(tmp_path, "messages")) == days
    total = warehouse.execute(
        f"select count(*) from read_parquet('{tmp_path}/messages/*/*.parquet')"
    ).fetchone()[0]
    assert total == 200_000


def test_files_another_warehouse_left_in_the_lake_are_removed(warehouse, tmp_path):
    add_messages(warehouse, 30, day_offset=10)  # 2024-03-11 to 13
    other = duckdb.connect()
    other.execute(RAW_SCHEMA_DDL)
    add_messages(other, 30)  # 2024-03-01 to 03, written by another warehouse first
    sync_lake(other, str(tmp_path))
    sync_lake(warehouse, str(tmp_path))
    assert files(tmp_path, "messages") == [
        "day=2024-03-11/data.parquet",
        "day=2024-03-12/data.parquet",
        "day=2024-03-13/data.parquet",
    ]
    total = warehouse.execute(
        f"select count(*) from read_parquet('{tmp_path}/messages/*/*.parquet')"
    ).fetchone()[0]
    assert total == 30


def test_a_reader_never_sees_half_a_day(warehouse, tmp_path):
    """Rewrites of one day, of alternately 3,000 and 6,000 rows, while a reader reads it."""
    add_messages(warehouse, 9_000)
    sync_lake(warehouse, str(tmp_path))
    path = tmp_path / "messages/day=2024-03-01/data.parquet"
    seen: set[int] = set()
    errors: list[Exception] = []
    done = threading.Event()

    def read() -> None:
        reader = duckdb.connect()
        while not done.is_set():
            try:
                seen.add(reader.execute(f"select count(*) from '{path}'").fetchone()[0])
            except Exception as error:  # noqa: BLE001 (any failure to read is the finding)
                errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for round_ in range(6):
            if round_ % 2 == 0:
                add_messages(warehouse, 9_000, prefix=f"r{round_}-")
            else:
                warehouse.execute(
                    f"delete from raw.messages where message_id like 'r{round_ - 1}-%'"
                )
            sync_lake(warehouse, str(tmp_path), tables=["messages"])
    finally:
        done.set()
        thread.join()
    assert not errors
    assert seen <= {3_000, 6_000} and len(seen) == 2


def test_the_tables_are_the_dbt_sources():
    sources = Path(__file__).resolve().parents[2] / "dbt_project/models/staging/_sources.yml"
    import yaml

    (support,) = yaml.safe_load(sources.read_text())["sources"]
    assert sorted(t["name"] for t in support["tables"]) == sorted(LAKE_TABLES)


@pytest.fixture(scope="module")
def moto_s3():
    with MotoS3() as s3:
        yield s3


def test_a_lake_on_s3_is_written_and_read_back_through_duckdb(warehouse, moto_s3, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client, bucket = moto_s3.client(), moto_s3.new_bucket("lake")
    add_messages(warehouse, 30)
    root = f"s3://{bucket}/prod/v1"
    sync_lake(warehouse, root, s3_client=client)
    keys = moto_s3.keys(bucket)
    assert "prod/v1/messages/day=2024-03-02/data.parquet" in keys
    assert "prod/v1/conversations/data.parquet" in keys
    assert len(keys) == 10

    reader = duckdb.connect()
    configure(reader, s3_settings(moto_s3.endpoint_url, "us-east-1"))
    query = f"select count(*) from read_parquet('{root}/messages/*/*.parquet', hive_partitioning = true)"
    assert reader.execute(query).fetchone() == (30,)

    warehouse.execute("delete from raw.message_scores where message_id in ('m2', 'm5')")
    warehouse.execute("delete from raw.messages where message_id in ('m2', 'm5')")
    warehouse.execute("update raw.messages set body = 'edited' where message_id = 'm0'")
    stats = sync_lake(warehouse, root, s3_client=client)
    assert stats.files_written == 3  # the third day's messages and scores, the first's messages
    assert reader.execute(query).fetchone() == (28,)
    edited = reader.execute(
        f"select body from '{root}/messages/day={date(2024, 3, 1)}/data.parquet' "
        "where message_id = 'm0'"
    ).fetchone()
    assert edited == ("edited",)


def test_s3_settings_follow_the_endpoint():
    assert s3_settings("", "eu-west-1") == {"s3_region": "eu-west-1"}
    assert s3_settings("http://127.0.0.1:5000", "us-east-1") == {
        "s3_region": "us-east-1",
        "s3_endpoint": "127.0.0.1:5000",
        "s3_url_style": "path",
        "s3_use_ssl": "false",
    }
    assert s3_settings("https://minio.internal", "x")["s3_use_ssl"] == "true"
