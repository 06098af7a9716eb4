"""Text preparation through the real job: personal data under each text policy (tables, the
published copy, Dagster's logs and event metadata, the engine's requests), and German
customer feedback (the GermEval 2017 data beside the checkout) with the local engine and
with the fake Comprehend endpoint."""

from __future__ import annotations

import csv
import json
import logging

import dagster as dg
import duckdb
import pytest

from orchestration.assets.ingest import raw_messages
from orchestration.assets.scoring import message_scores
from orchestration.definitions import defs
from orchestration.resources import build_resources
from tests.conftest import SHARED_DATA, partition_tags, strings_in_tables

GERMEVAL = SHARED_DATA / "germeval2017" / "dev.csv"
PERSONAL = {
    "email": "martin.keller@example.org",
    "phone": "+44 20 7946 0958",
    "card": "5555 5555 5555 4444",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "address": "42 Baker Street",
}


def kustomer(message_id, body, created, direction="in", subject=None, channel="email"):
    attributes = {
        "channel": channel,
        "direction": direction,
        "body": body,
        "createdAt": created,
        "updatedAt": created,
    }
    if subject:
        attributes["meta"] = {"subject": subject}
    return {
        "type": "message",
        "id": message_id,
        "attributes": attributes,
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": "conv-1"}},
            "customer": {"data": {"type": "customer", "id": "cust-1"}},
        },
    }


def personal_source(path):
    p = PERSONAL
    lines = [
        kustomer(
            "m1",
            f"<p>My card {p['card']} was charged twice and I am furious.</p>"
            f"<p>Send the refund to {p['iban']}, or call me on {p['phone']}.</p>"
            f"<p>Thanks, <a href='mailto:{p['email']}'>{p['email']}</a></p>",
            "2026-01-10T09:00:00Z",
            subject=f"Refund for {p['email']}",
        ),
        kustomer(
            "m2",
            f"The replacement never arrived at {p['address']}, London. Terrible service.",
            "2026-01-10T10:00:00Z",
            channel="chat",
        ),
        kustomer("m3", "We are sorry, a new parcel is on its way.", "2026-01-10T10:05:00Z", "out"),
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    # A line that breaks the contract still carries personal data into the quarantine.
    text += '\n{"type": "message", "id": "bad", "attributes": {"body": "' + p["email"] + '"\n'
    path.write_text(text)


@pytest.fixture
def comprehend(isolated_env, fake_comprehend, monkeypatch):
    monkeypatch.setenv("SENTIMENT_COMPREHEND_MAX_RPS", "200")
    return isolated_env, fake_comprehend


def strings_in_database(path) -> str:
    with duckdb.connect(str(path), read_only=True) as connection:
        return strings_in_tables(connection)


def found(values: dict[str, str], text: str) -> list[str]:
    squeezed = text.replace(" ", "")
    return [kind for kind, value in values.items() if value.replace(" ", "") in squeezed]


@pytest.mark.parametrize("policy", ["redacted", "none", "full"])
def test_personal_data_under_each_policy(comprehend, monkeypatch, caplog, policy):
    tmp, fake = comprehend
    source = tmp / "export.jsonl"
    personal_source(source)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_TEXT_POLICY", policy)
    instance = dg.DagsterInstance.get()
    caplog.set_level(logging.DEBUG)
    tags = partition_tags(source, "kustomer")
    if policy == "full":
        # The control: the same checks find the data when it is kept (ingest and scoring
        # are enough to show it).
        result = dg.materialize(
            [raw_messages, message_scores],
            resources=build_resources(),
            instance=instance,
            tags=tags,
        )
    else:
        job = defs.resolve_job_def("sentiment_warehouse")
        result = job.execute_in_process(instance=instance, tags=tags)
    assert result.success

    stored = strings_in_database(tmp / "warehouse.duckdb")
    sent = "\n".join(text for request in fake.requests for text in request.texts)
    logged = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [str(entry) for entry in instance.all_logs(result.run_id)]
    )
    if policy == "full":
        assert found(PERSONAL, stored) == list(PERSONAL)
        assert found(PERSONAL, sent) == list(PERSONAL)
        # Even when the warehouse keeps the text, no log line at INFO or above quotes it.
        logged_info = "\n".join(
            [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
            + [str(e) for e in instance.all_logs(result.run_id) if e.level >= logging.INFO]
        )
        assert "charged twice" not in logged_info and "never arrived" not in logged_info
        assert found(PERSONAL, logged_info) == []
        return
    assert found(PERSONAL, stored) == []
    assert found(PERSONAL, strings_in_database(tmp / "warehouse.published.duckdb")) == []
    assert found(PERSONAL, sent) == []
    assert found(PERSONAL, logged) == []
    assert "[CARD]" in sent and "[IBAN]" in sent and "[PHONE]" in sent
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        scores = connection.execute(
            "select message_id, status, score, cleaned_text from raw.message_scores "
            "order by message_id"
        ).fetchall()
        rejected = connection.execute(
            "select raw_content, raw_content_sha256 from raw.rejected_messages"
        ).fetchall()
        bodies = connection.execute("select body from raw.messages").fetchall()
    assert [(m, s) for m, s, _, _ in scores] == [
        ("m1", "scored"),
        ("m2", "scored"),
        ("m3", "scored"),
    ]
    assert scores[0][2] < 0 and scores[1][2] < 0  # still scored as the angry texts they are
    assert len(rejected) == 1 and len(rejected[0][1]) == 64
    if policy == "none":
        assert all(text is None for _, _, _, text in scores)
        assert all(body is None for (body,) in bodies)
        assert rejected[0][0] is None
    else:
        assert "[CARD]" in scores[0][3] and "[EMAIL]" in rejected[0][0]


def germeval_rows(limit: int | None = None) -> list[dict]:
    if not GERMEVAL.exists():
        pytest.skip(
            f"GermEval 2017 data not found at {GERMEVAL} (../shared/data is beside the checkout in CI)"
        )
    with GERMEVAL.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["relevance"] == "true"]
    return rows[:limit]


def germeval_source(path, rows):
    """German customer feedback as flat JSON Lines without a language: one customer (the
    feedback is about one company), one conversation per text."""
    with path.open("w", encoding="utf-8") as out:
        for number, row in enumerate(rows):
            record = {
                "message_id": f"g{number:05d}",
                "conversation_id": f"gc{number:05d}",
                "customer_id": "deutsche-bahn-feedback",
                "channel": "twitter" if row["source"] == "twitter" else "chat",
                "direction": "in",
                "created_at": f"2026-01-{1 + number % 28:02d}T10:00:00Z",
                "body": row["text"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_ingest_and_scoring(source):
    return dg.materialize(
        [raw_messages, message_scores],
        resources=build_resources(),
        instance=dg.DagsterInstance.get(),
        tags=partition_tags(source, "jsonl"),
    )


def test_german_feedback_ends_unsupported_with_the_local_engine(isolated_env, monkeypatch):
    rows = germeval_rows()
    source = isolated_env / "germeval.jsonl"
    germeval_source(source, rows)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    assert run_ingest_and_scoring(source).success
    with duckdb.connect(str(isolated_env / "warehouse.duckdb"), read_only=True) as connection:
        outcome = dict(
            connection.execute(
                "select status || ' ' || language, count(*) from raw.message_scores group by 1"
            ).fetchall()
        )
        neutral_german = connection.execute(
            "select count(*) from raw.message_scores where language = 'de' and status = 'scored'"
        ).fetchone()[0]
    total = sum(outcome.values())
    assert total == len(rows)
    assert neutral_german == 0  # never scored (as neutral or otherwise) by an English engine
    assert outcome.get("unsupported_language de", 0) >= 0.97 * total, outcome


def test_german_feedback_is_sent_to_comprehend_as_german(comprehend, monkeypatch):
    tmp, fake = comprehend
    rows = germeval_rows(400)
    source = tmp / "germeval.jsonl"
    germeval_source(source, rows)
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(source))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    assert run_ingest_and_scoring(source).success
    documents: dict[str | None, int] = {}
    for request in fake.requests:
        documents[request.language] = documents.get(request.language, 0) + request.documents
    assert documents.get("de", 0) >= 0.97 * sum(documents.values()), documents
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as connection:
        scored = connection.execute(
            "select count(*) from raw.message_scores where status = 'scored' and language = 'de'"
        ).fetchone()[0]
    assert scored >= 0.97 * len(rows)
