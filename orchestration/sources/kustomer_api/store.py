"""Upserts of Kustomer conversations and customers into ``raw.conversations`` and
``raw.customers``: newest ``updatedAt`` wins, and the text policy decides what is kept of the
free text (a conversation's name is usually its first subject, so it is redacted like one;
a customer's name is kept unless the policy is ``none``)."""

from __future__ import annotations

from dataclasses import astuple, fields, replace

import pyarrow as pa

from ...text.prepare import TextSettings
from ...text.redact import redact_text
from .records import ConversationRow, CustomerRow

_TYPES = {
    "channels": pa.list_(pa.string()),
    "assigned_user_ids": pa.list_(pa.string()),
    "assigned_team_ids": pa.list_(pa.string()),
    "message_count": pa.int64(),
    "created_at": pa.timestamp("us"),
    "updated_at": pa.timestamp("us"),
    "deleted": pa.bool_(),
    "redacted": pa.bool_(),
}


def _kept_name(name: str | None, settings: TextSettings, redact: bool) -> str | None:
    if name is None or not settings.keeps_text:
        return None
    return redact_text(name) if redact and settings.redacts else name


def _upsert(connection, table: str, key: str, rows: list, settings: TextSettings) -> int:
    """Upsert dataclass ``rows`` (the newest version of each id wins); returns rows written."""
    if not rows:
        return 0
    newest: dict[str, object] = {}
    for row in rows:
        current = newest.get(getattr(row, key))
        if current is None or row.updated_at >= current.updated_at:
            newest[getattr(row, key)] = row
    names = [f.name for f in fields(rows[0])]
    columns = list(zip(*(astuple(row) for row in newest.values()), strict=True))
    arrow = pa.table(
        {
            name: pa.array(values, _TYPES.get(name, pa.string()))
            for name, values in zip(names, columns, strict=True)
        }
    )
    connection.register("_api_rows", arrow)
    try:
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != key)
        changed = connection.execute(
            f"""
            insert into {table} ({", ".join(names)}, text_policy, ingested_at)
            select {", ".join(names)}, $policy, timezone('UTC', now()) from _api_rows
            on conflict ({key}) do update set {updates}, text_policy = excluded.text_policy,
                ingested_at = excluded.ingested_at
            where excluded.updated_at > {table.split(".")[1]}.updated_at
            """,
            {"policy": settings.policy},
        ).fetchone()[0]
        return changed
    finally:
        connection.unregister("_api_rows")


def upsert_conversations(connection, rows: list[ConversationRow], settings: TextSettings) -> int:
    kept = [
        replace(row, name=None if row.deleted else _kept_name(row.name, settings, redact=True))
        for row in rows
    ]
    return _upsert(connection, "raw.conversations", "conversation_id", kept, settings)


def upsert_customers(connection, rows: list[CustomerRow], settings: TextSettings) -> int:
    kept = [
        replace(row, name=None if row.deleted else _kept_name(row.name, settings, redact=False))
        for row in rows
    ]
    return _upsert(connection, "raw.customers", "customer_id", kept, settings)
