"""The Kustomer API source against a local fake of the API (tests/fakes/kustomer_server.py):
pages, cursors, rate limits, retries, auth errors, records that move between pages, deletes
and redactions, and a run killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.engines.vader import VaderEngine
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.kustomer_api import (
    KustomerApiError,
    KustomerAuthError,
    KustomerClient,
    KustomerPull,
)
from orchestration.text.prepare import TextSettings
from tests.fakes.kustomer_server import FakeKustomer

REPO = Path(__file__).resolve().parents[2]

# What two warehouses must agree on (ingestion times aside).
SNAPSHOT = {
    "messages": "select * exclude (ingested_at) from raw.messages order by message_id",
    "conversations": "select * exclude (ingested_at) from raw.conversations order by all",
    "customers": "select * exclude (ingested_at) from raw.customers order by all",
    "rejected": "select source_name, source_row, raw_content, reason, raw_content_sha256 "
    "from raw.rejected_messages order by all",
    "cursors": "select resource, cursor_at from raw.kustomer_cursors order by resource",
    "pass_records": "select count(*) from raw.kustomer_pass_reads",
}


def snapshot(connection) -> dict[str, list]:
    return {name: connection.execute(sql).fetchall() for name, sql in SNAPSHOT.items()}


def open_warehouse(path: Path):
    connection = duckdb.connect(str(path))
    connection.execute(RAW_SCHEMA_DDL)
    return connection


@pytest.fixture
def warehouse(tmp_path):
    connection = open_warehouse(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def pull(connection, api: FakeKustomer, token: str = "test-token", **options):
    client = KustomerClient(api.url, token, backoff_s=0.01, backoff_max_s=0.05)
    try:
        return KustomerPull(connection, client, TextSettings(policy="full"), **options).run()
    finally:
        client.close()


def served_ids(api: FakeKustomer, kind: str) -> dict[str, str]:
    """id -> updatedAt of the server's records of ``kind`` that are not deleted."""
    return {
        r["id"]: r["attributes"]["updatedAt"]
        for r in api.records(kind)
        if not r["attributes"].get("deleted")
    }


def stored_messages(connection) -> dict[str, str]:
    rows = connection.execute("select message_id, updated_at from raw.messages").fetchall()
    return {m: f"{u:%Y-%m-%dT%H:%M:%S.}{u.microsecond // 1000:03d}Z" for m, u in rows}


def test_a_full_pull_stores_every_record_and_the_next_run_reads_only_the_changes(warehouse):
    with FakeKustomer() as api:
        counts = api.load_sample(3_000, seed=11)
        stats = pull(warehouse, api, page_size=50)
        rejected = warehouse.execute(
            "select count(*) from raw.rejected_messages where source_name like 'kustomer-api:message:%'"
        ).fetchone()[0]
        stored = warehouse.execute("select count(*) from raw.messages").fetchone()[0]
        # every record the server holds is stored or rejected with its reason
        assert stored + rejected == counts.messages
        assert rejected == stats.resources["message"].rejected > 0
        assert stored_messages(warehouse).items() <= served_ids(api, "message").items()
        assert (
            warehouse.execute("select count(*) from raw.conversations").fetchone()[0]
            == counts.conversations
        )
        assert warehouse.execute("select count(*), count(name) from raw.customers").fetchone() == (
            counts.customers,
            counts.customers,
        )
        # the pages were followed through links.next, page after page
        pages = [r.page for r in api.requests if r.kind == "message"]
        assert pages == list(range(1, len(pages) + 1))
        assert len(pages) == -(-counts.messages // 50)

        assert warehouse.execute("select count(*) from raw.changed_days").fetchone()[0] > 1
        warehouse.execute("delete from raw.changed_days")
        before = snapshot(warehouse)
        api.reset_log()
        api.update("message", "msg_000000010", preview="Actually this is still broken.")
        again = pull(warehouse, api, page_size=50)
        # one page per resource: the records at the cursor's instant, and the one edit
        assert [r.page for r in api.requests] == [1, 1, 1]
        assert again.messages.updated == 1
        body = warehouse.execute(
            "select body from raw.messages where message_id = 'msg_000000010'"
        ).fetchone()[0]
        assert body == "Actually this is still broken."
        # only the edited message's day is to be rebuilt, not the day of every record re-read
        day = warehouse.execute(
            "select cast(created_at as date) from raw.messages where message_id = 'msg_000000010'"
        ).fetchone()
        assert warehouse.execute("select day from raw.changed_days").fetchall() == [day]
        after = snapshot(warehouse)
        assert after["customers"] == before["customers"]
        assert after["cursors"] > before["cursors"]


def test_a_search_is_started_again_before_kustomers_result_window_is_exceeded(warehouse):
    with FakeKustomer(max_results=300) as api:
        counts = api.load_sample(1_000, seed=3)
        stats = pull(warehouse, api, page_size=100, max_results=300)
        assert stats.resources["message"].searches >= 4
        assert all(r.status == 200 for r in api.requests)
        assert stored_messages(warehouse).keys() == {
            k for k in served_ids(api, "message") if k in stored_messages(warehouse)
        }
        rejected = stats.resources["message"].rejected
        assert len(stored_messages(warehouse)) + rejected == counts.messages


def test_the_rate_limit_is_waited_out_without_a_single_429(warehouse):
    with FakeKustomer(rate_limit=(8, 0.4)) as api:
        api.load_sample(600, seed=5)
        client = KustomerClient(api.url, "test-token")
        started = time.monotonic()
        KustomerPull(warehouse, client, TextSettings(), page_size=20).run()
        elapsed = time.monotonic() - started
        statuses = {r.status for r in api.requests}
        assert statuses == {200}
        windows = -(-len(api.requests) // 8)
        assert client.stats.rate_limit_waits >= windows - 1
        # no faster than the limit allows: every full window was waited out
        assert elapsed >= (windows - 1) * 0.4


def test_429_and_5xx_are_retried_with_backoff_and_the_pull_completes(warehouse):
    with FakeKustomer() as api:
        api.load_sample(400, seed=2)
        api.fail_next(429, 2, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.05"})
        api.fail_next(503, 2)
        api.fail_next(500)
        pull(warehouse, api, page_size=100)
        statuses = [r.status for r in api.requests]
        assert statuses[:5] == [429, 429, 503, 503, 500]
        assert statuses[5:] == [200] * (len(statuses) - 5)
        assert stored_messages(warehouse).items() <= served_ids(api, "message").items()


def test_errors_that_outlast_the_retries_fail_the_run_and_keep_the_committed_cursor(warehouse):
    with FakeKustomer() as api:
        api.load_sample(400, seed=2)
        pull(warehouse, api, page_size=100)
        cursors = snapshot(warehouse)["cursors"]
        api.update("message", "msg_000000003", preview="edited")
        api.fail_next(502, 20)
        api.reset_log()
        client = KustomerClient(api.url, "test-token", max_retries=2, backoff_s=0.01)
        with pytest.raises(KustomerApiError, match="HTTP 502 after retries"):
            KustomerPull(warehouse, client, TextSettings()).run()
        assert [r.status for r in api.requests] == [502] * 3  # the first try and 2 retries
        assert snapshot(warehouse)["cursors"] == cursors


def test_a_page_that_is_not_json_fails_clearly_and_stores_nothing(warehouse):
    with FakeKustomer() as api:
        api.load_sample(200, seed=2)
        api.fail_with_malformed_json_next()
        with pytest.raises(KustomerApiError, match="not a JSON:API page"):
            pull(warehouse, api)
        assert warehouse.execute("select count(*) from raw.customers").fetchone()[0] == 0
        assert snapshot(warehouse)["cursors"] == []


@pytest.mark.parametrize(
    ("token", "status", "hint"),
    [("wrong-token", 401, "missing, expired or wrong"), ("forbidden-token", 403, "search role")],
)
def test_401_and_403_fail_at_once_naming_what_to_fix(warehouse, token, status, hint):
    with FakeKustomer() as api:
        api.load_sample(50, seed=2)
        client = KustomerClient(api.url, token, token_name="ACME_KUSTOMER_TOKEN")
        with pytest.raises(KustomerAuthError) as raised:
            KustomerPull(warehouse, client, TextSettings()).run()
        message = str(raised.value)
        assert f"HTTP {status}" in message and hint in message
        assert "$ACME_KUSTOMER_TOKEN" in message and token not in message
        assert [r.status for r in api.requests] == [status]  # never retried


def edit_first_page_while_paging(api: FakeKustomer) -> None:
    """While the messages are paged by 20, edit a record of the first page before pages 2
    and 4 are served: each edit moves a record already read to the end of the results."""
    first_page = [r["id"] for r in api.records("message")[:20]]

    def edit_between_pages(request):
        if request.kind == "message" and request.page in (2, 4):
            api.update("message", first_page[request.page], preview="changed mid-run")

    api.on_request(edit_between_pages)


def lost_messages(api: FakeKustomer, connection) -> set[str]:
    """Messages the server holds that are neither stored nor rejected."""
    rejected = {
        name.rsplit(":", 1)[1]
        for (name,) in connection.execute(
            "select source_name from raw.rejected_messages"
        ).fetchall()
    }
    return set(served_ids(api, "message")) - set(stored_messages(connection)) - rejected


def test_a_record_edited_after_its_page_was_read_cannot_hide_another_one(warehouse):
    """Offset paging over a moving result set: editing a record already read shifts every
    later record one place back, and the one at the next page boundary is never returned.
    The pull notices the record come back and searches again from its old instant."""
    with FakeKustomer() as api:
        api.load_sample(500, seed=4)
        edit_first_page_while_paging(api)
        stats = pull(warehouse, api, page_size=20, commit_records=20)
        assert stats.resources["message"].rollbacks >= 1
        missing = lost_messages(api, warehouse)
        assert not missing, f"records lost to the shifted pages: {sorted(missing)[:5]}"
        assert stored_messages(warehouse).items() <= served_ids(api, "message").items()


def test_without_the_guard_offset_paging_does_lose_a_record(warehouse):
    """The control for the test above: with roll-backs turned off the same edits lose a
    record, so the test above would see a loss if the guard did nothing."""
    with FakeKustomer() as api:
        api.load_sample(500, seed=4)
        edit_first_page_while_paging(api)
        stats = pull(warehouse, api, page_size=20, commit_records=20, max_rollbacks=0)
        assert stats.resources["message"].rollbacks == 0
        assert len(lost_messages(api, warehouse)) >= 1


def test_records_updated_during_the_run_are_caught_and_the_next_run_catches_later_ones(warehouse):
    with FakeKustomer() as api:
        api.load_sample(400, seed=8)
        ahead = api.records("message")[-5]["id"]

        def edit_ahead(request):
            if request.kind == "message" and request.page == 2:
                api.update("message", ahead, preview="edited before its page was read")

        api.on_request(edit_ahead)
        pull(warehouse, api, page_size=50)
        api.on_request(None)
        assert stored_messages(warehouse)[ahead] == served_ids(api, "message")[ahead]
        late = api.records("message")[3]["id"]
        api.update("message", late, preview="edited after the run")
        pull(warehouse, api, page_size=50)
        assert stored_messages(warehouse)[late] == served_ids(api, "message")[late]


def test_deletes_and_redactions_remove_messages_and_their_derived_text(warehouse):
    with FakeKustomer() as api:
        api.load_sample(600, seed=9)
        pull(warehouse, api, page_size=100)
        score_pending(warehouse, VaderEngine(workers=1), settings=TextSettings(policy="full"))
        messages = api.records("message")
        inbound = [
            m["id"]
            for m in messages
            if m.get("attributes", {}).get("direction") == "in"
            and m["id"] in stored_messages(warehouse)
        ]
        conversation_of = dict(
            warehouse.execute("select message_id, conversation_id from raw.messages").fetchall()
        )
        conversation = conversation_of[inbound[0]]
        deleted, redacted = [m for m in inbound if conversation_of[m] != conversation][:2]
        redacted_text = warehouse.execute(
            "select cleaned_text, text_hash from raw.message_scores where message_id = ?",
            [redacted],
        ).fetchone()
        assert redacted_text[0]
        in_conversation = {
            m
            for (m,) in warehouse.execute(
                "select message_id from raw.messages where conversation_id = ?", [conversation]
            ).fetchall()
        }
        warehouse.execute("delete from raw.changed_days")

        api.delete("message", deleted)
        api.redact(redacted)
        api.delete("conversation", conversation)
        stats = pull(warehouse, api, page_size=100)

        stored = stored_messages(warehouse)
        assert deleted not in stored
        assert not in_conversation & stored.keys()
        assert stats.messages_removed == 1 + len(in_conversation)
        row = warehouse.execute(
            "select body, subject from raw.messages where message_id = ?", [redacted]
        ).fetchone()
        assert row == ("", None) or row == (None, None)
        scores = warehouse.execute(
            "select message_id from raw.message_scores where message_id in (select unnest(?))",
            [[deleted, redacted, *in_conversation]],
        ).fetchall()
        assert scores == []
        shared = warehouse.execute(
            "select count(*) from raw.message_scores where text_hash = ?", [redacted_text[1]]
        ).fetchone()[0]
        cached = warehouse.execute(
            "select count(*) from raw.score_cache where text_hash = ?", [redacted_text[1]]
        ).fetchone()[0]
        assert cached == (1 if shared else 0)
        tombstone = warehouse.execute(
            "select deleted, name from raw.conversations where conversation_id = ?", [conversation]
        ).fetchone()
        assert tombstone == (True, None)
        # the days of the removed and redacted messages are rebuilt by the run's later steps
        assert warehouse.execute("select count(*) from raw.changed_days").fetchone()[0] >= 1
        # rescoring the redacted message finds no text: it is unscored, not scored on old text
        score_pending(warehouse, VaderEngine(workers=1), settings=TextSettings(policy="full"))
        status = warehouse.execute(
            "select status from raw.message_scores where message_id = ?", [redacted]
        ).fetchone()
        assert status == ("empty",)


@pytest.mark.parametrize("policy", ["redacted", "none"])
def test_text_policy_applies_to_conversation_and_customer_names(warehouse, policy):
    with FakeKustomer() as api:
        api.load_sample(100, seed=2)
        first = api.records("conversation")[0]["id"]
        api.update("conversation", first, name="Refund for jane.doe@example.com")
        client = KustomerClient(api.url, "test-token")
        KustomerPull(warehouse, client, TextSettings(policy=policy)).run()
        name = warehouse.execute(
            "select name from raw.conversations where conversation_id = ?", [first]
        ).fetchone()[0]
        names = warehouse.execute("select count(name) from raw.customers").fetchone()[0]
    if policy == "redacted":
        assert "jane.doe@example.com" not in name and name.startswith("Refund for")
        assert names > 0
    else:
        assert name is None and names == 0


_KILLABLE_PULL = textwrap.dedent(
    """
    import sys
    import duckdb
    from orchestration.raw_schema import RAW_SCHEMA_DDL
    from orchestration.sources.kustomer_api import KustomerClient, KustomerPull
    from orchestration.text.prepare import TextSettings

    connection = duckdb.connect(sys.argv[1])
    connection.execute(RAW_SCHEMA_DDL)
    client = KustomerClient(sys.argv[2], "test-token")
    KustomerPull(connection, client, TextSettings(), page_size=25, commit_records=100).run()
    """
)


def test_a_run_killed_mid_way_resumes_to_the_same_warehouse_as_an_uninterrupted_run(tmp_path):
    with FakeKustomer(rate_limit=(12, 0.25)) as api:
        api.load_sample(1_500, seed=12)
        # the uninterrupted run
        whole = open_warehouse(tmp_path / "whole.duckdb")
        client = KustomerClient(api.url, "test-token")
        KustomerPull(whole, client, TextSettings(), page_size=25, commit_records=100).run()
        expected = snapshot(whole)
        whole.close()

        # the same pull in a process killed without warning half-way through the messages
        killed = tmp_path / "killed.duckdb"
        api.reset_log()
        process = subprocess.Popen(
            [sys.executable, "-c", _KILLABLE_PULL, str(killed), api.url],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            deadline = time.monotonic() + 60
            while sum(r.kind == "message" for r in api.requests) < 20:
                assert process.poll() is None, "the pull ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        requests_before_kill = len(api.requests)

        resumed = open_warehouse(killed)
        partial = resumed.execute("select count(*) from raw.messages").fetchone()[0]
        assert 0 < partial < len(expected["messages"])
        cursor = resumed.execute(
            "select cursor_at from raw.kustomer_cursors where resource = 'message'"
        ).fetchone()[0]
        client = KustomerClient(api.url, "test-token")
        KustomerPull(resumed, client, TextSettings(), page_size=25, commit_records=100).run()
        # it went on from the committed cursor, not from the start
        first_search = next(r for r in api.requests[requests_before_kill:] if r.kind == "message")
        assert first_search.page == 1 and cursor is not None
        message_requests = sum(r.kind == "message" for r in api.requests)
        whole_requests = -(-len(api.records("message")) // 25)
        assert message_requests < whole_requests + 20 - 1
        assert snapshot(resumed) == expected


def test_malformed_conversations_and_customers_are_quarantined_until_fixed(warehouse):
    with FakeKustomer() as api:
        api.load_sample(100, seed=2)
        api.put({"type": "conversation", "id": "conv_bad", "attributes": {"updatedAt": "never"}})
        api.put(
            {
                "type": "customer",
                "id": "cust_bad",
                "attributes": {"createdAt": "31/12/2025", "updatedAt": "2026-01-01T00:00:00Z"},
            }
        )
        stats = pull(warehouse, api)
        rejected = dict(
            warehouse.execute(
                "select source_name, reason from raw.rejected_messages "
                "where source_name not like 'kustomer-api:message:%'"
            ).fetchall()
        )
        assert rejected.keys() == {
            "kustomer-api:conversation:conv_bad",
            "kustomer-api:customer:cust_bad",
        }
        assert "updatedAt" in rejected["kustomer-api:conversation:conv_bad"]
        assert "createdAt" in rejected["kustomer-api:customer:cust_bad"]
        assert stats.resources["conversation"].rejected == stats.resources["customer"].rejected == 1
        # fixed in Kustomer: the next run stores it and its rejection goes
        api.update("customer", "cust_bad", createdAt="2025-12-31T00:00:00Z")
        pull(warehouse, api)
        assert warehouse.execute(
            "select count(*) from raw.rejected_messages where source_name = 'kustomer-api:customer:cust_bad'"
        ).fetchone() == (0,)
        assert warehouse.execute(
            "select count(*) from raw.customers where customer_id = 'cust_bad'"
        ).fetchone() == (1,)


def test_a_search_window_of_records_sharing_one_instant_fails_instead_of_looping(warehouse):
    with FakeKustomer(max_results=40) as api:
        for number in range(60):
            api.put(
                {
                    "type": "customer",
                    "id": f"cust_{number:03d}",
                    "attributes": {"updatedAt": "2026-01-01T00:00:00.000Z"},
                }
            )
        with pytest.raises(KustomerApiError, match="share updatedAt 2026-01-01T00:00:00.000Z"):
            pull(warehouse, api, page_size=20, max_results=40)
        # what was read is kept, and the cursor holds
        assert warehouse.execute("select count(*) from raw.customers").fetchone() == (40,)


def test_a_stricter_policy_reaches_the_names_already_stored(warehouse):
    from orchestration.text_policy import enforce_on_names

    with FakeKustomer() as api:
        api.load_sample(100, seed=2)
        first = api.records("conversation")[0]["id"]
        api.update("conversation", first, name="Call me on +44 20 7946 0958 please")
        pull(warehouse, api)  # stored under the policy full
    stored = "select name from raw.conversations where conversation_id = ?"
    assert "7946" in warehouse.execute(stored, [first]).fetchone()[0]
    assert enforce_on_names(warehouse, TextSettings(policy="redacted")) > 0
    redacted = warehouse.execute(stored, [first]).fetchone()[0]
    assert "7946" not in redacted and redacted.startswith("Call me on")
    assert warehouse.execute("select count(name) from raw.customers").fetchone()[0] > 0
    assert enforce_on_names(warehouse, TextSettings(policy="redacted")) == 0  # nothing left
    enforce_on_names(warehouse, TextSettings(policy="none"))
    assert warehouse.execute(
        "select count(name) from raw.conversations union all select count(name) from raw.customers"
    ).fetchall() == [(0,), (0,)]


# --- kills at the exact points between the writes of one group ------------------------------


class Killed(Exception):
    """Stands for the process dying: nothing after the raise runs."""


def test_a_kill_right_after_a_rollback_was_detected_loses_nothing(warehouse):
    """The group that finds a moved record writes the rolled-back cursor before anything
    else: killed after the group's reads were remembered, the resumed run still searches
    again from the moved record's old instant."""

    class KilledAfterRemembering(KustomerPull):
        moved = False

        def _moved_from(self, kind, keyed):
            found = super()._moved_from(kind, keyed)
            self.moved = self.moved or found is not None
            return found

        def _remember(self, kind):
            super()._remember(kind)
            if self.moved:
                raise Killed

    with FakeKustomer() as api:
        api.load_sample(500, seed=4)
        edit_first_page_while_paging(api)
        client = KustomerClient(api.url, "test-token")
        settings = TextSettings(policy="full")
        with pytest.raises(Killed):
            KilledAfterRemembering(
                warehouse, client, settings, page_size=20, commit_records=20
            ).run()
        api.on_request(None)
        KustomerPull(warehouse, client, settings, page_size=20, commit_records=20).run()
        assert not lost_messages(api, warehouse)


def test_a_kill_right_after_the_rows_were_written_still_rebuilds_their_days(warehouse, monkeypatch):
    from orchestration.sources.kustomer_api import pull as pull_module

    with FakeKustomer() as api:
        api.load_sample(300, seed=6)
        pull(warehouse, api)
        warehouse.execute("delete from raw.changed_days")
        edited = api.records("message")[5]["id"]
        api.update("message", edited, preview="edited", body="edited")
        real_load = pull_module.load_messages

        def load_then_die(*args, **kwargs):
            real_load(*args, **kwargs)
            raise Killed

        monkeypatch.setattr(pull_module, "load_messages", load_then_die)
        with pytest.raises(Killed):
            pull(warehouse, api)
        monkeypatch.setattr(pull_module, "load_messages", real_load)
        pull(warehouse, api)
    day = warehouse.execute(
        "select cast(created_at as date) from raw.messages where message_id = ?", [edited]
    ).fetchone()
    assert day in warehouse.execute("select day from raw.changed_days").fetchall()


# --- deletes and redactions whatever else the record holds ----------------------------------


def test_deletes_and_redactions_apply_to_records_that_are_otherwise_malformed(warehouse):
    with FakeKustomer() as api:
        api.load_sample(400, seed=13)
        pull(warehouse, api)
        conversation_of = dict(
            warehouse.execute("select message_id, conversation_id from raw.messages").fetchall()
        )
        conversations = sorted(set(conversation_of.values()))
        gone, kept = conversations[0], conversations[1]
        members = [m for m, c in conversation_of.items() if c == gone]
        # a rejected message of the conversation that goes: its kept line names it
        api.put(
            {
                "type": "message",
                "id": "msg_broken",
                "attributes": {"direction": "sideways", "preview": "call me on 555 0100"},
                "relationships": {"conversation": {"data": {"type": "conversation", "id": gone}}},
            }
        )
        api.update("message", "msg_broken")  # an updatedAt after the cursor
        pull(warehouse, api)
        rejected = "select count(*) from raw.rejected_messages where source_name like '%msg_broken'"
        assert warehouse.execute(rejected).fetchone() == (1,)

        # deleted, with a createdAt that cannot be read; redacted, with a bad direction
        api.update("conversation", gone, createdAt="not a time")
        api.delete("conversation", gone)
        target = next(m for m, c in conversation_of.items() if c == kept)
        api.redact(target)
        api.update("message", target, direction="sideways", preview="still here?")
        pull(warehouse, api)

        stored = stored_messages(warehouse)
        assert not set(members) & stored.keys()
        assert warehouse.execute(rejected).fetchone() == (0,)
        assert warehouse.execute(
            "select deleted, name from raw.conversations where conversation_id = ?", [gone]
        ).fetchone() == (True, None)
        assert warehouse.execute(
            "select body, subject from raw.messages where message_id = ?", [target]
        ).fetchone() == (None, None)


def test_a_redacted_conversation_keeps_its_messages_without_their_text(warehouse):
    with FakeKustomer() as api:
        api.load_sample(400, seed=14)
        pull(warehouse, api)
        score_pending(warehouse, VaderEngine(workers=1), settings=TextSettings(policy="full"))
        conversation = warehouse.execute(
            "select conversation_id from raw.messages group by 1 having count(*) > 1 limit 1"
        ).fetchone()[0]
        members = "select message_id from raw.messages where conversation_id = ?"
        before = {m for (m,) in warehouse.execute(members, [conversation]).fetchall()}
        api.update("conversation", conversation, redacted=True)
        stats = pull(warehouse, api)
        assert stats.resources["conversation"].redacted == 1
        after = warehouse.execute(
            "select count(*), count(body), count(subject) from raw.messages "
            "where conversation_id = ?",
            [conversation],
        ).fetchone()
        assert after == (len(before), 0, 0)
        assert warehouse.execute(
            "select count(*) from raw.message_scores where message_id in (select unnest(?))",
            [sorted(before)],
        ).fetchone() == (0,)
        assert warehouse.execute(
            "select name, redacted from raw.conversations where conversation_id = ?",
            [conversation],
        ).fetchone() == (None, True)
        # a message that arrives later for it is stored without its text too
        newcomer = api.records("message")[0]
        newcomer = {
            **newcomer,
            "id": "msg_late",
            "relationships": {
                "conversation": {"data": {"type": "conversation", "id": conversation}},
                "customer": newcomer["relationships"]["customer"],
            },
        }
        api.put(newcomer)
        api.update("message", "msg_late", preview="a late reply with text")
        pull(warehouse, api)
        assert warehouse.execute(
            "select body from raw.messages where message_id = 'msg_late'"
        ).fetchone() == (None,)


# --- answers the pull must not follow -------------------------------------------------------


def test_a_rollback_to_the_search_start_is_not_mistaken_for_a_full_window(warehouse):
    base = "2026-01-01T00:00:00.000Z"
    with FakeKustomer(max_results=40) as api:
        api.put({"type": "customer", "id": "cust_x", "attributes": {"updatedAt": base}})
        pull(warehouse, api, page_size=20, max_results=40)
        for number in range(39):
            api.put(
                {
                    "type": "customer",
                    "id": f"cust_{number:03d}",
                    "attributes": {"updatedAt": f"2026-01-01T00:00:{1 + number:02d}.000Z"},
                }
            )

        def edit(request):
            if request.kind == "customer" and request.page == 2:
                api.update("customer", "cust_x", name="edited mid-run")

        api.on_request(edit)
        stats = pull(warehouse, api, page_size=20, max_results=40, commit_records=20)
        assert stats.resources["customer"].rollbacks >= 1
        assert warehouse.execute("select count(*) from raw.customers").fetchone() == (40,)


def test_a_next_link_to_another_host_or_an_empty_page_with_one_stops_the_run(warehouse):
    with FakeKustomer() as api, FakeKustomer() as elsewhere:
        api.load_sample(50, seed=2)
        page = {"data": [], "links": {"next": f"{elsewhere.url}/v1/customers/search?page=2"}}
        page["data"] = api.records("customer")[:1]
        api.fail_next(
            200, headers={"Content-Type": "application/json"}, body=json.dumps(page).encode()
        )
        with pytest.raises(KustomerApiError, match="points away from"):
            pull(warehouse, api)
        assert elsewhere.requests == []  # the token never went there

        empty = {"data": [], "links": {"next": "/v1/customers/search?page=2&pageSize=100"}}
        api.fail_next(
            200, headers={"Content-Type": "application/json"}, body=json.dumps(empty).encode()
        )
        with pytest.raises(KustomerApiError, match="empty customer page with a next link"):
            pull(warehouse, api)
