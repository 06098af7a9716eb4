from datetime import datetime

import pytest

from orchestration.sources.record import (
    ContractError,
    Rejection,
    build_message,
    check,
    parse_timestamp,
)

VALID = {
    "message_id": "m1",
    "conversation_id": "c1",
    "customer_id": "u1",
    "channel": "Chat",
    "direction": "inbound",
    "created_at": "2026-01-02T10:00:00+02:00",
    "body": "hello",
}


def test_valid_record_is_normalized_to_utc_and_lower_case():
    message = build_message(VALID, "f.jsonl", 3)
    assert message.created_at == datetime(2026, 1, 2, 8, 0, 0)
    assert message.updated_at == message.created_at
    assert message.channel == "chat"
    assert message.direction == "in"
    assert (message.source_name, message.source_row) == ("f.jsonl", 3)


@pytest.mark.parametrize(
    "missing",
    ["message_id", "conversation_id", "customer_id", "channel", "direction", "created_at"],
)
def test_each_required_field_is_enforced(missing):
    fields = dict(VALID) | {missing: "  "}
    result = check(fields, "f.jsonl", 1, "raw")
    assert isinstance(result, Rejection)
    assert missing in result.reason
    assert result.raw_content == "raw"


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T99:00:00Z", ""])
def test_bad_timestamp_is_a_contract_error(value):
    with pytest.raises(ContractError):
        parse_timestamp(value, "created_at")


def test_unknown_direction_is_rejected_with_its_value():
    result = check(dict(VALID) | {"direction": "sideways"}, "f", 1, "raw")
    assert isinstance(result, Rejection)
    assert "sideways" in result.reason


def test_epoch_milliseconds_and_z_suffix_parse():
    assert parse_timestamp(1767348000000, "x") == datetime(2026, 1, 2, 10, 0)
    assert parse_timestamp("2026-01-02T10:00:00Z", "x") == datetime(2026, 1, 2, 10, 0)


def test_empty_body_is_accepted_for_an_unscored_status_later():
    message = build_message(dict(VALID) | {"body": ""}, "f", 1)
    assert message.body == ""
