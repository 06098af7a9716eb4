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

from .sources.location import SourceFile
from .sources.record import MESSAGE_COLUMNS, Message, Rejection
from .stage import Span, create_stage, stage_files, stage_items, staged_spans
from .text.prepare import TextSettings
from .text_policy import apply_to_stage, content_hash, kept_raw_content

BATCH_ROWS = 50_000
STAGE = "_load_messages"
_UPDATE_COLUMNS = [c for c in MESSAGE_COLUMNS if c != "message_id"] + ["ingested_at", "text_policy"]


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
    redacted: int = 0  # messages whose body or subject had personal data replaced
    rejected_by_reason: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)  # per file, before the window

    def add(self, other: IngestStats) -> None:
        """Count ``other``'s rows in too (a source loaded in several parts)."""
        for name in (
            "rows", "rejected", "inserted", "updated", "unchanged",
            "superseded_in_input", "outside_window", "removed", "redacted",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected_by_reason.update(other.rejected_by_reason)


def store_rejections(
    connection, rejections: Iterable[Rejection], stats: IngestStats, settings: TextSettings
) -> None:
    """Insert rejections (their raw content under the text policy), counting them in
    ``stats``."""
    batch: list[Rejection] = []
    for rejection in rejections:
        batch.append(rejection)
        stats.rejected += 1
        stats.rejected_by_reason[rejection.reason.split(":")[0]] += 1
        if len(batch) >= BATCH_ROWS:
            _insert_rejections(connection, batch, settings)
            batch = []
    if batch:
        _insert_rejections(connection, batch, settings)


def _insert_rejections(connection, batch: list[Rejection], settings: TextSettings) -> None:
    table = pa.table(
        {
            "source_name": [r.source_name for r in batch],
            "source_row": pa.array([r.source_row for r in batch], pa.int64()),
            "raw_content": [kept_raw_content(r.raw_content, settings) for r in batch],
            "reason": [r.reason for r in batch],
            "raw_content_sha256": [content_hash(r.raw_content) for r in batch],
        }
    )
    connection.register("_rejections", table)
    try:
        connection.execute(
            """
            insert into raw.rejected_messages
                (source_name, source_row, raw_content, reason, raw_content_sha256, rejected_at)
            select *, timezone('UTC', now()) from _rejections
            """
        )
    finally:
        connection.unregister("_rejections")


Window = tuple[datetime, datetime]


def load_files(
    connection,
    files: list[SourceFile],
    fmt: str,
    window: Window | None = None,
    s3_client=None,
    settings: TextSettings | None = None,
) -> IngestStats:
    """Load the messages of ``files`` and their rejections (see :func:`load_messages`)."""
    return _load(
        connection,
        lambda: stage_files(connection, files, fmt, STAGE, s3_client),
        [f.uri for f in files],
        window,
        settings or TextSettings(),
    )


def load_messages(
    connection,
    items: Iterable[Message | Rejection],
    files: list[str],
    window: Window | None = None,
    settings: TextSettings | None = None,
) -> IngestStats:
    """Load messages and rejections; ``files`` are the source files read (their earlier
    rejections are replaced, so a rerun of the same file does not double them).

    With a ``window`` (naive UTC, half-open), only messages created in it are loaded, and the
    window's rows are replaced: messages of those days that the source no longer has are
    removed, so a partition rerun leaves neither duplicates nor stale rows.

    The text policy of ``settings`` (default: redacted) decides what is kept of the bodies,
    subjects and rejected lines (``orchestration.text_policy``).
    """
    return _load(
        connection,
        lambda: stage_items(connection, items, STAGE),
        files,
        window,
        settings or TextSettings(),
    )


def _load(
    connection, stage, files: list[str], window: Window | None, settings: TextSettings
) -> IngestStats:
    stats = IngestStats(files=list(files))
    create_stage(connection, STAGE)
    if files:
        connection.execute(
            "delete from raw.rejected_messages where source_name in (select unnest(?))", [files]
        )
    store_rejections(connection, stage(), stats, settings)
    stats.spans = staged_spans(connection, STAGE)
    staged = sum(count for _, _, count in stats.spans.values())
    if window is not None:
        stats.outside_window = connection.execute(
            f"delete from {STAGE} where not (created_at >= $start and created_at < $end)",
            {"start": window[0], "end": window[1]},
        ).fetchone()[0]
    stats.rows = staged - stats.outside_window
    stats.redacted = apply_to_stage(connection, STAGE, settings)
    connection.execute("begin transaction")
    _upsert(connection, stats, window)
    connection.execute("commit")
    connection.execute(f"drop table {STAGE}")
    return stats


# Rows of one insert into raw.messages (see _upsert).
UPSERT_ROWS = 250_000


def _upsert(connection, stats: IngestStats, window: Window | None) -> None:
    # The stage keeps one row per message id in place (no second copy of a million rows):
    # older versions of a repeated id are deleted from it, the later row winning a tie.
    repeated = connection.execute(
        f"select count(*) - count(distinct message_id) from {STAGE}"
    ).fetchone()[0]
    if repeated:
        connection.execute(
            f"""
            delete from {STAGE} where rowid in (
                select rowid from {STAGE}
                qualify row_number() over (
                    partition by message_id order by updated_at desc, load_seq desc
                ) > 1
            )
            """
        )
    stats.superseded_in_input = repeated
    distinct_ids, inserted, updated = connection.execute(
        f"""
        select
            count(*),
            count(*) filter (where m.message_id is null),
            count(*) filter (where m.message_id is not null and n.updated_at > m.updated_at)
        from {STAGE} n
        left join raw.messages m using (message_id)
        """
    ).fetchone()
    stats.inserted, stats.updated = inserted, updated
    stats.unchanged = distinct_ids - inserted - updated
    if window is not None:
        stats.removed = connection.execute(
            f"""
            delete from raw.messages
            where created_at >= $start and created_at < $end
              and message_id not in (select message_id from {STAGE})
            """,
            {"start": window[0], "end": window[1]},
        ).fetchone()[0]
    assignments = ", ".join(f"{c} = excluded.{c}" for c in _UPDATE_COLUMNS)
    # A first load inserts a million rows into a table with a primary key under the
    # pipeline's memory limit: in one statement DuckDB buffered more than 768 MB at 1M rows
    # (and ran out of memory now and then), so a large stage goes in slices of about
    # UPSERT_ROWS rows by a hash of the id, each slice bounded, all in the caller's one
    # transaction.
    slices = max(1, -(-distinct_ids // UPSERT_ROWS))
    for part in range(slices):
        connection.execute(
            f"""
            insert into raw.messages
            select * exclude (load_seq) from {STAGE}
            where $slices = 1 or hash(message_id) % $slices = $part
            on conflict (message_id) do update set {assignments}
            where excluded.updated_at > messages.updated_at
            """,
            {"slices": slices, "part": part},
        )
