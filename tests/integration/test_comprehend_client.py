"""The client the resource builds (retry mode, attempts, timeouts) against the fake endpoint."""

import time

import pytest

from orchestration.engines.base import ScoreFailure, SentimentScore
from orchestration.engines.comprehend import ComprehendConfigurationError
from orchestration.resources import ComprehendResource
from tests.fakes import FakeComprehend, FaultPlan


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


TEXTS = [f"message {i}: the delivery was {'great' if i % 2 else 'awful'}" for i in range(60)]


def test_server_errors_and_throttling_are_retried_by_botocore(credentials):
    with FakeComprehend(FaultPlan(server_error_rate=0.3, throttle_rate=0.2, seed=4)) as fake:
        engine = ComprehendResource(
            endpoint_url=fake.endpoint_url, max_requests_per_second=100, max_attempts=8
        ).build_engine()
        scores = engine.score_batch(TEXTS, "en")
        statuses = [r.status for r in fake.requests]
    assert all(isinstance(s, SentimentScore) for s in scores)
    assert 500 in statuses and 400 in statuses  # faults happened and were retried
    assert engine.usage.calls == 3  # botocore's retries are inside the three calls


def test_a_read_timeout_leaves_documents_unscored_not_lost(credentials):
    with FakeComprehend(FaultPlan(latency_s=0.5)) as fake:
        resource = ComprehendResource(
            endpoint_url=fake.endpoint_url,
            read_timeout_s=0.1,
            max_attempts=2,
            max_requests_per_second=100,
        )
        scores = resource.build_engine().score_batch(TEXTS[:3], "en")
        time.sleep(0.6)  # the fake records a request once it has answered it
        attempts = len(fake.requests)
    assert all(isinstance(s, ScoreFailure) and s.status == "engine_error" for s in scores)
    assert "timeout" in scores[0].reason.lower()
    assert attempts == 2  # the first attempt and one retry, as configured


def test_missing_credentials_fail_at_once_with_what_to_set(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never reach for an instance role here
    with FakeComprehend() as fake:
        engine = ComprehendResource(endpoint_url=fake.endpoint_url).build_engine()
        with pytest.raises(ComprehendConfigurationError, match="AWS_PROFILE"):
            engine.score_batch(["hello"], "en")
        assert fake.requests == []
