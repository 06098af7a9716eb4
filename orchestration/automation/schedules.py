"""The daily schedule: each day, materialize yesterday's partition and everything downstream.

The hour and the time zone are read when the schedule is evaluated, not at import, so changing
``SENTIMENT_SCHEDULE_HOUR`` or ``SENTIMENT_SCHEDULE_TIMEZONE`` in the daemon's environment
takes effect without redeploying the code location. That is why the schedule ticks every hour
(on the hour, UTC) and decides on each tick whether this is the configured local hour.
"""

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

HOUR_ENV = "SENTIMENT_SCHEDULE_HOUR"
TIMEZONE_ENV = "SENTIMENT_SCHEDULE_TIMEZONE"
DEFAULT_HOUR = 2
DEFAULT_TIMEZONE = "UTC"


def schedule_hour() -> int:
    """The local hour (0-23) of the daily run: ``$SENTIMENT_SCHEDULE_HOUR``, else 2."""
    raw = os.environ.get(HOUR_ENV, "").strip()
    if not raw:
        return DEFAULT_HOUR
    try:
        hour = int(raw)
    except ValueError:
        raise ValueError(f"{HOUR_ENV} must be an hour from 0 to 23, got {raw!r}") from None
    if not 0 <= hour <= 23:
        raise ValueError(f"{HOUR_ENV} must be an hour from 0 to 23, got {hour}")
    return hour


def schedule_timezone() -> ZoneInfo:
    """The zone of that hour and of "yesterday": ``$SENTIMENT_SCHEDULE_TIMEZONE`` (an IANA
    name such as ``Europe/Paris``), else UTC."""
    name = os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{TIMEZONE_ENV} must be an IANA time zone name such as Europe/Paris, got {name!r}"
        ) from None


def is_run_tick(tick: datetime, hour: int, zone: ZoneInfo) -> bool:
    """Whether the hourly tick at ``tick`` is the daily run's tick in ``zone``.

    It is the first tick at or after the configured local hour on its local day. Comparing with
    the previous tick, rather than testing ``local.hour == hour``, still runs once on the day
    the clocks spring forward over that hour, and only once on the day they fall back and
    repeat it.
    """
    local = tick.astimezone(zone)
    previous = (tick - timedelta(hours=1)).astimezone(zone)
    if local.hour < hour:
        return False
    return previous.date() != local.date() or previous.hour < hour


def next_run_tick(after: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first hourly UTC tick after ``after`` that runs, for the skip message."""
    tick = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for _ in range(24 * 3):  # always within a day or two; bounded all the same
        if is_run_tick(tick, hour, zone):
            return tick
        tick += timedelta(hours=1)
    return tick


def daily_schedule(
    job,
    *,
    name: str | None = None,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.STOPPED,
) -> dg.ScheduleDefinition:
    """A schedule that runs ``job`` (an asset job partitioned by ``daily_partitions``) once a
    day, at ``$SENTIMENT_SCHEDULE_HOUR`` (default 2) in ``$SENTIMENT_SCHEDULE_TIMEZONE``
    (default UTC), for yesterday's date in that zone.

    The run key is ``daily-<partition>``, so a tick retried by the daemon never starts the same
    day twice.
    """

    @dg.schedule(
        job=job,
        name=name or f"{job.name}_daily",
        cron_schedule="0 * * * *",
        execution_timezone="UTC",
        default_status=default_status,
        description="Materializes yesterday's partition and everything downstream, once a day "
        f"at ${HOUR_ENV} (default {DEFAULT_HOUR}) in ${TIMEZONE_ENV} (default UTC). "
        "Ticks hourly so both settings are read at evaluation time.",
    )
    def _daily(context: dg.ScheduleEvaluationContext):
        hour = schedule_hour()
        zone = schedule_timezone()
        # scheduled_execution_time is None only when a test builds a context without one.
        tick = context.scheduled_execution_time or datetime.now(UTC)
        if tick.tzinfo is None:
            tick = tick.replace(tzinfo=UTC)
        if not is_run_tick(tick, hour, zone):
            upcoming = next_run_tick(tick, hour, zone)
            return dg.SkipReason(
                f"runs daily at {hour:02d}:00 {zone.key}; next run at "
                f"{upcoming.astimezone(zone).isoformat()} ({upcoming.isoformat()})"
            )
        partition = (tick.astimezone(zone).date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(partition_key=partition, run_key=f"daily-{partition}")

    return _daily
