"""Shared test set-up: the dbt manifest is prepared once, before any test module imports
the Dagster definitions (``@dbt_assets`` reads it at import)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    from orchestration.dbt_project import prepare_manifest

    prepare_manifest()
    # dbt's docs cost ~4 s per new warehouse and the suite builds dozens; the tests that
    # check the docs turn them on (child processes inherit the setting).
    os.environ.setdefault("SENTIMENT_DBT_DOCS", "off")


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Point every setting at a temporary folder, so no test writes into the checkout."""
    monkeypatch.setenv("SENTIMENT_WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return tmp_path


def partition_tags(source, fmt: str) -> dict[str, str]:
    """Run tags covering every day of a source's messages, as the CLI computes them."""
    from orchestration.full_load import partition_range_tags, source_days

    days = source_days(source, fmt)
    return partition_range_tags(days[0], days[-1])


@pytest.fixture
def fake_comprehend(isolated_env, monkeypatch):
    """The suite's fake Comprehend endpoint, configured as the engine with dummy credentials
    (tests set the rate and concurrency they need)."""
    from tests.fakes import FakeComprehend

    monkeypatch.setenv("SENTIMENT_ENGINE", "comprehend")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with FakeComprehend() as fake:
        monkeypatch.setenv("SENTIMENT_COMPREHEND_ENDPOINT_URL", fake.endpoint_url)
        yield fake


def strings_in_tables(connection) -> str:
    """Every non-null value of every table a DuckDB connection sees, as text, one per line:
    what a test searches for data that must not be stored."""
    values = []
    tables = connection.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall()
    for schema, table in tables:
        for row in connection.execute(f'select * from "{schema}"."{table}"').fetchall():
            values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)
