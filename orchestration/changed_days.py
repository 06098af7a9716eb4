"""Days a source changed outside a run's own partition window.

A run of the Kustomer API source pulls every record updated since its cursor, whatever day
it was created: an edit, a redaction or a delete of last month's message lands in last
month's partition (a message's partition is its ``created_at`` day). Those days are recorded
in ``raw.changed_days``; the steps after ingest (scoring, entity analysis, the dbt build)
widen their window to cover them, and a successful dbt build clears the days it covered. So a
daily run carries every change it pulled through to the marts, without a run per old day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import pyarrow as pa

Window = tuple[datetime, datetime]


def mark(connection, days: Iterable[date | str]) -> int:
    """Record ``days`` (dates or ISO strings) as changed; returns how many were given."""
    values = sorted({d if isinstance(d, str) else d.isoformat() for d in days})
    if values:
        connection.execute(
            """
            insert into raw.changed_days
            select cast(unnest($days::varchar[]) as date), timezone('UTC', now())
            on conflict (day) do update set changed_at = excluded.changed_at
            """,
            {"days": values},
        )
    return len(values)


Mark = tuple[date, datetime]  # a changed day, and when it was (last) marked


def pending(connection) -> list[Mark]:
    return connection.execute(
        "select day, changed_at from raw.changed_days order by day"
    ).fetchall()


def widen(window: Window, days: list[date]) -> Window:
    """The smallest window (naive UTC, half-open) holding ``window`` and every day of ``days``.

    One contiguous window, not a list of days: the message fact replaces the rows of one
    window, and a hull over a few scattered days costs a rebuild of the days between, which
    is cheap next to a run per day."""
    if not days:
        return window
    first = datetime.combine(min(days), time())
    last = datetime.combine(max(days), time()) + timedelta(days=1)
    return min(window[0], first), max(window[1], last)


def covering(connection, window: Window) -> tuple[Window, list[Mark]]:
    """The window widened to the changed days, and the marks read (to clear after a build)."""
    marks = pending(connection)
    return widen(window, [day for day, _ in marks]), marks


def clear(connection, marks: list[Mark]) -> None:
    """Forget the marks a successful build covered. A day marked again since (a pull that
    ran meanwhile, outside the pool) has a newer mark, and stays."""
    if marks:
        connection.register(
            "_built_marks",
            pa.table(
                {
                    "day": pa.array([day for day, _ in marks], pa.date32()),
                    "changed_at": pa.array([at for _, at in marks], pa.timestamp("us")),
                }
            ),
        )
        try:
            connection.execute(
                "delete from raw.changed_days where (day, changed_at) in "
                "(select (day, changed_at) from _built_marks)"
            )
        finally:
            connection.unregister("_built_marks")
