"""``raw.alert_log``: which events have been alerted, so that each is alerted at most once
across runs, reruns and restarts.

An evaluation first *claims* its new events (one insert that skips any event already in the
log, so two evaluations can never both claim one), then posts, then *settles* them:

| status | meaning | alerted again? |
|---|---|---|
| ``sending`` | claimed, post in flight (or the process died during the post) | no |
| ``posted`` | the webhook answered 2xx | no |
| ``unconfirmed`` | the post reached the receiver but got no answer | no |
| ``check_only`` | no webhook configured: the WARN check result was the alert | no |

``check_only`` rows are final: configuring a webhook later does not post them (the history
shown as WARN check results stays there); only events new from then on are posted. To post
them anyway, delete their rows before the next evaluation.

A post that failed outright (nothing reached the receiver, or it answered an error) deletes
its claims, so the next evaluation finds those events new again and retries them.

The table lives in the raw schema beside the pipeline's other state; no dbt model reads it,
and the build's input fingerprint does not include it.
"""

from __future__ import annotations

from datetime import datetime

from ..raw_schema import ALERT_LOG_DDL
from .events import Event, EventKind


def ensure_alert_log(connection) -> None:
    """Create ``raw.alert_log`` on a connection that did not come from
    ``WarehouseResource.connect()`` (which creates the whole raw schema)."""
    connection.execute("create schema if not exists raw;" + ALERT_LOG_DDL)


def table_exists(connection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = $schema and table_name = $name",
            {"schema": schema, "name": name},
        ).fetchone()[0]
    )


def new_events(connection, kind: EventKind, large_shift: float) -> list[Event]:
    """The kind's events in its mart that are not in the log, in the kind's order."""
    cursor = connection.execute(
        f"""
        select events.* from ({kind.sql}) as events
        where not exists (
            select 1 from raw.alert_log as log
            where log.event_kind = $kind and log.event_id = events.event_id
        )
        """,
        {"kind": kind.name, **kind.params(large_shift)},
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def claim(
    connection, kind: EventKind, event_ids: list[str], status: str, run_id: str, now: datetime
) -> set[str]:
    """Log ``event_ids`` with ``status``; the ids this call logged (not those already there)."""
    if not event_ids:
        return set()
    rows = connection.execute(
        """
        insert into raw.alert_log (event_kind, event_id, status, first_alerted_at, run_id)
        select $kind, unnest($ids::varchar[]), $status, $now, $run_id
        on conflict do nothing
        returning event_id
        """,
        {"kind": kind.name, "ids": event_ids, "status": status, "now": now, "run_id": run_id},
    ).fetchall()
    return {row[0] for row in rows}


def settle(
    connection,
    kind: EventKind,
    event_ids: list[str],
    outcome: str,
    run_id: str,
    delivered_to: str,
    now: datetime,
) -> None:
    """Record how the post of this run's claimed ``event_ids`` ended: ``delivered``,
    ``unconfirmed`` (kept, never resent) or ``failed`` (claims removed, retried later)."""
    if not event_ids:
        return
    params = {"kind": kind.name, "ids": event_ids, "run_id": run_id}
    where = (
        "event_kind = $kind and event_id in (select unnest($ids::varchar[])) "
        "and run_id = $run_id and status = 'sending'"
    )
    if outcome == "failed":
        connection.execute(f"delete from raw.alert_log where {where}", params)
        return
    status = "posted" if outcome == "delivered" else "unconfirmed"
    connection.execute(
        f"update raw.alert_log set status = $status, delivered_to = $to, "
        f"delivered_at = $at where {where}",
        params
        | {"status": status, "to": delivered_to, "at": now if outcome == "delivered" else None},
    )


def log_counts(connection, kind: EventKind) -> dict[str, int]:
    """How many of the kind's events the log holds, by status."""
    rows = connection.execute(
        "select status, count(*) from raw.alert_log where event_kind = $kind "
        "group by status order by status",
        {"kind": kind.name},
    ).fetchall()
    return dict(rows)
