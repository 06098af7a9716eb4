"""Kustomer's conversation and customer resources, mapped to rows of ``raw.conversations``
and ``raw.customers``; messages use the export reader's mapping (``sources.kustomer``).

A record the warehouse cannot key (no id, no parseable ``updatedAt``) is a rejection, like a
malformed message: it goes to ``raw.rejected_messages`` with its reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..record import ContractError, Rejection, parse_timestamp

MESSAGE, CONVERSATION, CUSTOMER = "message", "conversation", "customer"
# Pulled in this order: a conversation deleted in Kustomer is known before its messages come.
RESOURCES = (CUSTOMER, CONVERSATION, MESSAGE)


def source_prefix(kind: str) -> str:
    """What every ``source_name`` of a ``kind`` record starts with."""
    return f"kustomer-api:{kind}:"


def source_name(kind: str, record: Any) -> str:
    """The ``source_name`` of an API record: one per record, so that a record read again
    (a resumed run, a later edit) replaces its earlier rejection instead of adding one. A
    record without an id is named by a hash of its content, so that two of them do not
    replace each other's rejection."""
    key = record_id(record)
    if key is None:
        key = (
            "?" + hashlib.sha256(raw_json(record).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        )
    return source_prefix(kind) + key


def raw_json(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def attributes(record: Any) -> Mapping[str, Any]:
    return _mapping(_mapping(record).get("attributes"))


def conversation_of(record: Any) -> str | None:
    """The id of the conversation a message record points to, valid record or not."""
    data = _mapping(_mapping(_mapping(record).get("relationships")).get("conversation")).get("data")
    value = _mapping(data).get("id")
    return value if isinstance(value, str) else None


def is_deleted(record: Any) -> bool:
    """Kustomer's soft delete (``attributes.deleted``), as searches with
    ``includeDeleted`` return it."""
    return attributes(record).get("deleted") is True


def is_redacted(record: Any) -> bool:
    return attributes(record).get("redacted") is True


def record_id(record: Any) -> str | None:
    value = _mapping(record).get("id")
    return value if isinstance(value, str) and value.strip() else None


def updated_at(record: Any) -> datetime:
    """The record's ``updatedAt`` as naive UTC; raises ContractError when it has none."""
    value = attributes(record).get("updatedAt")
    if value in (None, ""):
        raise ContractError("missing required field: updatedAt")
    return parse_timestamp(value, "updatedAt")


def _optional_time(value: Any, name: str) -> datetime | None:
    return None if value in (None, "") else parse_timestamp(value, name)


def _related_ids(relationships: Mapping[str, Any], name: str) -> list[str]:
    data = _mapping(relationships.get(name)).get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    return [str(item["id"]) for item in items if isinstance(item, Mapping) and item.get("id")]


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@dataclass(frozen=True)
class ConversationRow:
    conversation_id: str
    customer_id: str | None
    name: str | None
    status: str | None
    channels: list[str]
    assigned_user_ids: list[str]
    assigned_team_ids: list[str]
    message_count: int | None
    created_at: datetime | None
    updated_at: datetime
    deleted: bool
    redacted: bool = False


@dataclass(frozen=True)
class CustomerRow:
    customer_id: str
    name: str | None
    locale: str | None
    created_at: datetime | None
    updated_at: datetime
    deleted: bool


def _checked(kind: str, record: Any, position: int):
    """The record's id and updatedAt, or a rejection."""
    name = source_name(kind, record)
    if not isinstance(record, Mapping):
        return Rejection(
            name, position, raw_json(record), "malformed record: a JSON object is expected"
        )
    if record.get("type") != kind:
        return Rejection(
            name, position, raw_json(record), f"not a {kind} resource (type={record.get('type')!r})"
        )
    key = record_id(record)
    if key is None:
        return Rejection(name, position, raw_json(record), "missing required field: id")
    try:
        return key, updated_at(record)
    except ContractError as error:
        return Rejection(name, position, raw_json(record), str(error))


def _tombstone_time(record: Any) -> datetime:
    """A deleted record's updatedAt, or now when it has none that can be read: a delete is
    applied whatever else is wrong with the record."""
    try:
        return updated_at(record)
    except ContractError:
        return datetime.now(UTC).replace(tzinfo=None)


def conversation_row(record: Any, position: int) -> ConversationRow | Rejection:
    key = record_id(record)
    if key is not None and is_deleted(record):
        return ConversationRow(
            key, None, None, None, [], [], [], None, None, _tombstone_time(record), True
        )
    checked = _checked(CONVERSATION, record, position)
    if isinstance(checked, Rejection):
        return checked
    key, updated = checked
    attrs = attributes(record)
    relationships = _mapping(record.get("relationships"))
    try:
        created = _optional_time(attrs.get("createdAt"), "createdAt")
    except ContractError as error:
        return Rejection(source_name(CONVERSATION, record), position, raw_json(record), str(error))
    customers = _related_ids(relationships, "customer")
    channels = attrs.get("channels")
    count = attrs.get("messageCount")
    return ConversationRow(
        conversation_id=key,
        customer_id=customers[0] if customers else None,
        name=None if is_redacted(record) else _text(attrs.get("name")),
        status=_text(attrs.get("status")),
        channels=[str(c).lower() for c in channels] if isinstance(channels, list) else [],
        assigned_user_ids=_related_ids(relationships, "assignedUsers"),
        assigned_team_ids=_related_ids(relationships, "assignedTeams"),
        message_count=int(count) if isinstance(count, int | float) else None,
        created_at=created,
        updated_at=updated,
        deleted=False,
        redacted=is_redacted(record),
    )


def customer_row(record: Any, position: int) -> CustomerRow | Rejection:
    key = record_id(record)
    if key is not None and is_deleted(record):
        return CustomerRow(key, None, None, None, _tombstone_time(record), True)
    checked = _checked(CUSTOMER, record, position)
    if isinstance(checked, Rejection):
        return checked
    key, updated = checked
    attrs = attributes(record)
    try:
        created = _optional_time(attrs.get("createdAt"), "createdAt")
    except ContractError as error:
        return Rejection(source_name(CUSTOMER, record), position, raw_json(record), str(error))
    return CustomerRow(
        customer_id=key,
        name=_text(attrs.get("displayName")) or _text(attrs.get("name")),
        locale=_text(attrs.get("locale")),
        created_at=created,
        updated_at=updated,
        deleted=False,
    )
