"""Where lake files go: a local folder or an S3 prefix, each with an atomic replace.

A reader must never see half a day. Every file is first written completely somewhere no
reader looks, then put in place in one step:

- locally, ``os.replace`` of a staged file under the lake root: a rename on one filesystem,
  atomic in POSIX, so a reader opens the old file or the new one;
- on S3, one upload to the final key: S3 makes an object visible only once its upload
  (single or multipart) completes, and a reader gets the old object or the new one.

S3 calls go through the boto3 client the caller passes in (dagster-aws's ``S3Resource``);
nothing here builds a client or reads credentials.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

from ..sources.location import is_s3, split_s3_uri
from .layout import MARTS_DIR, STAGING_DIR


class LakeStore(Protocol):
    root: str

    def staging_dir(self) -> Path:
        """A fresh local folder for the files about to be put; removed by ``cleanup``."""

    def put(self, staged: Path, key: str) -> None:
        """Replace the file at ``key`` (below the root) by ``staged``, atomically."""

    def delete(self, key: str) -> None:
        """Remove the file at ``key``; a missing file is not an error."""

    def cleanup(self, staging: Path) -> None:
        """Remove a staging folder and whatever is left in it."""

    def keys(self, table: str) -> list[str]:
        """The keys of every Parquet file in a table's folder, as the readers' globs see them."""


class LocalStore:
    """A lake in a local folder."""

    def __init__(self, root: str):
        self.root = str(Path(root).resolve())
        # S3 has no folders; a local lake needs the marts' folder before dbt writes there
        (Path(self.root) / MARTS_DIR).mkdir(parents=True, exist_ok=True)

    def staging_dir(self) -> Path:
        parent = Path(self.root) / STAGING_DIR
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=parent))

    def put(self, staged: Path, key: str) -> None:
        target = Path(self.root) / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)

    def delete(self, key: str) -> None:
        target = Path(self.root) / key
        target.unlink(missing_ok=True)
        # the day's folder too, once empty (it holds nothing a reader's glob would find)
        with contextlib.suppress(OSError):
            target.parent.rmdir()

    def cleanup(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def keys(self, table: str) -> list[str]:
        folder = Path(self.root) / table
        return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*.parquet"))


class S3Store:
    """A lake under an ``s3://bucket/prefix``."""

    def __init__(self, root: str, client: Any):
        if client is None:
            raise ValueError(f"an S3 client is needed to write the lake at {root}")
        self.root = root.rstrip("/")
        self.bucket, prefix = split_s3_uri(self.root)
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = client

    def staging_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="sentiment-lake-"))

    def put(self, staged: Path, key: str) -> None:
        # upload_file switches to a multipart upload for large files; either way the object
        # appears only when the upload completes.
        self.client.upload_file(str(staged), self.bucket, self.prefix + key)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def cleanup(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def keys(self, table: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{table}/")
        return sorted(
            item["Key"][len(self.prefix) :]
            for page in pages
            for item in page.get("Contents", [])
            if item["Key"].endswith(".parquet")
        )


def open_store(root: str, s3_client: Any = None) -> LakeStore:
    """The store for a lake root: ``s3://...`` or a local folder."""
    return S3Store(root, s3_client) if is_s3(root) else LocalStore(root)
