"""The Comprehend engine against botocore's Stubber, which validates every request against
the real service model (the 25-document and 5,000-byte limits are the engine's own checks)."""

import time

import boto3
import pytest
from botocore.stub import Stubber

from orchestration.engines.base import ScoreFailure, SentimentScore
from orchestration.engines.comprehend import (
    MAX_DOCUMENT_BYTES,
    ComprehendConfigurationError,
    ComprehendEngine,
    billed_units,
    check_request,
    combine_pieces,
    normalize_language,
)
from orchestration.engines.rate_limit import SlidingWindowLimiter
from orchestration.text.pieces import cut_to_bytes, pack_pieces, utf8_len


def result(index, sentiment="POSITIVE", positive=0.9, negative=0.05, neutral=0.04, mixed=0.01):
    return {
        "Index": index,
        "Sentiment": sentiment,
        "SentimentScore": {
            "Positive": positive,
            "Negative": negative,
            "Neutral": neutral,
            "Mixed": mixed,
        },
    }


@pytest.fixture
def stubbed():
    client = boto3.client(
        "comprehend",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    engine = ComprehendEngine(
        client, max_concurrency=1, max_requests_per_second=1000, item_backoff_s=0
    )
    with Stubber(client) as stubber:
        yield engine, stubber
        stubber.assert_no_pending_responses()


def test_batches_hold_at_most_25_documents_of_one_language(stubbed):
    engine, stubber = stubbed
    texts = [f"text number {i}" for i in range(30)]
    stubber.add_response(
        "batch_detect_sentiment",
        {"ResultList": [result(i) for i in range(25)], "ErrorList": []},
        {"TextList": texts[:25], "LanguageCode": "de"},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [result(i, "NEGATIVE", 0.1, 0.8, 0.05, 0.05) for i in range(5)],
            "ErrorList": [],
        },
        {"TextList": texts[25:], "LanguageCode": "de"},
    )
    scores = engine.score_batch(texts, "de-DE")
    assert [s.polarity for s in scores] == [1] * 25 + [-1] * 5
    assert scores[0].score == pytest.approx(0.85) and scores[0].confidence == pytest.approx(0.9)
    assert engine.usage.calls == 2 and engine.usage.documents == 30
    assert engine.usage.billed_units == 30 * 3


def test_a_document_in_the_error_list_is_retried_alone_and_billed_once(stubbed):
    engine, stubber = stubbed
    texts = ["good", "flaky", "fine"]
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [result(0), result(2)],
            "ErrorList": [
                {"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"}
            ],
        },
        {"TextList": texts, "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {"ResultList": [result(0, "NEGATIVE", 0.0, 0.9, 0.1, 0.0)], "ErrorList": []},
        {"TextList": ["flaky"], "LanguageCode": "en"},
    )
    scores = engine.score_batch(texts, "en")
    assert all(isinstance(s, SentimentScore) for s in scores) and scores[1].polarity == -1
    assert (engine.usage.documents, engine.usage.item_retries, engine.usage.failed_documents) == (
        3,
        1,
        0,
    )


def test_a_document_that_keeps_failing_is_unscored_with_its_error_code(stubbed):
    engine, stubber = stubbed
    error = {
        "ResultList": [],
        "ErrorList": [{"Index": 0, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "x"}],
    }
    for _ in range(engine.item_attempts):
        stubber.add_response(
            "batch_detect_sentiment", error, {"TextList": ["doomed"], "LanguageCode": "en"}
        )
    (score,) = engine.score_batch(["doomed"], "en")
    assert isinstance(score, ScoreFailure) and score.status == "engine_error"
    assert score.reason.startswith("INTERNAL_SERVER_ERROR")
    assert (engine.usage.documents, engine.usage.failed_documents) == (0, 1)


@pytest.mark.parametrize(
    "code, hint",
    [
        ("AccessDeniedException", "comprehend:BatchDetectSentiment"),
        ("UnrecognizedClientException", "credentials"),
        ("ExpiredTokenException", "refresh"),
        ("InvalidRequestException", "invalid"),
    ],
)
def test_credential_permission_and_request_errors_fail_at_once(stubbed, code, hint):
    engine, stubber = stubbed
    stubber.add_client_error(
        "batch_detect_sentiment", service_error_code=code, http_status_code=400
    )
    with pytest.raises(ComprehendConfigurationError, match=hint):
        engine.score_batch(["hello"], "en")


def test_a_long_text_is_split_on_sentences_and_judged_whole(stubbed):
    engine, stubber = stubbed
    sentence = "The delivery was late and the box was damaged. "
    text = "Hello team. " + sentence * 200  # about 9.6 KB: two pieces
    pieces = pack_pieces(text, MAX_DOCUMENT_BYTES)
    assert len(pieces) == 2 and all(utf8_len(p) <= MAX_DOCUMENT_BYTES for p in pieces)
    assert pieces[0].startswith("Hello team.") and pieces[0].endswith("damaged.")
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                result(0, "NEUTRAL", 0.1, 0.2, 0.7, 0.0),
                result(1, "NEGATIVE", 0.0, 0.9, 0.1, 0.0),
            ],
            "ErrorList": [],
        },
        {"TextList": pieces, "LanguageCode": "en"},
    )
    (score,) = engine.score_batch([text], "en")
    weights = [len(p) for p in pieces]
    expected_negative = (0.2 * weights[0] + 0.9 * weights[1]) / sum(weights)
    assert score.negative == pytest.approx(expected_negative)
    assert score.score == pytest.approx((0.1 * weights[0]) / sum(weights) - expected_negative)
    assert engine.usage.billed_units == sum(billed_units(p) for p in pieces)


def test_unsupported_languages_and_empty_texts_are_never_sent(stubbed):
    engine, _ = stubbed
    assert not engine.supports("sv") and engine.supports("zh-TW") and engine.supports("pt-BR")
    (failure,) = engine.score_batch(["Det här är dåligt"], "sv")
    assert isinstance(failure, ScoreFailure) and failure.status == "unsupported_language"
    (empty,) = engine.score_batch(["   "], "en")
    assert isinstance(empty, ScoreFailure) and engine.usage.calls == 0


def test_the_engine_refuses_requests_over_the_service_limits():
    with pytest.raises(ValueError, match="1 to 25 documents"):
        check_request(["x"] * 26)
    with pytest.raises(ValueError, match="5000 bytes"):
        check_request(["é" * 2501])  # 2,501 characters, 5,002 bytes
    with pytest.raises(ValueError):
        check_request([""])
    check_request(["é" * 2500] * 25)


def test_pieces_count_bytes_and_cut_on_character_boundaries():
    emoji = "😡" * 2000  # 8,000 bytes, no spaces or sentence ends
    pieces = pack_pieces(emoji, MAX_DOCUMENT_BYTES)
    assert "".join(pieces) == emoji
    assert all(utf8_len(p) <= MAX_DOCUMENT_BYTES for p in pieces)
    assert cut_to_bytes("aé", 2) == "a"  # never half of "é"


def test_billed_units_and_language_codes():
    assert [billed_units("x" * n) for n in (1, 300, 301, 1000)] == [3, 3, 4, 10]
    assert [normalize_language(x) for x in (None, "en-US", "zh-Hant", "ZH-tw", "pt_BR")] == [
        "en",
        "en",
        "zh-TW",
        "zh-TW",
        "pt",
    ]


def test_combined_label_is_the_largest_combined_probability():
    score = combine_pieces(
        [result(0, "POSITIVE", 0.6, 0.3, 0.1, 0.0), result(1, "NEGATIVE", 0.0, 0.9, 0.1, 0.0)],
        [100, 300],
    )
    assert score.sentiment == "NEGATIVE" and score.polarity == -1
    assert score.confidence == pytest.approx((0.3 * 100 + 0.9 * 300) / 400)


def test_sliding_window_limiter_never_admits_more_than_the_cap_in_a_window():
    now = [0.0]
    starts = []

    def sleep(seconds):
        now[0] += seconds

    limiter = SlidingWindowLimiter(3, 1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter.acquire()
        starts.append(now[0])
        now[0] += 0.05
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) == 3
    assert starts[3] >= starts[0] + 1.0


def test_limiter_paces_requests_evenly_across_threads():
    import threading

    limiter = SlidingWindowLimiter(50, 1.0)  # 20 ms apart
    starts = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 20 and min(gaps) >= 0.019
