"""Posting one JSON message to a webhook, with urllib3's bounded retries.

What is retried, and what is not, follows from "at most once per event":
- a post that never reached the receiver (connection refused, DNS, connect timeout) and a post
  the receiver answered 429 or 5xx are retried, with exponential backoff bounded by
  ``backoff_max_s`` (a receiver's Retry-After is honoured up to the same bound); when the
  retries run out the delivery has **failed**: nothing was posted, and the events may be sent
  again later;
- a post that reached the receiver but got no answer (read timeout, connection dropped) is
  **unconfirmed**: the receiver may have posted it, so it is never repeated;
- any other answer (2xx) is **delivered**; 3xx and 4xx other than 429 have **failed**.

The URL is a secret. urllib3 logs the request path (the token of a Slack webhook) when it
retries, and at debug level on every response; those records are rewritten while a post is in
flight, and errors are reported by type and status only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from .resource import redact_url

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)

Outcome = Literal["delivered", "failed", "unconfirmed"]


@dataclass(frozen=True)
class Delivery:
    """How a post ended. ``detail`` is safe to log and show: no URL in it."""

    outcome: Outcome
    detail: str
    attempts: int | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str], shown: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        self.shown = shown

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, self.shown)
            record.msg, record.args = message, ()
        return True


@contextmanager
def redacted_urllib3_logs(url: str) -> Iterator[None]:
    """While inside, urllib3's log records show ``scheme://host/...`` instead of the URL or
    its path."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    # Longest first, so the full URL is replaced before its path is.
    secrets = sorted({url, path if path not in ("", "/") else ""}, key=len, reverse=True)
    log_filter = _RedactFilter(secrets, redact_url(url))
    loggers = [logging.getLogger(name) for name in URLLIB3_LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)


def build_retry(retries: int, backoff_factor_s: float, backoff_max_s: float) -> Retry:
    """urllib3's Retry for a non-idempotent POST: connection failures and 429/5xx answers are
    retried; read errors (the request was sent) never are; redirects are not followed."""
    return Retry(
        total=retries,
        connect=retries,
        status=retries,
        read=0,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor_s,
        backoff_max=backoff_max_s,
        retry_after_max=max(0, int(backoff_max_s)),
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def post_json(
    url: str,
    payload: dict,
    *,
    timeout_s: float = 10.0,
    retries: int = 3,
    backoff_factor_s: float = 0.5,
    backoff_max_s: float = 10.0,
) -> Delivery:
    """POST ``payload`` as ``application/json`` to ``url``, retrying as the module says."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        return Delivery("failed", "the webhook URL is not an http(s) URL")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    http = urllib3.PoolManager(
        retries=build_retry(retries, backoff_factor_s, backoff_max_s),
        timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
    )
    try:
        with redacted_urllib3_logs(url):
            response = http.request(
                "POST",
                url,
                body=body,
                headers={"Content-Type": "application/json"},
            )
    except (MaxRetryError, ReadTimeoutError, ProtocolError) as error:
        reason = error.reason if isinstance(error, MaxRetryError) else error
        if isinstance(reason, ReadTimeoutError | ProtocolError):
            return Delivery(
                "unconfirmed",
                f"sent, but no answer ({type(reason).__name__}); not repeated",
            )
        return Delivery("failed", f"could not connect ({type(reason).__name__})", retries + 1)
    except Exception as error:  # e.g. a malformed URL; the claims must be released
        return Delivery("failed", f"could not post ({type(error).__name__})")
    finally:
        http.clear()
    attempts = len(response.retries.history) + 1 if response.retries else 1
    if 200 <= response.status < 300:
        return Delivery("delivered", f"HTTP {response.status}", attempts)
    return Delivery("failed", f"HTTP {response.status}", attempts)
