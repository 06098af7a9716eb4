"""Alerts on new sentiment events: asset checks on the anomaly and shift marts that post each
new event to a webhook once (``checks.py``), configured by ``AlertsResource``.

The webhook URL is read from the environment variable the resource names
(``webhook_url_env``, ``SENTIMENT_ALERT_WEBHOOK_URL`` by default), never from config. With no
webhook configured, new events shown as WARN check results are recorded as alerted
(``check_only``), so configuring a webhook later does not post that history.

Only the resource is imported here, so ``resources.py`` can import it without importing the
checks (which import ``resources.py``); the checks live in ``orchestration.alerts.checks``.
"""

from .resource import AlertsResource

__all__ = ["AlertsResource"]
