"""The alert checks: one asset check on each of the anomaly and shift marts.

After each build of its mart, a check looks for events that were never alerted (the
``raw.alert_log`` table remembers them, see ``log.py``) and raises them:

- **No new events**: the check passes.
- **New events, no webhook configured** (the environment variable named by
  ``AlertsResource.webhook_url_env``, ``SENTIMENT_ALERT_WEBHOOK_URL`` by default, is unset or
  empty): a WARN result listing them in a Markdown table; that result is the alert, and the
  events are logged as alerted (``check_only``). Configuring a webhook later therefore does
  not post them: only events that are new from then on are posted.
- **New events and a webhook**: one Slack-compatible post (``{"text": ...}``) per evaluation
  and kind, listing up to ``max_lines`` events and counting the rest; a WARN result saying
  they were posted. If the post failed, an ERROR result says so and the events stay
  unalerted, so the next evaluation tries again; if it reached the receiver without an answer,
  they are not repeated (at most once per event) and the WARN result says the delivery is
  unconfirmed.

The checks never block downstream assets, and run in the warehouse's pool. The warehouse is
not held open during the post.
"""

from datetime import UTC, datetime

import dagster as dg

from ..partitions import WAREHOUSE_POOL
from ..resources import WarehouseResource
from .events import ANOMALIES, KINDS, SHIFTS, EventKind, markdown_table, message_text
from .log import claim, log_counts, new_events, settle, table_exists
from .resource import DEFAULT_LARGE_SHIFT, AlertsResource, redact_url
from .webhook import post_json


def utc_now() -> datetime:
    """Naive UTC, like every timestamp in the warehouse (tests replace it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _noun(kind: EventKind, n: int) -> str:
    if kind is ANOMALIES:
        return "new anomaly" if n == 1 else "new anomalies"
    return "new large negative shift" if n == 1 else "new large negative shifts"


def evaluate_alerts(
    kind: EventKind,
    warehouse: WarehouseResource,
    alerts: AlertsResource,
    *,
    run_id: str,
    log=None,
) -> dg.AssetCheckResult:
    """Find the kind's new events, alert them once, and say how it went."""
    url = alerts.webhook()
    large_shift = alerts.large_negative_shift() if kind.uses_large_shift else DEFAULT_LARGE_SHIFT
    shown_url = redact_url(url) if url else "not configured"
    base = {"webhook": shown_url}
    if kind.uses_large_shift:
        base["large_shift"] = large_shift

    with warehouse.connect() as connection:  # creates raw.alert_log with the raw schema
        if not table_exists(connection, kind.table):
            return dg.AssetCheckResult(
                asset_key=kind.asset_key,
                check_name=kind.check_name,
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{kind.table} has not been built yet; nothing to alert.",
                metadata=base,
            )
        candidates = new_events(connection, kind, large_shift)
        status = "sending" if url else "check_only"
        claimed = claim(
            connection, kind, [e["event_id"] for e in candidates], status, run_id, utc_now()
        )
        events = [e for e in candidates if e["event_id"] in claimed]
        counts = log_counts(connection, kind)

    if not events:
        return dg.AssetCheckResult(
            asset_key=kind.asset_key,
            check_name=kind.check_name,
            passed=True,
            description=f"No {_noun(kind, 2)}.",
            metadata=base | {"new_events": 0, "alert_log": dg.MetadataValue.json(counts)},
        )

    noun = f"{len(events)} {_noun(kind, len(events))}"
    metadata = base | {
        "new_events": len(events),
        "events": dg.MetadataValue.md(markdown_table(kind, events)),
    }
    if url is None:
        if log:
            log.warning(f"{noun}; no webhook configured, shown in this check result only")
        return dg.AssetCheckResult(
            asset_key=kind.asset_key,
            check_name=kind.check_name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{noun} (listed in the metadata). No webhook is configured "
            f"(${alerts.webhook_url_env} is unset or empty), so this result is the alert; each "
            "event is alerted once: a webhook configured later does not post these.",
            metadata=metadata | {"posted": False, "alert_log": dg.MetadataValue.json(counts)},
        )

    text = message_text(kind, events, large_shift, alerts.max_lines)
    delivery = post_json(
        url,
        {"text": text},
        timeout_s=alerts.timeout_s,
        retries=alerts.retries,
        backoff_factor_s=alerts.backoff_factor_s,
        backoff_max_s=alerts.backoff_max_s,
    )
    with warehouse.connect() as connection:
        settle(
            connection,
            kind,
            [e["event_id"] for e in events],
            delivery.outcome,
            run_id,
            shown_url,
            utc_now(),
        )
        counts = log_counts(connection, kind)

    metadata |= {
        "posted": delivery.delivered,
        "delivery": delivery.outcome,
        "delivery_detail": delivery.detail,
        "alert_log": dg.MetadataValue.json(counts),
    }
    if delivery.attempts is not None:
        metadata["attempts"] = delivery.attempts
    if delivery.outcome == "delivered":
        description = f"{noun}, posted to {shown_url}."
        severity = dg.AssetCheckSeverity.WARN
    elif delivery.outcome == "unconfirmed":
        description = (
            f"{noun}. The post to {shown_url} was sent but got no answer ({delivery.detail}): "
            "the receiver may have shown it, so it is not repeated (at most once per event)."
        )
        severity = dg.AssetCheckSeverity.WARN
    else:
        description = (
            f"{noun}. Posting them to {shown_url} failed ({delivery.detail}); they are not "
            "marked as sent, so the next evaluation of this check tries again."
        )
        severity = dg.AssetCheckSeverity.ERROR
    if log:
        (log.info if delivery.delivered else log.warning)(description)
    return dg.AssetCheckResult(
        asset_key=kind.asset_key,
        check_name=kind.check_name,
        passed=False,
        severity=severity,
        description=description,
        metadata=metadata,
    )


def build_alert_check(kind: EventKind) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=kind.asset_key,
        name=kind.check_name,
        description=kind.check_description,
        blocking=False,
        pool=WAREHOUSE_POOL,
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        alerts: AlertsResource,
    ) -> dg.AssetCheckResult:
        return evaluate_alerts(kind, warehouse, alerts, run_id=context.run.run_id, log=context.log)

    return _check


anomaly_alert_check = build_alert_check(ANOMALIES)
shift_alert_check = build_alert_check(SHIFTS)
alert_checks = [anomaly_alert_check, shift_alert_check]

__all__ = [
    "KINDS",
    "SHIFTS",
    "alert_checks",
    "anomaly_alert_check",
    "build_alert_check",
    "evaluate_alerts",
    "shift_alert_check",
]
