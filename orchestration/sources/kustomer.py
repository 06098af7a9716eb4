"""Reader for Kustomer's JSON:API message resource objects.

Accepts JSON Lines (one resource object per line, as exports and the sample generator write)
or a ``.json`` document whose ``data`` holds a list of resource objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._lines import parse_line, read_json_lines
from .record import Message, Rejection, check

# The objects flatten_resource takes fields from (their keys must be unique).
RECORD_OBJECTS = (
    (),
    ("attributes",),
    ("attributes", "meta"),
    ("relationships",),
    ("relationships", "conversation"),
    ("relationships", "conversation", "data"),
    ("relationships", "customer"),
    ("relationships", "customer", "data"),
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _related_id(relationships: Mapping[str, Any], name: str) -> Any:
    data = _mapping(relationships.get(name)).get("data")
    return data.get("id") if isinstance(data, Mapping) else None


def flatten_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Map a Kustomer message resource onto the flat message record.

    The full ``body`` wins over the ``preview`` (which Kustomer cuts short) when present.
    """
    attributes = _mapping(resource.get("attributes"))
    relationships = _mapping(resource.get("relationships"))
    meta = _mapping(attributes.get("meta"))
    body = attributes.get("body")
    return {
        "message_id": resource.get("id"),
        "conversation_id": _related_id(relationships, "conversation"),
        "customer_id": _related_id(relationships, "customer"),
        "channel": attributes.get("channel"),
        "direction": attributes.get("direction"),
        "created_at": attributes.get("createdAt"),
        "updated_at": attributes.get("updatedAt"),
        "body": body if body not in (None, "") else attributes.get("preview"),
        "subject": meta.get("subject"),
        "language": attributes.get("lang") or attributes.get("language"),
    }


def check_resource(resource: Any, source: str, number: int, raw: str) -> Message | Rejection:
    """One message resource (from an export or the API) checked against the contract."""
    if not isinstance(resource, Mapping):
        return Rejection(source, number, raw, "malformed record: a JSON object is expected")
    kind = resource.get("type")
    if kind != "message":
        return Rejection(source, number, raw, f"not a message resource (type={kind!r})")
    return check(flatten_resource(resource), source, number, raw)


def read_kustomer(path: Path) -> Iterator[Message | Rejection]:
    """Yield messages from a Kustomer export (JSON Lines, or a JSON:API document)."""
    source = str(path)
    if path.suffix.lower() == ".json":
        with open(path, "rb") as handle:
            try:
                document = json.loads(handle.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                yield Rejection(source, 0, "", f"unreadable JSON:API document: {error}")
                return
        resources = document.get("data", []) if isinstance(document, Mapping) else document
        if isinstance(resources, Mapping):
            resources = [resources]
        for number, resource in enumerate(resources, start=1):
            raw = json.dumps(resource, ensure_ascii=False)
            yield check_resource(resource, source, number, raw)
        return
    yield from read_json_lines(path, kustomer_line)


def kustomer_line(source: str, number: int, raw: str) -> Message | Rejection | None:
    """One line of a Kustomer JSON Lines export (None for a blank line)."""
    item = parse_line(source, number, raw, RECORD_OBJECTS)
    if item is None or isinstance(item, Rejection):
        return item
    return check_resource(item[2], source, number, raw)
