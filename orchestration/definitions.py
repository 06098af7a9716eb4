"""The Dagster code location: assets, jobs and resources, assembled in one place."""

import dagster as dg

from .alerts.checks import alert_checks
from .assets.dbt import sentiment_dbt_models
from .assets.entities import message_entities
from .assets.ingest import raw_conversations, raw_customers, raw_messages
from .assets.publish import MART_KEYS, published_marts
from .assets.scoring import message_scores
from .assets.sentiment_report import sentiment_report
from .assets.topics import message_topics
from .automation import build_automation
from .automation.freshness import freshness_checks
from .partitions import daily_partitions
from .resources import build_resources

WAREHOUSE_JOB = "sentiment_warehouse"
SCORE_JOB = "score_days"
MARTS_JOB = "build_marts"

# Freshness checks run on their own sensor, against the clock, not inside the build jobs.
fresh_checks, freshness_sensor = freshness_checks([raw_messages, message_scores], MART_KEYS)
CLOCK_CHECKS = dg.AssetSelection.checks(fresh_checks)

warehouse_job = dg.define_asset_job(
    WAREHOUSE_JOB,
    selection=dg.AssetSelection.all() - CLOCK_CHECKS,
    partitions_def=daily_partitions,
    description="One or more days: ingest, score, then build every dbt model and publish.",
)
score_job = dg.define_asset_job(
    SCORE_JOB,
    selection=dg.AssetSelection.assets(raw_messages, message_scores, message_entities)
    - CLOCK_CHECKS,
    partitions_def=daily_partitions,
    description="Ingest and score a range of days (the first half of a full load).",
)
marts_job = dg.define_asset_job(
    MARTS_JOB,
    selection=dg.AssetSelection.assets(
        message_topics, sentiment_dbt_models, published_marts, sentiment_report
    )
    - CLOCK_CHECKS,
    description="Find the topics' sentences, build every dbt model over all days, publish the "
    "analysts' copy, and write the sentiment report.",
)

schedules, sensors = build_automation(warehouse_job)

defs = dg.Definitions(
    assets=[
        raw_messages,
        raw_conversations,
        raw_customers,
        message_scores,
        message_entities,
        message_topics,
        sentiment_dbt_models,
        published_marts,
        sentiment_report,
    ],
    jobs=[warehouse_job, score_job, marts_job],
    asset_checks=[fresh_checks, *alert_checks],
    schedules=schedules,
    sensors=[*sensors, freshness_sensor],
    resources=build_resources(),
)
