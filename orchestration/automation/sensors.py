"""The new-files sensor: new or changed export files start runs of the days they touch.

On each tick the sensor lists the input location (a local file or folder, or an S3 prefix),
compares every file's version with the cursor, reads only the new and changed files to find
the UTC days of their messages' ``created_at``, and requests one run per touched day. The
cursor is a JSON object ``{uri: version}`` of the files already processed, so a file is read
once per version, and files that vanished drop out of it.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator

import dagster as dg
from dagster_aws.s3 import S3Resource

from ..partitions import daily_partitions
from ..resources import DEFAULT_SOURCE, SourceResource, setting
from ..sources import READERS, SUFFIXES, Message
from ..sources.kustomer_api import API_FORMAT
from ..sources.location import SourceFile, is_s3, list_source_files, local_copy

DEFAULT_MINIMUM_INTERVAL_SECONDS = 60


def source_location(source: SourceResource) -> str:
    """The configured location as a string: a local path (absolute) or an ``s3://`` URI.

    ``SourceResource.location()`` resolves the value as a local ``Path``, which turns
    ``s3://bucket/x`` into ``/cwd/s3:/bucket/x``; until the resource offers ``location_uri()``
    the raw setting is read here, with the same fallbacks.
    """
    if hasattr(source, "location_uri"):
        return str(source.location_uri())
    raw = setting(source.path, "SENTIMENT_SOURCE_PATH", DEFAULT_SOURCE)
    return raw if is_s3(raw) else str(source.location())


def load_cursor(cursor: str | None) -> dict[str, str]:
    """The cursor's ``{uri: version}``; an empty or unreadable cursor counts as no files seen."""
    if not cursor:
        return {}
    try:
        seen = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    if not isinstance(seen, dict):
        return {}
    return {str(uri): str(version) for uri, version in seen.items()}


def days_touched(file: SourceFile, fmt: str, s3_client=None) -> set[str]:
    """The UTC days (``YYYY-MM-DD``) of the ``created_at`` of a file's valid messages.

    Rejected rows are ignored: they carry no trustworthy date, and ingest quarantines them.
    ``created_at`` is already a naive UTC datetime in every reader's records.
    """
    reader = READERS[fmt]
    with local_copy(file, s3_client) as path:
        return {
            record.created_at.date().isoformat()
            for record in reader(path)
            if isinstance(record, Message)
        }


def run_key(day: str, files: list[SourceFile]) -> str:
    """``<day>:<digest>`` where the digest covers the (uri, version) of every file that touched
    the day in this tick: a changed file yields a new key, a retried tick the same one."""
    pairs = sorted((file.uri, file.version) for file in files)
    digest = hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]
    return f"{day}:{digest}"


def new_files_sensor(
    job,
    *,
    name: str | None = None,
    minimum_interval_seconds: int = DEFAULT_MINIMUM_INTERVAL_SECONDS,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    """A sensor that runs ``job`` (partitioned by ``daily_partitions``) for each UTC day that
    new or changed input files touch.

    The location and format come from the ``source`` resource; S3 access from the ``s3``
    resource (``dagster_aws.s3.S3Resource``), whose client is built only when the location is
    on S3.
    """

    @dg.sensor(
        job=job,
        name=name or f"{job.name}_new_files",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Starts a run of each UTC day that new or changed export files touch.",
    )
    def _new_files(
        context: dg.SensorEvaluationContext, source: SourceResource, s3: S3Resource
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        fmt = source.source_format()
        if fmt == API_FORMAT:
            # Nothing to watch: every run pulls what changed since the API source's cursor.
            yield dg.SkipReason(
                "the source is Kustomer's API (kustomer_api): the daily schedule pulls it"
            )
            return
        location = source_location(source)
        if fmt not in READERS:
            raise ValueError(f"unknown source format {fmt!r}; expected one of {sorted(READERS)}")
        s3_client = s3.get_client() if is_s3(location) else None
        seen = load_cursor(context.cursor)

        try:
            files = list_source_files(location, SUFFIXES[fmt], s3_client)
        except FileNotFoundError as error:
            # Nothing there yet (or the location is wrong): keep the cursor, so files that come
            # back unchanged after an outage are not all processed again.
            yield dg.SkipReason(str(error))
            return

        current = {file.uri: file.version for file in files}
        changed = [file for file in files if seen.get(file.uri) != file.version]
        removed = len(seen.keys() - current.keys())
        # The next cursor keeps what is still there, and an unreadable file keeps its previous
        # entry (or none), so it is tried again on the next tick.
        next_cursor = {uri: version for uri, version in seen.items() if uri in current}

        touched: dict[str, list[SourceFile]] = defaultdict(list)
        failed = 0
        for file in changed:
            try:
                days = days_touched(file, fmt, s3_client)
            except Exception as error:
                # A download that races an overwrite, a file still being written, a transient
                # S3 error: skip it this tick. Only the error's type is logged, never content.
                failed += 1
                context.log.warning(
                    f"could not read {file.uri} ({type(error).__name__}); retrying next tick"
                )
                continue
            next_cursor[file.uri] = file.version
            for day in days:
                touched[day].append(file)

        # Days outside the partitions (before PARTITIONS_START, or beyond tomorrow) cannot be
        # requested; ingest still loads those rows when a run covers them.
        valid = {day: fs for day, fs in touched.items() if daily_partitions.has_partition_key(day)}
        context.log.info(
            f"{len(files)} files listed, {len(changed)} new or changed, {removed} gone, "
            f"{failed} unreadable; {len(touched)} days touched, "
            f"{len(touched) - len(valid)} outside the partitions"
        )

        context.update_cursor(json.dumps(next_cursor, sort_keys=True))
        if not valid:
            yield dg.SkipReason(
                f"no new partitions to run: {len(changed)} new or changed files of {len(files)}"
            )
            return
        for day in sorted(valid):
            yield dg.RunRequest(partition_key=day, run_key=run_key(day, valid[day]))

    return _new_files
