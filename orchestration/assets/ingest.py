"""The ``raw_messages`` asset."""

import dagster as dg
from dagster_aws.s3 import S3Resource

from ..ingest import IngestStats, load_files
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import SourceResource, TextResource, WarehouseResource
from ..source_manifest import files_to_read, record_files, window_is_current
from ..sources import SUFFIXES
from ..sources.location import is_s3, list_source_files
from ..text_policy import enforce_on_stored


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
    text: TextResource,
) -> dg.MaterializeResult:
    """Customer and agent messages, one row per message id, in ``raw.messages``.

    Reads the configured source (a Kustomer export, flat JSON Lines, CSV, Parquet, or the
    Customer Support on Twitter CSV) and upserts every valid message: a duplicated
    ``message_id`` keeps its newest ``updated_at``. Rows that break the contract (unparseable
    line, missing required field, bad timestamp, unknown direction, invalid UTF-8) go to
    ``raw.rejected_messages`` with the file, row number, raw content and reason.

    The text policy (``text`` resource; default ``redacted``) replaces personal data in
    bodies, subjects and rejected lines by typed placeholders before they are stored.

    Partitioned by the UTC day of ``created_at``: a run loads the messages created in its
    days and replaces those days' rows, so rerunning a partition leaves no duplicates.
    """
    location, fmt = source.location_uri(), source.source_format()
    window = utc_window(context)
    settings = text.settings()
    client = s3.get_client() if is_s3(location) else None
    listed = list_source_files(location, SUFFIXES[fmt], client)
    with warehouse.connect() as connection:
        # A stricter policy than the stored rows were written under applies to them too.
        tightened = enforce_on_stored(connection, settings)
        if tightened:
            context.log.info(
                f"{tightened} stored messages brought to text policy {settings.policy}"
            )
        if window_is_current(connection, listed, window):
            # Every file of these days is unchanged since it was loaded for them: reading
            # them again would replace the days' rows with the same rows.
            files, skipped, stats = [], listed, IngestStats()
        else:
            files, skipped = files_to_read(connection, listed, window)
            stats = load_files(connection, files, fmt, window, client, settings)
            record_files(connection, files, window, stats.spans)
        context.log.info(
            f"read {len(files)} {fmt} file(s) from {location}; skipped {len(skipped)} "
            "unchanged file(s) that hold no message of these days or were loaded for them"
        )
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
            "text_policy": settings.policy,
            "messages_redacted": stats.redacted,
            "stored_messages_brought_to_policy": tightened,
            "dagster/row_count": total,
        }
    )
