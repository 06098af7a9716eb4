"""moto's standalone S3 server on 127.0.0.1, for tests and benchmarks that need a real S3
endpoint spoken to over HTTP (the fake Comprehend reads job input from it and writes job
output to it, as the service does).

``ThreadedMotoServer`` serves every moto backend from a thread of this process; it takes about
a second to start, so test modules start it once. Credentials are dummies: moto accepts any.

Usage::

    with MotoS3() as s3:
        bucket = s3.new_bucket()          # a fresh, uniquely named bucket
        client = s3.client()
"""

from __future__ import annotations

import functools
import itertools
import logging
import urllib.request

import boto3
from botocore.config import Config

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_buckets = itertools.count()


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str):
    """A boto3 S3 client for ``endpoint_url`` with dummy credentials and path-style addresses
    (``bucket.127.0.0.1`` would not resolve). Clients are thread-safe and take a tenth of a
    second to make, so one per endpoint is shared."""
    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint_url,
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        **CREDENTIALS,
    )


class MotoS3:
    """moto's server on a free port of 127.0.0.1; ``endpoint_url`` is valid inside ``with``."""

    def __init__(self) -> None:
        self._server = None
        self.endpoint_url = ""

    def __enter__(self) -> MotoS3:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO: an access log is noise in test output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self):
        return s3_client(self.endpoint_url)

    def new_bucket(self, prefix: str = "bucket") -> str:
        """Create a bucket no other test of this server has used, and return its name."""
        name = f"{prefix}-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under ``prefix``, sorted."""
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        )

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
