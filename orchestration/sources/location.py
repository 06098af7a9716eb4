"""Input locations, local or on S3: list the export files they hold, and read one locally.

A location is a local file, a local folder (searched recursively), an ``s3://bucket/key``
object, or an ``s3://bucket/prefix`` "folder". Each file comes back as a :class:`SourceFile`
whose ``version`` changes whenever the file's content does, so a sensor can tell new and
changed files from files it has already processed.

S3 access goes through a boto3 S3 client that the caller passes in (in Dagster, from
``dagster_aws.s3.S3Resource(...).get_client()``); nothing here builds a client or reads
credentials, and nothing happens at import time.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

S3_SCHEME = "s3://"


@dataclass(frozen=True)
class SourceFile:
    """One input file.

    ``uri`` is an absolute local path or ``s3://bucket/key``; ``version`` is what changes when
    the file changes (locally ``"<mtime_ns>:<size>"``, on S3 the object's ETag); ``size`` is in
    bytes.
    """

    uri: str
    version: str
    size: int


def is_s3(location: str) -> bool:
    """Whether a location is an S3 URI (``s3://...``, scheme in any case)."""
    return str(location)[: len(S3_SCHEME)].lower() == S3_SCHEME


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``; the key may be empty."""
    if not is_s3(uri):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = str(uri)[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri!r}")
    return bucket, key


def _matches(name: str, suffixes: tuple[str, ...]) -> bool:
    # No suffixes means every file, rather than none (str.endswith(()) is always False).
    return not suffixes or name.endswith(suffixes)


def list_source_files(
    location: str, suffixes: tuple[str, ...], s3_client: Any = None
) -> list[SourceFile]:
    """The files at a location, sorted by uri.

    A local file is returned as is, whatever its name; a local folder yields every file under
    it (recursively) whose name ends with one of ``suffixes``, the same rule as
    :func:`orchestration.sources.source_files`. ``s3://bucket/key`` naming one object yields
    that object; otherwise the key is a prefix (a missing trailing ``/`` is added, so
    ``s3://b/exports`` never picks up ``exports-old/``) and every object under it whose key ends
    with one of ``suffixes`` is listed, page by page.

    Raises FileNotFoundError, saying where and what was looked for, when nothing matches.
    """
    if is_s3(location):
        if s3_client is None:
            raise ValueError(f"an S3 client is needed to list {location}")
        return _list_s3(str(location), suffixes, s3_client)
    return _list_local(Path(location), suffixes)


def _local_file(path: Path) -> SourceFile:
    stat = path.stat()
    return SourceFile(
        uri=str(path), version=f"{stat.st_mtime_ns}:{stat.st_size}", size=stat.st_size
    )


def _list_local(location: Path, suffixes: tuple[str, ...]) -> list[SourceFile]:
    location = location.expanduser().resolve()
    if location.is_dir():
        files = [
            _local_file(path)
            for path in location.rglob("*")
            if path.is_file() and _matches(path.name, suffixes)
        ]
        if not files:
            raise FileNotFoundError(f"no files ending with {', '.join(suffixes)} under {location}")
        return sorted(files, key=lambda file: file.uri)
    if not location.is_file():
        raise FileNotFoundError(f"source not found: {location}")
    return [_local_file(location)]


def _s3_file(bucket: str, item: dict) -> SourceFile:
    # S3 returns the ETag in double quotes; they carry no information.
    return SourceFile(
        uri=f"{S3_SCHEME}{bucket}/{item['Key']}",
        version=str(item["ETag"]).strip('"'),
        size=int(item["Size"]),
    )


def _list_s3(location: str, suffixes: tuple[str, ...], s3_client: Any) -> list[SourceFile]:
    bucket, key = split_s3_uri(location)
    prefix = key
    if key and not key.endswith("/"):
        # An exact key sorts first among the keys it prefixes, so one single-item listing tells
        # whether it names an object. ListObjectsV2 needs only s3:ListBucket, unlike HeadObject.
        first = s3_client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents")
        if first and first[0]["Key"] == key:
            return [_s3_file(bucket, first[0])]
        prefix = f"{key}/"
    files = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            # Keys ending with "/" are folder markers made by consoles, not files.
            if not item["Key"].endswith("/") and _matches(item["Key"], suffixes):
                files.append(_s3_file(bucket, item))
    if not files:
        raise FileNotFoundError(
            f"no objects ending with {', '.join(suffixes)} under {S3_SCHEME}{bucket}/{prefix}"
        )
    return sorted(files, key=lambda file: file.uri)


@contextmanager
def local_copy(file: SourceFile | str, s3_client: Any = None) -> Iterator[Path]:
    """Yield a local path to read ``file`` from.

    A local file is yielded as is. An S3 object is downloaded into a temporary folder under its
    own base name (readers such as Kustomer's look at the suffix), and the folder is deleted
    when the block ends. When ``file`` is a :class:`SourceFile`, the download is pinned to the
    listed ETag (``IfMatch``): an object overwritten since it was listed fails with S3's
    ``PreconditionFailed`` instead of being read under the old version.
    """
    uri = file.uri if isinstance(file, SourceFile) else str(file)
    if not is_s3(uri):
        yield Path(uri)
        return
    if s3_client is None:
        raise ValueError(f"an S3 client is needed to read {uri}")
    bucket, key = split_s3_uri(uri)
    name = PurePosixPath(key).name
    if not key or not name:
        raise ValueError(f"not an S3 object: {uri}")
    request = {"Bucket": bucket, "Key": key}
    if isinstance(file, SourceFile) and file.version:
        request["IfMatch"] = f'"{file.version}"'
    with tempfile.TemporaryDirectory(prefix="sentiment-source-") as folder:
        target = Path(folder) / name
        body = s3_client.get_object(**request)["Body"]
        try:
            with open(target, "wb") as handle:
                # Streamed in chunks: exports can be larger than memory.
                shutil.copyfileobj(body, handle, length=1024 * 1024)
        finally:
            body.close()
        yield target
