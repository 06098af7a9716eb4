"""The ``raw_messages`` asset."""

import dagster as dg
from dagster_aws.s3 import S3Resource

from ..ingest import IngestStats, load_files
from ..lake.step import publish_to_lake
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import SourceResource, TextResource, WarehouseResource
from ..source_manifest import files_to_read, record_files, window_is_current
from ..sources import SUFFIXES
from ..sources.kustomer_api import API_FORMAT, KustomerPull
from ..sources.kustomer_api.resource import KustomerApiResource
from ..sources.location import is_s3, list_source_files
from ..text.prepare import TextSettings
from ..text_policy import enforce_on_names, enforce_on_stored


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
    kustomer: KustomerApiResource,
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

    With the format ``kustomer_api`` it pulls messages, conversations and customers from
    Kustomer's search API instead (``kustomer`` resource): everything updated since the
    committed cursor, whatever its day, with deletes and redactions. Each message still
    lands in its ``created_at`` day, and the days changed outside the run's own are carried
    through scoring and the marts by the same run.
    """
    if source.source_format() == API_FORMAT:
        return _pull_api(context, warehouse, kustomer, s3, text.settings())
    location, fmt = source.location_uri(), source.source_format()
    window = utc_window(context)
    settings = text.settings()
    client = s3.get_client() if is_s3(location) else None
    listed = list_source_files(location, SUFFIXES[fmt], client)
    with warehouse.connect() as connection:
        # A stricter policy than the stored rows were written under applies to them too.
        tightened = enforce_on_stored(connection, settings) + enforce_on_names(connection, settings)
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
        lake = publish_to_lake(connection, warehouse, s3, context.log)
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
            **lake,
            "dagster/row_count": total,
        }
    )


def _pull_api(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    kustomer: KustomerApiResource,
    s3: S3Resource,
    settings: TextSettings,
) -> dg.MaterializeResult:
    client = kustomer.build_client()
    try:
        with warehouse.connect() as connection:
            tightened = enforce_on_stored(connection, settings)
            tightened += enforce_on_names(connection, settings)
            pull = KustomerPull(
                connection,
                client,
                settings,
                page_size=kustomer.search_page_size(),
                max_results=kustomer.max_search_results,
                commit_records=kustomer.commit_records,
                max_rollbacks=kustomer.max_rollbacks,
                log=context.log.warning,
            )
            stats = pull.run()
            total, conversations, customers = connection.execute(
                """
                select
                    (select count(*) from raw.messages),
                    (select count(*) from raw.conversations),
                    (select count(*) from raw.customers)
                """
            ).fetchone()
            lake = publish_to_lake(connection, warehouse, s3, context.log)
    finally:
        client.close()
    messages = stats.messages
    per_kind = {kind: vars(resource) for kind, resource in stats.resources.items()}
    context.log.info(
        f"pulled from {client.base_url}: "
        + ", ".join(f"{kind} {r.records} in {r.pages} pages" for kind, r in stats.resources.items())
        + f"; messages {messages.inserted} new, {messages.updated} updated, "
        f"{stats.messages_removed} removed; {client.stats.requests} requests, "
        f"{client.stats.waited_s:.1f} s waiting for the rate limit"
    )
    for key, rows, kind in (
        ("raw_conversations", conversations, "conversation"),
        ("raw_customers", customers, "customer"),
    ):
        pulled = stats.resources[kind]
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                metadata={
                    "records_pulled": pulled.records,
                    "written": pulled.written,
                    "deleted": pulled.deleted,
                    "rejected": pulled.rejected,
                    "dagster/row_count": rows,
                },
            )
        )
    rejected = sum(r.rejected for r in stats.resources.values())
    if rejected:
        context.log.warning(
            f"{rejected} records rejected ({dict(stats.rejected_by_reason)}); "
            "see raw.rejected_messages"
        )
    return dg.MaterializeResult(
        metadata={
            "source": client.base_url,
            "format": API_FORMAT,
            "records_by_resource": dg.MetadataValue.json(per_kind),
            "rows_read": messages.rows,
            "inserted": messages.inserted,
            "updated": messages.updated,
            "unchanged": messages.unchanged,
            "removed": stats.messages_removed,
            "in_deleted_conversations": stats.in_deleted_conversations,
            "rejected": rejected,
            "rejected_by_reason": dg.MetadataValue.json(dict(stats.rejected_by_reason)),
            "days_changed": len(stats.days_changed),
            "cursors": dg.MetadataValue.json(stats.cursors),
            "rollbacks": sum(r.rollbacks for r in stats.resources.values()),
            "requests": client.stats.requests,
            "rate_limit_waits": client.stats.rate_limit_waits,
            "rate_limit_wait_s": round(client.stats.waited_s, 1),
            "text_policy": settings.policy,
            "messages_redacted": messages.redacted,
            "stored_messages_brought_to_policy": tightened,
            **lake,
            "dagster/row_count": total,
        }
    )


# The API source writes Kustomer's conversations and customers beside the messages. They are
# declared here so the lineage shows where the dbt sources raw.conversations and
# raw.customers come from; raw_messages records their materializations.
def _written_with_messages(key: str, what: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=[raw_messages],
        group_name="ingest",
        kinds={"duckdb"},
        description=f"Kustomer {what} in ``raw.{key.removeprefix('raw_')}``, written by "
        "``raw_messages`` with the source format ``kustomer_api``; empty for files.",
    )


raw_conversations = _written_with_messages(
    "raw_conversations", "conversations (name, status, assignment)"
)
raw_customers = _written_with_messages("raw_customers", "customers (name, locale)")
