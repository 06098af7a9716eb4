"""The lake mode end to end: the whole job with its sources and marts in a Parquet lake, in a
local folder and on S3 (moto's server), gives the marts of the DuckDB file mode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.spark_equality import values_equal
from orchestration.definitions import defs
from orchestration.lake.duckdb_s3 import configure, s3_settings
from orchestration.publish import PUBLISHED_SCHEMAS
from orchestration.sample.generator import write_sample
from tests.conftest import partition_tags
from tests.fakes.s3_server import CREDENTIALS, REGION, MotoS3

MESSAGES = 1_500


def run_job(
    tmp: Path, name: str, source: Path, env: dict[str, str], tags=None
) -> dg.ExecuteInProcessResult:
    """The whole job over every day of ``source``, into ``tmp/name.duckdb``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SENTIMENT_SOURCE_PATH", str(source))
        patch.setenv("SENTIMENT_SOURCE_FORMAT", "kustomer")
        patch.setenv("SENTIMENT_WAREHOUSE_PATH", str(tmp / f"{name}.duckdb"))
        patch.setenv("DBT_TARGET_PATH", str(tmp / f"{name}_dbt_target"))
        patch.setenv("SENTIMENT_REPORT_PATH", str(tmp / f"{name}_report.html"))
        patch.delenv("SENTIMENT_LAKE_ROOT", raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        result = defs.resolve_job_def("sentiment_warehouse").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags=tags or partition_tags(source, "kustomer"),
        )
    assert result.success
    return result


# When a run scored or evaluated a row: differs between any two builds, whatever the storage.
RUN_TIMES = {"scored_at", "evaluated_at", "ingested_at"}


def published_marts(path: Path) -> dict[str, list[dict]]:
    """Every published mart's rows (without the run times), sorted, from a published copy."""
    marts = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in {(*PUBLISHED_SCHEMAS, '')} order by 1"
        ).fetchall()
        for (name,) in names:
            cursor = connection.execute(f"select * from {name}")
            columns = [d[0] for d in cursor.description]
            rows = [
                {c: v for c, v in zip(columns, row, strict=True) if c not in RUN_TIMES}
                for row in cursor.fetchall()
            ]
            marts[name] = sorted(rows, key=repr)
    return marts


def assert_same_marts(expected: dict, actual: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for name, rows in expected.items():
        assert len(actual[name]) == len(rows), name
        for want, got in zip(rows, actual[name], strict=True):
            different = [c for c in want if not values_equal(want[c], got.get(c))]
            assert not different, (name, {c: (want[c], got.get(c)) for c in different})


def metadata(result, asset: str) -> dict:
    (materialization, *_) = result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in materialization.metadata.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample built in DuckDB file mode and in a local lake."""
    tmp = tmp_path_factory.mktemp("lake_mode")
    source = tmp / "messages.jsonl"
    write_sample(source, MESSAGES, seed=11, days=20)
    run_job(tmp, "file", source, {})
    lake = tmp / "lake"
    result = run_job(tmp, "in_lake", source, {"SENTIMENT_LAKE_ROOT": str(lake)})
    return tmp, source, lake, result


def test_the_lake_mode_gives_the_marts_of_the_file_mode(built):
    tmp, _, _, _ = built
    file_marts = published_marts(tmp / "file.published.duckdb")
    assert len(file_marts) >= 10
    for name in ("fct_message_sentiment", "fct_conversation_sentiment", "dim_customer_sentiment"):
        assert file_marts[f"marts.{name}"], name
    assert_same_marts(file_marts, published_marts(tmp / "in_lake.published.duckdb"))


def test_the_sources_and_the_marts_are_parquet_files_in_the_lake(built):
    tmp, _, lake, result = built
    days = sorted(p.name for p in (lake / "messages").iterdir())
    assert len(days) >= 20 and all(d.startswith("day=") for d in days)
    assert sorted(p.name for p in (lake / "message_scores").iterdir()) == days
    ingest = metadata(result, "raw_messages")
    # every table is synced by every writer: the days, the four single-file tables, and the
    # scores' empty placeholder (none are scored yet)
    assert ingest["lake_files_written"] == len(days) + 5
    assert metadata(result, "message_scores")["lake_files_written"] == len(days)
    with duckdb.connect(str(tmp / "in_lake.duckdb"), read_only=True) as warehouse:
        # the models read the lake, not the raw tables
        staging = warehouse.execute(
            "select sql from duckdb_views() where view_name = 'stg_support__messages'"
        ).fetchone()[0]
        assert "read_parquet" in staging and str(lake) in staging
        assert "raw.messages" not in staging
        raw_count = warehouse.execute("select count(*) from raw.messages").fetchone()[0]
    reader = duckdb.connect()
    fact = reader.execute(
        f"select count(*), count(distinct message_id) from '{lake}/marts/fct_message_sentiment.parquet'"
    ).fetchone()
    assert fact == (raw_count, raw_count)
    marts = {p.stem for p in (lake / "marts").glob("*.parquet")}
    assert {"fct_conversation_sentiment", "dim_customer_sentiment", "agg_sentiment_daily"} <= marts


def test_a_partition_rerun_replaces_only_its_days_files(built):
    tmp, source, lake, _ = built
    lines = source.read_text().splitlines()
    first = json.loads(lines[0])
    day = first["attributes"]["createdAt"][:10]
    first["attributes"]["preview"] = "Absolutely terrible, I am furious and want a refund now."
    first["attributes"]["updatedAt"] = "2099-01-01T00:00:00Z"
    edited = tmp / "edited.jsonl"
    edited.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    before = {p: p.stat().st_mtime_ns for p in (lake / "messages").rglob("*.parquet")}
    result = run_job(
        tmp,
        "in_lake",
        edited,
        {"SENTIMENT_LAKE_ROOT": str(lake)},
        tags={"dagster/partition": day},
    )
    after = {p: p.stat().st_mtime_ns for p in (lake / "messages").rglob("*.parquet")}
    changed = [p.parent.name for p in after if before.get(p) != after[p]]
    assert changed == [f"day={day}"]
    assert metadata(result, "message_scores")["lake_files_written"] == 1
    score = (
        duckdb.connect()
        .execute(
            f"select score from '{lake}/marts/fct_message_sentiment.parquet' where message_id = ?",
            [first["id"]],
        )
        .fetchone()[0]
    )
    assert score < -0.5


def test_a_lake_on_s3_gives_the_same_marts(built, monkeypatch):
    tmp, source, _, _ = built
    with MotoS3() as s3:
        bucket = s3.new_bucket("lake")
        env = {
            "SENTIMENT_LAKE_ROOT": f"s3://{bucket}/warehouse",
            "AWS_ENDPOINT_URL_S3": s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": REGION,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)  # also for the reads below
        run_job(tmp, "s3", source, env)
        keys = s3.keys(bucket, "warehouse/")
        assert any(k.startswith("warehouse/messages/day=") for k in keys)
        assert "warehouse/marts/fct_message_sentiment.parquet" in keys
        reader = duckdb.connect()
        configure(reader, s3_settings(s3.endpoint_url, REGION))
        daily = reader.execute(
            f"select count(*) from 's3://{bucket}/warehouse/marts/agg_sentiment_daily.parquet'"
        ).fetchone()[0]
    file_marts = published_marts(tmp / "file.published.duckdb")
    assert daily == len(file_marts["marts.agg_sentiment_daily"])
    assert_same_marts(file_marts, published_marts(tmp / "s3.published.duckdb"))


def test_a_warehouse_switched_to_a_lake_builds_its_marts_there(built):
    """Nothing new to read, but the marts have never been written to this lake."""
    tmp, source, _, _ = built
    shutil.copy(tmp / "file.duckdb", tmp / "switched.duckdb")
    lake = tmp / "switched_lake"
    result = run_job(tmp, "switched", source, {"SENTIMENT_LAKE_ROOT": str(lake)})
    assert metadata(result, "raw_messages")["inserted"] == 0
    marts = {p.stem for p in (lake / "marts").glob("*.parquet")}
    assert {"fct_message_sentiment", "fct_conversation_sentiment"} <= marts
    assert_same_marts(
        published_marts(tmp / "file.published.duckdb"),
        published_marts(tmp / "switched.published.duckdb"),
    )
