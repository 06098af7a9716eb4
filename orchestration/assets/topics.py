"""The ``message_topics`` asset: keyword-level (topic) sentiment."""

import dagster as dg

from ..partitions import WAREHOUSE_POOL
from ..resources import EngineResource, WarehouseResource
from ..topics.evaluate import evaluate_topics
from ..topics.resource import TopicsResource
from .scoring import MAX_LISTED_ERRORS, message_scores

NO_TEXT_NOTE = (
    "Scored inbound messages whose cleaned text is not kept (text policy none, or scored "
    "under it): topic sentiment cannot be computed for them, so they have no topic rows."
)


@dg.asset(
    deps=[message_scores],
    pool=WAREHOUSE_POOL,
    group_name="scoring",
    kinds={"python", "duckdb"},
    code_version="2",
)
def message_topics(
    context: dg.AssetExecutionContext,
    engine: EngineResource,
    warehouse: WarehouseResource,
    topics: TopicsResource,
) -> dg.MaterializeResult:
    """What customers feel about the topics of ``topics.yml`` (refund, delivery, ...):
    ``raw.message_topics`` holds one row per scored inbound message and topic its cleaned
    text mentions (case-insensitive whole words and phrases), with the score of the
    sentences that mention the topic, by the engine that scored the message.

    Not partitioned: the topics apply to the whole history. Each run evaluates the new or
    edited messages against every topic, and the other messages against the topics whose
    keywords changed (a removed topic loses its rows); each topic is matched on its own, so
    the rows are what a run from scratch would write. Snippets go through a score cache, so
    a sentence already scored is never sent to the engine again. Under text policy ``none``
    no cleaned text is kept and such messages get no topic rows.
    """
    path = topics.topics_path()
    definitions = topics.load()
    router = engine.build_router()
    context.log.info(
        f"{len(definitions)} topics from {path}; engines "
        + ", ".join(f"{name} {version}" for name, version in router.versions)
    )
    if not definitions:
        context.log.warning(f"{path} defines no topic: every topic row is removed")
    with warehouse.connect() as connection:
        stats = evaluate_topics(connection, router, definitions)
        total = connection.execute("select count(*) from raw.message_topics").fetchone()[0]
    if stats.messages_without_text:
        # Counts only: never a message's text.
        context.log.warning(
            f"{stats.messages_without_text} scored inbound messages have no cleaned text "
            "(text policy none): they get no topic rows"
        )
    if stats.failures:
        context.log.warning(
            f"{len(stats.failures)} messages could not be evaluated (their snippets were not "
            "scored); the next run tries them again"
        )
    context.log.info(
        f"topics added {stats.added}, changed {stats.changed}, removed {stats.removed}; "
        f"{stats.messages_evaluated} messages evaluated on every topic, "
        f"{stats.messages_rechecked} on the changed ones; {stats.texts_matched} distinct texts "
        f"matched, {stats.mentions_written} topic rows written, {stats.rows_deleted} deleted (replaced or gone); "
        f"{stats.snippets_scored} snippets scored, {stats.snippet_cache_hits} from the cache; "
        f"{stats.seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "topics_path": str(path),
            "topics": stats.topics,
            "topics_added": stats.added,
            "topics_changed": stats.changed,
            "topics_removed": stats.removed,
            "messages_evaluated": stats.messages_evaluated,
            "messages_rechecked": stats.messages_rechecked,
            "messages_without_text": stats.messages_without_text,
            "messages_without_text_note": NO_TEXT_NOTE,
            "texts_matched": stats.texts_matched,
            "topic_rows_written": stats.mentions_written,
            "topic_rows_deleted": stats.rows_deleted,
            "snippets": stats.snippets,
            "snippets_scored": stats.snippets_scored,
            "snippet_cache_hits": stats.snippet_cache_hits,
            "messages_failed": len(stats.failures),
            "failures": dg.MetadataValue.json(
                [{"message_id": m, "error": r} for m, r in stats.failures[:MAX_LISTED_ERRORS]]
            ),
            "seconds": round(stats.seconds, 2),
            **router.usage_metadata(),
            "dagster/row_count": total,
        }
    )
