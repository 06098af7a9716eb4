"""The Dagster code location: assets, the job and resources, assembled in one place."""

import dagster as dg

from .assets.dbt import sentiment_dbt_models
from .assets.entities import message_entities
from .assets.ingest import raw_messages
from .assets.scoring import message_scores
from .resources import build_resources

WAREHOUSE_JOB = "sentiment_warehouse"

warehouse_job = dg.define_asset_job(
    WAREHOUSE_JOB,
    selection=dg.AssetSelection.all(),
    description="Ingest the source, score new messages, and build every dbt model and test.",
)

defs = dg.Definitions(
    assets=[raw_messages, message_scores, message_entities, sentiment_dbt_models],
    jobs=[warehouse_job],
    resources=build_resources(),
)
