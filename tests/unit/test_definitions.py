"""The lineage graph and the dbt invocation, checked without running dbt."""

import json
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.assets.dbt import (
    DOCS_STAMP,
    dbt_build_args,
    dbt_docs_args,
    dbt_unit_test_args,
    docs_are_current,
    lake_vars,
    warehouse_lake_vars,
)
from orchestration.definitions import defs
from orchestration.partitions import ALL_TIME, day_clusters, run_window


def test_dbt_build_args_pass_the_warehouse_path_and_the_window_as_vars():
    window = (datetime(2026, 1, 9), datetime(2026, 1, 10))
    args = dbt_build_args(Path("/data/w.duckdb"), window, "512MB")
    assert args[0] == "build"
    # Unit tests check the SQL, not the data: CI runs them, the scheduled builds do not.
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert json.loads(args[args.index("--vars") + 1]) == {
        "warehouse_path": "/data/w.duckdb",
        "memory_limit": "512MB",
        "min_date": "2026-01-09 00:00:00",
        "max_date": "2026-01-10 00:00:00",
    }


def test_the_lake_mode_adds_its_root_and_for_s3_duckdbs_settings_as_vars(monkeypatch):
    window = (datetime(2026, 1, 9), datetime(2026, 1, 10))
    assert lake_vars("", {}) == {}
    local = lake_vars("/lake", {})
    assert local == {"lake_root": "/lake"}
    args = dbt_build_args(Path("/data/w.duckdb"), window, "512MB", local)
    assert json.loads(args[args.index("--vars") + 1])["lake_root"] == "/lake"

    from orchestration.resources import WarehouseResource

    for name in ("SENTIMENT_LAKE_ROOT", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-a-var")
    assert warehouse_lake_vars(WarehouseResource()) == {}
    on_s3 = warehouse_lake_vars(WarehouseResource(lake_root="s3://bucket/lake/"))
    assert on_s3["lake_root"] == "s3://bucket/lake"
    assert on_s3["s3_endpoint"] == "127.0.0.1:9000" and on_s3["s3_use_ssl"] == "false"
    assert on_s3["s3_region"] == "us-east-1"
    assert Path(on_s3["httpfs_extension"]).is_file()
    assert "never-a-var" not in json.dumps(on_s3)  # credentials stay in the environment
    monkeypatch.setenv("SENTIMENT_LAKE_ROOT", "relative/lake")
    assert WarehouseResource().lake_uri() == str(Path("relative/lake").resolve())


def test_the_dbt_profile_falls_back_to_the_pipelines_memory_limit():
    from orchestration.resources import DEFAULT_MEMORY_LIMIT

    profile = (Path(__file__).parents[2] / "dbt_project" / "profiles.yml").read_text()
    assert f"env_var('SENTIMENT_DUCKDB_MEMORY_LIMIT', '{DEFAULT_MEMORY_LIMIT}')" in profile


def test_dbt_unit_test_args_select_only_the_unit_tests():
    args = dbt_unit_test_args(Path("/data/w.duckdb"))
    assert args[:3] == ["test", "--select", "test_type:unit"]
    assert json.loads(args[args.index("--vars") + 1]) == {"warehouse_path": "/data/w.duckdb"}


def test_dbt_docs_args_document_the_built_warehouse_in_one_offline_file():
    args = dbt_docs_args(Path("/data/w.duckdb"), "512MB")
    assert args[:2] == ["docs", "generate"]
    # the build compiled everything already; --static writes static_index.html, which opens
    # from disk without the web server `dbt docs serve` would need
    assert "--no-compile" in args and "--static" in args
    assert json.loads(args[args.index("--vars") + 1]) == {
        "warehouse_path": "/data/w.duckdb",
        "memory_limit": "512MB",
    }


def test_docs_are_generated_again_only_for_another_project(tmp_path):
    assert not docs_are_current(tmp_path, "abc")
    (tmp_path / "static_index.html").write_text("<html></html>")
    assert not docs_are_current(tmp_path, "abc")  # no stamp: unknown project
    (tmp_path / DOCS_STAMP).write_text("abc")
    assert docs_are_current(tmp_path, "abc")
    assert not docs_are_current(tmp_path, "abd")
    (tmp_path / "static_index.html").unlink()
    assert not docs_are_current(tmp_path, "abc")


def test_run_window_comes_from_the_partition_tags():
    assert run_window({"dagster/partition": "2026-01-09"}) == (
        datetime(2026, 1, 9),
        datetime(2026, 1, 10),
    )
    tags = {
        "dagster/asset_partition_range_start": "2026-01-01",
        "dagster/asset_partition_range_end": "2026-01-03",
    }
    assert run_window(tags) == (datetime(2026, 1, 1), datetime(2026, 1, 4))
    assert run_window({}) == ALL_TIME


def test_day_clusters_split_sparse_histories():
    days = ["2011-08-29", "2017-10-01", "2017-10-03", "2017-10-20", "2017-10-21"]
    assert day_clusters(days, max_gap_days=7) == [
        ("2011-08-29", "2011-08-29"),
        ("2017-10-01", "2017-10-03"),
        ("2017-10-20", "2017-10-21"),
    ]


def test_one_lineage_graph_from_raw_messages_to_the_marts():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    marts = {
        "fct_message_sentiment",
        "fct_conversation_sentiment",
        "dim_customer_sentiment",
        "agg_sentiment_daily",
        "agg_sentiment_weekly",
        "fct_sentiment_shifts",
        "fct_sentiment_anomalies",
    }
    assert {f"marts/{name}" for name in marts} <= keys
    assert graph.get(dg.AssetKey("message_scores")).parent_keys == {dg.AssetKey("raw_messages")}
    assert graph.get(dg.AssetKey("message_entities")).parent_keys == {dg.AssetKey("message_scores")}
    entity_staging = graph.get(dg.AssetKey(["staging", "stg_support__entity_mentions"]))
    assert entity_staging.parent_keys == {dg.AssetKey("message_entities")}
    assert "marts/fct_entity_sentiment" in keys
    staging_parents = graph.get(dg.AssetKey(["staging", "stg_support__message_scores"])).parent_keys
    assert staging_parents == {dg.AssetKey("message_scores")}
    assert (
        dg.AssetKey(["staging", "stg_support__messages"])
        in graph.get(dg.AssetKey(["intermediate", "int_messages__scored"])).parent_keys
    )


def test_every_asset_has_a_description_and_dbt_tests_are_checks():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.description, f"{key} has no description"
    checks = list(defs.resolve_asset_graph().asset_check_keys)
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_conversation_sentiment"]) for c in checks)


def test_the_manifest_is_parsed_again_only_when_the_project_changes(tmp_path, monkeypatch):
    import shutil
    from types import SimpleNamespace

    from orchestration import dbt_project as project

    copy = tmp_path / "dbt_project"
    shutil.copytree(project.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    (copy / "target").mkdir()
    manifest = copy / "target" / "manifest.json"
    parses = []

    class FakeCli:
        def cli(self, args, target_path):
            parses.append(args)
            manifest.write_text("{}")
            return self

        def wait(self):
            return None

    monkeypatch.setattr(project, "DBT_PROJECT_DIR", copy)
    monkeypatch.setattr(project, "dbt_cli", FakeCli)
    monkeypatch.setattr(
        project, "dbt_project", SimpleNamespace(manifest_path=manifest, target_path=manifest.parent)
    )
    project.prepare_manifest()
    project.prepare_manifest()
    assert len(parses) == 1
    model = next((copy / "models" / "marts").glob("*.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    project.prepare_manifest()
    assert len(parses) == 2
    manifest.unlink()
    project.prepare_manifest()
    assert len(parses) == 3


def test_docs_can_be_turned_off_and_a_bad_setting_is_refused(tmp_path, monkeypatch):
    import pytest

    from orchestration.assets.dbt import generate_docs
    from orchestration.resources import WarehouseResource

    class NoDbt:  # generate_docs must not call dbt when the docs are off
        def cli(self, *args, **kwargs):
            raise AssertionError("dbt called")

    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"), dbt_docs="off")
    assert generate_docs(NoDbt(), warehouse, "abc") is None
    monkeypatch.setenv("SENTIMENT_DBT_DOCS", "on")
    assert WarehouseResource(path=str(tmp_path / "w.duckdb")).writes_docs()
    with pytest.raises(ValueError, match="'on' or 'off'"):
        WarehouseResource(dbt_docs="sometimes").writes_docs()
