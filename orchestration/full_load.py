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

from .partitions import RANGE_END_TAG, RANGE_START_TAG, day_clusters
from .sources import read_source
from .sources.record import Message


def source_days(location: Path | str, fmt: str) -> list[str]:
    """The distinct UTC days (ISO) of the source's valid messages, streamed."""
    days = {
        item.created_at.date() for item in read_source(location, fmt) if isinstance(item, Message)
    }
    return sorted(day.isoformat() for day in days)


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
) -> list[dg.ExecuteInProcessResult]:
    """Ingest and score every day of the source, then build the marts; stops at a failure."""
    from .definitions import MARTS_JOB, SCORE_JOB

    days = source_days(location, fmt) or [datetime.now(UTC).date().isoformat()]
    ranges = day_clusters(days)
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
