"""publish_marts: analysts read a complete copy of the marts while the warehouse is written.

Every test builds its own small warehouse under ``tmp_path``. The concurrency test runs the
reader in another process, because DuckDB's file lock is per process: inside one process a
second connection would share the writer's database instance and prove nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import publish
from orchestration.publish import PUBLISHED_SCHEMAS, PublishStats, publish_marts

ROWS_PER_ROUND = 20_000

# Runs in a separate interpreter. It holds one read-only connection to the published copy for
# its whole life and also opens a fresh one on every iteration (racing the writer's renames),
# records what each read saw, then reopens once more after the writer says stop.
READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    published, ready, stop = (Path(arg) for arg in sys.argv[1:4])
    QUERY = '''
        select (select count(*) from marts.fct_a), (select count(*) from marts.fct_b),
               (select max(round) from marts.fct_a), (select max(round) from marts.fct_b),
               (select row_counts_json from meta.published_build)
    '''
    reads, errors = [], []

    def read(kind, connection):
        a, b, round_a, round_b, counts = connection.execute(QUERY).fetchone()
        reads.append({"kind": kind, "a": a, "b": b, "round_a": round_a,
                      "round_b": round_b, "meta": json.loads(counts)})

    held = duckdb.connect(str(published), read_only=True)
    read("held", held)
    ready.touch()
    deadline = time.monotonic() + 60
    while not stop.exists() and time.monotonic() < deadline:
        for kind in ("held", "fresh"):
            try:
                if kind == "held":
                    read(kind, held)
                else:
                    # duckdb.connect() on a path this process still holds open returns
                    # the cached instance (the old inode); ATTACH opens the file anew.
                    with duckdb.connect() as fresh:
                        fresh.execute(
                            "attach '" + str(published) + "' as copy (read_only); use copy"
                        )
                        read(kind, fresh)
            except Exception as error:
                errors.append(f"{kind}: {type(error).__name__}: {error}")
        time.sleep(0.005)
    held.close()
    with duckdb.connect(str(published), read_only=True) as reopened:
        read("reopened", reopened)
    print(json.dumps({"reads": reads, "errors": errors}))
    """
)


def add_round(connection: duckdb.DuckDBPyConnection, round_number: int) -> None:
    """Insert one round of rows into both marts tables: fct_a and fct_b always end up with
    the same row count and the same highest round, the invariant every published build must
    show."""
    for table in ("fct_a", "fct_b"):
        connection.execute(
            f"insert into marts.{table} select ? as round, range as id, 'text ' || range as body "
            f"from range(?)",
            [round_number, ROWS_PER_ROUND],
        )


def create_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write warehouse with two marts tables (round 0 loaded), a marts view and a raw
    table; only the two marts tables may be published."""
    connection = duckdb.connect(str(path))
    connection.execute(
        """
        create schema marts;
        create schema raw;
        create table marts.fct_a (round integer, id bigint, body varchar);
        create table marts.fct_b (round integer, id bigint, body varchar);
        create view marts.v_a as select * from marts.fct_a;
        create table raw.messages as select range as id from range(5);
        """
    )
    add_round(connection, 0)
    return connection


def leftovers(folder: Path, published: Path) -> list[str]:
    """Files in the published folder other than the published copy itself."""
    return sorted(p.name for p in folder.iterdir() if p != published)


def test_publish_copies_the_marts_tables_only(tmp_path):
    warehouse = create_warehouse(tmp_path / "warehouse.duckdb")
    # Someone already attached a database called "published": the alias must not collide.
    warehouse.execute("attach ':memory:' as published")
    target = tmp_path / "out" / "sentiment.published.duckdb"  # the folder does not exist yet

    stats = publish_marts(warehouse, target)

    assert isinstance(stats, PublishStats)
    assert stats.path == target.resolve()
    assert stats.seconds > 0
    assert stats.tables == {"marts.fct_a": ROWS_PER_ROUND, "marts.fct_b": ROWS_PER_ROUND}
    assert leftovers(target.parent, target) == []  # no temp file, no .wal
    warehouse.close()

    with duckdb.connect(str(target), read_only=True) as copy:
        tables = copy.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by all"
        ).fetchall()
        assert [t for (t,) in tables] == ["marts.fct_a", "marts.fct_b", "meta.published_build"]
        assert copy.execute("select count(*) from marts.fct_b").fetchone()[0] == ROWS_PER_ROUND
        source, schemas, a_rows, counts, published_at = copy.execute(
            "select source_path, published_schemas, row_counts['marts.fct_a'], "
            "row_counts_json, published_at from meta.published_build"
        ).fetchone()
    assert source == str(tmp_path / "warehouse.duckdb")
    assert schemas == list(PUBLISHED_SCHEMAS)
    assert a_rows == ROWS_PER_ROUND
    assert json.loads(counts) == stats.tables
    assert published_at.utcoffset() is not None  # timestamptz: unambiguous for analysts


def test_publish_takes_committed_data_even_inside_an_open_transaction(tmp_path):
    warehouse = create_warehouse(tmp_path / "warehouse.duckdb")
    target = tmp_path / "published.duckdb"
    warehouse.execute("begin transaction")
    add_round(warehouse, 1)

    stats = publish_marts(warehouse, target)

    # The caller's transaction neither blocks the publish nor leaks into it.
    assert stats.tables["marts.fct_a"] == ROWS_PER_ROUND
    warehouse.execute("commit")
    assert publish_marts(warehouse, target).tables["marts.fct_a"] == 2 * ROWS_PER_ROUND
    warehouse.close()


def test_the_warehouse_itself_cannot_be_read_while_it_is_written(tmp_path):
    """Why the copy exists: another process cannot even open a read-only connection."""
    path = tmp_path / "warehouse.duckdb"
    warehouse = create_warehouse(path)
    probe = (
        "import sys, duckdb\n"
        "try:\n"
        "    duckdb.connect(sys.argv[1], read_only=True)\n"
        "except duckdb.IOException as error:\n"
        "    print(error); sys.exit(3)\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
        )
    finally:
        warehouse.close()
    assert result.returncode == 3, result.stderr
    assert "lock" in result.stdout.lower()


def test_reader_in_another_process_always_sees_a_complete_build(tmp_path):
    warehouse_path = tmp_path / "warehouse.duckdb"
    target = tmp_path / "published" / "sentiment.published.duckdb"
    ready, stop = tmp_path / "reader.ready", tmp_path / "reader.stop"
    warehouse = create_warehouse(warehouse_path)
    publish_marts(warehouse, target)  # build 0: round 0 only

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert reader.poll() is None, reader.communicate()[1]
            assert time.monotonic() < deadline, "the reader never opened the published copy"
            time.sleep(0.01)

        # The warehouse stays open read-write the whole time, as during a pipeline run.
        for round_number in (1, 2, 3):
            add_round(warehouse, round_number)
            stats = publish_marts(warehouse, target)
            assert stats.tables["marts.fct_a"] == (round_number + 1) * ROWS_PER_ROUND
            time.sleep(0.2)  # let the reader query this build a few times
        stop.touch()
        output, errors = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.communicate()
        warehouse.close()

    assert reader.returncode == 0, errors
    report = json.loads(output)
    assert report["errors"] == []  # never a lock error, never a half-written file
    reads = report["reads"]
    for seen in reads:
        # One build: both tables at the same round, with the counts its metadata recorded.
        assert seen["a"] == seen["b"] == (seen["round_a"] + 1) * ROWS_PER_ROUND, seen
        assert seen["round_a"] == seen["round_b"], seen
        assert seen["meta"] == {"marts.fct_a": seen["a"], "marts.fct_b": seen["b"]}, seen

    held = [seen for seen in reads if seen["kind"] == "held"]
    fresh = [seen for seen in reads if seen["kind"] == "fresh"]
    assert len(held) > 3 and len(fresh) > 3
    # The held connection keeps reading the inode it opened: build 0, unchanged.
    assert {seen["round_a"] for seen in held} == {0}
    # Fresh opens follow the renames and never go back to an older build.
    fresh_rounds = [seen["round_a"] for seen in fresh]
    assert fresh_rounds == sorted(fresh_rounds)
    assert fresh_rounds[-1] == 3
    # After reopening, the reader sees the newest build.
    assert [seen["round_a"] for seen in reads if seen["kind"] == "reopened"] == [3]
    assert leftovers(target.parent, target) == []


@pytest.mark.parametrize("failure", ["rename", "copy"])
def test_a_failed_publish_keeps_the_previous_copy(tmp_path, monkeypatch, failure):
    warehouse = create_warehouse(tmp_path / "warehouse.duckdb")
    target = tmp_path / "published.duckdb"
    publish_marts(warehouse, target)
    before = target.read_bytes()
    add_round(warehouse, 1)

    def fail(*args, **kwargs):
        raise OSError("injected failure")

    if failure == "rename":
        monkeypatch.setattr(publish.os, "replace", fail)
    else:  # fails inside the copy transaction, while the temporary file is attached
        monkeypatch.setattr(publish, "write_build_metadata", fail)

    with pytest.raises(OSError, match="injected failure"):
        publish_marts(warehouse, target)

    assert target.read_bytes() == before
    # Only the warehouse (and its own WAL) besides the published copy: no temporary file.
    assert [n for n in leftovers(tmp_path, target) if not n.startswith("warehouse.duckdb")] == []
    # The temporary database was detached: only the warehouse and the system catalogs remain.
    databases = warehouse.execute(
        "select database_name from duckdb_databases() where not internal"
    ).fetchall()
    assert databases == [("warehouse",)]

    monkeypatch.undo()
    assert publish_marts(warehouse, target).tables["marts.fct_a"] == 2 * ROWS_PER_ROUND
    warehouse.close()
    with duckdb.connect(str(target), read_only=True) as copy:
        assert copy.execute("select max(round) from marts.fct_b").fetchone()[0] == 1
