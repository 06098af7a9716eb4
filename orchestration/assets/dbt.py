"""The dbt models as Dagster assets, one asset per model, dbt tests as asset checks."""

import json
import shutil
from collections.abc import Mapping
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from .. import changed_days
from ..build_state import (
    FORCE_BUILD_TAG,
    build_is_current,
    inputs_fingerprint,
    record_build,
    record_build_started,
)
from ..dbt_project import dbt_project, project_fingerprint
from ..lake.step import publish_to_lake
from ..partitions import WAREHOUSE_POOL, run_window
from ..resources import WarehouseResource

# Under `dagster dev` the manifest is rebuilt on load; everywhere else it is prepared by the
# project's own commands (CLI, tests, CI) before this module is imported.
dbt_project.prepare_if_dev()


def lake_vars(root: str, s3_settings: Mapping[str, str], httpfs_extension: str = "") -> dict:
    """The ``--vars`` of the lake mode: the lake root the sources are read from (and the
    marts written to) and, for a lake on S3, DuckDB's S3 settings and the httpfs extension
    file to load. Nothing in DuckDB file mode. Credentials are never vars: DuckDB reads them
    from the environment."""
    if not root:
        return {}
    extra = {"httpfs_extension": httpfs_extension, **s3_settings} if s3_settings else {}
    return {"lake_root": root, **extra}


def warehouse_lake_vars(warehouse: WarehouseResource) -> dict:
    """:func:`lake_vars` of the warehouse's configuration."""
    from ..lake.duckdb_s3 import httpfs_extension_path

    s3 = warehouse.lake_s3_settings()
    return lake_vars(warehouse.lake_uri(), s3, httpfs_extension_path() if s3 else "")


def dbt_vars(
    warehouse_path: Path,
    window: tuple[datetime, datetime],
    memory_limit: str,
    lake: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``--vars`` every dbt invocation gets: the warehouse file dbt's profile opens, its
    DuckDB memory limit (the pipeline's own), the run's partition window (naive UTC,
    half-open) for the incremental models, and the lake mode's vars (:func:`lake_vars`)."""
    return {
        "warehouse_path": str(warehouse_path),
        "memory_limit": memory_limit,
        "min_date": window[0].isoformat(sep=" "),
        "max_date": window[1].isoformat(sep=" "),
        **(lake or {}),
    }


def dbt_build_args(
    warehouse_path: Path,
    window: tuple[datetime, datetime],
    memory_limit: str,
    lake: Mapping[str, str] | None = None,
) -> list[str]:
    """``dbt build`` arguments: the models and their data tests, in one DAG-ordered run.

    Unit tests are left out, as dbt advises for production builds: they test the models' SQL
    on fixed inputs, not the day's data, so they run in CI (:func:`dbt_unit_test_args`)
    instead of on every scheduled run."""
    return [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(dbt_vars(warehouse_path, window, memory_limit, lake), sort_keys=True),
    ]


def dbt_docs_args(
    warehouse_path: Path, memory_limit: str, lake: Mapping[str, str] | None = None
) -> list[str]:
    """``dbt docs generate`` arguments: the catalog of the built warehouse, and a single-file
    ``static_index.html`` that opens from disk without a web server. ``--no-compile`` reuses
    the manifest (the build has just compiled every model), which halves its time."""
    return [
        "docs",
        "generate",
        "--no-compile",
        "--static",
        "--vars",
        json.dumps(
            {"warehouse_path": str(warehouse_path), "memory_limit": memory_limit, **(lake or {})},
            sort_keys=True,
        ),
    ]


DOCS_STAMP = ".sentiment_docs_inputs"


def docs_are_current(docs_dir: Path, project: str) -> bool:
    """Whether ``docs_dir`` holds docs generated from this dbt project (by its fingerprint).

    The docs describe the models and their columns, which change only with the project's
    files, so a build over new data reuses them instead of paying ``dbt docs generate``."""
    stamp = docs_dir / DOCS_STAMP
    return (
        (docs_dir / "static_index.html").exists()
        and stamp.exists()
        and stamp.read_text() == project
    )


def generate_docs(dbt: DbtCliResource, warehouse: WarehouseResource, project: str) -> Path | None:
    """Run ``dbt docs generate`` into the warehouse's docs folder unless it is current (or
    the docs are turned off); the docs' page, if any."""
    if not warehouse.writes_docs():
        return None
    docs_dir = warehouse.docs_path()
    if not docs_are_current(docs_dir, project):
        # --no-compile documents the manifest found in the target path: the project's own,
        # parsed from the same files (the fingerprint says so)
        docs_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dbt_project.manifest_path, docs_dir / "manifest.json")
        args = dbt_docs_args(
            warehouse.database_path(),
            warehouse.duckdb_memory_limit(),
            warehouse_lake_vars(warehouse),
        )
        dbt.cli(args, target_path=docs_dir).wait()
        (docs_dir / DOCS_STAMP).write_text(project)
    return docs_dir / "static_index.html"


def dbt_unit_test_args(warehouse_path: Path) -> list[str]:
    """``dbt test`` arguments for the unit tests alone (the models must have been built)."""
    return [
        "test",
        "--select",
        "test_type:unit",
        "--vars",
        json.dumps({"warehouse_path": str(warehouse_path)}),
    ]


class SentimentDbtTranslator(DagsterDbtTranslator):
    """Keys models by schema and name (``marts/fct_message_sentiment``), groups them by
    layer, and leaves sources to their ``meta.dagster.asset_key`` (the Python assets)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in ("model", "seed", "snapshot"):
            return spec
        schema = props.get("config", {}).get("schema") or props.get("schema")
        return spec.replace_attributes(
            key=dg.AssetKey([schema, props["name"]]),
            group_name=schema,
        ).merge_attributes(kinds={"duckdb"})


translator = SentimentDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def sentiment_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    s3: S3Resource,
):
    """Staging views, intermediate and the marts (message, conversation, customer, daily and
    weekly trends, shifts, anomalies, topics), built and tested by ``dbt build`` against the
    warehouse file (data tests only; the unit tests of the models' SQL run in CI), then
    documented by ``dbt docs generate`` into ``<warehouse>.dbt_docs/`` (again only when the
    project changed: the docs describe the models, not the day's data).

    Not partitioned themselves, so that a run over many days does not record every model
    for every day; they take the run's days from its partition tags instead. The message
    fact is incremental: a run replaces the rows of its days (all of them in a run without
    partitions). The aggregate marts are rebuilt from it in full, so they stay right after
    any mix of partition runs and backfills.

    In lake mode (``lake_root``) the models read the sources from the Parquet lake, which
    this step first brings up to date (the writer assets publish their own tables; this
    catches the topic and entity tables and anything written outside them), and the marts
    are written back to the lake as Parquet."""
    # A subset chosen in the UI is built as asked; only whole builds are recorded and skipped.
    whole = not context.is_subset
    project = project_fingerprint()
    with warehouse.connect() as connection:
        publish_to_lake(connection, warehouse, s3, context.log)
        # the run's days, and the older days a pull from the Kustomer API changed
        window, changed = changed_days.covering(connection, run_window(context.run.tags))
        # where the marts go is part of what a build made: a warehouse switched to (or from)
        # a lake, or to another lake, must build again even though its rows are the same
        inputs = f"{inputs_fingerprint(connection)}|lake={warehouse.lake_uri()}"
        current = (
            whole
            and context.run.tags.get(FORCE_BUILD_TAG) != "true"
            and build_is_current(connection, inputs, project, window)
            and not missing_models(connection, dbt_project.manifest_path)
        )
        if not current:
            record_build_started(connection, project, window)
    if current:
        context.log.info(
            "the marts are already built and published from these inputs; skipping dbt "
            f"(run with the tag {FORCE_BUILD_TAG}=true to build anyway)"
        )
        # Dagster wants a multi-asset's results in dependency order.
        deps = {spec.key: [dep.asset_key for dep in spec.deps] for spec in context.assets_def.specs}
        for key in TopologicalSorter(deps).static_order():
            if key in context.selected_asset_keys:
                yield dg.MaterializeResult(
                    asset_key=key, metadata={"dbt_build": "skipped: unchanged"}
                )
        generate_docs(dbt, warehouse, project)  # only if deleted since: they are current
        if whole and changed:
            with warehouse.connect() as connection:
                changed_days.clear(connection, changed)
        return
    args = dbt_build_args(
        warehouse.database_path(),
        window,
        warehouse.duckdb_memory_limit(),
        warehouse_lake_vars(warehouse),
    )
    yield from dbt.cli(args, context=context).stream()
    if whole:
        # after a subset, some models may be missing from the catalog: document whole builds
        docs = generate_docs(dbt, warehouse, project)
        if docs:
            context.log.info(f"model documentation: {docs}")
        with warehouse.connect() as connection:
            record_build(connection, inputs, project, window)
            changed_days.clear(connection, changed)


def missing_models(connection, manifest_path: Path) -> list[str]:
    """The dbt models (``schema.name``) that have no table or view in the warehouse."""
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    wanted = {
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in nodes
        if node["resource_type"] == "model"
    }
    present = {
        f"{schema}.{name}"
        for schema, name in connection.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    return sorted(wanted - present)
