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
