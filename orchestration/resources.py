"""Resources: the warehouse (DuckDB), the input source, the sentiment engine, and dbt.

Every setting is a resource field. A field left empty falls back to an environment variable,
read when the resource is used (never at import time), and then to a default that works on a
fresh clone. The CLI sets the same variables, so the CLI and the UI share one Definitions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from .dbt_project import dbt_cli
from .engines.base import SentimentEngine
from .engines.routing import ENGINE_NAMES, EngineRouter
from .raw_schema import RAW_SCHEMA_DDL
from .text.language import normalize_language
from .text.prepare import UNDETERMINED, TextSettings

DEFAULT_WAREHOUSE = "warehouse/sentiment.duckdb"
DEFAULT_SOURCE = "warehouse/sample/messages.jsonl"
# DuckDB's default is 80% of the machine's memory, which it fills with cached pages as the
# warehouse grows; a bound keeps the pipeline's footprint flat (DuckDB spills beyond it).
DEFAULT_MEMORY_LIMIT = "768MB"


def setting(value: str, env_name: str, default: str) -> str:
    """A configured value, else the environment variable, else the default."""
    return value or os.environ.get(env_name, "") or default


class WarehouseLockedError(RuntimeError):
    """The warehouse file stayed locked by another process past the bounded retries."""


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections come from dagster-duckdb's DuckDBResource,
    which also retries while another process holds the file's lock."""

    path: str = Field(
        default="",
        description=f"DuckDB file. Empty: $SENTIMENT_WAREHOUSE_PATH, else {DEFAULT_WAREHOUSE}.",
    )

    published_path: str = Field(
        default="",
        description="Read-only copy of the marts for analysts. Empty: $SENTIMENT_PUBLISHED_PATH, "
        "else <warehouse>.published.duckdb beside the warehouse.",
    )

    memory_limit: str = Field(
        default="",
        description=f"DuckDB's memory limit for the pipeline's connections (it spills to disk "
        f"beyond it). Empty: $SENTIMENT_DUCKDB_MEMORY_LIMIT, else {DEFAULT_MEMORY_LIMIT}.",
    )

    dbt_docs: str = Field(
        default="",
        description="Whether whole builds write dbt's docs beside the warehouse (on | off). "
        "Empty: $SENTIMENT_DBT_DOCS, else on.",
    )

    lake_root: str = Field(
        default="",
        description="Storage mode. Empty (and $SENTIMENT_LAKE_ROOT empty): the DuckDB file "
        "alone. A folder or s3://bucket/prefix: the lake mode, in which the dbt sources are "
        "also written there as hive-partitioned Parquet and the models read them, and the "
        "marts are written back as Parquet (docs/scaling.md).",
    )

    s3_endpoint_url: str = Field(
        default="",
        description="S3 endpoint of a lake on S3, for DuckDB (boto3 reads the same variables). "
        "Empty: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS's own.",
    )

    s3_region: str = Field(
        default="",
        description="Region of a lake on S3. Empty: $AWS_REGION, else $AWS_DEFAULT_REGION, "
        "else us-east-1.",
    )

    def lake_uri(self) -> str:
        """The lake root (an absolute folder or an ``s3://`` URI); empty in DuckDB file mode."""
        from .sources.location import is_s3

        root = setting(self.lake_root, "SENTIMENT_LAKE_ROOT", "").strip()
        if not root or is_s3(root):
            return root.rstrip("/")
        return str(Path(root).resolve())

    def lake_s3_settings(self) -> dict[str, str]:
        """DuckDB's S3 settings for a lake on S3; empty for a local lake or none."""
        from .lake.duckdb_s3 import s3_settings
        from .sources.location import is_s3

        if not is_s3(self.lake_uri()):
            return {}
        endpoint = setting(
            self.s3_endpoint_url,
            "AWS_ENDPOINT_URL_S3",
            os.environ.get("AWS_ENDPOINT_URL", ""),
        )
        region = setting(self.s3_region, "AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", ""))
        return s3_settings(endpoint, region or "us-east-1")

    def writes_docs(self) -> bool:
        value = setting(self.dbt_docs, "SENTIMENT_DBT_DOCS", "on").strip().lower()
        if value not in ("on", "off"):
            raise ValueError(f"dbt docs must be 'on' or 'off', not {value!r}")
        return value == "on"

    def duckdb_memory_limit(self) -> str:
        return setting(self.memory_limit, "SENTIMENT_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)

    def database_path(self) -> Path:
        return Path(setting(self.path, "SENTIMENT_WAREHOUSE_PATH", DEFAULT_WAREHOUSE)).resolve()

    def published_database_path(self) -> Path:
        default = self.database_path().with_suffix(".published.duckdb")
        return Path(
            setting(self.published_path, "SENTIMENT_PUBLISHED_PATH", str(default))
        ).resolve()

    def docs_path(self) -> Path:
        """The folder ``dbt docs generate`` writes the models' documentation to, beside the
        warehouse (``<warehouse>.dbt_docs/``); ``static_index.html`` there opens offline."""
        return self.database_path().with_suffix(".dbt_docs")

    @contextmanager
    def connect(self) -> Iterator:
        """A read-write connection with the raw schema in place.

        While another process holds the file, dagster-duckdb retries the open for about
        100 s; after that the error says who holds it and what to do.
        """
        database = self.database_path()
        database.parent.mkdir(parents=True, exist_ok=True)
        started, opened = time.monotonic(), False
        try:
            resource = DuckDBResource(
                database=str(database),
                connection_config={"memory_limit": self.duckdb_memory_limit()},
            )
            with resource.get_connection() as connection:
                opened = True
                try:
                    connection.execute(RAW_SCHEMA_DDL)
                    if s3 := self.lake_s3_settings():
                        # the marts of a lake on S3 are views over its Parquet files
                        from .lake.duckdb_s3 import configure

                        configure(connection, s3)
                    yield connection
                finally:
                    # DuckDBResource closes the connection only when the block succeeds;
                    # after a failure the file would stay locked while the traceback lives.
                    connection.close()
        except duckdb.IOException as error:
            if opened or "Could not set lock" not in str(error):
                raise
            raise WarehouseLockedError(
                f"the warehouse {database} stayed locked by another process for "
                f"{time.monotonic() - started:.0f} s, past the retries. {error}\n"
                "DuckDB lets one process open the file while it writes. Close that process "
                "(a DuckDB shell or notebook on the warehouse, or a run outside Dagster; "
                f"analysts can use the published copy {self.published_database_path()}), "
                "then re-execute this step."
            ) from error


class SourceResource(dg.ConfigurableResource):
    """Where the messages come from: a file or a folder of files, and their format."""

    path: str = Field(
        default="",
        description=f"Input file or folder. Empty: $SENTIMENT_SOURCE_PATH, else {DEFAULT_SOURCE}.",
    )
    format: str = Field(
        default="",
        description="kustomer | jsonl | csv | parquet | twcs (files), or kustomer_api (Kustomer's "
        "REST API, configured by the kustomer resource; path is then unused). "
        "Empty: $SENTIMENT_SOURCE_FORMAT, else kustomer.",
    )

    def location(self) -> Path:
        """The local file or folder (see ``location_uri`` for S3 sources)."""
        return Path(setting(self.path, "SENTIMENT_SOURCE_PATH", DEFAULT_SOURCE)).resolve()

    def location_uri(self) -> str:
        """``s3://bucket/prefix`` as configured, or the absolute local path."""
        configured = setting(self.path, "SENTIMENT_SOURCE_PATH", DEFAULT_SOURCE)
        return configured if configured.lower().startswith("s3://") else str(self.location())

    def source_format(self) -> str:
        return setting(self.format, "SENTIMENT_SOURCE_FORMAT", "kustomer").lower()


class ComprehendResource(dg.ConfigurableResource):
    """Amazon Comprehend through boto3. Credentials come from boto3's own chain only
    (environment, shared config and credentials files, SSO, instance or task role)."""

    region_name: str = Field(
        default="",
        description="AWS region. Empty: $AWS_REGION or $AWS_DEFAULT_REGION, else us-east-1.",
    )
    endpoint_url: str = Field(
        default="",
        description="Endpoint override (tests, VPC endpoints). Empty: $SENTIMENT_COMPREHEND_ENDPOINT_URL, else AWS's.",
    )
    max_concurrency: int = Field(
        default=0,
        description="Batches in flight at once. 0: $SENTIMENT_COMPREHEND_CONCURRENCY, else 8.",
    )
    max_requests_per_second: float = Field(
        default=0,
        description="Cap on HTTP requests per second, retries included. 0: $SENTIMENT_COMPREHEND_MAX_RPS, else 10.",
    )
    retry_mode: str = Field(
        default="standard",
        description="botocore retry mode (standard or adaptive), set explicitly: the default differs between releases.",
    )
    max_attempts: int = Field(
        default=5, description="botocore's attempts per request, the first included."
    )
    connect_timeout_s: float = Field(default=5.0, description="Connect timeout in seconds.")
    read_timeout_s: float = Field(default=30.0, description="Read timeout in seconds.")
    price_per_unit_usd: float = Field(
        default=0.0001,
        description="Price of one billed unit (100 characters), for the cost estimate.",
    )
    async_threshold: int | None = Field(
        default=None,
        description="A run with more texts to score than this goes through asynchronous "
        "jobs (StartSentimentDetectionJob) when async_s3_uri is set. "
        "None: $SENTIMENT_COMPREHEND_ASYNC_THRESHOLD, else 100,000.",
    )
    async_s3_uri: str = Field(
        default="",
        description="s3://bucket/prefix where the jobs' input and output go (deleted once "
        "stored). Empty: $SENTIMENT_COMPREHEND_ASYNC_S3_URI; empty too: no asynchronous jobs, "
        "every run uses batch calls.",
    )
    data_access_role_arn: str = Field(
        default="",
        description="IAM role Comprehend assumes to read and write async_s3_uri (required "
        "with it). Empty: $SENTIMENT_COMPREHEND_ROLE_ARN.",
    )
    s3_endpoint_url: str = Field(
        default="",
        description="S3 endpoint override for the jobs' files (tests, VPC endpoints). "
        "Empty: $SENTIMENT_S3_ENDPOINT_URL, else boto3's own (AWS_ENDPOINT_URL_S3 or AWS's).",
    )
    async_max_active_jobs: int = Field(
        default=10, description="Asynchronous jobs active at once (Comprehend allows 10)."
    )
    async_max_lines_per_job: int = Field(
        default=1_000_000,
        description="Documents (lines) per job, at most Comprehend's 1,000,000.",
    )
    async_poll_initial_s: float = Field(
        default=5.0, description="First wait before asking about a job; doubles per poll."
    )
    async_poll_max_s: float = Field(default=60.0, description="Longest wait between polls.")

    def build_client(self):
        """A Comprehend client with explicit retry mode, attempts, timeouts and pool size."""
        import boto3
        from botocore.config import Config

        endpoint = setting(self.endpoint_url, "SENTIMENT_COMPREHEND_ENDPOINT_URL", "") or None
        config = Config(
            # total_max_attempts counts the first attempt; botocore's max_attempts would not.
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            max_pool_connections=self.concurrency(),
        )
        return boto3.session.Session().client(
            "comprehend", region_name=self.region(), endpoint_url=endpoint, config=config
        )

    def region(self) -> str:
        return (
            self.region_name
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )

    def build_s3_client(self):
        """The S3 client for the jobs' files, with the same retry mode and attempts."""
        import boto3
        from botocore.config import Config

        endpoint = setting(self.s3_endpoint_url, "SENTIMENT_S3_ENDPOINT_URL", "") or None
        config = Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_s,
            # An input file is tens of MB: give its upload more time than a batch call.
            read_timeout=max(self.read_timeout_s, 120.0),
            # An endpoint override is a local or private host: bucket.host would not resolve.
            s3={"addressing_style": "path"} if endpoint else None,
        )
        return boto3.session.Session().client(
            "s3", region_name=self.region(), endpoint_url=endpoint, config=config
        )

    def async_texts(self) -> int:
        """The async threshold: more texts than this in a run go through jobs."""
        if self.async_threshold is not None:
            return self.async_threshold
        return int(os.environ.get("SENTIMENT_COMPREHEND_ASYNC_THRESHOLD", "") or 100_000)

    def job_settings(self):
        """The asynchronous jobs' settings, or None when no S3 URI is configured."""
        from .engines.comprehend_jobs import JobSettings

        uri = setting(self.async_s3_uri, "SENTIMENT_COMPREHEND_ASYNC_S3_URI", "").strip()
        if not uri:
            return None
        role = setting(self.data_access_role_arn, "SENTIMENT_COMPREHEND_ROLE_ARN", "").strip()
        if not role:
            raise ValueError(
                f"Comprehend's asynchronous jobs write to {uri} and need the IAM role Comprehend "
                "assumes to read and write there: set SENTIMENT_COMPREHEND_ROLE_ARN (or the "
                "engine.comprehend.data_access_role_arn field), or unset "
                "SENTIMENT_COMPREHEND_ASYNC_S3_URI to score every run with batch calls"
            )
        return JobSettings(
            s3_uri=uri,
            data_access_role_arn=role,
            max_lines_per_job=self.async_max_lines_per_job,
            max_active_jobs=self.async_max_active_jobs,
            poll_initial_s=self.async_poll_initial_s,
            poll_max_s=max(self.async_poll_max_s, self.async_poll_initial_s),
        )

    def concurrency(self) -> int:
        return self.max_concurrency or int(
            os.environ.get("SENTIMENT_COMPREHEND_CONCURRENCY", "0") or 8
        )

    def requests_per_second(self) -> float:
        return self.max_requests_per_second or float(
            os.environ.get("SENTIMENT_COMPREHEND_MAX_RPS", "0") or 10
        )

    def build_engine(self) -> SentimentEngine:
        from .engines.comprehend import ComprehendEngine

        jobs = self.job_settings()
        if jobs is None:
            dg.get_dagster_logger().info(
                "Comprehend asynchronous jobs are off (SENTIMENT_COMPREHEND_ASYNC_S3_URI is "
                "empty): runs of any size score through BatchDetectSentiment"
            )
        return ComprehendEngine(
            self.build_client(),
            max_concurrency=self.concurrency(),
            max_requests_per_second=self.requests_per_second(),
            price_per_unit_usd=self.price_per_unit_usd,
            jobs=jobs,
            s3_client=self.build_s3_client() if jobs is not None else None,
            async_threshold=self.async_texts(),
        )


class TextResource(dg.ConfigurableResource):
    """What the warehouse keeps of a message's text, and how its language is decided."""

    policy: str = Field(
        default="",
        description="full (keep the text), redacted (personal data replaced by typed "
        "placeholders before the text is stored or sent to an engine) or none (only hashes "
        "and scores are kept). Empty: $SENTIMENT_TEXT_POLICY, else redacted.",
    )
    detect_language: str = Field(
        default="",
        description="missing (detect when the source gives no language), always (detection "
        "wins over the source) or never. Empty: $SENTIMENT_DETECT_LANGUAGE, else missing.",
    )
    undetermined_language: str = Field(
        default="",
        description="Language that texts of undetermined language (too short to detect, and "
        "no known language in their conversation or customer) are scored as; they keep the "
        "language 'und'. 'und' leaves them unscored. Empty: "
        "$SENTIMENT_UNDETERMINED_LANGUAGE, else en.",
    )

    def settings(self) -> TextSettings:
        return TextSettings(
            policy=setting(self.policy, "SENTIMENT_TEXT_POLICY", "redacted").lower(),
            detect=setting(self.detect_language, "SENTIMENT_DETECT_LANGUAGE", "missing").lower(),
            undetermined_language=normalize_language(
                setting(self.undetermined_language, "SENTIMENT_UNDETERMINED_LANGUAGE", "en")
            )
            or UNDETERMINED,
        )


class EngineResource(dg.ConfigurableResource):
    """The sentiment engines that score messages: ``vader`` (local, the default, English),
    ``comprehend`` (Amazon Comprehend, 12 languages, configured by the nested resource), or
    both in order of preference (``vader,comprehend``): each message goes to the first engine
    that supports its language."""

    engine: str = Field(
        default="",
        description="vader, comprehend, or a comma-separated list in order of preference. "
        "Empty: $SENTIMENT_ENGINE, else vader.",
    )
    workers: int = Field(
        default=0,
        description="VADER's scoring processes. 0: $SENTIMENT_WORKERS, else one per core.",
    )
    comprehend: ComprehendResource

    def engine_names(self) -> list[str]:
        configured = setting(self.engine, "SENTIMENT_ENGINE", "vader").lower()
        names = list(dict.fromkeys(n.strip() for n in configured.split(",") if n.strip()))
        unknown = [n for n in names if n not in ENGINE_NAMES]
        if unknown or not names:
            raise ValueError(
                f"unknown sentiment engine {configured!r}; available: {', '.join(ENGINE_NAMES)}"
                " (or several, comma-separated, in order of preference)"
            )
        return names

    def build_router(self) -> EngineRouter:
        """The configured engines, in order of preference."""
        return EngineRouter([self.build_engine(name) for name in self.engine_names()])

    def build_engine(self, name: str) -> SentimentEngine:
        if name == "vader":
            from .engines.vader import VaderEngine

            return VaderEngine(
                workers=self.workers or int(os.environ.get("SENTIMENT_WORKERS", "0") or 0)
            )
        return self.comprehend.build_engine()


def build_resources() -> dict[str, dg.ConfigurableResource]:
    from dagster_aws.s3 import S3Resource

    from .alerts import AlertsResource
    from .automation.freshness import FreshnessResource
    from .reporting import ReportResource
    from .sources.kustomer_api.resource import KustomerApiResource
    from .topics.resource import TopicsResource

    return {
        # S3 input locations (and the sensor watching them); boto3's own credential chain.
        "s3": S3Resource(),
        "warehouse": WarehouseResource(),
        "source": SourceResource(),
        # the Kustomer API, for the source format kustomer_api (token from the environment)
        "kustomer": KustomerApiResource(),
        "engine": EngineResource(comprehend=ComprehendResource()),
        "text": TextResource(),
        "dbt": dbt_cli(),
        "freshness": FreshnessResource(),
        # where and when the anomaly and shift checks post their alerts
        "alerts": AlertsResource(),
        # where the sentiment report's HTML file goes
        "report": ReportResource(),
        # the topics and keywords of topic sentiment: dbt_project/topics.yml by default
        "topics": TopicsResource(),
    }
