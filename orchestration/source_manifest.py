"""Which source files a partition run must read.

A file whose version is unchanged since it was last read, and whose messages all fall outside
the run's days, cannot change those days: it is skipped. Everything else is read, and its
span is recorded for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from .sources.location import SourceFile
from .sources.record import Message, Rejection


def files_to_read(
    connection, files: list[SourceFile], window: tuple[datetime, datetime]
) -> tuple[list[SourceFile], list[SourceFile]]:
    """(files to read, files skipped) for a run over ``window`` (naive UTC, half-open)."""
    known = {
        uri: (version, first, last)
        for uri, version, first, last in connection.execute(
            "select uri, version, min_created_at, max_created_at from raw.source_files"
        ).fetchall()
    }
    read, skipped = [], []
    for file in files:
        previous = known.get(file.uri)
        if previous is not None and previous[0] == file.version:
            _, first, last = previous
            if first is None or last < window[0] or first >= window[1]:
                skipped.append(file)
                continue
        read.append(file)
    return read, skipped


@dataclass
class SpanTracker:
    """Wraps the items of the files being read and remembers each file's span."""

    spans: dict[str, list] = field(default_factory=dict)  # uri -> [min, max, messages]

    def track(self, items: Iterable[Message | Rejection]) -> Iterator[Message | Rejection]:
        for item in items:
            if isinstance(item, Message):
                span = self.spans.setdefault(
                    item.source_name, [item.created_at, item.created_at, 0]
                )
                span[0] = min(span[0], item.created_at)
                span[1] = max(span[1], item.created_at)
                span[2] += 1
            yield item

    def record(self, connection, files: list[SourceFile]) -> None:
        """Store the read files' versions and spans (after their rows are committed)."""
        rows = [(f.uri, f.version, *self.spans.get(f.uri, [None, None, 0])) for f in files]
        if rows:
            connection.executemany(
                "insert or replace into raw.source_files values (?, ?, ?, ?, ?, timezone('UTC', now()))",
                rows,
            )
