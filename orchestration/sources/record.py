"""The message record every reader produces, and the contract checks that guard it.

Readers yield either a :class:`Message` or a :class:`Rejection`. A row is never dropped
silently: what breaks the contract becomes a rejection with its reason, and ingest writes it
to ``raw.rejected_messages``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The first daily partition (orchestration.partitions.PARTITIONS_START).
FIRST_DAY = datetime(2000, 1, 1)

REQUIRED_FIELDS = (
    "message_id",
    "conversation_id",
    "customer_id",
    "channel",
    "direction",
    "created_at",
)

# Sources spell direction in many ways; the warehouse knows two.
DIRECTIONS = {
    "in": "in",
    "inbound": "in",
    "incoming": "in",
    "customer": "in",
    "true": "in",
    "out": "out",
    "outbound": "out",
    "outgoing": "out",
    "agent": "out",
    "false": "out",
}

MESSAGE_COLUMNS = (
    "message_id",
    "conversation_id",
    "customer_id",
    "channel",
    "direction",
    "created_at",
    "updated_at",
    "body",
    "subject",
    "language",
    "source_name",
    "source_row",
)


@dataclass(frozen=True, slots=True)
class Message:
    """One valid message, timestamps as naive UTC datetimes."""

    message_id: str
    conversation_id: str
    customer_id: str
    channel: str
    direction: str
    created_at: datetime
    updated_at: datetime
    body: str | None
    subject: str | None
    language: str | None
    source_name: str
    source_row: int

    def as_row(self) -> tuple:
        return tuple(getattr(self, name) for name in MESSAGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that broke the contract, kept whole with the reason."""

    source_name: str
    source_row: int
    raw_content: str
    reason: str


class ContractError(ValueError):
    """Raised by the field checks; its message becomes the rejection reason."""


def parse_timestamp(value: Any, field: str) -> datetime:
    """Parse an ISO-8601 timestamp (or epoch seconds/milliseconds) into naive UTC.

    A timestamp without an offset is taken as UTC: exports from support tools that drop the
    offset write UTC, and the README says so.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, ValueError, OSError):  # NaN, or beyond year 9999
            raise ContractError(f"bad timestamp in {field}: {value!r}") from None
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ContractError(f"bad timestamp in {field}: {value!r}") from None
    else:
        raise ContractError(f"bad timestamp in {field}: {value!r}")
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
            raise ContractError(f"bad timestamp in {field}: {value!r} is out of range") from None
    return parsed


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas/pyarrow
        return None
    text = str(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A JSON escape such as "\ud800" decodes to a lone surrogate, which no table
            # can store.
            raise ContractError(
                "text holds a lone UTF-16 surrogate (a broken \\u escape)"
            ) from None
    return text


def _required_text(fields: Mapping[str, Any], name: str) -> str:
    value = _text(fields.get(name))
    if value is None or not value.strip():
        raise ContractError(f"missing required field: {name}")
    return value.strip()


def build_message(fields: Mapping[str, Any], source_name: str, source_row: int) -> Message:
    """Check one flat record against the contract and return the message.

    Raises :class:`ContractError` with a reason a person can act on.
    """
    message_id = _required_text(fields, "message_id")
    conversation_id = _required_text(fields, "conversation_id")
    customer_id = _required_text(fields, "customer_id")
    channel = _required_text(fields, "channel").lower()
    raw_direction = _required_text(fields, "direction")
    direction = DIRECTIONS.get(raw_direction.lower())
    if direction is None:
        raise ContractError(f"unknown direction: {raw_direction!r} (expected 'in' or 'out')")
    if fields.get("created_at") in (None, ""):
        raise ContractError("missing required field: created_at")
    created_at = parse_timestamp(fields["created_at"], "created_at")
    if created_at < FIRST_DAY:
        # Outside every daily partition: it could never be loaded, so it is rejected loudly.
        raise ContractError(
            f"created_at {created_at:%Y-%m-%d} is before the warehouse's first day {FIRST_DAY:%Y-%m-%d}"
        )
    raw_updated = fields.get("updated_at")
    updated_at = (
        created_at if raw_updated in (None, "") else parse_timestamp(raw_updated, "updated_at")
    )
    body = _text(fields.get("body"))
    if body is not None and "\x00" in body:
        raise ContractError("body contains NUL characters")
    language = _text(fields.get("language"))
    return Message(
        message_id=message_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        channel=channel,
        direction=direction,
        created_at=created_at,
        updated_at=updated_at,
        body=body,
        subject=_text(fields.get("subject")) or None,
        language=language.strip().lower() if language and language.strip() else None,
        source_name=source_name,
        source_row=source_row,
    )


def check(
    fields: Mapping[str, Any], source_name: str, source_row: int, raw: str
) -> Message | Rejection:
    """Return the message, or a rejection carrying the raw content and the reason."""
    try:
        return build_message(fields, source_name, source_row)
    except ContractError as error:
        return Rejection(source_name, source_row, raw, str(error))
