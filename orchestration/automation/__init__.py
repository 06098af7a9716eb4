"""What starts runs without a person: the daily schedule and the new-files sensor.

``definitions.py`` uses :func:`build_automation` with its asset job partitioned by
``daily_partitions``, and provides the ``source`` and ``s3`` resources the sensor needs.
"""

import dagster as dg

from .schedules import daily_schedule
from .sensors import new_files_sensor


def build_automation(
    job,
) -> tuple[list[dg.ScheduleDefinition], list[dg.SensorDefinition]]:
    """The schedules and sensors that run ``job``: ``([daily], [new files])``."""
    return [daily_schedule(job)], [new_files_sensor(job)]


__all__ = ["build_automation", "daily_schedule", "new_files_sensor"]
