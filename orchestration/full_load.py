"""A full load of a source: the CLI's main job, and what tests run.

The days with messages are grouped into ranges (a few stray old messages do not turn into a
run over empty years); each range is ingested and scored in one run, then one run builds the
marts over all days and publishes the analysts' copy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from .partitions import RANGE_END_TAG, RANGE_START_TAG, day_clusters
from .source_manifest import known_files
from .sources import SUFFIXES
from .sources.kustomer_api import API_FORMAT
from .sources.location import list_source_files
from .stage import days_of_files


def source_days(location: Path | str, fmt: str, connection=None, s3_client=None) -> list[str]:
    """The distinct UTC days (ISO) of the source's valid messages.

    With a warehouse ``connection``, only files that are new or changed since they were last
    ingested (``raw.source_files``) are read; the days of unchanged files come from the
    messages they contributed (``raw.messages.source_name``). A rerun over an unchanged source
    then reads nothing. JSON Lines are read by DuckDB, for their creation times only.
    """
    listed = list_source_files(str(location), SUFFIXES[fmt], s3_client)
    if connection is None:
        with duckdb.connect() as scratch:
            return sorted(days_of_files(scratch, listed, fmt, s3_client))
    versions = {uri: known[0] for uri, known in known_files(connection).items()}
    unchanged = [f.uri for f in listed if versions.get(f.uri) == f.version]
    changed = [f for f in listed if versions.get(f.uri) != f.version]
    days = {
        day
        for (day,) in connection.execute(
            "select distinct cast(created_at as date)::varchar from raw.messages "
            "where source_name in (select unnest($files::varchar[]))",
            {"files": unchanged},
        ).fetchall()
    }
    return sorted(days | days_of_files(connection, changed, fmt, s3_client))


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (both included)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def run_full_load(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    location: Path | str,
    fmt: str,
    run_config: dict | None = None,
    say: Callable[[str], None] = lambda _: None,
    warehouse=None,
) -> list[dg.ExecuteInProcessResult]:
    """Ingest and score every day of the source, then build the marts; stops at a failure.

    ``warehouse`` (a ``WarehouseResource``) lets the days of files already ingested come from
    the warehouse instead of reading those files again."""
    from .definitions import MARTS_JOB, SCORE_JOB

    if fmt == API_FORMAT:
        # The API source pulls everything changed since its cursor in any one run, and the
        # changed days are scored and built by the same runs (orchestration/changed_days.py).
        days = []
    elif warehouse is None:
        days = source_days(location, fmt)
    else:
        with warehouse.connect() as connection:
            days = source_days(location, fmt, connection)
    days = days or [datetime.now(UTC).date().isoformat()]
    ranges = day_clusters(days)
    if fmt == API_FORMAT:
        say("pull everything changed since the cursor from the Kustomer API, and score it")
    else:
        say(f"{len(days)} days with messages, {days[0]} to {days[-1]}: {len(ranges)} ingest run(s)")
    results = []
    for first, last in ranges:
        say(f"ingest and score {first} to {last}")
        result = defs.resolve_job_def(SCORE_JOB).execute_in_process(
            instance=instance,
            tags=partition_range_tags(first, last),
            run_config=run_config,
            raise_on_error=False,
        )
        results.append(result)
        if not result.success:
            return results
    say("build the marts and publish")
    results.append(
        defs.resolve_job_def(MARTS_JOB).execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False
        )
    )
    return results
