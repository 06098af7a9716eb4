"""Publish the marts as a separate, read-only DuckDB file for analysts.

DuckDB lets one process write a database file, and while it does, no other process can open
that file, not even read-only (``IOException: Could not set lock on file``). So analysts never
open the warehouse itself: after a build, :func:`publish_marts` copies the published schemas
into a new file beside the published path and swaps it in with ``os.replace``.

- The copy is written under a temporary name, closed (``DETACH``, which checkpoints the WAL into
  the file), and only then renamed over the published path. Readers never see a half-written
  file, and nothing ever writes into the file they have open.
- ``os.replace`` is an atomic rename on POSIX: a reader that already has the old file open
  keeps reading the old, complete copy (its inode lives until the last descriptor closes), and
  a reader that opens the path afterwards gets the new one. On Windows the rename fails while a
  reader holds the file open; this module targets POSIX hosts.
- A process sees a new build only when it opens the file anew. DuckDB's Python module reuses
  the database instance of a path that process still has open, so ``duckdb.connect(path)``
  next to a live connection returns the old build: close every connection to the copy first
  (or ``ATTACH`` it from another connection, which opens the file again).
- Every table is copied inside one transaction, so the tables of one published build come
  from one snapshot of the warehouse, even if another connection of the same process commits
  in the meantime.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts",)

# Written into every copy, so analysts can see which build they are reading.
META_SCHEMA = "meta"
META_TABLE = "published_build"


@dataclass
class PublishStats:
    """What one publish wrote.

    ``tables`` maps ``"schema.table"`` to its row count in the copy, ``path`` is the published
    file, and ``seconds`` is the wall time of the whole publish (copy, checkpoint, rename).
    """

    tables: dict[str, int]
    path: Path
    seconds: float


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes, safe for any name dbt may produce."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal; ATTACH takes its path as a literal, not as a parameter."""
    return "'" + text.replace("'", "''") + "'"


def temporary_path_for(published_path: Path) -> Path:
    """A fresh name in the published file's folder: ``os.replace`` is only atomic within one
    file system, and a hidden name keeps it out of analysts' way while it is written."""
    return published_path.with_name(f".{published_path.name}.tmp-{uuid.uuid4().hex}")


def remove_quietly(path: Path) -> None:
    """Delete a database file and its WAL, if they exist."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def published_tables(
    cursor: duckdb.DuckDBPyConnection,
    catalog: str,
    schemas: tuple[str, ...],
    include_views: bool = False,
) -> list[tuple[str, str]]:
    """(schema, table) of every base table of ``schemas`` in ``catalog``, sorted.

    Views are left out on purpose: a view copied alone would point at models that are not
    published. The marts are materialized as tables, except in lake mode, where each mart
    is a view over its own Parquet file (dbt-duckdb's external materialization), which
    ``include_views`` copies as a table.
    """
    placeholders = ", ".join("?" for _ in schemas)
    kinds = "('BASE TABLE', 'VIEW')" if include_views else "('BASE TABLE')"
    return cursor.execute(
        f"""
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = ?
          and table_schema in ({placeholders})
          and table_type in {kinds}
        order by table_schema, table_name
        """,
        [catalog, *schemas],
    ).fetchall()


def source_description(cursor: duckdb.DuckDBPyConnection, catalog: str) -> str:
    """The warehouse file behind ``catalog`` (its name for an in-memory database)."""
    row = cursor.execute(
        "select path from duckdb_databases() where database_name = ?", [catalog]
    ).fetchone()
    return (row[0] if row else None) or catalog


def publish_marts(
    warehouse_connection: duckdb.DuckDBPyConnection,
    published_path: Path,
    include_views: bool = False,
) -> PublishStats:
    """Copy every table of the published schemas from the (already open, read-write) warehouse
    connection into a NEW DuckDB file beside ``published_path`` (same folder, temporary name
    like ``.<name>.tmp-<uuid>``), then atomically replace ``published_path`` with it
    (``os.replace``).

    Readers that already have the old file open keep reading the old, complete copy (POSIX
    keeps the replaced inode alive); new readers see the new one. Nothing ever writes into the
    file readers have open. The copy also holds ``meta.published_build``: one row with the
    build id, ``published_at`` (UTC), the source warehouse path and the row count per table.

    The copy is made inside DuckDB (``CREATE TABLE ... AS SELECT``), so column types are kept
    exactly and no rows pass through Python. Only committed data of the warehouse is
    published: the copy runs on a cursor (a second connection to the same database), in its
    own transaction. On any failure the temporary file is detached and deleted, and the
    previously published file is left as it was.
    """
    started = time.perf_counter()
    published_path = Path(published_path).resolve()
    published_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path_for(published_path)
    # The warehouse may already have a database called "published" (or anything else)
    # attached; a fresh alias can never collide.
    alias = f"publish_{uuid.uuid4().hex}"
    target = quote_identifier(alias)

    # A cursor is a separate connection to the same database instance: the caller's own
    # transaction (if one is open) neither blocks our BEGIN nor leaks uncommitted rows into
    # the copy, and attached databases are shared across the instance, so ATTACH works.
    cursor = warehouse_connection.cursor()
    attached = False
    counts: dict[str, int] = {}
    try:
        catalog = cursor.execute("select current_database()").fetchone()[0]
        tables = published_tables(cursor, catalog, PUBLISHED_SCHEMAS, include_views)
        source = source_description(cursor, catalog)

        cursor.execute(f"attach {quote_literal(str(temporary))} as {target}")
        attached = True

        # One transaction: every table comes from the same snapshot of the warehouse.
        # DuckDB allows it because the transaction writes to one database only (the copy).
        cursor.execute("begin transaction")
        try:
            for schema in PUBLISHED_SCHEMAS:
                cursor.execute(f"create schema {target}.{quote_identifier(schema)}")
            for schema, table in tables:
                name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
                cursor.execute(
                    f"create table {target}.{name} as "
                    f"select * from {quote_identifier(catalog)}.{name}"
                )
                counts[f"{schema}.{table}"] = cursor.execute(
                    f"select count(*) from {target}.{name}"
                ).fetchone()[0]
            write_build_metadata(cursor, target, source, counts)
            cursor.execute("commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cursor.execute("rollback")
            raise

        # CHECKPOINT then DETACH: the file is closed, complete, and has no WAL beside it, so
        # the single renamed file is the whole database.
        cursor.execute(f"checkpoint {target}")
        cursor.execute(f"detach {target}")
        attached = False
        if temporary.with_name(temporary.name + ".wal").exists():
            raise RuntimeError(f"DuckDB left a WAL beside {temporary}; not publishing it")

        os.replace(temporary, published_path)
        fsync_directory(published_path.parent)
    except BaseException:
        if attached:
            with contextlib.suppress(duckdb.Error):
                cursor.execute(f"detach {target}")
        remove_quietly(temporary)
        raise
    finally:
        cursor.close()

    return PublishStats(tables=counts, path=published_path, seconds=time.perf_counter() - started)


def write_build_metadata(
    cursor: duckdb.DuckDBPyConnection, target: str, source: str, counts: dict[str, int]
) -> None:
    """Create ``meta.published_build`` in the copy: one row describing this build.

    ``row_counts`` is a MAP from ``"schema.table"`` to rows (``row_counts['marts.x']``), so the
    row stays one row however many tables are published.
    """
    table = f"{target}.{quote_identifier(META_SCHEMA)}.{quote_identifier(META_TABLE)}"
    cursor.execute(f"create schema {target}.{quote_identifier(META_SCHEMA)}")
    cursor.execute(
        f"""
        create table {table} (
            build_id varchar not null,
            published_at timestamptz not null,
            source_path varchar not null,
            published_schemas varchar[] not null,
            row_counts map(varchar, bigint) not null,
            row_counts_json json not null
        )
        """
    )
    cursor.execute(
        f"insert into {table} values (?, ?, ?, ?, map(?::varchar[], ?::bigint[]), ?)",
        [
            uuid.uuid4().hex,
            datetime.now(UTC),
            source,
            list(PUBLISHED_SCHEMAS),
            list(counts),
            list(counts.values()),
            # The same counts as JSON, for tools that do not understand DuckDB's MAP type.
            json.dumps(counts),
        ],
    )
