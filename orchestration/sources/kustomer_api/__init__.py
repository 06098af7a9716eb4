"""The Kustomer API source (format ``kustomer_api``): an incremental pull of messages,
conversations and customers through Kustomer's search endpoint. Its Dagster resource is in
``.resource``, kept out of this import so the client and the pull load without Dagster."""

from .client import KustomerApiError, KustomerAuthError, KustomerClient
from .pull import KustomerPull, PullStats

API_FORMAT = "kustomer_api"

__all__ = [
    "API_FORMAT",
    "KustomerApiError",
    "KustomerAuthError",
    "KustomerClient",
    "KustomerPull",
    "PullStats",
]
