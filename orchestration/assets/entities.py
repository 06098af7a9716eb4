"""The ``message_entities`` asset."""

import os

import dagster as dg
from pydantic import Field

from .. import changed_days
from ..entities import analyse_pending
from ..partitions import PARTITIONED_WRITER, utc_window
from ..resources import EngineResource, WarehouseResource
from .scoring import MAX_LISTED_ERRORS, message_scores


class EntitySentimentConfig(dg.Config):
    enabled: bool = Field(
        default=False,
        description="Run targeted sentiment in this run (Comprehend only; also $SENTIMENT_TARGETED=1).",
    )


@dg.asset(
    deps=[message_scores],
    **PARTITIONED_WRITER,
    group_name="scoring",
    kinds={"python", "duckdb"},
    code_version="1",
)
def message_entities(
    context: dg.AssetExecutionContext,
    config: EntitySentimentConfig,
    engine: EngineResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """What customers feel about *what*: entity-level (targeted) sentiment in
    ``raw.entity_mentions``, one row per mention of a product, order, person or place, with
    the sentiment expressed towards it.

    Optional per run and English only: it runs when enabled in the run's config (or with
    ``SENTIMENT_TARGETED=1``) and the engine is Amazon Comprehend
    (``BatchDetectTargetedSentiment``). Each scored text is analysed once.
    """
    enabled = config.enabled or os.environ.get("SENTIMENT_TARGETED", "").lower() in (
        "1",
        "true",
        "yes",
    )
    if not enabled or "comprehend" not in engine.engine_names():
        reason = "not enabled for this run" if not enabled else "needs engine=comprehend"
        context.log.info(f"targeted sentiment skipped: {reason}")
        return dg.MaterializeResult(metadata={"skipped": reason, "texts_analysed": 0})
    comprehend = engine.build_engine("comprehend")
    with warehouse.connect() as connection:
        stats = analyse_pending(
            connection, comprehend, changed_days.covering(connection, utc_window(context))[0]
        )
    context.log.info(
        f"{stats.texts} texts analysed, {stats.mentions} entity mentions, {len(stats.failed)} failed"
    )
    return dg.MaterializeResult(
        metadata={
            "texts_analysed": stats.texts,
            "entity_mentions": stats.mentions,
            "texts_failed": len(stats.failed),
            "failures": dg.MetadataValue.json(
                [{"text_hash": h, "error": r} for h, r in stats.failed[:MAX_LISTED_ERRORS]]
            ),
            **comprehend.usage_metadata(),
        }
    )
