"""An HTTP client for Kustomer's search endpoint: pages, rate limits, retries, auth errors.

urllib3 does the work it does well: keep-alive connections, and retries of 429 and 5xx answers
and of dropped connections with capped, jittered exponential backoff (``urllib3.Retry``). What
it cannot know is written here: Kustomer's ``x-ratelimit-*`` headers (wait for the window to
reset when none is left, rather than be refused), and errors that say what to fix.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.util.retry import Retry

SEARCH_PATH = "/v1/customers/search"
RETRIED_STATUSES = (429, 500, 502, 503, 504)
# Waiting for a rate-limit window adds this much, so the first request of the new window does
# not reach the server a hair before the window turns.
RESET_MARGIN_S = 0.02
MAX_RESET_WAIT_S = 300.0
# x-ratelimit-reset above this is a Unix time, below it a number of seconds to wait.
_EPOCH_THRESHOLD = 1_000_000_000


class KustomerAuthError(RuntimeError):
    """Kustomer refused the token (401) or its permissions (403): retrying cannot help."""


class KustomerApiError(RuntimeError):
    """Kustomer kept failing, or answered something that is not a search page."""


def reset_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until the rate-limit window resets, from ``x-ratelimit-reset``.

    Kustomer documents the header without saying its unit in the reference we can read; both
    readings in use are accepted: seconds to wait (``"2.5"``) and a Unix time in seconds."""
    raw = headers.get("x-ratelimit-reset")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if value > _EPOCH_THRESHOLD:
        value -= time.time() if now is None else now
    # A window is a minute at Kustomer; a wait of hours is a header misread (an epoch in
    # milliseconds, say), not a reason to sleep through the night.
    return min(max(0.0, value), MAX_RESET_WAIT_S)


def remaining_requests(headers: Mapping[str, str]) -> int | None:
    raw = headers.get("x-ratelimit-remaining")
    try:
        return None if raw is None else int(float(raw))
    except ValueError:
        return None


class RateLimitRetry(Retry):
    """urllib3's retry, waiting for ``x-ratelimit-reset`` on a 429 that has no Retry-After
    (Kustomer sends the rate-limit headers, not Retry-After)."""

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None and response.status == 429:
            reset = reset_seconds(response.headers)
            seconds = None if reset is None else reset + RESET_MARGIN_S
        return seconds


def build_retry(max_retries: int, backoff_s: float, backoff_max_s: float) -> Retry:
    """Retries of 429, 5xx and dropped connections, with jittered backoff capped at
    ``backoff_max_s``. The search is a read, so a POST is safe to repeat."""
    return RateLimitRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=None,  # every method: the search POST changes nothing
        backoff_factor=backoff_s,
        backoff_max=backoff_max_s,
        backoff_jitter=backoff_s,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer comes back, for an error that says why
    )


@dataclass
class SearchPage:
    """One page of search results."""

    records: list[Any]
    next_link: str | None
    # Seconds until requests may go on (the window's requests are used up), else 0.
    wait_s: float = 0.0


@dataclass
class ClientStats:
    requests: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


class KustomerClient:
    """Searches one Kustomer organisation. ``token_name`` names the variable the token came
    from, for errors that say what to fix (the token itself never appears in them)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        token_name: str = "KUSTOMER_API_TOKEN",
        max_retries: int = 6,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_name = token_name
        self.stats = ClientStats()
        self._retry = build_retry(max_retries, backoff_s, backoff_max_s)
        self._pool = urllib3.PoolManager(
            num_pools=2,
            maxsize=2,
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    def first_page_link(self, page_size: int) -> str:
        return f"{SEARCH_PATH}?page=1&pageSize={page_size}"

    def search(self, link: str, body: Mapping[str, Any]) -> SearchPage:
        """POST ``body`` to ``link`` (a path, or ``links.next`` as Kustomer returns it)."""
        url = urljoin(self.base_url + "/", link)
        if urlsplit(url)[:2] != urlsplit(self.base_url)[:2]:
            # The token goes with every request: never to a host a response named.
            raise KustomerApiError(
                f"Kustomer's next link points away from {self.base_url} "
                f"({urlsplit(url).netloc or 'no host'}); the token is not sent there"
            )
        try:
            response = self._pool.request(
                "POST", url, body=json.dumps(body).encode(), retries=self._retry
            )
        except urllib3.exceptions.MaxRetryError as error:
            raise KustomerApiError(
                f"Kustomer at {self.base_url} could not be reached after retries: "
                f"{type(error.reason).__name__}"
            ) from error
        self.stats.requests += 1 + _retries_taken(response)
        self.stats.statuses[response.status] = self.stats.statuses.get(response.status, 0) + 1
        if response.status in (401, 403):
            raise KustomerAuthError(self._auth_message(response))
        if response.status != 200:
            retried = " after retries" if response.status in RETRIED_STATUSES else ""
            raise KustomerApiError(
                f"Kustomer search failed with HTTP {response.status}{retried}: "
                f"{_error_detail(response.data)}"
            )
        try:
            document = json.loads(response.data)
            records = document["data"]
            links = document.get("links") or {}
            next_link = links.get("next") if isinstance(links, Mapping) else None
            if not isinstance(records, list) or not isinstance(next_link, str | None):
                raise TypeError("data is not a list, or links.next not a link")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise KustomerApiError(
                f"Kustomer answered a search with something that is not a JSON:API page "
                f"({type(error).__name__}); nothing of it was stored"
            ) from error
        wait = 0.0
        if remaining_requests(response.headers) == 0:
            wait = (reset_seconds(response.headers) or 0.0) + RESET_MARGIN_S
        return SearchPage(records, next_link or None, wait)

    def wait(self, seconds: float) -> None:
        """Sleep out a rate-limit window (the caller commits its pages first)."""
        if seconds > 0:
            self.stats.rate_limit_waits += 1
            self.stats.waited_s += seconds
            time.sleep(seconds)

    def _auth_message(self, response) -> str:
        detail = _error_detail(response.data)
        if response.status == 401:
            return (
                f"Kustomer refused the API token (HTTP 401: {detail}). The token in "
                f"${self.token_name} is missing, expired or wrong: create an API key in "
                "Kustomer (Settings > Security > API Keys) and set it in that variable."
            )
        return (
            f"Kustomer refused the request (HTTP 403: {detail}). The API key in "
            f"${self.token_name} lacks a search role: give it org.user.search.read "
            "(or org.permission.search.create), then rerun."
        )

    def close(self) -> None:
        self._pool.clear()


def _retries_taken(response) -> int:
    retries = getattr(response, "retries", None)
    return len(retries.history) if retries is not None else 0


def _error_detail(data: bytes) -> str:
    """The error's title and detail from a JSON:API error body, cut short; never a record."""
    try:
        errors = json.loads(data).get("errors") or []
        first = errors[0]
        return str(first.get("detail") or first.get("title") or "no detail")[:200]
    except (ValueError, AttributeError, IndexError, TypeError):
        return "no readable error body"
