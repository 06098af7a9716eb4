"""Alerts on new sentiment events: asset checks on the anomaly and shift marts that post each
new event to a webhook once (``checks.py``), configured by ``AlertsResource``.

Only the resource is imported here, so ``resources.py`` can import it without importing the
checks (which import ``resources.py``); the checks live in ``orchestration.alerts.checks``.
"""

from .resource import AlertsResource

__all__ = ["AlertsResource"]
