"""The Kustomer API source's small parts: headers, search bodies, record mapping, settings."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestration.changed_days import widen
from orchestration.sources.kustomer_api.client import (
    RateLimitRetry,
    remaining_requests,
    reset_seconds,
)
from orchestration.sources.kustomer_api.pull import iso_ms, search_body
from orchestration.sources.kustomer_api.records import (
    conversation_row,
    customer_row,
    source_name,
)
from orchestration.sources.kustomer_api.resource import KustomerApiResource
from orchestration.sources.record import Rejection


def test_the_reset_header_is_read_as_seconds_or_as_a_unix_time():
    assert reset_seconds({"x-ratelimit-reset": "2.5"}) == 2.5
    assert reset_seconds({"x-ratelimit-reset": "1700000010"}, now=1_700_000_004.0) == 6.0
    assert reset_seconds({"x-ratelimit-reset": "1700000000"}, now=1_700_000_004.0) == 0.0
    assert reset_seconds({"x-ratelimit-reset": "soon"}) is None
    assert reset_seconds({}) is None
    assert remaining_requests({"x-ratelimit-remaining": "0"}) == 0
    assert remaining_requests({"x-ratelimit-remaining": "many"}) is None


class _Response:
    def __init__(self, status, headers):
        self.status = status
        self.headers = headers


def test_a_429_without_retry_after_waits_for_the_rate_limit_window():
    retry = RateLimitRetry(total=3, status_forcelist=(429,), respect_retry_after_header=True)
    assert retry.get_retry_after(_Response(429, {"x-ratelimit-reset": "1.5"})) == pytest.approx(
        1.52
    )
    # Retry-After, when sent, wins
    assert retry.get_retry_after(
        _Response(429, {"Retry-After": "3", "x-ratelimit-reset": "1.5"})
    ) == pytest.approx(3)
    assert retry.get_retry_after(_Response(503, {"x-ratelimit-reset": "1.5"})) is None


def test_the_search_is_inclusive_from_the_cursor_and_oldest_first():
    assert search_body("message", None) == {
        "queryContext": "message",
        "sort": [{"message_updated_at": "asc"}],
        "includeDeleted": True,
    }
    body = search_body("conversation", datetime(2026, 1, 2, 3, 4, 5, 678_901))
    assert body["and"] == [{"conversation_updated_at": {"gte": "2026-01-02T03:04:05.678Z"}}]
    # cut, not rounded: a rounded-up cursor would skip the records of that millisecond
    assert iso_ms(datetime(2026, 1, 1, 0, 0, 0, 999_999)) == "2026-01-01T00:00:00.999Z"


def _conversation(**attributes):
    return {
        "type": "conversation",
        "id": "conv_1",
        "attributes": {"updatedAt": "2026-01-02T10:00:00.000Z", **attributes},
        "relationships": {
            "customer": {"data": {"type": "customer", "id": "cust_1"}},
            "assignedUsers": {"data": [{"type": "user", "id": "user_1"}]},
            "assignedTeams": {"data": [{"type": "team", "id": "team_2"}]},
        },
    }


def test_conversations_map_to_rows_and_bad_ones_to_rejections_with_reasons():
    row = conversation_row(
        _conversation(name="Late parcel", status="open", channels=["Email"], messageCount=3), 1
    )
    assert row.conversation_id == "conv_1" and row.customer_id == "cust_1"
    assert (row.name, row.status, row.channels) == ("Late parcel", "open", ["email"])
    assert (row.assigned_user_ids, row.assigned_team_ids) == (["user_1"], ["team_2"])
    assert row.updated_at == datetime(2026, 1, 2, 10) and row.deleted is False
    assert conversation_row(_conversation(deleted=True), 1).deleted is True

    cases = {
        "missing required field: updatedAt": _conversation(updatedAt=None),
        "bad timestamp": _conversation(updatedAt="yesterday"),
        "not a conversation resource": {**_conversation(), "type": "message"},
        "missing required field: id": {**_conversation(), "id": ""},
        "a JSON object is expected": ["conv_1"],
    }
    for reason, record in cases.items():
        rejected = conversation_row(record, 1)
        assert isinstance(rejected, Rejection), reason
        assert reason in rejected.reason
        assert rejected.source_name.startswith("kustomer-api:conversation:")
        assert rejected.raw_content  # the record as received, for the analyst to see


def test_customers_take_their_display_name_and_reject_bad_dates():
    customer = {
        "type": "customer",
        "id": "cust_1",
        "attributes": {
            "name": "Jane Doe",
            "displayName": "Jane D.",
            "locale": "fr_FR",
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
        },
    }
    row = customer_row(customer, 1)
    assert (row.name, row.locale, row.created_at) == ("Jane D.", "fr_FR", datetime(2025, 1, 1))
    customer["attributes"]["createdAt"] = "31/12/2025"
    rejected = customer_row(customer, 1)
    assert isinstance(rejected, Rejection) and "createdAt" in rejected.reason


def test_each_record_is_its_own_source_so_a_reread_replaces_its_rejection():
    assert source_name("message", {"id": "msg_1"}) == "kustomer-api:message:msg_1"
    # without an id, the content names it: two such records keep two rejections
    first, second = source_name("message", {"x": 1}), source_name("message", {"x": 2})
    assert first.startswith("kustomer-api:message:?") and first != second
    assert source_name("message", {"x": 1}) == first


def test_changed_days_widen_the_window_to_one_span():
    window = (datetime(2026, 1, 10), datetime(2026, 1, 11))
    assert widen(window, []) == window
    assert widen(window, [date(2026, 1, 3), date(2026, 1, 5)]) == (
        datetime(2026, 1, 3),
        datetime(2026, 1, 11),
    )
    assert widen(window, [date(2026, 1, 12)]) == (datetime(2026, 1, 10), datetime(2026, 1, 13))


def test_the_resource_says_what_to_set(monkeypatch):
    monkeypatch.delenv("SENTIMENT_KUSTOMER_URL", raising=False)
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    with pytest.raises(ValueError, match="SENTIMENT_KUSTOMER_URL"):
        KustomerApiResource().url()
    resource = KustomerApiResource(
        base_url="https://acme.api.kustomerapp.com", token_env="ACME_TOKEN"
    )
    with pytest.raises(ValueError, match=r"\$ACME_TOKEN, which is not set"):
        resource.build_client()
    monkeypatch.setenv("ACME_TOKEN", "secret-value")
    client = resource.build_client()
    assert client.base_url == "https://acme.api.kustomerapp.com"
    with pytest.raises(ValueError, match="page size"):
        KustomerApiResource(page_size=20_000).search_page_size()
    monkeypatch.setenv("SENTIMENT_KUSTOMER_PAGE_SIZE", "250")
    assert KustomerApiResource().search_page_size() == 250
