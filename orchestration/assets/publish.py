"""The ``published_marts`` asset: the analysts' read-only copy."""

import dagster as dg

from ..build_state import latest_build_published, record_publish
from ..partitions import WAREHOUSE_POOL
from ..publish import publish_marts
from ..resources import WarehouseResource
from .dbt import sentiment_dbt_models

MART_KEYS = [key for key in sentiment_dbt_models.keys if key.path[0] == "marts"]


@dg.asset(
    deps=MART_KEYS,
    pool=WAREHOUSE_POOL,
    group_name="publish",
    kinds={"duckdb"},
)
def published_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """A consistent read-only copy of every mart, for analysts, replaced atomically after each
    successful build.

    DuckDB lets one process write a file, and while it writes no other process can open it,
    not even read-only. Analysts therefore open this copy (``<warehouse>.published.duckdb``):
    it is written beside the warehouse under a temporary name and renamed into place, so a
    reader always sees one complete build, and a reader that has it open keeps the build it
    opened. ``meta.published_build`` says which build it is.
    """
    path = warehouse.published_database_path()
    with warehouse.connect() as connection:
        if latest_build_published(connection) and path.exists():
            context.log.info(f"{path} already holds the latest build; nothing to publish")
            return dg.MaterializeResult(
                metadata={"path": dg.MetadataValue.path(str(path)), "published": "unchanged"}
            )
        # in lake mode the marts are views over their Parquet files, copied as tables
        stats = publish_marts(connection, path, include_views=bool(warehouse.lake_uri()))
        record_publish(connection)
    context.log.info(
        f"published {len(stats.tables)} tables to {stats.path} in {stats.seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(stats.path)),
            "tables": dg.MetadataValue.json(stats.tables),
            "seconds": round(stats.seconds, 2),
        }
    )
