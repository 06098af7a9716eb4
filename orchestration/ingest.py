"""Load a source's messages into ``raw.messages`` (upserting) and its rejections into
``raw.rejected_messages``.

Rows stream in bounded chunks into a temporary load table; one set-based upsert then keeps,
per ``message_id``, the newest ``updated_at`` (the file order breaks ties, later wins), and
never lets an older version overwrite a newer one already in the warehouse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from .sources.record import MESSAGE_COLUMNS, Message, Rejection

CHUNK_ROWS = 50_000

_LOAD_DDL = """
create or replace temp table _load_messages as
select *, 0::bigint as load_seq from raw.messages limit 0
"""
_UPDATE_COLUMNS = [c for c in MESSAGE_COLUMNS if c != "message_id"] + ["ingested_at"]


@dataclass
class IngestStats:
    """What one load did; every input row is counted in exactly one of rows/rejected."""

    rows: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded_in_input: int = 0
    outside_window: int = 0  # valid rows of other days, left to their own partitions
    removed: int = 0  # rows of the window that the source no longer has
    rejected_by_reason: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)


def _flush_messages(connection, batch: list[Message], offset: int) -> None:
    columns = list(zip(*(m.as_row() for m in batch), strict=True))
    table = pa.table(
        {name: pa.array(values) for name, values in zip(MESSAGE_COLUMNS, columns, strict=True)}
        | {"load_seq": pa.array(range(offset, offset + len(batch)), pa.int64())}
    )
    connection.register("_chunk", table)
    connection.execute(
        f"insert into _load_messages ({', '.join(MESSAGE_COLUMNS)}, ingested_at, load_seq) "
        f"select {', '.join(MESSAGE_COLUMNS)}, timezone('UTC', now()), load_seq from _chunk"
    )
    connection.unregister("_chunk")


def _flush_rejections(connection, batch: list[Rejection]) -> None:
    table = pa.table(
        {
            "source_name": [r.source_name for r in batch],
            "source_row": pa.array([r.source_row for r in batch], pa.int64()),
            "raw_content": [r.raw_content for r in batch],
            "reason": [r.reason for r in batch],
        }
    )
    connection.register("_rejections", table)
    connection.execute(
        "insert into raw.rejected_messages select *, timezone('UTC', now()) from _rejections"
    )
    connection.unregister("_rejections")


Window = tuple[datetime, datetime]


def in_window(created_at: datetime, window: Window | None) -> bool:
    """Half-open: ``start <= created_at < end``."""
    return window is None or window[0] <= created_at < window[1]


def load_messages(
    connection,
    items: Iterable[Message | Rejection],
    files: list[str],
    window: Window | None = None,
) -> IngestStats:
    """Load messages and rejections; ``files`` are the source files read (their earlier
    rejections are replaced, so a rerun of the same file does not double them).

    With a ``window`` (naive UTC, half-open), only messages created in it are loaded, and the
    window's rows are replaced: messages of those days that the source no longer has are
    removed, so a partition rerun leaves neither duplicates nor stale rows.
    """
    stats = IngestStats(files=list(files))
    connection.execute(_LOAD_DDL)
    if files:
        connection.execute(
            "delete from raw.rejected_messages where source_name in (select unnest(?))", [files]
        )
    messages: list[Message] = []
    rejections: list[Rejection] = []
    for item in items:
        if isinstance(item, Message):
            if not in_window(item.created_at, window):
                stats.outside_window += 1
                continue
            messages.append(item)
            if len(messages) >= CHUNK_ROWS:
                _flush_messages(connection, messages, stats.rows)
                stats.rows += len(messages)
                messages.clear()
        else:
            rejections.append(item)
            stats.rejected += 1
            stats.rejected_by_reason[item.reason.split(":")[0]] += 1
            if len(rejections) >= CHUNK_ROWS:
                _flush_rejections(connection, rejections)
                rejections.clear()
    if messages:
        _flush_messages(connection, messages, stats.rows)
        stats.rows += len(messages)
    if rejections:
        _flush_rejections(connection, rejections)
    connection.execute("begin transaction")
    _upsert(connection, stats, window)
    connection.execute("commit")
    connection.execute("drop table _load_messages")
    return stats


def _upsert(connection, stats: IngestStats, window: Window | None) -> None:
    connection.execute(
        """
        create or replace temp table _newest_messages as
        select * exclude (load_seq) from _load_messages
        qualify row_number() over (
            partition by message_id order by updated_at desc, load_seq desc
        ) = 1
        """
    )
    distinct_ids, inserted, updated = connection.execute(
        """
        select
            count(*),
            count(*) filter (where m.message_id is null),
            count(*) filter (where m.message_id is not null and n.updated_at > m.updated_at)
        from _newest_messages n
        left join raw.messages m using (message_id)
        """
    ).fetchone()
    stats.superseded_in_input = stats.rows - distinct_ids
    stats.inserted, stats.updated = inserted, updated
    stats.unchanged = distinct_ids - inserted - updated
    if window is not None:
        stats.removed = connection.execute(
            """
            delete from raw.messages
            where created_at >= $start and created_at < $end
              and message_id not in (select message_id from _newest_messages)
            """,
            {"start": window[0], "end": window[1]},
        ).fetchone()[0]
    assignments = ", ".join(f"{c} = excluded.{c}" for c in _UPDATE_COLUMNS)
    connection.execute(
        f"""
        insert into raw.messages select * from _newest_messages
        on conflict (message_id) do update set {assignments}
        where excluded.updated_at > messages.updated_at
        """
    )
    connection.execute("drop table _newest_messages")
