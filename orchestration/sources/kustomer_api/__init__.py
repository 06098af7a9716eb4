"""The Kustomer API source (format ``kustomer_api``): an incremental pull of messages,
conversations and customers through Kustomer's search endpoint."""

from .client import KustomerApiError, KustomerAuthError, KustomerClient
from .pull import KustomerPull, PullStats
from .resource import KustomerApiResource

API_FORMAT = "kustomer_api"

__all__ = [
    "API_FORMAT",
    "KustomerApiError",
    "KustomerApiResource",
    "KustomerAuthError",
    "KustomerClient",
    "KustomerPull",
    "PullStats",
]
