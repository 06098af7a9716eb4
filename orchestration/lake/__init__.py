"""The Parquet lake: the dbt sources written as hive-partitioned Parquet, for any engine.

In lake mode (``WarehouseResource.lake_root``, ``$SENTIMENT_LAKE_ROOT``) the DuckDB file stays
the pipeline's working store (upserts, the score cache, cursors, quarantine), and each writer
asset publishes the tables it owns to the lake, where the dbt models on DuckDB or Spark read
them. See docs/scaling.md.
"""

from .layout import LAKE_TABLES, LakeTable
from .writer import LakeSyncStats, sync_lake

__all__ = ["LAKE_TABLES", "LakeSyncStats", "LakeTable", "sync_lake"]
