"""The ``raw_messages`` asset."""

import dagster as dg
from dagster_aws.s3 import S3Resource

from ..ingest import load_messages
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import SourceResource, WarehouseResource
from ..source_manifest import SpanTracker, files_to_read, window_is_current
from ..sources import SUFFIXES, read_files
from ..sources.location import is_s3, list_source_files

# The counts of a run that reads nothing, all zero.
NOTHING_READ = (
    "rows_read", "inserted", "updated", "unchanged", "superseded_in_input", "outside_window",
    "removed", "rejected",
)  # fmt: skip


@dg.asset(
    **PARTITIONED_WRITER,
    group_name="ingest",
    kinds={"python", "duckdb"},
    code_version="1",
)
def raw_messages(
    context: dg.AssetExecutionContext,
    source: SourceResource,
    warehouse: WarehouseResource,
    s3: S3Resource,
) -> dg.MaterializeResult:
    """Customer and agent messages, one row per message id, in ``raw.messages``.

    Reads the configured source (a Kustomer export, flat JSON Lines, CSV, Parquet, or the
    Customer Support on Twitter CSV) and upserts every valid message: a duplicated
    ``message_id`` keeps its newest ``updated_at``. Rows that break the contract (unparseable
    line, missing required field, bad timestamp, unknown direction, invalid UTF-8) go to
    ``raw.rejected_messages`` with the file, row number, raw content and reason.

    Partitioned by the UTC day of ``created_at``: a run loads the messages created in its
    days and replaces those days' rows, so rerunning a partition leaves no duplicates.
    """
    location, fmt = source.location_uri(), source.source_format()
    window = utc_window(context)
    client = s3.get_client() if is_s3(location) else None
    listed = list_source_files(location, SUFFIXES[fmt], client)
    with warehouse.connect() as connection:
        if window_is_current(connection, listed, window):
            context.log.info(
                f"every file of these days ({len(listed)} listed) is unchanged since it was "
                "loaded for them: nothing to read"
            )
            total = connection.execute("select count(*) from raw.messages").fetchone()[0]
            return dg.MaterializeResult(
                metadata={
                    "source": location,
                    "format": fmt,
                    "files_read": 0,
                    "files_skipped": len(listed),
                    **dict.fromkeys(NOTHING_READ, 0),
                    "rejected_by_reason": dg.MetadataValue.json({}),
                    "dagster/row_count": total,
                }
            )
        files, skipped = files_to_read(connection, listed, window)
        context.log.info(
            f"reading {len(files)} {fmt} file(s) from {location}; "
            f"{len(skipped)} unchanged file(s) hold no message of these days"
        )
        spans = SpanTracker()
        items = spans.track(read_files(files, fmt, client))
        stats = load_messages(connection, items, [f.uri for f in files], window)
        spans.record(connection, files, window)
        total = connection.execute("select count(*) from raw.messages").fetchone()[0]
    context.log.info(
        f"{stats.rows} rows read: {stats.inserted} new, {stats.updated} updated, "
        f"{stats.unchanged} unchanged, {stats.rejected} rejected"
    )
    if stats.rejected:
        context.log.warning(
            f"{stats.rejected} rows rejected ({dict(stats.rejected_by_reason)}); "
            "see raw.rejected_messages"
        )
    return dg.MaterializeResult(
        metadata={
            "source": location,
            "format": fmt,
            "files_read": len(files),
            "files_skipped": len(skipped),
            "rows_read": stats.rows,
            "inserted": stats.inserted,
            "updated": stats.updated,
            "unchanged": stats.unchanged,
            "superseded_in_input": stats.superseded_in_input,
            "outside_window": stats.outside_window,
            "removed": stats.removed,
            "rejected": stats.rejected,
            "rejected_by_reason": dg.MetadataValue.json(dict(stats.rejected_by_reason)),
            "dagster/row_count": total,
        }
    )
