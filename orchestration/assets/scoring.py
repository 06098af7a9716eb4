"""The ``message_scores`` asset."""

import dagster as dg

from ..checks import CHECK_SPECS, score_checks
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import EngineResource, WarehouseResource
from ..scoring import score_pending
from .ingest import raw_messages

# The run's metadata lists failed messages by id; past this many, raw.message_scores has them.
MAX_LISTED_ERRORS = 100


@dg.asset(
    deps=[raw_messages],
    **PARTITIONED_WRITER,
    check_specs=CHECK_SPECS,
    group_name="scoring",
    kinds={"python", "duckdb"},
    code_version="1",
)
def message_scores(
    context: dg.AssetExecutionContext, engine: EngineResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Each message's sentiment in ``raw.message_scores``: sentiment class, class
    probabilities, a -1..1 score, polarity (-1/0/1) and confidence, with the engine.

    Only messages without a current score are processed. Texts are cleaned per channel (HTML,
    quoted replies, signatures, @mentions and URLs removed) and looked up in the score cache by
    a hash of (cleaned text, language, engine, version); each distinct missing text is scored
    once. Messages that cannot be scored (empty after cleaning, unsupported language, engine
    error) get a status and reason instead of an invented neutral score.
    """
    sentiment_engine = engine.build()
    context.log.info(f"scoring with {sentiment_engine.name} {sentiment_engine.version}")
    with warehouse.connect() as connection:
        window = utc_window(context)
        stats = score_pending(connection, sentiment_engine, window)
        checks = score_checks(connection, window)
        total = connection.execute("select count(*) from raw.message_scores").fetchone()[0]
    context.log.info(
        f"{stats.messages} messages processed: {stats.texts_scored} texts scored, "
        f"{stats.cache_hits} cache hits, {stats.duplicates_in_run} repeats, unscored {dict(stats.unscored)}, "
        f"{stats.messages_per_second:,.0f} messages/s"
    )
    return dg.MaterializeResult(
        metadata={
            "engine": sentiment_engine.name,
            "engine_version": sentiment_engine.version,
            "messages_processed": stats.messages,
            "messages_scored": stats.scored_messages,
            "texts_scored": stats.texts_scored,
            "cache_hits": stats.cache_hits,
            "duplicates_in_run": stats.duplicates_in_run,
            "unscored": sum(stats.unscored.values()),
            "unscored_by_reason": dg.MetadataValue.json(dict(stats.unscored)),
            "messages_per_second": round(stats.messages_per_second, 1),
            "documents_saved_by_cache": stats.cache_hits + stats.duplicates_in_run,
            "engine_errors": dg.MetadataValue.json(
                [{"message_id": m, "error": r} for m, r in stats.engine_errors[:MAX_LISTED_ERRORS]]
            ),
            **sentiment_engine.usage_metadata(),
            "dagster/row_count": total,
        },
        check_results=checks,
    )
