"""The lake step every writer asset ends with, in lake mode: bring the lake up to date.

Every writer syncs every lake table, not only its own: a delete or a text policy also removes
derived rows of other tables (scores, topics, entity mentions), and a file whose rows did not
change costs only its fingerprint."""

from __future__ import annotations

from typing import Any

from ..sources.location import is_s3
from .writer import sync_lake


def publish_to_lake(connection, warehouse, s3, log) -> dict[str, Any]:
    """Sync every table to the warehouse's lake, if it has one; the run's metadata about it.

    ``warehouse`` is the WarehouseResource, ``s3`` dagster-aws's S3Resource (its client
    writes a lake on S3)."""
    root = warehouse.lake_uri()
    if not root:
        return {}
    client = s3.get_client() if is_s3(root) else None
    stats = sync_lake(connection, root, s3_client=client)
    log.info(
        f"lake {root}: {stats.files_written} file(s) written ({stats.rows_written} rows), "
        f"{stats.files_deleted} deleted, in {stats.seconds:.1f} s"
    )
    return {"lake_root": root, **stats.as_metadata()}
