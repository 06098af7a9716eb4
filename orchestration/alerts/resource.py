"""The alerts' settings: where to post, what counts as a large shift, and how hard to try.

The webhook URL is a secret (a Slack incoming webhook's path is its credential), so it is
never a config value: a config field is stored with the run and shown in the launchpad and on
the resource's page. The resource holds only the *name* of the environment variable that
holds the URL (``webhook_url_env``, default ``SENTIMENT_ALERT_WEBHOOK_URL``), read when a
check runs, never at import time; the URL is only ever shown as ``scheme://host/...``.
``large_shift`` left empty falls back to ``SENTIMENT_ALERT_LARGE_SHIFT``, then to 1.0.

With no webhook (the variable unset or empty), new events are alerted by the WARN check
result alone and recorded as alerted (``check_only`` in ``raw.alert_log``): setting a webhook
later posts only events that are new from then on, never that history.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

WEBHOOK_ENV = "SENTIMENT_ALERT_WEBHOOK_URL"
LARGE_SHIFT_ENV = "SENTIMENT_ALERT_LARGE_SHIFT"
DEFAULT_LARGE_SHIFT = 1.0
DEFAULT_MAX_LINES = 20
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    webhook_url_env: str = Field(
        default=WEBHOOK_ENV,
        description="Name of the environment variable holding the Slack-compatible incoming "
        "webhook URL (POST {'text': ...}), read when a check runs. The URL is a secret and "
        "is never config. Unset or empty: no webhook; new events are WARN check results "
        "only, recorded as alerted (a webhook set later does not post them).",
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
        """The webhook URL from the environment variable ``webhook_url_env`` names, or None
        when alerts go to the check results only."""
        name = self.webhook_url_env.strip()
        if not ENV_NAME.fullmatch(name):
            # Never echo the value: it may be the URL itself, pasted into the wrong field.
            raise ValueError(
                "alerts.webhook_url_env must be the name of an environment variable (letters, "
                f"digits and underscores, such as {WEBHOOK_ENV}), not the webhook URL itself"
            )
        url = os.environ.get(name, "").strip()
        return url or None

    def large_negative_shift(self) -> float:
        if self.large_shift is not None:
            return parse_large_shift(self.large_shift)
        return parse_large_shift(os.environ.get(LARGE_SHIFT_ENV))
