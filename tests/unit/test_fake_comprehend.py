"""The local fake Comprehend endpoint, exercised through real boto3 clients."""

from __future__ import annotations

import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.fakes.comprehend_server import FakeComprehend, FaultPlan, RequestRecord, sentiment_for

LABELS = {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}


def make_client(fake: FakeComprehend, max_attempts: int = 1, **config: object):
    """A boto3 Comprehend client pointed at ``fake`` (dummy credentials, bounded retries)."""
    return boto3.client(
        "comprehend",
        region_name="us-east-1",
        endpoint_url=fake.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(
            retries={"mode": "standard", "max_attempts": max_attempts}, **config
        ),
    )


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    """The AWS error code botocore parsed out of the response."""
    return excinfo.value.response["Error"]["Code"]


def assert_score_sums_to_one(score: dict[str, float]) -> None:
    """A ``SentimentScore`` has the four probabilities and they sum to 1."""
    assert set(score) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert all(0.0 <= value <= 1.0 for value in score.values())
    assert sum(score.values()) == pytest.approx(1.0)


@pytest.fixture
def fake():
    """A fault-free fake for the duration of one test."""
    with FakeComprehend() as server:
        yield server


def test_batch_sentiment_follows_the_text(fake):
    response = make_client(fake).batch_detect_sentiment(
        TextList=["I love this", "This is terrible"], LanguageCode="en"
    )
    results = response["ResultList"]
    assert [r["Index"] for r in results] == [0, 1]
    assert [r["Sentiment"] for r in results] == ["POSITIVE", "NEGATIVE"]
    for result in results:
        assert_score_sums_to_one(result["SentimentScore"])
    assert response["ErrorList"] == []
    assert fake.billed == {"I love this": 1, "This is terrible": 1}
    assert fake.requests[0].operation == "BatchDetectSentiment"
    assert fake.requests[0].documents == 2
    assert fake.requests[0].language == "en"
    assert fake.requests[0].status == 200


def test_detect_sentiment_single_document(fake):
    response = make_client(fake).detect_sentiment(Text="The weather report", LanguageCode="en")
    assert response["Sentiment"] == "NEUTRAL"
    assert_score_sums_to_one(response["SentimentScore"])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Absolutely wonderful service", "POSITIVE"),
        ("Awful, broken", "NEGATIVE"),
        ("A box", "NEUTRAL"),
    ],
)
def test_sentiment_mapping_takes_the_argmax(text, label):
    found, score = sentiment_for(text)
    assert found == label
    assert max(score, key=score.__getitem__).upper() == label
    assert_score_sums_to_one(score)


def test_more_than_25_documents_is_rejected_and_recorded(fake):
    with pytest.raises(ClientError) as excinfo:
        make_client(fake).batch_detect_sentiment(TextList=["fine"] * 26, LanguageCode="en")
    assert error_code(excinfo) == "BatchSizeLimitExceededException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(fake.violations) == 1
    assert "26 documents" in fake.violations[0]
    assert not fake.billed


def test_oversized_document_lands_in_error_list(fake):
    big = "a" * 5001
    response = make_client(fake).batch_detect_sentiment(
        TextList=["I love this", big], LanguageCode="en"
    )
    assert [r["Index"] for r in response["ResultList"]] == [0]
    assert response["ErrorList"] == [
        {"Index": 1, "ErrorCode": "TEXT_SIZE_LIMIT_EXCEEDED", "ErrorMessage": "Document too large"}
    ]
    assert any("5001 bytes" in v for v in fake.violations)
    assert big not in fake.billed


def test_limit_is_utf8_bytes_not_characters(fake):
    client = make_client(fake)
    with pytest.raises(ClientError) as excinfo:
        client.detect_sentiment(Text="é" * 2501, LanguageCode="en")  # 5,002 bytes
    assert error_code(excinfo) == "TextSizeLimitExceededException"
    client.detect_sentiment(Text="a" * 5000, LanguageCode="en")  # exactly at the limit


def test_empty_document_is_invalid(fake):
    client = make_client(fake, parameter_validation=False)  # botocore would refuse it first
    with pytest.raises(ClientError) as excinfo:
        client.batch_detect_sentiment(TextList=["fine", ""], LanguageCode="en")
    assert error_code(excinfo) == "InvalidRequestException"
    with pytest.raises(ClientError) as excinfo:
        client.batch_detect_sentiment(TextList=[], LanguageCode="en")
    assert error_code(excinfo) == "InvalidRequestException"
    assert len(fake.violations) == 2


def test_unsupported_language(fake):
    client = make_client(fake)
    with pytest.raises(ClientError) as excinfo:
        client.batch_detect_sentiment(TextList=["bonjour"], LanguageCode="xx")
    assert error_code(excinfo) == "UnsupportedLanguageException"
    with pytest.raises(ClientError) as excinfo:
        client.batch_detect_targeted_sentiment(TextList=["hola"], LanguageCode="es")
    assert error_code(excinfo) == "UnsupportedLanguageException"
    assert len(fake.violations) == 2


def test_unknown_operation_is_invalid_request(fake):
    with pytest.raises(ClientError) as excinfo:
        make_client(fake).detect_dominant_language(Text="hello")
    assert error_code(excinfo) == "InvalidRequestException"


def test_throttling_every_request():
    with (
        FakeComprehend(FaultPlan(throttle_rate=1.0)) as fake,
        pytest.raises(ClientError) as excinfo,
    ):
        make_client(fake).batch_detect_sentiment(TextList=["hi"], LanguageCode="en")
    assert error_code(excinfo) == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # botocore's ``max_attempts`` counts retries: 1 means one try plus one retry.
    assert [r.status for r in fake.requests] == [400, 400]


def test_botocore_retries_through_partial_throttling():
    # seed=1: the first request is throttled, the retry is not.
    with FakeComprehend(FaultPlan(throttle_rate=0.5, seed=1)) as fake:
        response = make_client(fake, max_attempts=5).batch_detect_sentiment(
            TextList=["I love this"], LanguageCode="en"
        )
    assert response["ResultList"][0]["Sentiment"] == "POSITIVE"
    statuses = [r.status for r in fake.requests]
    assert len(statuses) > 1
    assert statuses[-1] == 200
    assert set(statuses[:-1]) == {400}
    assert fake.billed["I love this"] == 1


def test_server_errors_are_500():
    with (
        FakeComprehend(FaultPlan(server_error_rate=1.0)) as fake,
        pytest.raises(ClientError) as excinfo,
    ):
        make_client(fake).detect_sentiment(Text="hi", LanguageCode="en")
    assert error_code(excinfo) == "InternalServerException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_documents_fail_once_then_succeed_and_bill_once():
    texts = ["I love this", "This is terrible", "Where is my order?"]
    with FakeComprehend(FaultPlan(doc_fail_once_rate=1.0)) as fake:
        client = make_client(fake)
        first = client.batch_detect_sentiment(TextList=texts, LanguageCode="en")
        second = client.batch_detect_sentiment(TextList=texts, LanguageCode="en")
    assert first["ResultList"] == []
    assert [e["ErrorCode"] for e in first["ErrorList"]] == ["INTERNAL_SERVER_ERROR"] * 3
    assert [r["Index"] for r in second["ResultList"]] == [0, 1, 2]
    assert second["ErrorList"] == []
    assert fake.billed == {text: 1 for text in texts}


def test_always_failing_text_never_succeeds():
    with FakeComprehend(FaultPlan(always_fail_texts={"poison"})) as fake:
        client = make_client(fake)
        for _ in range(2):
            response = client.batch_detect_sentiment(TextList=["ok", "poison"], LanguageCode="en")
            assert response["ErrorList"][0]["Index"] == 1
            assert response["ErrorList"][0]["ErrorCode"] == "INTERNAL_SERVER_ERROR"
    assert fake.billed == {"ok": 2}


def test_fatal_error_answers_every_request():
    with (
        FakeComprehend(FaultPlan(fatal_error="AccessDeniedException")) as fake,
        pytest.raises(ClientError) as excinfo,
    ):
        make_client(fake).batch_detect_sentiment(TextList=["hi"], LanguageCode="en")
    assert error_code(excinfo) == "AccessDeniedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_fatal_error_after_some_requests():
    plan = FaultPlan(fatal_error="UnrecognizedClientException", fatal_after_requests=2)
    with FakeComprehend(plan) as fake:
        client = make_client(fake)
        for _ in range(2):
            client.detect_sentiment(Text="fine", LanguageCode="en")
        with pytest.raises(ClientError) as excinfo:
            client.detect_sentiment(Text="fine", LanguageCode="en")
        assert error_code(excinfo) == "UnrecognizedClientException"
        fake.plan = FaultPlan()
        client.detect_sentiment(Text="fine", LanguageCode="en")


def test_latency_is_applied():
    with FakeComprehend(FaultPlan(latency_s=0.05)) as fake:
        client = make_client(fake)
        started = time.monotonic()
        client.detect_sentiment(Text="hi", LanguageCode="en")
        assert time.monotonic() - started >= 0.05


def test_max_requests_in_window_on_hand_made_times(fake):
    fake.requests.extend(
        RequestRecord(at=t, operation="DetectSentiment", documents=1, language="en", status=200)
        for t in [10.0, 10.2, 10.9, 11.0, 11.05, 13.0, 13.1]
    )
    assert fake.max_requests_in_window(1.0) == 4  # 10.0, 10.2, 10.9, 11.0
    assert fake.max_requests_in_window(0.5) == 3  # 10.9, 11.0, 11.05
    assert fake.max_requests_in_window(10.0) == 7
    fake.reset_records()
    assert fake.max_requests_in_window() == 0


def test_targeted_sentiment_entities_and_mentions(fake):
    text = "The courier was rude but the refund was quick"
    response = make_client(fake).batch_detect_targeted_sentiment(TextList=[text], LanguageCode="en")
    assert response["ErrorList"] == []
    (result,) = response["ResultList"]
    assert result["Index"] == 0
    mentions = {}
    for entity in result["Entities"]:
        assert entity["DescriptiveMentionIndex"] == [0]
        for mention in entity["Mentions"]:
            assert text[mention["BeginOffset"] : mention["EndOffset"]] == mention["Text"]
            assert mention["MentionSentiment"]["Sentiment"] in LABELS
            assert_score_sums_to_one(mention["MentionSentiment"]["SentimentScore"])
            mentions[mention["Text"]] = mention
    assert set(mentions) == {"courier", "refund"}
    assert mentions["courier"]["MentionSentiment"]["Sentiment"] == "NEGATIVE"
    assert mentions["courier"]["Type"] == "PERSON"
    assert mentions["refund"]["Type"] == "COMMERCIAL_ITEM"


def test_detect_targeted_sentiment_groups_repeated_mentions(fake):
    text = "I love Acme Corp. My order from Acme Corp was late and the order was damaged."
    response = make_client(fake).detect_targeted_sentiment(Text=text, LanguageCode="en")
    by_text = {e["Mentions"][0]["Text"]: e for e in response["Entities"]}
    assert set(by_text) == {"Acme Corp", "order"}
    assert len(by_text["Acme Corp"]["Mentions"]) == 2
    assert len(by_text["order"]["Mentions"]) == 2
    first_acme = by_text["Acme Corp"]["Mentions"][0]
    assert first_acme["MentionSentiment"]["Sentiment"] == "POSITIVE"


def test_concurrent_requests_are_all_recorded(fake):
    from concurrent.futures import ThreadPoolExecutor

    client = make_client(fake, max_pool_connections=16)
    texts = [f"Message number {i} is great" for i in range(64)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        labels = list(
            pool.map(
                lambda t: client.detect_sentiment(Text=t, LanguageCode="en")["Sentiment"], texts
            )
        )
    assert labels == ["POSITIVE"] * 64
    assert len(fake.requests) == 64
    assert sum(fake.billed.values()) == 64


# --------------------------------------------------------------------------- async jobs

ROLE = "arn:aws:iam::123456789012:role/comprehend-jobs"


@pytest.fixture(scope="module")
def moto_s3():
    """moto's S3 server, started once for the job tests of this module."""
    from tests.fakes.s3_server import MotoS3

    with MotoS3() as server:
        yield server


@pytest.fixture
def job_fake(moto_s3):
    """A fault-free fake that reads and writes job files on moto, and a fresh bucket."""
    with FakeComprehend(s3_endpoint_url=moto_s3.endpoint_url) as server:
        yield server, moto_s3.new_bucket()


def put_input(moto_s3, bucket: str, files: dict[str, bytes], prefix: str = "in/") -> str:
    client = moto_s3.client()
    for name, body in files.items():
        client.put_object(Bucket=bucket, Key=prefix + name, Body=body)
    return f"s3://{bucket}/{prefix}"


def start_job(client, bucket: str, input_uri: str, **overrides):
    request = {
        "InputDataConfig": {"S3Uri": input_uri, "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": f"s3://{bucket}/out/"},
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
        "JobName": "a-job",
    } | overrides
    return client.start_sentiment_detection_job(**request)


def wait_for_end(client, job_id: str, polls: int = 200) -> list[dict]:
    """Describe until the job ends; every answer's properties."""
    seen = []
    for _ in range(polls):
        properties = client.describe_sentiment_detection_job(JobId=job_id)[
            "SentimentDetectionJobProperties"
        ]
        seen.append(properties)
        if properties["JobStatus"] in ("COMPLETED", "FAILED", "STOPPED"):
            return seen
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not end")


def output_lines(moto_s3, uri: str) -> dict[str, list[dict]]:
    """The JSON lines of each member of a job's output archive."""
    import io
    import json
    import tarfile

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    data = moto_s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {
            member.name: [json.loads(line) for line in tar.extractfile(member)]
            for member in tar
            if member.isfile()
        }


def test_a_job_reads_its_input_from_s3_and_writes_output_like_the_service(job_fake, moto_s3):
    fake, bucket = job_fake
    big = ("word " * 1001).encode()  # 5,005 bytes
    uri = put_input(
        moto_s3,
        bucket,
        {
            "a.txt": b"I love this\nThis is terrible\n",
            "b.txt": b"Fine, thanks\n" + big + b"\n\xff\xfe broken\n",
        },
    )
    client = make_client(fake)
    started = start_job(client, bucket, uri)
    assert started["JobStatus"] == "SUBMITTED" and len(started["JobId"]) == 32
    (*_, final) = wait_for_end(client, started["JobId"])
    assert final["JobStatus"] == "COMPLETED" and final["JobName"] == "a-job"
    assert final["OutputDataConfig"]["S3Uri"] == (
        f"s3://{bucket}/out/123456789012-SENTIMENT-{started['JobId']}/output/output.tar.gz"
    )
    (lines,) = output_lines(moto_s3, final["OutputDataConfig"]["S3Uri"]).values()
    by_place = {(line["File"], line["Line"]): line for line in lines}
    assert by_place[("a.txt", 0)]["Sentiment"] == sentiment_for("I love this")[0] == "POSITIVE"
    assert by_place[("a.txt", 1)]["SentimentScore"] == sentiment_for("This is terrible")[1]
    assert by_place[("b.txt", 1)]["ErrorCode"] == "DOCUMENT_SIZE_EXCEEDED"
    assert by_place[("b.txt", 2)]["ErrorCode"] == "UNSUPPORTED_ENCODING"
    assert len(lines) == 5 and fake.billed == {
        "I love this": 1,
        "This is terrible": 1,
        "Fine, thanks": 1,
    }
    job = fake.jobs[started["JobId"]]
    assert job.files == ["a.txt", "b.txt"] and job.texts[-1] is None
    assert fake.max_active_jobs == 1 and fake.active_jobs() == 0 and not fake.violations
    assert fake.job_scoring_seconds > 0


def test_job_requests_are_validated_strictly(job_fake, moto_s3):
    fake, bucket = job_fake
    uri = put_input(moto_s3, bucket, {"a.txt": b"hello\n"})
    client = make_client(fake, parameter_validation=False)
    bad = [
        {"InputDataConfig": {"S3Uri": uri}},  # no InputFormat: the service would read files whole
        {"InputDataConfig": {"S3Uri": uri, "InputFormat": "ONE_DOC_PER_FILE"}},
        {"DataAccessRoleArn": "my-role"},
        {"LanguageCode": "sv"},
        {"OutputDataConfig": {"S3Uri": "http://elsewhere/"}},
    ]
    for overrides in bad:
        with pytest.raises(ClientError) as excinfo:
            start_job(client, bucket, uri, **overrides)
        assert error_code(excinfo) == "InvalidRequestException"
    request = {"OutputDataConfig": {"S3Uri": f"s3://{bucket}/out/"}, "LanguageCode": "en"}
    with pytest.raises(ClientError) as excinfo:
        client.start_sentiment_detection_job(**request)  # no input, no role
    assert error_code(excinfo) == "ValidationException"
    assert len(fake.violations) == 6 and fake.jobs == {}


def test_jobs_fail_stop_and_stay_in_progress_as_planned(job_fake, moto_s3):
    fake, bucket = job_fake
    fake.plan = FaultPlan(
        failed_jobs={0: "NO_READ_ACCESS_TO_INPUT: denied"},
        stopped_jobs={1},
        job_in_progress_polls=3,
    )
    uri = put_input(moto_s3, bucket, {"a.txt": b"hello\n"})
    client = make_client(fake)
    ids = [start_job(client, bucket, uri)["JobId"] for _ in range(3)]
    failed, stopped, slow = (wait_for_end(client, job_id) for job_id in ids)
    assert failed[-1]["JobStatus"] == "FAILED"
    assert failed[-1]["Message"] == "NO_READ_ACCESS_TO_INPUT: denied"
    assert stopped[-1]["JobStatus"] == "STOPPED" and "Message" not in stopped[-1]
    assert [p["JobStatus"] for p in slow][-4:] == ["IN_PROGRESS"] * 3 + ["COMPLETED"]
    assert fake.max_active_jobs == 3 and fake.active_jobs() == 0


def test_stop_and_list_jobs(job_fake, moto_s3):
    fake, bucket = job_fake
    fake.plan = FaultPlan(job_in_progress_polls=5)
    uri = put_input(moto_s3, bucket, {"a.txt": b"hello\n"})
    client = make_client(fake)
    first = start_job(client, bucket, uri, JobName="first")["JobId"]
    second = start_job(client, bucket, uri, JobName="second")["JobId"]
    assert client.stop_sentiment_detection_job(JobId=first)["JobStatus"] == "STOP_REQUESTED"
    assert wait_for_end(client, first)[-1]["JobStatus"] == "STOPPED"
    with pytest.raises(ClientError) as excinfo:
        client.stop_sentiment_detection_job(JobId=first)
    assert error_code(excinfo) == "InvalidRequestException"
    listed = client.list_sentiment_detection_jobs(Filter={"JobName": "second"})
    assert [p["JobId"] for p in listed["SentimentDetectionJobPropertiesList"]] == [second]
    every = client.list_sentiment_detection_jobs()["SentimentDetectionJobPropertiesList"]
    assert [p["JobStatus"] for p in every] == ["STOPPED", "SUBMITTED"]
    with pytest.raises(ClientError) as excinfo:
        client.describe_sentiment_detection_job(JobId="nope")
    assert error_code(excinfo) == "JobNotFoundException"


def test_line_faults_members_and_string_line_numbers(job_fake, moto_s3):
    fake, bucket = job_fake
    fake.plan = FaultPlan(
        line_errors={"two": "INTERNAL_SERVER_ERROR"},
        dropped_lines={"three"},
        output_members=2,
        line_as_string=True,
    )
    uri = put_input(moto_s3, bucket, {"a.txt": b"one\ntwo\nthree\nfour\n"})
    client = make_client(fake)
    final = wait_for_end(client, start_job(client, bucket, uri)["JobId"])[-1]
    members = output_lines(moto_s3, final["OutputDataConfig"]["S3Uri"])
    assert list(members) == ["output", "output-1"]
    lines = {line["Line"]: line for member in members.values() for line in member}
    assert sorted(lines) == ["0", "1", "3"]  # "three" (line 2) dropped
    assert lines["1"]["ErrorCode"] == "INTERNAL_SERVER_ERROR"
    assert fake.billed == {"one": 1, "four": 1}


def test_line_separators_inside_a_document_are_a_violation(job_fake, moto_s3):
    fake, bucket = job_fake
    uri = put_input(moto_s3, bucket, {"a.txt": "one\r\ntwo\u2028three\n".encode()})
    client = make_client(fake)
    wait_for_end(client, start_job(client, bucket, uri)["JobId"])
    assert len(fake.violations) == 2  # "one\r" and "two\u2028three"
    assert all("line separator" in violation for violation in fake.violations)


def test_active_jobs_are_counted_and_more_than_ten_refused(job_fake, moto_s3):
    fake, bucket = job_fake
    uri = put_input(moto_s3, bucket, {"a.txt": b"hello\n"})
    client = make_client(fake, max_attempts=0)
    ids = [start_job(client, bucket, uri)["JobId"] for _ in range(10)]
    assert fake.active_jobs() == 10 == fake.max_active_jobs
    with pytest.raises(ClientError) as excinfo:
        start_job(client, bucket, uri)
    assert error_code(excinfo) == "TooManyRequestsException"
    assert "11 active jobs > 10" in fake.violations[0]
    wait_for_end(client, ids[0])
    start_job(client, bucket, uri)  # a slot is free again
    assert fake.max_active_jobs == 10


def test_a_retried_start_with_the_same_token_starts_one_job(job_fake, moto_s3):
    fake, bucket = job_fake
    uri = put_input(moto_s3, bucket, {"a.txt": b"hello\n"})
    client = make_client(fake)
    first = start_job(client, bucket, uri, ClientRequestToken="token-1")
    again = start_job(client, bucket, uri, ClientRequestToken="token-1")
    assert first["JobId"] == again["JobId"] and len(fake.jobs) == 1


def test_the_hashed_scorer_is_deterministic_and_tells_texts_apart():
    from tests.fakes.comprehend_server import hashed_sentiment

    label, score = hashed_sentiment("some text")
    assert (label, score) == hashed_sentiment("some text") and label in LABELS
    assert_score_sums_to_one(score)
    assert len({tuple(hashed_sentiment(f"text {i}")[1].values()) for i in range(1000)}) == 1000
