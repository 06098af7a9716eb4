"""Daily partitions by the UTC day of a message's ``created_at``."""

import dagster as dg

# Early enough for old exports (the Twitter support corpus is from 2017); today's partition
# exists too (end_offset=1), so messages of the current day can be loaded on demand.
PARTITIONS_START = "2015-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone="UTC", end_offset=1
)

# A backfill of many days runs as one run over the whole range: every step reads its time
# window, so one pass over the source serves all the days.
backfill_policy = dg.BackfillPolicy.single_run()
