"""What the lake holds and where: one folder per dbt source table under the lake root.

- ``messages/day=YYYY-MM-DD/data.parquet`` and ``message_scores/day=YYYY-MM-DD/data.parquet``:
  hive-partitioned by the message's UTC ``created_at`` day, one file per day, so that a
  partition rerun replaces whole files and a reader of a day sees all of it or the old one.
- ``conversations/data.parquet``, ``customers/data.parquet``, ``entity_mentions/data.parquet``,
  ``message_topics/data.parquet``: small or not day-shaped, one file each.

Every table always has at least one file, so every engine can read its schema: a
partitioned table with no rows has one empty file under ``day=1970-01-01``.

The columns are exactly those of ``raw.<table>`` (orchestration/raw_schema.py); ``day`` exists
only as the folder key. This is the contract the dbt project's ``lake_source`` macro reads
(dbt_project/macros/lake_sources.sql), on DuckDB and on Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FILE_NAME = "data.parquet"
EMPTY_DAY = date(1970, 1, 1)
PARTITION_KEY = "day"
# Staged files are written under the lake root (so a local swap is one rename on the same
# filesystem) but outside every table's folder, where no reader's glob looks.
STAGING_DIR = "_staging"
# Where dbt-duckdb's external materialization writes the marts (the profile's external_root):
# <root>/marts/<model>.parquet. DuckDB's COPY does not create folders, so the writer does.
MARTS_DIR = "marts"


@dataclass(frozen=True)
class LakeTable:
    """One table of the lake: its rows (a query on the warehouse, aliased ``t``, exposing a
    ``day`` column when partitioned) and its name."""

    name: str
    rows_sql: str
    partitioned: bool

    def key(self, day: date | None) -> str:
        """The file's key below the lake root."""
        if day is None:
            return f"{self.name}/{FILE_NAME}"
        return f"{self.name}/{PARTITION_KEY}={day.isoformat()}/{FILE_NAME}"


LAKE_TABLES: dict[str, LakeTable] = {
    table.name: table
    for table in (
        LakeTable(
            "messages",
            "select t.*, cast(t.created_at as date) as day from raw.messages t",
            partitioned=True,
        ),
        # A score lives in its message's day, so that a partition's messages and scores are
        # replaced together. Scores of messages that are gone are dropped by the writer that
        # removes the message (orchestration/forget.py), so the inner join loses nothing.
        LakeTable(
            "message_scores",
            """
            select t.*, cast(m.created_at as date) as day
            from raw.message_scores t
            join raw.messages m on m.message_id = t.message_id
            """,
            partitioned=True,
        ),
        LakeTable("conversations", "select t.* from raw.conversations t", partitioned=False),
        LakeTable("customers", "select t.* from raw.customers t", partitioned=False),
        LakeTable("entity_mentions", "select t.* from raw.entity_mentions t", partitioned=False),
        LakeTable("message_topics", "select t.* from raw.message_topics t", partitioned=False),
    )
}
