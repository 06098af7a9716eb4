"""Comprehend's asynchronous jobs end to end: materializations of the scoring asset against
the suite's fake Comprehend endpoint, which reads job input from and writes job output to
moto's S3 server (started once for this module), with faults injected; and the scoring
stage's switch to an engine's bulk path, with a local engine."""

from __future__ import annotations

import json
import os
from datetime import datetime

import dagster as dg
import duckdb
import pytest

import orchestration.scoring as scoring
from orchestration.assets.ingest import raw_messages
from orchestration.assets.scoring import message_scores
from orchestration.engines.base import ScoreFailure
from orchestration.engines.vader import VaderEngine
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.resources import ComprehendResource, EngineResource, build_resources
from orchestration.scoring import score_pending
from orchestration.sources.record import Message
from tests.conftest import partition_tags
from tests.fakes import FaultPlan
from tests.fakes.s3_server import MotoS3

ROLE = "arn:aws:iam::123456789012:role/comprehend-jobs"
LONG = (
    "I ordered a blue jacket for my sister's birthday and it never arrived. "
    "The tracking page said delivered, but nothing was at the door. "
    "Your support team was kind and quick to answer, which I appreciate. "
) * 60  # about 12 KB: three pieces of at most 5,000 bytes
ENGLISH = [
    "I love this product, thank you so much!",
    "The delivery was late again.\nVery disappointed.",
    "Where is my refund?\r\nI asked twice already.",
    "Great service\u2028and a friendly agent",
    "The app keeps crashing when I log in",
    "Thanks, that fixed it.",
    "This is the worst experience I have had with any shop.",
    "Could you check the status of my order please?",
    LONG,
    "Absolutely wonderful, five stars.",
    "The courier was rude and threw the parcel.",
    "Okay.",
] + [
    f"The {thing} was {mood}."
    for thing in ("package", "refund", "agent", "website", "invoice", "courier")
    for mood in ("great", "terrible", "fine", "slow")
]  # enough texts for more jobs than may be active at once
FOREIGN = [
    ("fr", "Le service client était excellent, merci beaucoup."),
    ("fr", "Ma commande est arrivée cassée, je suis très déçu."),
    ("de", "Die Lieferung war pünktlich und alles war perfekt."),
    ("de", "Das ist eine Katastrophe, niemand antwortet."),
]


def messages() -> list[dict]:
    """Two messages per text (the second repeats the first, so the cache sees repeats), in
    English, French and German."""
    rows = []
    texts = [("en", t) for t in ENGLISH] + FOREIGN
    for number, (language, body) in enumerate(texts * 2):
        rows.append(
            {
                "message_id": f"m{number:03d}",
                "conversation_id": f"c{number % 7}",
                "customer_id": f"u{number % 5}",
                "channel": "chat",
                "direction": "in",
                "created_at": f"2026-01-{2 + number % 3:02d}T10:{number % 60:02d}:00Z",
                "body": body,
                "language": language,
            }
        )
    return rows


@pytest.fixture(scope="module")
def moto_s3():
    with MotoS3() as server:
        yield server


@pytest.fixture
def async_env(isolated_env, fake_comprehend, moto_s3, monkeypatch):
    """The fake Comprehend, reading and writing job files on a fresh bucket of moto's S3."""
    source = isolated_env / "messages.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in messages()), encoding="utf-8")
    bucket = moto_s3.new_bucket("jobs")
    fake_comprehend.s3_endpoint_url = moto_s3.endpoint_url
    for name, value in {
        "SENTIMENT_SOURCE_PATH": str(source),
        "SENTIMENT_SOURCE_FORMAT": "jsonl",
        "SENTIMENT_COMPREHEND_MAX_RPS": "1000",
        "SENTIMENT_COMPREHEND_CONCURRENCY": "4",
        "SENTIMENT_COMPREHEND_ASYNC_S3_URI": f"s3://{bucket}/sentiment-jobs",
        "SENTIMENT_COMPREHEND_ROLE_ARN": ROLE,
        "SENTIMENT_S3_ENDPOINT_URL": moto_s3.endpoint_url,
        "SENTIMENT_COMPREHEND_ASYNC_THRESHOLD": "5",
    }.items():
        monkeypatch.setenv(name, value)
    return isolated_env, fake_comprehend, moto_s3, bucket


def run_scoring(max_lines: int = 4):
    """Ingest and score every day of the source, jobs of at most ``max_lines`` lines polled
    every few milliseconds."""
    resources = build_resources() | {
        "engine": EngineResource(
            comprehend=ComprehendResource(
                async_max_lines_per_job=max_lines, async_poll_initial_s=0.01, async_poll_max_s=0.04
            )
        )
    }
    return dg.materialize(
        [raw_messages, message_scores],
        resources=resources,
        instance=dg.DagsterInstance.get(),
        raise_on_error=False,
        tags=partition_tags(os.environ["SENTIMENT_SOURCE_PATH"], "jsonl"),
    )


def metadata(result) -> dict:
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("message_scores")
    )
    return {name: value.value for name, value in event.materialization.metadata.items()}


def scores(warehouse) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select message_id, status, status_reason, sentiment, positive, negative, neutral, "
            "mixed, score, polarity, confidence, engine from raw.message_scores"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def cached_texts(warehouse) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from raw.score_cache").fetchone()[0]


def test_async_jobs_give_every_message_the_scores_of_batch_calls(async_env, monkeypatch):
    tmp, fake, moto_s3, bucket = async_env
    # Batch calls: no async S3 URI, whatever the threshold.
    monkeypatch.setenv("SENTIMENT_COMPREHEND_ASYNC_S3_URI", "")
    monkeypatch.setenv("SENTIMENT_WAREHOUSE_PATH", str(tmp / "batch.duckdb"))
    batch = run_scoring()
    assert batch.success and fake.jobs == {}
    expected = scores(tmp / "batch.duckdb")
    batch_units = metadata(batch)["billed_units"]

    monkeypatch.setenv("SENTIMENT_COMPREHEND_ASYNC_S3_URI", f"s3://{bucket}/sentiment-jobs")
    monkeypatch.setenv("SENTIMENT_WAREHOUSE_PATH", str(tmp / "jobs.duckdb"))
    fake.reset_records()
    fake.plan = FaultPlan(job_in_progress_polls=2)  # jobs overlap, so the limit is reached
    jobs = run_scoring(max_lines=3)

    assert jobs.success
    assert not any(r.operation.startswith("BatchDetect") for r in fake.requests)
    found = scores(tmp / "jobs.duckdb")
    assert found.keys() == expected.keys() and len(found) == 2 * (len(ENGLISH) + len(FOREIGN))
    for message_id, row in expected.items():
        assert row[0] == "scored"
        assert found[message_id][:3] == row[:3]  # status, reason, sentiment
        assert found[message_id][3:] == pytest.approx(row[3:], abs=1e-12), message_id
    used = metadata(jobs)
    texts = len(ENGLISH) + len(FOREIGN)
    assert used["texts_scored"] == texts and used["duplicates_in_run"] == texts
    # The long text's three pieces are three lines of one job, as they were three documents.
    assert used["comprehend_job_lines"] == texts + 2
    assert used["comprehend_jobs_started"] == len(fake.jobs) > 10
    assert used["billed_units"] == batch_units and used["comprehend_jobs_failed"] == 0
    assert {job.language for job in fake.jobs.values()} == {"en", "fr", "de"}
    assert fake.max_active_jobs == 10 and not fake.violations
    assert max(fake.billed.values()) == 1
    sent = [text for text in fake.job_texts() if text is not None]
    assert not any(mark in text for text in sent for mark in "\r\n\u2028\u2029")

    rerun = run_scoring(max_lines=3)
    assert rerun.success and metadata(rerun)["texts_scored"] == 0
    assert metadata(rerun)["comprehend_jobs_started"] == 0
    assert moto_s3.keys(bucket) == []  # every job's files were deleted once stored


def test_error_lines_become_unscored_rows_with_their_code_and_are_sent_again(async_env):
    tmp, fake, _, _ = async_env
    fake.plan = FaultPlan(
        line_errors={"Okay.": "UNSUPPORTED_ENCODING"},
        dropped_lines={"Thanks, that fixed it."},
        line_as_string=True,
        output_members=2,
    )
    first = run_scoring()
    assert first.success
    rows = scores(tmp / "warehouse.duckdb")
    failed = {m: row[:2] for m, row in rows.items() if row[0] != "scored"}
    okay, thanks = ENGLISH.index("Okay."), ENGLISH.index("Thanks, that fixed it.")
    twice = len(ENGLISH) + len(FOREIGN)  # the second message of the same text
    assert set(failed) == {f"m{n:03d}" for n in (okay, okay + twice, thanks, thanks + twice)}
    assert failed[f"m{okay:03d}"] == ("engine_error", "UNSUPPORTED_ENCODING: Injected line error")
    reason = failed[f"m{thanks:03d}"][1]
    assert reason.startswith("no result in job ") and "'s output for line " in reason
    used = metadata(first)
    assert used["unscored_by_reason"] == {"engine_error": 4}
    assert {e["message_id"] for e in used["engine_errors"]} == set(failed)
    assert used["comprehend_job_line_errors"] == 1

    fake.plan = FaultPlan()
    jobs_before = len(fake.jobs)
    second = run_scoring()
    assert second.success
    assert metadata(second)["messages_processed"] == 4  # only the unscored ones
    assert len(fake.jobs) == jobs_before  # two texts, under the threshold: batch calls
    assert all(row[0] == "scored" for row in scores(tmp / "warehouse.duckdb").values())


@pytest.mark.parametrize(
    "plan, status, message",
    [
        (FaultPlan(failed_jobs={1: "NO_READ_ACCESS_TO_INPUT: injected"}), "FAILED", "injected"),
        (FaultPlan(stopped_jobs={1}), "STOPPED", "no message"),
    ],
)
def test_a_failed_job_is_reported_and_the_rerun_sends_only_its_texts(
    async_env, monkeypatch, plan, status, message
):
    tmp, fake, moto_s3, bucket = async_env
    fake.plan = plan
    failed = run_scoring()

    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    error = str(failure.event_specific_data.error)
    job = next(job for job in fake.jobs.values() if job.number == 1)
    assert f"job {job.job_id} (sentiment-" in error and f") {status}: " in error
    assert message in error
    assert "rerun sends only the texts without one" in error
    # Its input stays on S3 (only completed jobs' files are deleted): what it was to score.
    prefix = job.input_uri.removeprefix(f"s3://{bucket}/")
    client = moto_s3.client()
    unscored = [
        line
        for key in moto_s3.keys(bucket, prefix)
        for line in client.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    ]
    assert unscored
    # The other jobs' results were stored before the error was raised.
    stored = cached_texts(tmp / "warehouse.duckdb")
    texts = len(ENGLISH) + len(FOREIGN)
    assert 0 < stored < texts

    fake.plan = FaultPlan()
    monkeypatch.setenv("SENTIMENT_COMPREHEND_ASYNC_THRESHOLD", "0")  # through jobs again
    before = set(fake.jobs)
    rerun = run_scoring()
    assert rerun.success
    resent = [
        text for job_id, job in fake.jobs.items() if job_id not in before for text in job.texts
    ]
    assert sorted(resent) == sorted(unscored)
    assert stored + metadata(rerun)["texts_scored"] == texts
    assert max(fake.billed.values()) == 1  # nothing paid for twice
    assert all(row[0] == "scored" for row in scores(tmp / "warehouse.duckdb").values())


# --------------------------------------------------------------------------- the stage's hook


class BulkVader(VaderEngine):
    """VADER with a bulk path that records what it is given and fails the texts in ``fail``."""

    def __init__(self, threshold: int, fail: frozenset = frozenset()):
        super().__init__(workers=1)
        self.bulk_threshold = threshold
        self.fail = fail
        self.bulk_calls: list[dict[str, list[str]]] = []
        self.batch_texts = 0

    def score_batch(self, texts, language):
        self.batch_texts += len(texts)
        return super().score_batch(texts, language)

    def score_bulk(self, texts, store):
        self.bulk_calls.append({lang: [t for _, t in items] for lang, items in texts.items()})
        for language, items in texts.items():
            results = super().score_batch([text for _, text in items], language)
            failed = ScoreFailure("engine_error", "E: injected")
            store(
                language,
                [key for key, _ in items],
                [failed if t in self.fail else r for (_, t), r in zip(items, results, strict=True)],
            )


def load(connection, bodies: list[str]) -> None:
    load_messages(
        connection,
        [
            Message(
                message_id=f"m{i:03d}",
                conversation_id="c1",
                customer_id="u1",
                channel="chat",
                direction="in",
                created_at=datetime(2026, 1, 2, 9),
                updated_at=datetime(2026, 1, 2, 10),
                body=body,
                subject=None,
                language="en",
                source_name="f.jsonl",
                source_row=i,
            )  # fmt: skip
            for i, body in enumerate(bodies)
        ],
        [],
    )


@pytest.fixture
def connection(monkeypatch):
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 4)  # several chunks: texts are held across them
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        yield conn


BODIES = [
    f"message {word} was {mood}"
    for word in ("one", "two", "three")
    for mood in ("great", "awful", "fine")
]


def test_a_large_run_hands_every_missing_text_to_the_bulk_path_once(connection):
    load(connection, BODIES + BODIES[:3])  # 12 messages, 9 texts, repeats in other chunks
    engine = BulkVader(threshold=5, fail=frozenset({BODIES[1]}))
    stats = score_pending(connection, engine)
    ((sent,),) = [list(call.values()) for call in engine.bulk_calls]
    assert sorted(sent) == sorted(BODIES) and engine.batch_texts == 0
    assert (stats.texts_scored, stats.duplicates_in_run, stats.cache_hits) == (8, 3, 0)
    assert stats.scored_messages == 10 and stats.unscored == {"engine_error": 2}
    assert sorted(m for m, _ in stats.engine_errors) == ["m001", "m010"]
    rows = dict(connection.execute("select message_id, status from raw.message_scores").fetchall())
    assert rows["m001"] == rows["m010"] == "engine_error" and rows["m000"] == "scored"
    assert connection.execute(
        "select count(*) from raw.message_scores where status = 'scored' and score is null"
    ).fetchone() == (0,)


def test_a_run_at_or_under_the_threshold_uses_batches(connection):
    load(connection, BODIES[:5])
    engine = BulkVader(threshold=5)
    score_pending(connection, engine)  # 5 pending messages: not more than the threshold
    assert engine.bulk_calls == [] and engine.batch_texts == 5

    # 9 pending messages, but only 4 texts the cache does not hold: batches again.
    connection.execute("delete from raw.message_scores")
    load(connection, BODIES)
    engine = BulkVader(threshold=5)
    stats = score_pending(connection, engine)
    assert engine.bulk_calls == [] and engine.batch_texts == 4 and stats.cache_hits == 5
