"""Freshness: a warning when yesterday's data has not landed by a deadline.

Dagster builds freshness checks at load time, so the deadline is a setting of this module (a
deadline read from the environment would be read at import, which the project avoids).
"""

from datetime import timedelta

import dagster as dg

# Yesterday's partition, and the marts built from it, are expected by this hour (UTC).
DEADLINE_HOUR_UTC = 9


def freshness_checks(partitioned_assets, marts, deadline_hour_utc: int = DEADLINE_HOUR_UTC):
    """Warn-level checks: the latest daily partition of ``partitioned_assets`` has landed, and
    ``marts`` were rebuilt in the 24 hours before the deadline; plus the sensor that runs them."""
    deadline = f"0 {deadline_hour_utc} * * *"
    checks = [
        *dg.build_time_partition_freshness_checks(
            assets=partitioned_assets,
            deadline_cron=deadline,
            timezone="UTC",
            severity=dg.AssetCheckSeverity.WARN,
        ),
        *dg.build_last_update_freshness_checks(
            assets=marts,
            deadline_cron=deadline,
            lower_bound_delta=timedelta(hours=24),
            timezone="UTC",
            severity=dg.AssetCheckSeverity.WARN,
        ),
    ]
    return checks, dg.build_sensor_for_freshness_checks(
        freshness_checks=checks, name="freshness_checks_sensor"
    )
