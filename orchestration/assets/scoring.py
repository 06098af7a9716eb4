"""The ``message_scores`` asset."""

import dagster as dg
from dagster_aws.s3 import S3Resource

from .. import changed_days
from ..checks import CHECK_SPECS, score_checks
from ..lake.step import publish_to_lake
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import EngineResource, TextResource, WarehouseResource
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
    context: dg.AssetExecutionContext,
    engine: EngineResource,
    warehouse: WarehouseResource,
    text: TextResource,
    s3: S3Resource,
) -> dg.MaterializeResult:
    """Each message's sentiment in ``raw.message_scores``: sentiment class, class
    probabilities, a -1..1 score, polarity (-1/0/1) and confidence, with the engine.

    Only messages without a current score are processed. Texts are cleaned per channel (HTML,
    quoted replies, signatures, @mentions and URLs removed), their personal data redacted
    (text policy), and their language detected when the source gives none; a text too short
    to detect takes its conversation's or customer's language, else ``und``. Each message
    goes to the first configured engine that supports its language, through the score cache
    (a hash of cleaned text, language, engine, version): each distinct missing text is scored
    once. Messages that cannot be scored (empty after cleaning, a language no configured
    engine supports, engine error) get a status and reason instead of an invented neutral
    score.
    """
    router = engine.build_router()
    settings = text.settings()
    context.log.info(
        "scoring with " + ", ".join(f"{name} {version}" for name, version in router.versions)
    )
    with warehouse.connect() as connection:
        # plus the older days a pull from the Kustomer API changed (orchestration/changed_days.py)
        window, _ = changed_days.covering(connection, utc_window(context))
        stats = score_pending(connection, router, window, settings)
        checks = score_checks(connection, window)
        total = connection.execute("select count(*) from raw.message_scores").fetchone()[0]
        lake = publish_to_lake(connection, warehouse, s3, context.log)
    context.log.info(
        f"{stats.messages} messages processed: {stats.texts_scored} texts scored, "
        f"{stats.cache_hits} cache hits, {stats.duplicates_in_run} repeats, unscored {dict(stats.unscored)}, "
        f"{stats.messages_per_second:,.0f} messages/s"
    )
    return dg.MaterializeResult(
        metadata={
            "engine": router.names,
            "engine_version": ", ".join(version for _, version in router.versions),
            "text_policy": settings.policy,
            "messages_by_language": dg.MetadataValue.json(dict(stats.languages.most_common())),
            "language_fallbacks": stats.language_fallbacks,
            "texts_removed": stats.texts_removed,
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
            **router.usage_metadata(),
            **lake,
            "dagster/row_count": total,
        },
        check_results=checks,
    )
