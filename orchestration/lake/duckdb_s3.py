"""DuckDB's S3 support for a lake on S3: the httpfs extension and its settings.

The extension comes from the PyPI package ``duckdb-extension-httpfs`` (pinned to DuckDB's
release in pyproject.toml) and is loaded from its file, because DuckDB's own ``INSTALL``
downloads from extensions.duckdb.org, which not every build machine reaches. Credentials are
never passed here: httpfs reads ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
``AWS_SESSION_TOKEN`` from the environment itself, like boto3 does.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def httpfs_extension_path() -> str:
    """The httpfs extension file shipped by the ``duckdb-extension-httpfs`` package."""
    import duckdb
    import duckdb_extension_httpfs

    folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    found = sorted(folder.glob(f"v{duckdb.__version__}/httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError(
            f"no httpfs extension for DuckDB {duckdb.__version__} under {folder}: install "
            f"duckdb-extension-httpfs=={duckdb.__version__} (the lock file pins the pair)"
        )
    return str(found[0])


def s3_settings(endpoint_url: str, region: str) -> dict[str, str]:
    """DuckDB's S3 settings for an endpoint (empty: AWS's own) and region.

    A custom endpoint (MinIO, moto, a VPC endpoint) is addressed by path
    (``host/bucket/key``), and over plain HTTP when its URL says so."""
    settings = {"s3_region": region}
    if endpoint_url:
        parts = urlsplit(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}")
        settings |= {
            "s3_endpoint": parts.netloc,
            "s3_url_style": "path",
            "s3_use_ssl": "true" if parts.scheme == "https" else "false",
        }
    return settings


def configure(connection, settings: dict[str, str]) -> None:
    """Load httpfs into ``connection``'s database and apply the S3 settings to it, globally:
    cursors (which the publish copies through) are other connections to the same database."""
    connection.execute(f"load '{httpfs_extension_path()}'")
    for name, value in settings.items():
        connection.execute(f"set global {name} = '{value}'")
