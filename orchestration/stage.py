"""Read source files into a DuckDB stage table, shaped like ``raw.messages``.

Ingest stages every valid message of the files it reads, then upserts from the stage in one
statement (``orchestration.ingest``); a full load only reads the new files' days
(:func:`days_of_files`). JSON Lines go through
DuckDB's JSON functions (``sources.json_lines_sql``); every other format, and every line the
SQL reader leaves to Python, goes through the Python readers in bounded batches.

``load_seq`` orders the rows as the files were read (file by file, line by line), so that
"the later row wins" among rows with the same ``updated_at`` means the same on both paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import pyarrow as pa

from .sources import READERS
from .sources.json_lines_sql import LAYOUTS, JsonLinesStager, json_lines_days, reads_with_sql
from .sources.location import SourceFile, is_s3, local_copy
from .sources.record import MESSAGE_COLUMNS, Message, Rejection

BATCH_ROWS = 50_000
# load_seq = file ordinal * FILE_SEQ + row: room for 4 billion rows per file.
FILE_SEQ = 1 << 32

Span = tuple[datetime, datetime, int]  # first and last created_at, and the message count


def create_stage(connection, table: str) -> None:
    connection.execute(
        f"create or replace temp table {table} as "
        "select *, 0::bigint as load_seq from raw.messages limit 0"
    )


def _insert_batch(connection, table: str, batch: list[Message], seqs: list[int]) -> None:
    columns = list(zip(*(m.as_row() for m in batch), strict=True))
    arrow = pa.table(
        {name: pa.array(values) for name, values in zip(MESSAGE_COLUMNS, columns, strict=True)}
        | {"load_seq": pa.array(seqs, pa.int64())}
    )
    connection.register("_batch", arrow)
    try:
        connection.execute(
            f"insert into {table} ({', '.join(MESSAGE_COLUMNS)}, ingested_at, load_seq) "
            f"select {', '.join(MESSAGE_COLUMNS)}, timezone('UTC', now()), load_seq from _batch"
        )
    finally:
        connection.unregister("_batch")


def stage_items(
    connection,
    items: Iterable[Message | Rejection],
    table: str,
    seq: Callable[[Message, int], int] = lambda _, position: position,
) -> Iterator[Rejection]:
    """Insert the messages into ``table`` in batches; yield the rejections.

    ``seq(message, position among items)`` gives each row's ``load_seq``."""
    batch: list[Message] = []
    seqs: list[int] = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, Rejection):
            yield item
            continue
        batch.append(item)
        seqs.append(seq(item, position))
        if len(batch) >= BATCH_ROWS:
            _insert_batch(connection, table, batch, seqs)
            batch, seqs = [], []
    if batch:
        _insert_batch(connection, table, batch, seqs)


def _python_items(file: SourceFile, path, fmt: str) -> Iterator[Message | Rejection]:
    items = READERS[fmt](path)
    if not is_s3(file.uri):
        return items
    # An S3 object is read from a temporary copy but keeps its s3:// name.
    return (dataclasses.replace(item, source_name=file.uri) for item in items)


def stage_files(
    connection, files: list[SourceFile], fmt: str, table: str, s3_client=None
) -> Iterator[Rejection]:
    """Stage every valid message of ``files`` into ``table``; yield every rejection."""
    # Every reader numbers rows in file order, so file ordinal and row give load_seq.
    bases = {file.uri: ordinal * FILE_SEQ for ordinal, file in enumerate(files)}

    def items() -> Iterator[Message | Rejection]:
        json_lines = JsonLinesStager(connection, fmt, table) if fmt in LAYOUTS else None
        for file in files:
            with local_copy(file, s3_client) as path:
                if reads_with_sql(fmt, path):
                    # The SQL reader inserts what it can, and leaves the other lines (of
                    # this file or the ones before, sharing its buffer) to Python.
                    yield from json_lines.add(path, file.uri, bases[file.uri])
                else:
                    yield from _python_items(file, path, fmt)
        if json_lines is not None:
            yield from json_lines.flush()

    yield from stage_items(
        connection,
        items(),
        table,
        lambda message, _: bases[message.source_name] + message.source_row,
    )


def days_of_files(connection, files: list[SourceFile], fmt: str, s3_client=None) -> set[str]:
    """The UTC days (ISO) of the files' messages, without staging them (JSON Lines: see
    :func:`~orchestration.sources.json_lines_sql.json_lines_days`)."""
    days: set[str] = set()

    def json_lines() -> Iterator[tuple]:
        for file in files:
            # The day scan reads each file whole before asking for the next one, so an S3
            # object's temporary copy is gone before the next is downloaded.
            with local_copy(file, s3_client) as path:
                if reads_with_sql(fmt, path):
                    yield path, file.uri
                else:
                    items = READERS[fmt](path)
                    days.update(
                        i.created_at.date().isoformat() for i in items if isinstance(i, Message)
                    )

    files_read = json_lines()
    # Other formats have no JSON Lines: reading them all (above) yields nothing to scan.
    sql_days = json_lines_days(connection, files_read, fmt) if fmt in LAYOUTS else set(files_read)
    return days | sql_days


def staged_spans(connection, table: str) -> dict[str, Span]:
    """Per source file: the first and last ``created_at`` staged, and how many messages."""
    rows = connection.execute(
        f"select source_name, min(created_at), max(created_at), count(*) from {table} "
        "group by source_name"
    ).fetchall()
    return {name: (first, last, count) for name, first, last, count in rows}
