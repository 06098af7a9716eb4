"""The asynchronous job client without a network: the input it writes, how it reads a job's
output back, and how it runs jobs (limit, backoff, failures, interruption) against an
in-memory Comprehend and S3 that follow the service's answers."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from botocore.exceptions import ClientError

from orchestration.engines.base import ScoreFailure, SentimentScore
from orchestration.engines.comprehend import (
    MAX_DOCUMENT_BYTES,
    ComprehendUsage,
    _documents,
    billed_units,
    combine_pieces,
)
from orchestration.engines.comprehend_jobs import (
    ComprehendJobError,
    ComprehendJobs,
    JobSettings,
    document_lines,
    map_back,
    plan_jobs,
    read_archive,
    split_s3_uri,
)
from orchestration.text.pieces import utf8_len
from tests.fakes.comprehend_server import hashed_sentiment

ROLE = "arn:aws:iam::123456789012:role/comprehend-jobs"
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
LONG = "The parcel came late and the box was crushed. " * 250  # ~11.5 KB: three pieces


def lines_of(job) -> list[str]:
    """Every line of a planned job's files, in order."""
    return [line.decode("utf-8") for part in job.files for line in part.content().split(b"\n")[:-1]]


# --------------------------------------------------------------------------- input


def test_line_breaks_inside_a_document_become_spaces():
    text = "first\r\nsecond\u2028third\u2029fourth\nfifth\x85sixth\vseventh"
    (line,) = document_lines(text)
    assert not any(mark in line for mark in LINE_BREAKS)
    assert line == "first  second third fourth fifth sixth seventh"
    assert len(line) == len(text)  # one character for one: weights and billed units unchanged
    assert line.splitlines() == [line]


def test_long_texts_are_cut_into_the_sync_engines_pieces():
    text = "Intro line.\n" + LONG + "\u2028" + "é" * 3000  # a sentence of 6,000 bytes at the end
    lines = document_lines(text)
    sync_pieces = [piece for _, piece in _documents([text])]
    assert len(lines) == len(sync_pieces) > 2
    assert lines == [
        piece.translate(str.maketrans(dict.fromkeys(LINE_BREAKS, " "))) for piece in sync_pieces
    ]
    assert all(utf8_len(line) <= MAX_DOCUMENT_BYTES for line in lines)
    assert [len(line) for line in lines] == [len(piece) for piece in sync_pieces]


def test_blank_texts_send_nothing():
    assert document_lines("  \n\u2028 ") == []


def test_jobs_hold_at_most_max_lines_and_never_split_a_text():
    texts = {
        "en": [("a", "good"), ("long", LONG), ("b", "bad"), ("c", "fine")],
        "fr": [("f", "bien")],
    }
    jobs = list(plan_jobs(texts, max_lines=4, lines_per_file=2))
    assert [(job.language, job.keys, job.line_count) for job in jobs] == [
        ("en", ["a", "long"], 4),
        ("en", ["b", "c"], 2),
        ("fr", ["f"], 1),
    ]
    first = jobs[0]
    assert list(first.starts) == [0, 1, 4]
    assert [(f.name, f.first_line, f.lines) for f in first.files] == [
        ("part-00000.txt", 0, 2),
        ("part-00001.txt", 2, 2),
    ]
    assert lines_of(first) == ["good", *document_lines(LONG)]
    assert list(first.chars) == [len(line) for line in lines_of(first)]


def test_files_are_cut_by_bytes_too_and_texts_too_long_for_a_job_are_rejected():
    longer = LONG * 3
    texts = {"en": [(str(i), "x" * 40) for i in range(5)] + [("long", longer), ("blank", " ")]}
    (job,) = plan_jobs(texts, max_lines=5, lines_per_file=100, max_file_bytes=100)
    assert [f.lines for f in job.files] == [2, 2, 1]  # 41 bytes a line, 100 bytes a file
    assert all(len(f.content()) == f.size <= 100 for f in job.files)
    assert [(key, failure.status) for key, failure in job.rejected] == [
        ("long", "engine_error"),
        ("blank", "empty"),
    ]
    pieces = len(document_lines(longer))
    assert f"{pieces} documents long, more than a job's 5 lines" in job.rejected[0][1].reason


def test_a_million_lines_is_the_default_job_size():
    assert JobSettings("s3://b/p", ROLE).max_lines_per_job == 1_000_000
    with pytest.raises(ValueError, match="S3 URI"):
        JobSettings("b/p", ROLE)
    with pytest.raises(ValueError, match="role"):
        JobSettings("s3://b/p", "")
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b/")


# --------------------------------------------------------------------------- output


def archive(*members: list[dict | str]) -> bytes:
    """An output.tar.gz whose members hold these lines (dicts as JSON, strings as they are)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for number, lines in enumerate(members):
            data = "".join(
                (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
            ).encode()
            info = tarfile.TarInfo("output" if number == 0 else f"output-{number}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def answer(file: str, line, text: str) -> dict:
    label, score = hashed_sentiment(text)
    return {"File": file, "Line": line, "Sentiment": label, "SentimentScore": score}


def expected(text: str) -> SentimentScore:
    """What the job client should make of a text, the way the sync engine combines pieces."""
    pieces = document_lines(text)
    results = [
        dict(zip(("Sentiment", "SentimentScore"), hashed_sentiment(p), strict=True)) for p in pieces
    ]
    return combine_pieces(results, [len(p) for p in pieces])


def planned(texts: list[str], lines_per_file: int = 2):
    (job,) = plan_jobs(
        {"en": [(f"k{i}", t) for i, t in enumerate(texts)]}, lines_per_file=lines_per_file
    )
    return job


def every_answer(job) -> list[dict]:
    lines = lines_of(job)
    return [
        answer(part.name, line, lines[part.first_line + line])
        for part in job.files
        for line in range(part.lines)
    ]


def test_every_line_maps_back_whatever_the_order_members_and_line_type():
    texts = ["good", LONG, "bad", "okay"]
    job = planned(texts)
    answers = every_answer(job)
    for record in answers[::2]:
        record["Line"] = str(record["Line"])  # some outputs write the line as a string
    # Two members, each in reverse order: the position in the archive means nothing.
    data = archive(answers[::2][::-1], answers[1::2][::-1])
    mapped = map_back(job, read_archive(data), "job1")
    assert mapped.results == [expected(t) for t in texts]
    assert mapped.lines_scored == job.line_count and mapped.line_errors == 0
    assert mapped.billed_units == sum(billed_units(line) for line in lines_of(job))


def test_error_lines_and_missing_lines_leave_their_texts_unscored_with_the_reason():
    texts = ["good", "bad", LONG, "fine", "meh"]
    job = planned(texts)
    answers = every_answer(job)
    answers[1] = {"File": "part-00000.txt", "Line": 1, "ErrorCode": "UNSUPPORTED_ENCODING",
                  "ErrorMessage": "not UTF-8"}  # fmt: skip
    del answers[3]  # the second piece of LONG: line 1 of part-00001.txt
    del answers[-1]  # "meh": line 0 of part-00003.txt
    answers += ["not json", {"File": "elsewhere.txt", "Line": 0, "Sentiment": "POSITIVE"},
                {"File": "part-00000.txt", "Line": 99, "Sentiment": "POSITIVE"}]  # fmt: skip
    mapped = map_back(job, read_archive(archive(answers)), "job1")
    good, bad, long, fine, meh = mapped.results
    assert good == expected("good") and fine == expected("fine")
    assert bad == ScoreFailure("engine_error", "UNSUPPORTED_ENCODING: not UTF-8")
    assert long == ScoreFailure(
        "engine_error", "no result in job job1's output for line 1 of part-00001.txt"
    )
    assert meh.status == "engine_error" and "line 0 of part-00003.txt" in meh.reason
    assert (mapped.line_errors, mapped.stray_lines) == (1, 3)


def test_a_failed_piece_fails_its_text_and_a_malformed_line_is_an_error():
    job = planned([LONG, "fine"])
    answers = every_answer(job)
    answers[2] = {"File": answers[2]["File"], "Line": answers[2]["Line"],
                  "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", "ErrorMessage": "too big"}  # fmt: skip
    answers[3]["SentimentScore"] = {"Positive": "high"}
    long, fine = map_back(job, read_archive(archive(answers)), "j").results
    assert long == ScoreFailure("engine_error", "DOCUMENT_SIZE_EXCEEDED: too big")
    assert fine.status == "engine_error" and "malformed" in fine.reason


# --------------------------------------------------------------------------- running jobs


class Clock:
    """Time that passes only when slept."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class MemoryS3:
    """put_object, get_object and delete_objects over a dict."""

    def __init__(self):
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket, Key, Body):  # noqa: N803 - boto3's names
        self.objects[(Bucket, Key)] = bytes(Body)

    def get_object(self, Bucket, Key):  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": Key}}, "GetObject")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def delete_objects(self, Bucket, Delete):  # noqa: N803
        for item in Delete["Objects"]:
            self.objects.pop((Bucket, item["Key"]), None)


class ScriptedComprehend:
    """Jobs that answer IN_PROGRESS ``polls`` times, then end as ``endings`` says (by start
    order; COMPLETED by default, answering every line from S3 with ``hashed_sentiment``)."""

    def __init__(self, s3: MemoryS3, clock: Clock, polls: int = 0, endings=None, start_error=None):
        self.s3, self.clock, self.polls = s3, clock, polls
        self.endings = endings or {}
        self.start_error = start_error  # (job number, error code): that Start fails
        self.jobs: dict[str, dict] = {}
        self.describes: list[tuple[str, float]] = []
        self.stopped: list[str] = []
        self.most_active = 0

    def start_sentiment_detection_job(self, **request):
        number = len(self.jobs)
        if self.start_error and self.start_error[0] == number:
            raise ClientError({"Error": {"Code": self.start_error[1], "Message": "no"}}, "Start")
        job_id = f"job{number}"
        self.jobs[job_id] = {
            "request": request,
            "number": number,
            "polls": self.polls,
            "status": "SUBMITTED",
        }
        active = sum(j["status"] in ("SUBMITTED", "IN_PROGRESS") for j in self.jobs.values())
        self.most_active = max(self.most_active, active)
        return {"JobId": job_id, "JobStatus": "SUBMITTED"}

    def describe_sentiment_detection_job(self, JobId):  # noqa: N803
        self.describes.append((JobId, self.clock.now))
        job = self.jobs[JobId]
        if job["polls"] > 0:
            job["polls"] -= 1
            job["status"] = "IN_PROGRESS"
        else:
            job["status"], message = self.endings.get(job["number"], ("COMPLETED", None))
            if job["status"] == "COMPLETED":
                job["output"] = self._answer(job["request"])
            elif message:
                job["Message"] = message
        properties = {
            "JobId": JobId,
            "JobStatus": job["status"],
            **{k: job[k] for k in ("Message",) if k in job},
        }
        if "output" in job:
            properties["OutputDataConfig"] = {"S3Uri": job["output"]}
        return {"SentimentDetectionJobProperties": properties}

    def stop_sentiment_detection_job(self, JobId):  # noqa: N803
        self.stopped.append(JobId)
        self.jobs[JobId]["status"] = "STOP_REQUESTED"

    def _answer(self, request) -> str:
        bucket, prefix = split_s3_uri(request["InputDataConfig"]["S3Uri"])
        assert request["InputDataConfig"]["InputFormat"] == "ONE_DOC_PER_LINE"
        records = []
        for (b, key), body in sorted(self.s3.objects.items()):
            if b == bucket and key.startswith(prefix):
                for line, text in enumerate(body.decode().split("\n")[:-1]):
                    records.append(answer(key.rsplit("/", 1)[-1], line, text))
        out_bucket, out_prefix = split_s3_uri(request["OutputDataConfig"]["S3Uri"])
        key = f"{out_prefix}123456789012-SENTIMENT-x/output/output.tar.gz"
        self.s3.objects[(out_bucket, key)] = archive(records)
        return f"s3://{out_bucket}/{key}"


def runner(polls=0, endings=None, start_error=None, **settings):
    clock, s3 = Clock(), MemoryS3()
    comprehend = ScriptedComprehend(s3, clock, polls, endings, start_error)
    options = {"max_lines_per_job": 2, "poll_initial_s": 1.0, "poll_max_s": 5.0} | settings
    jobs = ComprehendJobs(
        comprehend, s3, JobSettings("s3://bucket/async", ROLE, **options), ComprehendUsage(),
        sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    return jobs, comprehend, s3, clock


TEXTS = {"en": [(f"k{i}", f"text number {i}") for i in range(9)], "de": [("d", "gut")]}


def run(jobs, texts=TEXTS):
    stored: dict[str, object] = {}
    calls = []

    def store(language, keys, results):
        calls.append((language, list(keys)))
        stored.update(zip(keys, results, strict=True))

    return stored, calls, store


def test_jobs_score_every_text_store_per_job_and_clean_up():
    jobs, comprehend, s3, _ = runner()
    stored, calls, store = run(jobs)
    jobs.score(TEXTS, store)
    assert stored == {key: expected(text) for items in TEXTS.values() for key, text in items}
    assert calls[0] == ("en", ["k0", "k1"]) and len(calls) == 6  # one call per job
    assert [j["request"]["LanguageCode"] for j in comprehend.jobs.values()][-1] == "de"
    request = comprehend.jobs["job0"]["request"]
    assert request["DataAccessRoleArn"] == ROLE
    assert request["InputDataConfig"]["S3Uri"].startswith("s3://bucket/async/")
    assert s3.objects == {}  # inputs and outputs deleted once stored
    usage = jobs.usage
    assert (usage.jobs_started, usage.jobs_completed, usage.job_lines) == (6, 6, 10)
    assert usage.billed_units == 30 and usage.documents == 10


def test_at_most_max_active_jobs_run_at_once_and_polls_back_off():
    jobs, comprehend, _, clock = runner(polls=4, max_active_jobs=3)
    stored, _, store = run(jobs)
    jobs.score(TEXTS, store)
    assert len(stored) == 10 and comprehend.most_active == 3
    times = [at for job_id, at in comprehend.describes if job_id == "job0"]
    assert times == [1.0, 3.0, 7.0, 12.0, 17.0]  # 1, 2, 4, then capped at 5 s
    assert jobs.usage.job_wait_seconds == pytest.approx(clock.now)


@pytest.mark.parametrize(
    "status, message", [("FAILED", "NO_READ_ACCESS_TO_INPUT: access denied"), ("STOPPED", None)]
)
def test_a_failed_or_stopped_job_is_reported_after_the_others_are_stored(status, message):
    jobs, comprehend, _, _ = runner(polls=1, endings={1: (status, message)})
    stored, _, store = run(jobs)
    with pytest.raises(ComprehendJobError) as raised:
        jobs.score(TEXTS, store)
    text = str(raised.value)
    assert "job job1 (sentiment-" in text and status in text
    assert (message or "no message") in text and "rerun sends only" in text
    assert set(stored) == {key for items in TEXTS.values() for key, _ in items} - {"k2", "k3"}
    assert jobs.usage.jobs_failed == 1 and jobs.usage.jobs_completed == 5


def test_a_job_that_cannot_start_stops_new_starts_but_the_active_ones_are_stored():
    jobs, comprehend, s3, _ = runner(polls=2, start_error=(2, "AccessDeniedException"))
    stored, _, store = run(jobs)
    with pytest.raises(ComprehendJobError, match="iam:PassRole"):
        jobs.score(TEXTS, store)
    assert len(comprehend.jobs) == 2 and set(stored) == {"k0", "k1", "k2", "k3"}
    assert s3.objects == {}  # the unstarted job's input is deleted too: it holds message text


def test_an_interrupted_run_stops_its_active_jobs():
    jobs, comprehend, _, _ = runner(polls=1, max_active_jobs=4)

    def store(language, keys, results):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jobs.score(TEXTS, store)
    assert comprehend.stopped == ["job1", "job2", "job3"]  # job0's store was interrupted


def test_a_job_that_cannot_be_described_is_given_up_and_stopped():
    jobs, comprehend, _, _ = runner(max_poll_errors=2)

    def broken(JobId):  # noqa: N803
        raise ClientError({"Error": {"Code": "InternalServerException", "Message": "x"}}, "D")

    comprehend.describe_sentiment_detection_job = broken
    with pytest.raises(ComprehendJobError, match="could not be described 2 times"):
        jobs.score({"en": TEXTS["en"][:2]}, run(jobs)[2])
    assert comprehend.stopped == ["job0"]


# --------------------------------------------------------------------------- configuration


def test_the_resource_turns_jobs_on_with_an_s3_uri_and_a_role(monkeypatch):
    from orchestration.resources import ComprehendResource

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for name in ("SENTIMENT_COMPREHEND_ASYNC_S3_URI", "SENTIMENT_COMPREHEND_ROLE_ARN",
                 "SENTIMENT_COMPREHEND_ASYNC_THRESHOLD", "SENTIMENT_S3_ENDPOINT_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    off = ComprehendResource().build_engine()
    assert off.bulk_threshold is None and off.jobs is None

    monkeypatch.setenv("SENTIMENT_COMPREHEND_ASYNC_S3_URI", "s3://bucket/jobs")
    with pytest.raises(ValueError, match="SENTIMENT_COMPREHEND_ROLE_ARN"):
        ComprehendResource().build_engine()

    monkeypatch.setenv("SENTIMENT_COMPREHEND_ROLE_ARN", ROLE)
    on = ComprehendResource(async_max_active_jobs=3).build_engine()
    assert on.bulk_threshold == 100_000
    assert (on.jobs.bucket, on.jobs.prefix) == ("bucket", "jobs/")
    assert on.jobs.settings.max_active_jobs == 3 and on.jobs.usage is on.usage
    monkeypatch.setenv("SENTIMENT_COMPREHEND_ASYNC_THRESHOLD", "250000")
    assert ComprehendResource().build_engine().bulk_threshold == 250_000
    assert ComprehendResource(async_threshold=0).build_engine().bulk_threshold == 0
    metadata = on.usage_metadata()
    assert metadata["comprehend_jobs_started"] == 0 and "comprehend_job_lines" in metadata
