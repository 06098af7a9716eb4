"""Publish the warehouse's source tables to the lake: only the files whose rows changed.

Each file (a table's day, or an unpartitioned table) is fingerprinted by its row count and an
order-independent hash of its rows (``bit_xor(hash(row))``), computed inside DuckDB. The
fingerprints of the files last written are kept in ``raw.lake_files``; a sync rewrites the
files whose fingerprint differs and deletes the files whose rows are all gone. So a partition
rerun, an edit of last month's message through the API, a delete or a stricter text policy
each reach exactly the lake files they changed, without the writer being told which: one
full scan of the table's fingerprints (about 0.1 s per million messages) instead of a list of
touched days kept right by every code path that writes. Files in the table's folder that the
warehouse does not want (a lake last written by another warehouse) are deleted.

A file is written completely into a staging folder, then swapped in whole (see
:mod:`.store`); the record in ``raw.lake_files`` follows the swap, so a sync killed halfway is
repaired by the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .layout import EMPTY_DAY, LAKE_TABLES, PARTITION_KEY, LakeTable
from .store import LakeStore, open_store

# A partitioned table with no rows: its placeholder file holds the schema and nothing else.
EMPTY_FINGERPRINT = "empty"
# Days written by one partitioned COPY, and the rows it buffers before writing (_write_files).
DAYS_PER_COPY = 32
FLUSH_ROWS = 10_000


@dataclass
class LakeSyncStats:
    files_written: int = 0
    files_deleted: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)  # files written per table

    def as_metadata(self) -> dict[str, Any]:
        return {
            "lake_files_written": self.files_written,
            "lake_files_deleted": self.files_deleted,
            "lake_rows_written": self.rows_written,
            "lake_sync_s": round(self.seconds, 2),
        }


def sync_lake(
    connection,
    root: str,
    tables: Iterable[str] = tuple(LAKE_TABLES),
    s3_client: Any = None,
) -> LakeSyncStats:
    """Bring the lake at ``root`` (a folder or ``s3://bucket/prefix``) up to date with the
    warehouse for ``tables`` (names from :data:`LAKE_TABLES`)."""
    started = time.perf_counter()
    store = open_store(root, s3_client)
    stats = LakeSyncStats()
    for name in tables:
        _sync_table(connection, store, LAKE_TABLES[name], stats)
    stats.seconds = time.perf_counter() - started
    return stats


def _sync_table(connection, store: LakeStore, table: LakeTable, stats: LakeSyncStats) -> None:
    wanted = _fingerprints(connection, table)
    written = dict(
        connection.execute(
            "select file_key, fingerprint from raw.lake_files "
            "where lake_root = ? and table_name = ?",
            [store.root, table.name],
        ).fetchall()
    )
    stale = {key: value for key, value in wanted.items() if written.get(key) != value[1]}
    # What the store holds counts too: a lake written by another (or an older, restored)
    # warehouse has files this one never recorded, and every reader's glob would read them.
    gone = sorted((set(written) | set(store.keys(table.name))) - set(wanted))
    if stale:
        staging = store.staging_dir()
        try:
            for key, staged in _write_files(connection, table, stale, staging):
                store.put(staged, key)
                rows, fingerprint = stale[key][0], stale[key][1]
                _record(connection, store.root, table.name, key, fingerprint, rows)
                stats.files_written += 1
                stats.rows_written += rows
        finally:
            store.cleanup(staging)
    for key in gone:
        store.delete(key)
        connection.execute(
            "delete from raw.lake_files where lake_root = ? and file_key = ?", [store.root, key]
        )
        stats.files_deleted += 1
    stats.tables[table.name] = len(stale)


def _fingerprints(connection, table: LakeTable) -> dict[str, tuple[int, str, date | None]]:
    """file key -> (rows, fingerprint, day) of every file the table should have now."""
    if not table.partitioned:
        rows, digest = connection.execute(
            f"select count(*), bit_xor(hash(r)) from ({table.rows_sql}) r"
        ).fetchone()
        return {table.key(None): (rows, f"{rows}:{digest}", None)}
    days = connection.execute(
        f"""
        select {PARTITION_KEY}, count(*), bit_xor(hash(r))
        from ({table.rows_sql}) r
        group by all
        """
    ).fetchall()
    if not days:
        return {table.key(EMPTY_DAY): (0, EMPTY_FINGERPRINT, EMPTY_DAY)}
    return {table.key(day): (rows, f"{rows}:{digest}", day) for day, rows, digest in days}


def _write_files(connection, table: LakeTable, stale: dict, staging: Path):
    """Write the stale files into ``staging``; yields (key, staged file) for each."""
    if not table.partitioned:
        (key,) = stale
        staged = staging / "data.parquet"
        _copy(connection, f"select * from ({table.rows_sql}) r", staged)
        yield key, staged
        return
    days = [value[2] for value in stale.values()]
    if days == [EMPTY_DAY] and stale[table.key(EMPTY_DAY)][1] == EMPTY_FINGERPRINT:
        staged = staging / "empty.parquet"
        _copy(
            connection,
            f"select * exclude ({PARTITION_KEY}) from ({table.rows_sql}) r limit 0",
            staged,
        )
        yield table.key(EMPTY_DAY), staged
        return
    # One pass over the table per group of stale days: DuckDB splits the rows into a folder
    # per day (the same hive layout as the lake's), then each day's file is swapped in alone.
    # A group stays below DuckDB's partitioned_write_max_open_files (100): past it, DuckDB
    # closes a day's file and opens another for the same day, and a day must be one file.
    # DuckDB buffers up to 524,288 rows per thread before it flushes them into the days'
    # files; the pipeline's connection has a memory limit shared with the warehouse's indexes,
    # so the rows are flushed sooner (into the same files: a day stays one file).
    connection.execute(f"set partitioned_write_flush_threshold = {FLUSH_ROWS}")
    for start in range(0, len(days), DAYS_PER_COPY):
        group = days[start : start + DAYS_PER_COPY]
        target = staging / f"days{start}"
        connection.execute(
            f"""
            copy (
                select * from ({table.rows_sql}) r
                where {PARTITION_KEY} in (select unnest($days::date[]))
            ) to '{_quoted(target)}' (
                format parquet, compression zstd, partition_by ({PARTITION_KEY}),
                write_partition_columns false, filename_pattern 'data'
            )
            """,
            {"days": group},
        )
        for day in group:
            folder = target / f"{PARTITION_KEY}={day.isoformat()}"
            files = list(folder.glob("*.parquet"))
            if len(files) != 1:
                raise RuntimeError(f"expected one staged file for {folder}, found {len(files)}")
            yield table.key(day), files[0]


def _copy(connection, query: str, target: Path) -> None:
    connection.execute(f"copy ({query}) to '{_quoted(target)}' (format parquet, compression zstd)")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _record(connection, root: str, table: str, key: str, fingerprint: str, rows: int) -> None:
    connection.execute(
        """
        insert or replace into raw.lake_files
        values (?, ?, ?, ?, ?, timezone('UTC', now()))
        """,
        [root, key, table, fingerprint, rows],
    )
