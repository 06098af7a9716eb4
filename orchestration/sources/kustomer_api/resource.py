"""The ``kustomer`` resource: where the Kustomer API is and how the source pulls it."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field

from ...resources import setting
from .client import KustomerClient
from .pull import DEFAULT_COMMIT_RECORDS, DEFAULT_PAGE_SIZE, MAX_ROLLBACKS, MAX_SEARCH_RESULTS

URL_ENV = "SENTIMENT_KUSTOMER_URL"
PAGE_SIZE_ENV = "SENTIMENT_KUSTOMER_PAGE_SIZE"
DEFAULT_TOKEN_ENV = "KUSTOMER_API_TOKEN"


class KustomerApiResource(dg.ConfigurableResource):
    """Kustomer's REST API, read by the source format ``kustomer_api``. The API token is read
    from the environment variable named here when a run starts, never from configuration or
    a file, so it stays out of the repository, the run config and the logs."""

    base_url: str = Field(
        default="",
        description=f"The organisation's API root, e.g. https://acme.api.kustomerapp.com. "
        f"Empty: ${URL_ENV}.",
    )
    token_env: str = Field(
        default=DEFAULT_TOKEN_ENV,
        description="Name of the environment variable that holds the API token.",
    )
    page_size: int = Field(
        default=0,
        description=f"Records per search page. 0: ${PAGE_SIZE_ENV}, else {DEFAULT_PAGE_SIZE}.",
    )
    commit_records: int = Field(
        default=DEFAULT_COMMIT_RECORDS,
        description="Records committed together (a killed run reads at most this many again); "
        "pages are also committed before every rate-limit wait.",
    )
    max_search_results: int = Field(
        default=MAX_SEARCH_RESULTS,
        description="Kustomer's cap on one search's results: a pass searches again from its "
        "cursor before it would page past it.",
    )
    max_rollbacks: int = Field(
        default=MAX_ROLLBACKS,
        description="Times one pass may search again from a record that moved while it was "
        "paged (each re-reads from that record's old updatedAt). Past it the pass goes on "
        "without the guard and says so; 0 turns the guard off.",
    )
    max_retries: int = Field(
        default=6, description="Retries of a request answered 429 or 5xx, or dropped."
    )
    backoff_s: float = Field(
        default=0.5,
        description="Backoff base in seconds: retry n waits up to base * 2^n plus jitter.",
    )
    backoff_max_s: float = Field(default=30.0, description="Cap on one backoff, in seconds.")

    def url(self) -> str:
        url = setting(self.base_url, URL_ENV, "")
        if not url:
            raise ValueError(
                f"the kustomer_api source needs the API's address: set ${URL_ENV} (or the "
                "kustomer resource's base_url) to https://<your org>.api.kustomerapp.com"
            )
        return url

    def search_page_size(self) -> int:
        size = self.page_size or int(os.environ.get(PAGE_SIZE_ENV, "0") or DEFAULT_PAGE_SIZE)
        if not 1 <= size <= self.max_search_results:
            raise ValueError(
                f"the Kustomer page size must be from 1 to {self.max_search_results}, not {size}"
            )
        return size

    def build_client(self) -> KustomerClient:
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise ValueError(
                f"the kustomer_api source reads its API token from ${self.token_env}, which "
                "is not set: create an API key in Kustomer (Settings > Security > API Keys, "
                "role org.user.search.read) and export it in that variable"
            )
        return KustomerClient(
            self.url(),
            token,
            token_name=self.token_env,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
            backoff_max_s=self.backoff_max_s,
        )
