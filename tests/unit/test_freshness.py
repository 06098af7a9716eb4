"""Freshness: the deadline rules, the checks against a Dagster instance, and the sensor."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from orchestration.automation import freshness
from orchestration.automation.freshness import (
    CHECK_NAME,
    FRESHNESS_HOUR_ENV,
    FreshnessResource,
    expected_partition,
    last_deadline,
    mart_verdict,
    partition_verdict,
    run_due,
)
from orchestration.definitions import defs

RAW = dg.AssetKey("raw_messages")
SCORES = dg.AssetKey("message_scores")
DAILY = dg.AssetKey(["marts", "agg_sentiment_daily"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "hour", "deadline", "partition"),
    [
        ("2026-03-10 09:00", 9, "2026-03-10 09:00", "2026-03-09"),
        ("2026-03-10 08:59", 9, "2026-03-09 09:00", "2026-03-08"),
        ("2026-03-10 23:30", 9, "2026-03-10 09:00", "2026-03-09"),
        ("2026-03-01 00:10", 0, "2026-03-01 00:00", "2026-02-28"),
        ("2026-03-01 00:10", 23, "2026-02-28 23:00", "2026-02-27"),
    ],
)
def test_the_deadline_and_the_partition_due_by_it(now, hour, deadline, partition):
    assert last_deadline(at(now), hour) == at(deadline)
    assert expected_partition(at(deadline)) == partition


def test_verdicts_say_what_is_missing_and_since_when():
    deadline = at("2026-03-10 09:00")
    missing = partition_verdict(deadline, None)
    assert not missing.passed and "2026-03-09" in missing.description
    late = partition_verdict(deadline, at("2026-03-10 11:00").timestamp())
    assert late.passed and "(late)" in late.description
    assert mart_verdict(deadline, at("2026-03-09 09:30").timestamp()).passed
    stale = mart_verdict(deadline, at("2026-03-09 08:30").timestamp())
    assert not stale.passed and "before 2026-03-09 09:00" in stale.description
    assert not mart_verdict(deadline, None).passed


def test_the_hour_is_read_when_used_and_bad_values_are_refused(monkeypatch):
    monkeypatch.delenv(FRESHNESS_HOUR_ENV, raising=False)
    assert FreshnessResource().deadline_hour() == 9
    monkeypatch.setenv(FRESHNESS_HOUR_ENV, "6")
    assert FreshnessResource().deadline_hour() == 6
    assert FreshnessResource(deadline_hour_utc=14).deadline_hour() == 14
    for bad in ("24", "nine", "-1"):
        monkeypatch.setenv(FRESHNESS_HOUR_ENV, bad)
        with pytest.raises(ValueError, match=FRESHNESS_HOUR_ENV):
            FreshnessResource().deadline_hour()


def test_the_sensor_runs_once_per_deadline_and_again_after_new_data():
    now = at("2026-03-10 09:05")
    due, cursor = run_due(now, 9, None, None)
    assert due
    assert run_due(now + timedelta(minutes=10), 9, cursor, None) == (False, cursor)
    landed = (now + timedelta(minutes=20)).timestamp()
    due, later = run_due(now + timedelta(minutes=30), 9, cursor, landed)
    assert due and later != cursor
    assert not run_due(now + timedelta(minutes=40), 9, later, landed)[0]
    assert run_due(now + timedelta(days=1), 9, later, landed)[0]  # the next deadline


def run_checks(instance, monkeypatch, now: datetime, hour: int) -> dict:
    monkeypatch.setattr(freshness, "utc_now", lambda: now)
    monkeypatch.setenv(FRESHNESS_HOUR_ENV, str(hour))
    checks = next(c for c in defs.asset_checks if c.node_def.name == "freshness_checks")
    result = dg.materialize(
        [checks],
        instance=instance,
        resources={"freshness": FreshnessResource()},
        selection=dg.AssetSelection.checks(checks),
    )
    assert result.success
    return {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK_NAME
    }


def test_the_checks_warn_until_yesterday_lands_then_pass(monkeypatch):
    with dg.instance_for_test() as instance:
        now = at("2026-03-10 10:00")
        # Nothing landed yet: every check warns, with the day it waited for.
        before = run_checks(instance, monkeypatch, now, 9)
        assert {"raw_messages", "message_scores", "marts/agg_sentiment_daily"} <= set(before)
        assert not any(e.passed for e in before.values())
        assert all(e.severity == dg.AssetCheckSeverity.WARN for e in before.values())
        assert "2026-03-09" in before["raw_messages"].description

        # The day before yesterday landing does not count; yesterday does.
        instance.report_runless_asset_event(dg.AssetMaterialization(RAW, partition="2026-03-08"))
        assert not run_checks(instance, monkeypatch, now, 9)["raw_messages"].passed
        for key in (RAW, SCORES):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(key, partition="2026-03-09")
            )
        instance.report_runless_asset_event(dg.AssetMaterialization(DAILY))
        after = run_checks(instance, monkeypatch, now, 9)
        assert after["raw_messages"].passed and after["message_scores"].passed
        assert after["marts/agg_sentiment_daily"].passed

        # A later deadline hour moves the deadline back to yesterday's, which wants 03-08.
        earlier_day = run_checks(instance, monkeypatch, now, 11)
        assert earlier_day["raw_messages"].passed
        assert not earlier_day["message_scores"].passed


def test_the_sensor_requests_the_checks_and_keeps_its_cursor(monkeypatch):
    sensor = defs.resolve_sensor_def("freshness_checks_sensor")
    monkeypatch.setattr(freshness, "utc_now", lambda: at("2026-03-10 09:05"))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, resources={"freshness": FreshnessResource(deadline_hour_utc=9)}
        )
        first = sensor(context)
        assert isinstance(first, dg.RunRequest)
        assert {key.name for key in first.asset_check_keys} == {CHECK_NAME}
        assert dg.AssetCheckKey(RAW, CHECK_NAME) in first.asset_check_keys
        assert isinstance(sensor(context), dg.SkipReason)
