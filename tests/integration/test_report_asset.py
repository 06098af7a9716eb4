"""The ``sentiment_report`` asset materialized by Dagster: on hand-made marts (where the file
goes, what its metadata says) and on a warehouse the real pipeline built from the sample (the
report's queries against the dbt models' own tables)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.assets.sentiment_report import sentiment_report
from orchestration.partitions import WAREHOUSE_POOL
from orchestration.reporting import ReportResource
from orchestration.reporting.queries import REPORT_MARTS
from orchestration.resources import WarehouseResource
from tests.unit.test_report_html import create_marts


def materialize_report(warehouse: Path, report: ReportResource | None = None):
    result = dg.materialize(
        [sentiment_report],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "report": report or ReportResource(),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("sentiment_report")
    return materialization.metadata


@pytest.fixture
def hand_made(tmp_path, monkeypatch):
    monkeypatch.delenv("SENTIMENT_REPORT_PATH", raising=False)
    warehouse = tmp_path / "data" / "sentiment.duckdb"
    warehouse.parent.mkdir()
    with duckdb.connect(str(warehouse)) as connection:
        create_marts(connection, days=10)
    return warehouse


def test_the_asset_reads_every_mart_in_the_warehouse_pool():
    spec = next(iter(sentiment_report.specs))
    assert spec.group_name == "report"
    assert {dep.asset_key for dep in spec.deps} == {
        dg.AssetKey(["marts", name]) for name in REPORT_MARTS
    }
    assert sentiment_report.op.pool == WAREHOUSE_POOL
    assert "offline" in spec.description and "SENTIMENT_REPORT_PATH" in spec.description


def test_the_report_lands_beside_the_warehouse_and_its_metadata_links_it(hand_made):
    metadata = materialize_report(hand_made)
    path = hand_made.parent / "sentiment_report.html"
    assert path.is_file() and path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert metadata["path"] == dg.MetadataValue.path(str(path))
    assert metadata["open"] == dg.MetadataValue.url(path.as_uri())
    assert metadata["open"].value.startswith("file:///")
    headline = metadata["headline"]
    assert isinstance(headline, dg.MarkdownMetadataValue)
    assert "| Messages | 202 |" in headline.value  # 10 days x 2 channels x 10, and 2
    assert metadata["charts"].value == "daily, weekly, distribution, topics"
    assert metadata["missing_marts"].value == "none"
    assert metadata["bytes"].value == path.stat().st_size
    assert not list(path.parent.glob("*.tmp"))  # the temporary file was renamed


def test_the_report_path_comes_from_the_environment_or_the_resource(hand_made, monkeypatch):
    elsewhere = hand_made.parent.parent / "reports" / "today.html"
    monkeypatch.setenv("SENTIMENT_REPORT_PATH", str(elsewhere))
    assert materialize_report(hand_made)["path"] == dg.MetadataValue.path(str(elsewhere))
    assert elsewhere.is_file()
    field = hand_made.parent.parent / "field.html"
    metadata = materialize_report(hand_made, ReportResource(path=str(field)))
    assert metadata["path"] == dg.MetadataValue.path(str(field)) and field.is_file()
    assert not (hand_made.parent / "sentiment_report.html").exists()


def test_the_report_reads_the_marts_the_pipeline_builds(isolated_env, monkeypatch):
    # SLOW (~40 s): the sample through ingest, scoring and every dbt model, then the report.
    from orchestration.definitions import defs
    from orchestration.sample.generator import write_sample
    from tests.conftest import partition_tags

    source = isolated_env / "sample.jsonl"
    write_sample(source, 3000, days=35)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "kustomer")
    monkeypatch.delenv("SENTIMENT_REPORT_PATH", raising=False)
    job = defs.resolve_job_def("sentiment_warehouse")
    tags = partition_tags(source, "kustomer")
    assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags=tags).success

    warehouse = isolated_env / "warehouse.duckdb"
    metadata = materialize_report(warehouse)
    page = (isolated_env / "warehouse_report.html").read_text(encoding="utf-8")
    # Every mart the report reads that the code location defines was built, and read.
    defined = {key.path[-1] for key in defs.resolve_asset_graph().get_all_asset_keys()}
    built = set(REPORT_MARTS) & defined
    assert built >= {
        "fct_message_sentiment",
        "fct_conversation_sentiment",
        "dim_customer_sentiment",
        "agg_sentiment_daily",
    }
    missing = set(metadata["missing_marts"].value.split(", ")) - {"none"}
    assert not built & missing, f"built but not found: {built & missing}"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = {
            name: connection.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    # A chart is drawn exactly when its mart has rows (the topics' rows come from the
    # message_topics asset, where the code location has it).
    charts = metadata["charts"].value.split(", ")
    assert {"daily", "distribution"} <= set(charts)
    assert ("weekly" in charts) == bool(tables.get("agg_sentiment_weekly"))
    assert ("topics" in charts) == bool(tables.get("fct_topic_sentiment"))
    assert page.count('<tr><td class="num">') >= 20  # the 20 worst conversations at least
