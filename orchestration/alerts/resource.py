"""The alerts' settings: where to post, what counts as a large shift, and how hard to try.

Every field left empty falls back to an environment variable, read when the checks run
(never at import time), then to a default. The webhook URL is a secret (a Slack incoming
webhook's path is its credential): it is only ever shown as ``scheme://host/...``.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

WEBHOOK_ENV = "SENTIMENT_ALERT_WEBHOOK_URL"
LARGE_SHIFT_ENV = "SENTIMENT_ALERT_LARGE_SHIFT"
DEFAULT_LARGE_SHIFT = 1.0
DEFAULT_MAX_LINES = 20


def redact_url(url: str) -> str:
    """``scheme://host[:port]/...``: enough to tell which receiver, nothing of the path,
    query or user info, which is where webhook tokens live."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    rest = "/..." if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme or '?'}://{host}{port}{rest}"


def parse_large_shift(raw: str | float | None) -> float:
    """A score drop between 0 and 2 (scores run from -1 to 1), with an error naming the
    setting."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_LARGE_SHIFT
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"{LARGE_SHIFT_ENV} must be a number between 0 and 2, got {raw!r}"
        ) from None
    if not 0 < value <= 2:
        raise ValueError(f"{LARGE_SHIFT_ENV} must be a number above 0 and at most 2, got {value}")
    return value


class AlertsResource(dg.ConfigurableResource):
    """Where the alert checks post new sentiment events, and when a shift is large."""

    webhook_url: str = Field(
        default="",
        description=f"Slack-compatible incoming webhook (POST {{'text': ...}}). Empty: "
        f"${WEBHOOK_ENV}, else none: new events are shown as WARN check results only. A "
        "secret: prefer the environment variable, which never appears in the run config.",
    )
    large_shift: float | None = Field(
        default=None,
        description=f"A negative shift is alerted when its score change is at most minus this "
        f"(scores run from -1 to 1). Empty: ${LARGE_SHIFT_ENV}, else {DEFAULT_LARGE_SHIFT}.",
    )
    timeout_s: float = Field(
        default=10.0, description="Connect and read timeout of each post, in seconds."
    )
    retries: int = Field(
        default=3,
        description="Retries of a post that could not connect or was answered 429 or 5xx "
        "(a post that reached the receiver without an answer is never repeated).",
    )
    backoff_factor_s: float = Field(
        default=0.5,
        description="Backoff between retries: 0, then factor x 2, x 4, ... seconds (urllib3's).",
    )
    backoff_max_s: float = Field(
        default=10.0,
        description="Longest wait between two attempts, a receiver's Retry-After included.",
    )
    max_lines: int = Field(
        default=DEFAULT_MAX_LINES,
        description="Events listed in one message; the rest are counted ('and N more').",
    )

    def webhook(self) -> str | None:
        """The configured webhook URL, or None when alerts go to the check results only."""
        url = (self.webhook_url or os.environ.get(WEBHOOK_ENV, "")).strip()
        return url or None

    def large_negative_shift(self) -> float:
        if self.large_shift is not None:
            return parse_large_shift(self.large_shift)
        return parse_large_shift(os.environ.get(LARGE_SHIFT_ENV))
