"""Which source files a partition run must read.

A file whose version is unchanged since it was last read, and whose messages all fall outside
the run's days, cannot change those days: it is skipped. Everything else is read, and its
span is recorded for the next run.
"""

from __future__ import annotations

from datetime import datetime

from .sources.location import SourceFile


def known_files(connection) -> dict[str, tuple]:
    """uri -> (version, min_created_at, max_created_at, loaded_from, loaded_to)."""
    return {
        row[0]: row[1:]
        for row in connection.execute(
            "select uri, version, min_created_at, max_created_at, loaded_from, loaded_to "
            "from raw.source_files"
        ).fetchall()
    }


def _reaches(first: datetime | None, last: datetime | None, window) -> bool:
    """Whether a file's span of created_at (None: no valid message) meets the window."""
    return first is not None and first < window[1] and last >= window[0]


def files_to_read(
    connection, files: list[SourceFile], window: tuple[datetime, datetime]
) -> tuple[list[SourceFile], list[SourceFile]]:
    """(files to read, files skipped) for a run over ``window`` (naive UTC, half-open)."""
    known = known_files(connection)
    read, skipped = [], []
    for file in files:
        previous = known.get(file.uri)
        unchanged = previous is not None and previous[0] == file.version
        (skipped if unchanged and not _reaches(*previous[1:3], window) else read).append(file)
    return read, skipped


def window_is_current(
    connection, files: list[SourceFile], window: tuple[datetime, datetime]
) -> bool:
    """Whether the window's rows already reflect exactly these files, so a run over it has
    nothing to read (and must not replace the window with nothing).

    True when every listed file is known at its current version, every file whose messages
    reach into the window was loaded for a window covering this one, and no file that held
    messages of the window has disappeared from the source.
    """
    known = known_files(connection)
    listed = {file.uri for file in files}
    for uri, (_, first, last, _, _) in known.items():
        if uri not in listed and _reaches(first, last, window):
            return False  # its messages must leave the window
    for file in files:
        previous = known.get(file.uri)
        if previous is None or previous[0] != file.version:
            return False
        _, first, last, loaded_from, loaded_to = previous
        if _reaches(first, last, window) and (
            loaded_from is None or loaded_from > window[0] or loaded_to < window[1]
        ):
            return False
    return True


def loaded_window(previous, window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """The window a file version counts as loaded for after a run over ``window``: joined with
    the one it had (``previous``: its version's (loaded_from, loaded_to), or None) when the
    two touch, since a gap between them was never loaded."""
    if previous is None or previous[0] is None:
        return window
    start, end = previous
    if start <= window[1] and window[0] <= end:
        return min(start, window[0]), max(end, window[1])
    return window


def record_files(
    connection,
    files: list[SourceFile],
    window: tuple[datetime, datetime],
    spans: dict[str, tuple[datetime, datetime, int]],
) -> None:
    """Store the read files' versions, spans (first and last created_at and message count, per
    uri) and loaded windows, after their rows are committed."""
    known = known_files(connection)
    rows = []
    for f in files:
        previous = known.get(f.uri)
        same_version = previous is not None and previous[0] == f.version
        loaded = loaded_window(previous[3:] if same_version else None, window)
        rows.append((f.uri, f.version, *spans.get(f.uri, (None, None, 0)), *loaded))
    if rows:
        connection.executemany(
            "insert or replace into raw.source_files "
            "(uri, version, min_created_at, max_created_at, messages, read_at, "
            "loaded_from, loaded_to) "
            "values (?, ?, ?, ?, ?, timezone('UTC', now()), ?, ?)",
            rows,
        )
