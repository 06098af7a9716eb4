"""Daily partitions by the UTC day of a message's ``created_at``."""

from datetime import UTC, datetime, timedelta

import dagster as dg

# Early enough for old exports (the Twitter support corpus reaches back to 2011); today's partition
# exists too (end_offset=1), so messages of the current day can be loaded on demand.
PARTITIONS_START = "2000-01-01"  # also orchestration.sources.record.FIRST_DAY

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone="UTC", end_offset=1
)

# A backfill of many days runs as one run over the whole range: every step reads its time
# window, so one pass over the source serves all the days.
backfill_policy = dg.BackfillPolicy.single_run()

# Every step that writes the DuckDB warehouse joins this pool; the instance configuration the
# project ships (dagster.yaml) limits it to one step at a time, since DuckDB allows one
# writing process per file and even readers cannot open it meanwhile.
WAREHOUSE_POOL = "duckdb_warehouse"


# The settings every daily-partitioned step that writes the warehouse shares.
PARTITIONED_WRITER = {
    "partitions_def": daily_partitions,
    "backfill_policy": backfill_policy,
    "pool": WAREHOUSE_POOL,
}


def utc_window(context) -> tuple[datetime, datetime]:
    """The run's partition window (one day or a range) as naive UTC datetimes."""
    window = context.partition_time_window
    return (
        window.start.astimezone(UTC).replace(tzinfo=None),
        window.end.astimezone(UTC).replace(tzinfo=None),
    )


# Run tags Dagster sets on a run of one partition, or of a range of partitions.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
ALL_TIME = (datetime(1, 1, 1), datetime(9999, 12, 31))


def run_window(tags) -> tuple[datetime, datetime]:
    """The days a run covers, from its tags, for steps that are not partitioned themselves
    (the dbt models): one day, a range of days, or all time for a run without partitions."""
    start = tags.get(RANGE_START_TAG) or tags.get(PARTITION_TAG)
    end = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if not start:
        return ALL_TIME
    first = datetime.fromisoformat(start)
    last = datetime.fromisoformat(end)
    return first, last + timedelta(days=1)


def day_clusters(days: list[str], max_gap_days: int = 7) -> list[tuple[str, str]]:
    """Sorted ISO days grouped into ranges with gaps of at most ``max_gap_days``: a history
    with a few stray old messages becomes a few short runs, not one run over empty years
    (Dagster records every partition of a range, which costs time per day)."""
    clusters: list[tuple[str, str]] = []
    for day in sorted(set(days)):
        current = datetime.fromisoformat(day)
        if clusters and current - datetime.fromisoformat(clusters[-1][1]) <= timedelta(
            days=max_gap_days
        ):
            clusters[-1] = (clusters[-1][0], day)
        else:
            clusters.append((day, day))
    return clusters
