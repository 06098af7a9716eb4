"""Resources: the warehouse (DuckDB), the input source, the sentiment engine, and dbt.

Every setting is a resource field. A field left empty falls back to an environment variable,
read when the resource is used (never at import time), and then to a default that works on a
fresh clone. The CLI sets the same variables, so the CLI and the UI share one Definitions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from .dbt_project import dbt_cli
from .engines.base import SentimentEngine
from .raw_schema import RAW_SCHEMA_DDL

DEFAULT_WAREHOUSE = "warehouse/sentiment.duckdb"
DEFAULT_SOURCE = "warehouse/sample/messages.jsonl"


def setting(value: str, env_name: str, default: str) -> str:
    """A configured value, else the environment variable, else the default."""
    return value or os.environ.get(env_name, "") or default


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections come from dagster-duckdb's DuckDBResource,
    which also retries while another process holds the file's lock."""

    path: str = Field(
        default="",
        description=f"DuckDB file. Empty: $SENTIMENT_WAREHOUSE_PATH, else {DEFAULT_WAREHOUSE}.",
    )

    def database_path(self) -> Path:
        return Path(setting(self.path, "SENTIMENT_WAREHOUSE_PATH", DEFAULT_WAREHOUSE)).resolve()

    @contextmanager
    def connect(self) -> Iterator:
        """A read-write connection with the raw schema in place."""
        database = self.database_path()
        database.parent.mkdir(parents=True, exist_ok=True)
        with DuckDBResource(database=str(database)).get_connection() as connection:
            connection.execute(RAW_SCHEMA_DDL)
            yield connection


class SourceResource(dg.ConfigurableResource):
    """Where the messages come from: a file or a folder of files, and their format."""

    path: str = Field(
        default="",
        description=f"Input file or folder. Empty: $SENTIMENT_SOURCE_PATH, else {DEFAULT_SOURCE}.",
    )
    format: str = Field(
        default="",
        description="kustomer | jsonl | csv | parquet | twcs. Empty: $SENTIMENT_SOURCE_FORMAT, else kustomer.",
    )

    def location(self) -> Path:
        return Path(setting(self.path, "SENTIMENT_SOURCE_PATH", DEFAULT_SOURCE)).resolve()

    def source_format(self) -> str:
        return setting(self.format, "SENTIMENT_SOURCE_FORMAT", "kustomer").lower()


class EngineResource(dg.ConfigurableResource):
    """The sentiment engine that scores messages."""

    engine: str = Field(
        default="", description="vader (default). Empty: $SENTIMENT_ENGINE, else vader."
    )
    workers: int = Field(
        default=0, description="Scoring processes. 0: $SENTIMENT_WORKERS, else one per core."
    )

    def build(self) -> SentimentEngine:
        name = setting(self.engine, "SENTIMENT_ENGINE", "vader").lower()
        workers = self.workers or int(os.environ.get("SENTIMENT_WORKERS", "0") or 0)
        if name == "vader":
            from .engines.vader import VaderEngine

            return VaderEngine(workers=workers)
        raise ValueError(f"unknown sentiment engine {name!r}; available: vader")


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(),
        "source": SourceResource(),
        "engine": EngineResource(),
        "dbt": dbt_cli(),
    }
