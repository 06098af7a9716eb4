"""Whether the marts are already built, and published, from the warehouse's current inputs.

A build with nothing new rebuilds every mart and reruns every test for the same answer: at a
million messages that is most of a rerun's time. Each successful dbt build records a
fingerprint of its inputs (the raw tables dbt reads, and the dbt project's files), the window
it built, and later when that build was published. A build whose inputs, project and window
are covered by the latest recorded build, already published, has nothing to do.

The fingerprint is a content hash of every row of the source tables (a scan of a million rows
takes about 0.1 s), so an edit, delete or rescore changes it, whatever the timestamps say.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

# The dbt sources (dbt_project/models/staging/_sources.yml).
SOURCE_TABLES = (
    "raw.messages",
    "raw.message_scores",
    "raw.entity_mentions",
    "raw.message_topics",
    "raw.conversations",
    "raw.customers",
)
FORCE_BUILD_TAG = "sentiment/force_dbt_build"


def inputs_fingerprint(connection) -> str:
    digest = hashlib.sha256()
    for table in SOURCE_TABLES:
        count, content = connection.execute(
            f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {table} t"
        ).fetchone()
        digest.update(f"{table}:{count}:{content};".encode())
    return digest.hexdigest()


_LATEST = "select {} from raw.dbt_builds order by built_at desc, rowid desc limit 1"


def latest_build(connection) -> tuple | None:
    """(inputs, project, window_start, window_end, built_at, published_at) of the latest
    build recorded, or None."""
    columns = "inputs, project, window_start, window_end, built_at, published_at"
    return connection.execute(_LATEST.format(columns)).fetchone()


def _published(latest: tuple | None) -> bool:
    return latest is not None and latest[5] is not None and latest[5] >= latest[4]


def latest_build_published(connection) -> bool:
    return _published(latest_build(connection))


def build_is_current(
    connection, inputs: str, project: str, window: tuple[datetime, datetime]
) -> bool:
    """Whether the latest build used these inputs and project, covered ``window`` and was
    published."""
    latest = latest_build(connection)
    if latest is None:
        return False
    built_inputs, built_project, start, end, _, _ = latest
    return (
        built_inputs == inputs
        and built_project == project
        and start <= window[0]
        and end >= window[1]
        and _published(latest)
    )


# A build under way, or one that built only some models, vouches for nothing: its row makes the
# next whole build run (and lets a publish after it copy the marts).
UNFINISHED = "unfinished or partial build"


def record_build_started(connection, project: str, window: tuple[datetime, datetime]) -> None:
    """Record that dbt is about to change the marts (a whole build or a subset)."""
    record_build(connection, UNFINISHED, project, window)


def record_build(connection, inputs: str, project: str, window: tuple[datetime, datetime]) -> None:
    connection.execute(
        "insert into raw.dbt_builds (inputs, project, window_start, window_end, built_at) "
        "values (?, ?, ?, ?, timezone('UTC', now()))",
        [inputs, project, window[0], window[1]],
    )


def record_publish(connection) -> None:
    """Mark the latest build as published."""
    connection.execute(
        "update raw.dbt_builds set published_at = timezone('UTC', now()) "
        f"where rowid = ({_LATEST.format('rowid')})"
    )
