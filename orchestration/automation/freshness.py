"""Freshness: a warning when yesterday's partition, or the marts built from it, have not landed
by a deadline hour.

Dagster's built-in freshness checks (``build_time_partition_freshness_checks``) take their
deadline as a cron string when the code location loads. The deadline here is a setting read when
the check runs, like every other setting of the project: the ``freshness`` resource's
``deadline_hour_utc``, else ``$SENTIMENT_FRESHNESS_HOUR``, else 9. So the rules are written here,
as small pure functions, and the checks and their sensor only gather the timestamps.

- **The deadline** is the latest ``HH:00 UTC`` at or before now.
- **Partitioned assets** (``raw_messages``, ``message_scores``) are fresh when the partition of
  the day before the deadline's day (yesterday, seen from the deadline) has been materialized.
- **Marts** are fresh when they were rebuilt in the 24 hours before the deadline, or after it.
"""

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

FRESHNESS_HOUR_ENV = "SENTIMENT_FRESHNESS_HOUR"
DEFAULT_DEADLINE_HOUR = 9
CHECK_NAME = "fresh_by_deadline"
SENSOR_NAME = "freshness_checks_sensor"
# How often the sensor looks at the clock and at new materializations.
SENSOR_INTERVAL_SECONDS = 600


def utc_now() -> datetime:
    """The clock the checks and the sensor read (tests replace it)."""
    return datetime.now(UTC)


def parse_deadline_hour(raw: str | int | None) -> int:
    """An hour 0-23, with an error that says which setting is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_DEADLINE_HOUR
    try:
        hour = int(raw)
    except ValueError:
        raise ValueError(
            f"{FRESHNESS_HOUR_ENV} must be an hour from 0 to 23, got {raw!r}"
        ) from None
    if not 0 <= hour <= 23:
        raise ValueError(f"{FRESHNESS_HOUR_ENV} must be an hour from 0 to 23, got {hour}")
    return hour


class FreshnessResource(dg.ConfigurableResource):
    """When yesterday's data is due: an hour of the day, UTC."""

    deadline_hour_utc: int | None = Field(
        default=None,
        description=f"Hour (0-23, UTC) by which yesterday's partition and the marts are due. "
        f"Empty: ${FRESHNESS_HOUR_ENV}, else {DEFAULT_DEADLINE_HOUR}.",
    )

    def deadline_hour(self) -> int:
        if self.deadline_hour_utc is not None:
            return parse_deadline_hour(self.deadline_hour_utc)
        return parse_deadline_hour(os.environ.get(FRESHNESS_HOUR_ENV))


def last_deadline(now: datetime, hour: int) -> datetime:
    """The latest ``hour:00`` UTC at or before ``now``."""
    now = now.astimezone(UTC)
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def expected_partition(deadline: datetime) -> str:
    """The daily partition due by ``deadline``: the UTC day before the deadline's day."""
    return (deadline.date() - timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str


def partition_verdict(deadline: datetime, landed_at: float | None) -> Verdict:
    """Whether the partition due by ``deadline`` has landed (``landed_at``: its latest
    materialization's timestamp, or None)."""
    day = expected_partition(deadline)
    due = f"{deadline:%Y-%m-%d %H:%M} UTC"
    if landed_at is None:
        return Verdict(False, f"partition {day} has not landed; it was due by {due}")
    landed = datetime.fromtimestamp(landed_at, UTC)
    late = " (late)" if landed > deadline else ""
    return Verdict(True, f"partition {day} landed at {landed:%Y-%m-%d %H:%M} UTC{late}")


def mart_verdict(deadline: datetime, updated_at: float | None) -> Verdict:
    """Whether a mart was rebuilt in the 24 hours before ``deadline`` (or since)."""
    window_start = deadline - timedelta(hours=24)
    due = f"{deadline:%Y-%m-%d %H:%M} UTC"
    if updated_at is None:
        return Verdict(False, f"never built; a build was due by {due}")
    updated = datetime.fromtimestamp(updated_at, UTC)
    if updated < window_start:
        return Verdict(
            False,
            f"last built {updated:%Y-%m-%d %H:%M} UTC, before {window_start:%Y-%m-%d %H:%M} UTC; "
            f"a build was due by {due}",
        )
    return Verdict(True, f"built at {updated:%Y-%m-%d %H:%M} UTC")


def run_due(
    now: datetime, hour: int, cursor: str | None, newest_update: float | None
) -> tuple[bool, str]:
    """Whether the sensor should run the checks now, and its next cursor.

    They run once each time a deadline passes, and again whenever a watched asset was
    materialized since they last ran, so a late arrival clears the warning when it lands.
    """
    deadline = last_deadline(now, hour)
    state = json.loads(cursor) if cursor else {}
    evaluated_at = state.get("evaluated_at")
    due = state.get("deadline") != deadline.isoformat() or (
        newest_update is not None and (evaluated_at is None or newest_update > evaluated_at)
    )
    if not due:
        return False, cursor or ""
    return True, json.dumps(
        {"deadline": deadline.isoformat(), "evaluated_at": now.timestamp()}, sort_keys=True
    )


def _latest_timestamp(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None):
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    return records[0].timestamp if records else None


def freshness_checks(
    partitioned_assets: Sequence[dg.AssetsDefinition],
    marts: Sequence[dg.AssetKey],
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> tuple[dg.AssetChecksDefinition, dg.SensorDefinition]:
    """Warn-level freshness checks for ``partitioned_assets`` (daily) and ``marts``, and the
    sensor that runs them (off until turned on, like the schedule)."""
    partitioned_keys = [key for assets in partitioned_assets for key in assets.keys]
    watched = [*partitioned_keys, *marts]
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description="Yesterday's partition has landed by the deadline hour (UTC)."
            if key in partitioned_keys
            else "Rebuilt in the 24 hours before the deadline hour (UTC).",
        )
        for key in watched
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="freshness_checks")
    def checks(context: dg.AssetCheckExecutionContext, freshness: FreshnessResource):
        """Whether yesterday's data, and the marts built from it, landed by the deadline."""
        hour = freshness.deadline_hour()
        deadline = last_deadline(utc_now(), hour)
        for check_key in context.selected_asset_check_keys:
            key = check_key.asset_key
            if key in partitioned_keys:
                day = expected_partition(deadline)
                verdict = partition_verdict(deadline, _latest_timestamp(context.instance, key, day))
            else:
                verdict = mart_verdict(deadline, _latest_timestamp(context.instance, key, None))
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_NAME,
                passed=verdict.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=verdict.description,
                metadata={"deadline": deadline.isoformat(), "deadline_hour_utc": hour},
            )

    @dg.sensor(
        name=SENSOR_NAME,
        asset_selection=dg.AssetSelection.checks(checks),
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=default_status,
        description="Runs the freshness checks when a deadline passes, and again after new data "
        "lands, so a late arrival clears its warning.",
    )
    def sensor(context: dg.SensorEvaluationContext, freshness: FreshnessResource):
        newest = max(
            (ts for key in watched if (ts := _latest_timestamp(context.instance, key, None))),
            default=None,
        )
        due, cursor = run_due(utc_now(), freshness.deadline_hour(), context.cursor, newest)
        if not due:
            return dg.SkipReason("no deadline passed and nothing landed since the last check")
        context.update_cursor(cursor)
        return dg.RunRequest(asset_check_keys=list(checks.check_keys))

    return checks, sensor
