"""The alert checks against a temporary DuckDB holding hand-made rows of the two marts, and a
local HTTP receiver started by the tests (its URL set in ``SENTIMENT_ALERT_WEBHOOK_URL``, as in
production): what is posted, once, and what happens when the receiver fails, hangs or is
down."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from orchestration.alerts import AlertsResource
from orchestration.alerts.checks import alert_checks, evaluate_alerts
from orchestration.alerts.events import ANOMALIES, SHIFTS, message_text
from orchestration.alerts.log import claim, ensure_alert_log
from orchestration.alerts.resource import LARGE_SHIFT_ENV, WEBHOOK_ENV, redact_url
from orchestration.partitions import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

TOKEN = "T0000/B0000/s3cr3t-t0ken"
SECRET_TEXT = "my order is broken and I am furious"


class WebhookReceiver:
    """A local HTTP receiver that records every request and answers from a script of status
    codes (then 200), optionally after a delay."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        self.delay = delay
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{TOKEN}"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def texts(self) -> list[str]:
        return [json.loads(r["body"])["text"] for r in self.requests]


@pytest.fixture(autouse=True)
def no_alert_env(monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    monkeypatch.delenv(LARGE_SHIFT_ENV, raising=False)
    return monkeypatch


@pytest.fixture
def receiver(no_alert_env):
    """A local receiver, configured as the webhook the way production is: its URL in
    ``$SENTIMENT_ALERT_WEBHOOK_URL`` (the resource only names that variable)."""
    receiver = WebhookReceiver().start()
    no_alert_env.setenv(WEBHOOK_ENV, receiver.url)
    yield receiver
    receiver.stop()


ANOMALIES_DDL = """
create schema if not exists marts;
create table marts.fct_sentiment_anomalies (
    anomaly_id varchar, day date, channel varchar, scored_count bigint, negative_count bigint,
    negative_share double, baseline_mean double, baseline_stddev double, band_lower double,
    band_upper double, baseline_days integer, direction varchar, z_score double
);
"""
SHIFTS_DDL = """
create schema if not exists marts;
create table marts.fct_sentiment_shifts (
    shift_id varchar, shift_type varchar, direction varchar, customer_id varchar,
    conversation_id varchar, previous_conversation_id varchar, channel varchar,
    before_score double, after_score double, score_change double, before_polarity integer,
    after_polarity integer, occurred_at timestamp, event_date date, agent_replied_at timestamp
);
"""


@pytest.fixture
def warehouse(tmp_path):
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    with warehouse.connect() as connection:
        connection.execute(ANOMALIES_DDL + SHIFTS_DDL)
    return warehouse


def add_anomaly(warehouse, channel: str, day: date, share=0.62, direction="above", scored=50):
    mean, sd = 0.11, 0.03
    with warehouse.connect() as connection:
        connection.execute(
            "insert into marts.fct_sentiment_anomalies values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 28, ?, ?)",
            [
                f"{channel}:{day:%Y-%m-%d}",
                day,
                channel,
                scored,
                round(share * scored),
                share,
                mean,
                sd,
                mean - 3 * sd,
                mean + 3 * sd,
                direction,
                (share - mean) / sd,
            ],
        )


def add_shift(
    warehouse,
    shift_type: str,
    customer: str,
    conversation: str,
    before: float,
    after: float,
    occurred_at=datetime(2026, 1, 10, 9, 30),
    previous=None,
    channel="chat",
):
    shift_id = (
        f"customer_flip:{customer}:{conversation}"
        if shift_type == "customer_flip"
        else f"{shift_type}:{conversation}"
    )
    polarity = lambda s: 0 if abs(s) < 0.05 else (1 if s > 0 else -1)  # noqa: E731
    with warehouse.connect() as connection:
        connection.execute(
            "insert into marts.fct_sentiment_shifts values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [
                shift_id,
                shift_type,
                "negative" if after < before else "positive",
                customer,
                conversation,
                previous,
                channel,
                before,
                after,
                after - before,
                polarity(before),
                polarity(after),
                occurred_at,
                occurred_at.date(),
            ],
        )
    return shift_id


def alerts_for(**settings) -> AlertsResource:
    """Fast retries; the webhook, if any, is the environment's (see ``receiver``)."""
    return AlertsResource(**({"backoff_factor_s": 0.01, "timeout_s": 2.0} | settings))


RUNS = iter(range(10**6))


def evaluate(kind, warehouse, alerts) -> dg.AssetCheckResult:
    return evaluate_alerts(kind, warehouse, alerts, run_id=f"run-{next(RUNS)}")


def meta(result: dg.AssetCheckResult) -> dict:
    return {name: getattr(value, "value", value) for name, value in result.metadata.items()}


def alert_log(warehouse) -> list[tuple]:
    with warehouse.connect() as connection:
        ensure_alert_log(connection)
        return connection.execute(
            "select event_kind, event_id, status, delivered_to from raw.alert_log "
            "order by event_kind, event_id"
        ).fetchall()


# --- settings and formatting ----------------------------------------------------------------


def test_the_webhook_url_is_shown_without_its_secret_parts():
    assert redact_url(f"https://hooks.slack.com/services/{TOKEN}") == "https://hooks.slack.com/..."
    assert (
        redact_url("https://user:pw@example.com:8443/hook?key=1") == "https://example.com:8443/..."
    )
    assert redact_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"


def test_settings_are_read_when_used_not_at_import(no_alert_env):
    alerts = AlertsResource()
    assert alerts.webhook() is None
    assert alerts.large_negative_shift() == 1.0
    no_alert_env.setenv(WEBHOOK_ENV, " https://hooks.example/x ")
    no_alert_env.setenv(LARGE_SHIFT_ENV, "0.8")
    assert alerts.webhook() == "https://hooks.example/x"
    assert alerts.large_negative_shift() == 0.8
    # The resource names the variable; another name reads another variable, and only that.
    other = AlertsResource(webhook_url_env="OTHER_ALERT_HOOK")
    assert other.webhook() is None
    no_alert_env.setenv("OTHER_ALERT_HOOK", "https://a/b")
    assert other.webhook() == "https://a/b"
    no_alert_env.setenv(WEBHOOK_ENV, "  ")
    assert alerts.webhook() is None  # empty: no webhook
    # A field wins over the environment.
    assert AlertsResource(large_shift=1.5).large_negative_shift() == 1.5
    no_alert_env.setenv(LARGE_SHIFT_ENV, "lots")
    with pytest.raises(ValueError, match=LARGE_SHIFT_ENV):
        alerts.large_negative_shift()
    with pytest.raises(ValueError, match="at most 2"):
        AlertsResource(large_shift=3).large_negative_shift()


def anomaly_event(channel="chat", day=date(2026, 1, 10), **extra):
    return {
        "event_id": f"{channel}:{day}",
        "day": day,
        "channel": channel,
        "scored_count": 50,
        "negative_count": 31,
        "negative_share": 0.62,
        "baseline_mean": 0.11,
        "band_lower": -0.02,
        "band_upper": 0.2,
        "baseline_days": 28,
        "z_score": 17.0,
    } | extra


def test_an_anomaly_line_names_the_channel_the_day_and_the_share_against_the_band():
    text = message_text(ANOMALIES, [anomaly_event()], 1.0, 20)
    headline, line = text.splitlines()
    assert headline.startswith("Sentiment alert: 1 new anomaly")
    assert line == (
        "- chat on 2026-01-10: 62.0% negative (31 of 50 scored) vs band 0.0% to 20.0% "
        "(baseline mean 11.0% over 28 days, z 17.0)"
    )


def test_a_shift_line_names_type_customer_conversation_scores_and_time():
    event = {
        "event_id": "customer_flip:alice:c-2",
        "shift_type": "customer_flip",
        "customer_id": "alice",
        "conversation_id": "c-2",
        "previous_conversation_id": "c-1",
        "channel": "email",
        "before_score": 0.61,
        "after_score": -0.55,
        "score_change": -1.16,
        "occurred_at": datetime(2026, 1, 10, 9, 30),
    }
    text = message_text(SHIFTS, [event], 1.0, 20)
    headline, line = text.splitlines()
    assert headline == "Sentiment alert: 1 new large negative shift (score change of -1 or worse)"
    assert line == (
        "- customer flip: customer alice, conversation c-2 (email), previous conversation c-1: "
        "0.61 -> -0.55 (-1.16) at 2026-01-10 09:30 UTC"
    )


def test_ids_cannot_form_slack_mentions_or_links():
    text = message_text(ANOMALIES, [anomaly_event(channel="<!channel> & co")], 1.0, 20)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; co" in text


def test_a_long_list_is_cut_at_max_lines_and_counted():
    events = [anomaly_event(day=date(2026, 1, 1) + timedelta(days=i)) for i in range(45)]
    lines = message_text(ANOMALIES, events, 1.0, 20).splitlines()
    assert lines[0].startswith("Sentiment alert: 45 new anomalies")
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "... and 25 more in marts.fct_sentiment_anomalies"


# --- the checks' definitions ----------------------------------------------------------------


def test_the_checks_target_the_marts_never_block_and_use_the_warehouse_pool():
    keys = {key for check in alert_checks for key in check.check_keys}
    assert keys == {
        dg.AssetCheckKey(dg.AssetKey(["marts", "fct_sentiment_anomalies"]), "new_anomaly_alert"),
        dg.AssetCheckKey(
            dg.AssetKey(["marts", "fct_sentiment_shifts"]), "large_negative_shift_alert"
        ),
    }
    for check in alert_checks:
        assert [spec.blocking for spec in check.check_specs] == [False]
        assert check.node_def.pool == WAREHOUSE_POOL
        assert {"warehouse", "alerts"} <= check.required_resource_keys


# --- no webhook -----------------------------------------------------------------------------


def test_without_a_webhook_new_events_are_a_warn_result_and_nothing_is_posted(
    warehouse, receiver, no_alert_env
):
    no_alert_env.delenv(WEBHOOK_ENV)  # the receiver runs, but no webhook is configured
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    add_anomaly(warehouse, "email", date(2026, 1, 10), share=0.01, direction="below")
    result = evaluate(ANOMALIES, warehouse, alerts_for())
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.check_name == "new_anomaly_alert"
    assert result.asset_key == dg.AssetKey(["marts", "fct_sentiment_anomalies"])
    metadata = meta(result)
    assert metadata["new_events"] == 1 and metadata["posted"] is False
    assert metadata["webhook"] == "not configured"
    table = metadata["events"]
    assert table.splitlines()[0].startswith("| day | channel | negative share")
    assert "| 2026-01-10 | chat | 62.0% |" in table
    assert "email" not in table  # a day below the band is not alerted
    assert WEBHOOK_ENV in result.description
    assert receiver.requests == []
    assert alert_log(warehouse) == [("anomaly", "chat:2026-01-10", "check_only", None)]

    # Shown once: the next evaluation has nothing new.
    again = evaluate(ANOMALIES, warehouse, alerts_for())
    assert again.passed and meta(again)["new_events"] == 0
    assert receiver.requests == []

    # Recorded as alerted (check_only): a webhook configured later does not post that history,
    # only events new from then on.
    no_alert_env.setenv(WEBHOOK_ENV, receiver.url)
    assert evaluate(ANOMALIES, warehouse, alerts_for()).passed
    add_anomaly(warehouse, "chat", date(2026, 1, 11), share=0.5)
    later = evaluate(ANOMALIES, warehouse, alerts_for())
    assert meta(later)["posted"] is True and meta(later)["new_events"] == 1
    [text] = receiver.texts()
    assert "2026-01-11" in text and "2026-01-10" not in text


def test_a_mart_not_built_yet_is_a_warning_not_a_crash(tmp_path):
    warehouse = WarehouseResource(path=str(tmp_path / "empty.duckdb"))
    result = evaluate(SHIFTS, warehouse, alerts_for())
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "has not been built" in result.description


# --- with a webhook -------------------------------------------------------------------------


def test_new_anomalies_are_posted_once_as_slack_json(warehouse, receiver):
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    add_anomaly(warehouse, "sms", date(2026, 1, 9), share=0.4)
    alerts = alerts_for()

    result = evaluate(ANOMALIES, warehouse, alerts)
    assert [r["path"] for r in receiver.requests] == [f"/services/{TOKEN}"]
    request = receiver.requests[0]
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert list(body) == ["text"] and isinstance(body["text"], str)
    lines = body["text"].splitlines()
    assert lines[0].startswith("Sentiment alert: 2 new anomalies")
    # Newest day first.
    assert lines[1].startswith("- chat on 2026-01-10: 62.0% negative (31 of 50 scored)")
    assert lines[2].startswith("- sms on 2026-01-09: 40.0% negative")

    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    metadata = meta(result)
    assert metadata["posted"] is True and metadata["delivery"] == "delivered"
    assert metadata["new_events"] == 2 and metadata["attempts"] == 1
    assert metadata["webhook"] == f"http://127.0.0.1:{receiver.port}/..."
    assert metadata["alert_log"] == {"posted": 2}
    assert "posted to" in result.description

    # The same events again: nothing is posted, the check passes.
    again = evaluate(ANOMALIES, warehouse, alerts)
    assert again.passed
    assert len(receiver.requests) == 1

    # A new anomaly lands: one post, naming it alone.
    add_anomaly(warehouse, "chat", date(2026, 1, 11), share=0.5)
    third = evaluate(ANOMALIES, warehouse, alerts)
    assert not third.passed and meta(third)["new_events"] == 1
    assert len(receiver.requests) == 2
    assert receiver.texts()[1].splitlines()[1:] == [
        "- chat on 2026-01-11: 50.0% negative (25 of 50 scored) vs band 2.0% to 20.0% "
        "(baseline mean 11.0% over 28 days, z 13.0)"
    ]
    assert evaluate(ANOMALIES, warehouse, alerts).passed
    assert len(receiver.requests) == 2


def test_only_large_negative_shifts_are_alerted(warehouse, receiver):
    big_drop = add_shift(warehouse, "conversation_drop", "alice", "c-1", 0.8, -0.6)
    exactly = add_shift(warehouse, "conversation_drop", "bob", "c-2", 0.2, -0.8)  # -1.0 (fp)
    flip = add_shift(
        warehouse,
        "customer_flip",
        "carol",
        "c-4",
        0.7,
        -0.5,
        occurred_at=datetime(2026, 1, 11, 8, 0),
        previous="c-3",
        channel="email",
    )
    small = add_shift(warehouse, "conversation_drop", "dave", "c-5", 0.3, -0.3)  # -0.6
    add_shift(warehouse, "conversation_recovery", "erin", "c-6", -0.8, 0.9)  # positive
    add_shift(warehouse, "customer_flip", "frank", "c-8", -0.6, 0.7, previous="c-7")  # positive
    alerts = alerts_for()

    result = evaluate(SHIFTS, warehouse, alerts)
    assert meta(result)["new_events"] == 3 and meta(result)["large_shift"] == 1.0
    [text] = receiver.texts()
    lines = text.splitlines()
    assert lines[0] == (
        "Sentiment alert: 3 new large negative shifts (score change of -1 or worse)"
    )
    assert lines[1] == (
        "- customer flip: customer carol, conversation c-4 (email), previous conversation c-3: "
        "0.70 -> -0.50 (-1.20) at 2026-01-11 08:00 UTC"
    )
    assert "customer alice, conversation c-1 (chat): 0.80 -> -0.60 (-1.40)" in text
    assert "customer bob" in text
    for absent in ("dave", "erin", "frank"):
        assert absent not in text
    assert {row[1] for row in alert_log(warehouse)} == {big_drop, exactly, flip}

    # A lower threshold makes the smaller drop large: it is new, the others are not.
    lower = evaluate(SHIFTS, warehouse, alerts_for(large_shift=0.5))
    assert meta(lower)["new_events"] == 1
    assert receiver.texts()[1].splitlines()[1:] == [
        "- conversation drop: customer dave, conversation c-5 (chat): 0.30 -> -0.30 (-0.60) "
        "at 2026-01-10 09:30 UTC"
    ]
    assert small in {row[1] for row in alert_log(warehouse)}


def test_the_webhook_url_from_the_environment_is_read_when_the_check_runs(
    warehouse, receiver, no_alert_env
):
    no_alert_env.delenv(WEBHOOK_ENV)
    alerts = alerts_for()
    add_shift(warehouse, "conversation_drop", "alice", "c-1", 0.8, -0.6)
    no_alert_env.setenv(WEBHOOK_ENV, receiver.url)
    result = evaluate(SHIFTS, warehouse, alerts)
    assert meta(result)["posted"] is True
    assert len(receiver.requests) == 1


def test_a_receiver_answering_500_then_200_is_retried(warehouse, receiver, caplog):
    receiver.statuses = [500, 503]
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    with caplog.at_level(logging.DEBUG):
        result = evaluate(ANOMALIES, warehouse, alerts_for())
    # urllib3 logs every response and retry with the request path; it is redacted.
    assert f"127.0.0.1:{receiver.port}" in caplog.text
    assert TOKEN not in caplog.text
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1  # the same message each time
    assert meta(result)["posted"] is True and meta(result)["attempts"] == 3
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert evaluate(ANOMALIES, warehouse, alerts_for()).passed
    assert len(receiver.requests) == 3


def test_a_post_that_keeps_failing_is_not_marked_sent_and_is_retried_next_time(warehouse, receiver):
    receiver.statuses = [500] * 4  # the first try and three retries
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    failed = evaluate(ANOMALIES, warehouse, alerts_for())
    assert len(receiver.requests) == 4
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert meta(failed)["posted"] is False and meta(failed)["delivery_detail"] == "HTTP 500"
    assert "tries again" in failed.description
    assert alert_log(warehouse) == []

    delivered = evaluate(ANOMALIES, warehouse, alerts_for())
    assert meta(delivered)["posted"] is True
    assert len(receiver.requests) == 5


@pytest.mark.parametrize("url", ["hooks.example.com/x", "ftp://example.com/x", "http://"])
def test_a_malformed_webhook_url_fails_without_marking_events(warehouse, url, no_alert_env):
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    no_alert_env.setenv(WEBHOOK_ENV, url)
    result = evaluate(ANOMALIES, warehouse, alerts_for())
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert meta(result)["posted"] is False
    assert alert_log(warehouse) == []


def test_a_client_error_is_not_retried(warehouse, receiver):
    receiver.statuses = [404]
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    result = evaluate(ANOMALIES, warehouse, alerts_for())
    assert len(receiver.requests) == 1
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert meta(result)["delivery_detail"] == "HTTP 404"


def test_a_receiver_that_is_down_leaves_events_unsent_until_it_is_back(warehouse, receiver, caplog):
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    add_shift(warehouse, "conversation_drop", "alice", "c-1", 0.8, -0.6)
    alerts = alerts_for()
    receiver.stop()

    with caplog.at_level(logging.DEBUG):
        down = [evaluate(kind, warehouse, alerts) for kind in (ANOMALIES, SHIFTS)]
    for result in down:
        assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
        assert meta(result)["posted"] is False
        assert "NewConnectionError" in meta(result)["delivery_detail"]
    assert alert_log(warehouse) == []
    # urllib3 logged its retries, with the URL redacted.
    assert "Retrying" in caplog.text
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.description and TOKEN not in str(r.metadata) for r in down)

    receiver.start()  # the same port again
    back = [evaluate(kind, warehouse, alerts) for kind in (ANOMALIES, SHIFTS)]
    assert [meta(r)["posted"] for r in back] == [True, True]
    assert len(receiver.requests) == 2
    assert [row[2] for row in alert_log(warehouse)] == ["posted", "posted"]
    assert all(TOKEN not in str(row) for row in alert_log(warehouse))
    assert all(evaluate(kind, warehouse, alerts).passed for kind in (ANOMALIES, SHIFTS))
    assert len(receiver.requests) == 2


def test_a_post_without_an_answer_is_never_repeated(warehouse, receiver):
    receiver.delay = 1.5
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    alerts = alerts_for(timeout_s=0.3)
    result = evaluate(ANOMALIES, warehouse, alerts)
    assert len(receiver.requests) == 1  # a read timeout is not retried
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result)["delivery"] == "unconfirmed"
    assert "not repeated" in result.description
    assert [row[2] for row in alert_log(warehouse)] == ["unconfirmed"]
    receiver.delay = 0
    assert evaluate(ANOMALIES, warehouse, alerts).passed
    assert len(receiver.requests) == 1


def test_a_backfill_of_hundreds_of_events_is_one_capped_post(warehouse, receiver):
    with warehouse.connect() as connection:
        connection.execute(
            """
            insert into marts.fct_sentiment_anomalies
            select channel || ':' || strftime(day, '%Y-%m-%d'), day, channel, 40, 20, 0.5,
                   0.1, 0.02, 0.04, 0.16, 28, 'above', 20.0
            from (select unnest(['chat', 'email', 'sms']) as channel),
                 (select cast(range as date) as day
                  from range(date '2025-09-01', date '2026-01-10', interval 1 day))
            """
        )
        total = connection.execute("select count(*) from marts.fct_sentiment_anomalies").fetchone()[
            0
        ]
    assert total > 300
    result = evaluate(ANOMALIES, warehouse, alerts_for())
    [text] = receiver.texts()
    lines = text.splitlines()
    assert lines[0].startswith(f"Sentiment alert: {total} new anomalies")
    assert len(lines) == 22 and lines[-1] == f"... and {total - 20} more in {ANOMALIES.table}"
    assert lines[1].startswith("- chat on 2026-01-09")  # newest first
    assert meta(result)["new_events"] == total
    assert f"{total - 100} more" in meta(result)["events"]
    assert len(alert_log(warehouse)) == total
    assert evaluate(ANOMALIES, warehouse, alerts_for()).passed
    assert len(receiver.requests) == 1


def test_no_message_text_reaches_the_webhook(warehouse, receiver):
    # The marts carry no message text; even a text-like id is only ever an id.
    add_shift(warehouse, "conversation_drop", "alice", "c-1", 0.8, -0.6)
    with warehouse.connect() as connection:
        connection.execute(
            "create table raw.some_texts as select ? as body", [SECRET_TEXT]
        )  # present in the warehouse, never read by the alerts
    evaluate(SHIFTS, warehouse, alerts_for())
    assert SECRET_TEXT not in receiver.requests[0]["body"].decode()


def test_an_event_can_be_claimed_once(warehouse):
    with warehouse.connect() as connection:
        ensure_alert_log(connection)
        now = datetime(2026, 1, 10)
        assert claim(connection, ANOMALIES, ["a", "b"], "sending", "r1", now) == {"a", "b"}
        assert claim(connection, ANOMALIES, ["b", "c"], "sending", "r2", now) == {"c"}
        # Kinds are separate namespaces.
        assert claim(connection, SHIFTS, ["a"], "sending", "r2", now) == {"a"}


# --- through Dagster ------------------------------------------------------------------------


def stub_mart(key: list[str], ddl: str, rows_sql: str) -> dg.AssetsDefinition:
    @dg.asset(key=key)
    def _mart(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as connection:
            connection.execute(ddl.replace("create table", "create or replace table"))
            connection.execute(rows_sql)

    return _mart


def stub_marts() -> list[dg.AssetsDefinition]:
    """Both marts, each with one event to alert."""
    anomalies = stub_mart(
        ["marts", "fct_sentiment_anomalies"],
        ANOMALIES_DDL,
        "insert into marts.fct_sentiment_anomalies values ('chat:2026-01-10', "
        "'2026-01-10', 'chat', 50, 31, 0.62, 0.11, 0.03, 0.02, 0.2, 28, 'above', 17)",
    )
    shifts = stub_mart(
        ["marts", "fct_sentiment_shifts"],
        SHIFTS_DDL,
        "insert into marts.fct_sentiment_shifts values ('conversation_drop:c-1', "
        "'conversation_drop', 'negative', 'alice', 'c-1', null, 'chat', 0.8, -0.6, -1.4, 1, "
        "-1, '2026-01-10 09:30', '2026-01-10', null)",
    )
    return [anomalies, shifts]


def test_the_checks_run_after_their_marts_in_a_dagster_run(tmp_path, receiver):
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
        "alerts": alerts_for(),
    }
    instance = dg.DagsterInstance.ephemeral()
    for run in range(2):
        result = dg.materialize(
            [*stub_marts(), *alert_checks], resources=resources, instance=instance
        )
        assert result.success
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert set(evaluations) == {"new_anomaly_alert", "large_negative_shift_alert"}
        if run == 0:
            assert not any(e.passed for e in evaluations.values())
            assert {e.severity for e in evaluations.values()} == {dg.AssetCheckSeverity.WARN}
        else:  # rebuilt with the same rows: nothing new
            assert all(e.passed for e in evaluations.values())
    assert len(receiver.requests) == 2


def test_the_resources_config_names_the_variable_and_never_holds_the_url(tmp_path, receiver):
    # What Dagster stores with a run and shows (launchpad, resource page) is the config: the
    # URL is not a field of it, only the name of the variable that holds it.
    alerts = alerts_for()
    fields = alerts.get_resource_definition().config_schema.as_field().config_type.fields
    assert "webhook_url" not in fields
    assert fields["webhook_url_env"].default_value == WEBHOOK_ENV
    assert alerts.model_dump()["webhook_url_env"] == WEBHOOK_ENV
    assert TOKEN not in json.dumps(alerts.model_dump())
    assert alerts.webhook() == receiver.url  # configured all the same, by the environment

    # A run that posts: neither its stored run nor its event log holds the URL.
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")), "alerts": alerts}
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([*stub_marts(), *alert_checks], resources=resources, instance=instance)
    assert result.success and len(receiver.requests) == 2
    run = instance.get_run_by_id(result.run_id)
    assert TOKEN not in json.dumps(run.run_config) and TOKEN not in str(run.tags)
    assert not [e for e in instance.all_logs(result.run_id) if TOKEN in str(e)]

    # Run config (the launchpad's) cannot pass a URL: there is no field to take it.
    with pytest.raises(dg.DagsterInvalidConfigError, match="webhook_url"):
        dg.materialize(
            [*stub_marts(), *alert_checks],
            resources=resources,
            instance=instance,
            run_config={"resources": {"alerts": {"config": {"webhook_url": receiver.url}}}},
        )


def test_a_url_in_the_variable_name_field_is_refused_without_showing_it(warehouse, receiver):
    add_anomaly(warehouse, "chat", date(2026, 1, 10))
    pasted = alerts_for(webhook_url_env=receiver.url)
    with pytest.raises(ValueError, match="name of an environment variable") as error:
        evaluate(ANOMALIES, warehouse, pasted)
    assert TOKEN not in str(error.value)
    assert receiver.requests == [] and alert_log(warehouse) == []
