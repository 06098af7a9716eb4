"""The ``raw_messages`` asset."""

import dagster as dg

from ..ingest import load_messages
from ..resources import SourceResource, WarehouseResource
from ..sources import read_source, source_files


@dg.asset(
    group_name="ingest",
    kinds={"python", "duckdb"},
    code_version="1",
)
def raw_messages(
    context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Customer and agent messages, one row per message id, in ``raw.messages``.

    Reads the configured source (a Kustomer export, flat JSON Lines, CSV, Parquet, or the
    Customer Support on Twitter CSV) and upserts every valid message: a duplicated
    ``message_id`` keeps its newest ``updated_at``. Rows that break the contract (unparseable
    line, missing required field, bad timestamp, unknown direction, invalid UTF-8) go to
    ``raw.rejected_messages`` with the file, row number, raw content and reason.
    """
    location, fmt = source.location(), source.source_format()
    files = [str(path) for path in source_files(location, fmt)]
    context.log.info(f"reading {len(files)} {fmt} file(s) from {location}")
    with warehouse.connect() as connection:
        stats = load_messages(connection, read_source(location, fmt), files)
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
            "source": dg.MetadataValue.path(str(location)),
            "format": fmt,
            "files": len(files),
            "rows_read": stats.rows,
            "inserted": stats.inserted,
            "updated": stats.updated,
            "unchanged": stats.unchanged,
            "superseded_in_input": stats.superseded_in_input,
            "rejected": stats.rejected,
            "rejected_by_reason": dg.MetadataValue.json(dict(stats.rejected_by_reason)),
            "dagster/row_count": total,
        }
    )
