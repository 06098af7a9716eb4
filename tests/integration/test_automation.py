"""The daily schedule and the new-files sensor, evaluated against a tiny job partitioned like
the project's, on a local folder and on a real S3 API (moto's standalone server)."""

import json
import logging
from datetime import UTC, datetime

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from orchestration.automation import build_automation, daily_schedule, new_files_sensor
from orchestration.partitions import daily_partitions
from orchestration.resources import SourceResource

SECRET_BODY = "my card number is 4111 and I am furious"


@dg.asset(partitions_def=daily_partitions)
def tiny_asset() -> None:
    """Stands in for the project's assets: only the partitioning matters here."""


tiny_job = dg.define_asset_job("tiny_job", selection=[tiny_asset], partitions_def=daily_partitions)


def message(message_id: str, created_at: str, **extra) -> dict:
    return {
        "message_id": message_id,
        "conversation_id": "c1",
        "customer_id": "u1",
        "channel": "email",
        "direction": "in",
        "created_at": created_at,
        "body": SECRET_BODY,
    } | extra


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


TWO_DAYS = jsonl(
    message("m1", "2026-01-08T09:00:00Z"),
    message("m2", "2026-01-08T23:59:59Z"),
    message("m3", "2026-01-09T00:00:00Z"),
)
THIRD_DAY = message("m4", "2026-01-10T12:00:00Z")
# A rejected row (bad timestamp, missing field) must not touch a day.
REJECTED = jsonl(
    message("r1", "not a date"), {"message_id": "r2", "created_at": "2026-02-01T00:00:00Z"}
)
OTHER_FILE = jsonl(message("m5", "2026-01-09T10:00:00Z"), message("m6", "2026-01-11T10:00:00Z"))


# --- the schedule ----------------------------------------------------------------------------


@pytest.fixture
def schedule_env(monkeypatch):
    monkeypatch.delenv("SENTIMENT_SCHEDULE_HOUR", raising=False)
    monkeypatch.delenv("SENTIMENT_SCHEDULE_TIMEZONE", raising=False)
    return monkeypatch


def evaluate_schedule(when: datetime):
    schedule = daily_schedule(tiny_job)
    return schedule(dg.build_schedule_context(scheduled_execution_time=when))


def test_the_schedule_ticks_hourly_in_utc():
    schedule = daily_schedule(tiny_job)
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "tiny_job"


def test_the_schedule_runs_yesterday_at_the_configured_utc_hour(schedule_env):
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "2")
    result = evaluate_schedule(datetime(2026, 1, 10, 2, 0, tzinfo=UTC))
    assert isinstance(result, dg.RunRequest)
    assert result.partition_key == "2026-01-09"
    assert result.run_key == "daily-2026-01-09"


def test_the_schedule_skips_other_hours(schedule_env):
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "2")
    result = evaluate_schedule(datetime(2026, 1, 10, 3, 0, tzinfo=UTC))
    assert isinstance(result, dg.SkipReason)
    assert "02:00 UTC" in result.skip_message
    assert "2026-01-11T02:00:00+00:00" in result.skip_message


def test_the_hour_defaults_to_two_and_is_read_at_evaluation(schedule_env):
    schedule = daily_schedule(tiny_job)  # built before the setting changes
    at_two = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 1, 10, 2, tzinfo=UTC)
    )
    assert isinstance(schedule(at_two), dg.RunRequest)
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "5")
    assert isinstance(schedule(at_two), dg.SkipReason)
    at_five = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 1, 10, 5, tzinfo=UTC)
    )
    assert schedule(at_five).partition_key == "2026-01-09"


def test_the_schedule_follows_the_configured_time_zone(schedule_env):
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "2")
    schedule_env.setenv("SENTIMENT_SCHEDULE_TIMEZONE", "America/New_York")
    # 02:00 in New York in January (EST, UTC-5) is 07:00 UTC.
    assert isinstance(evaluate_schedule(datetime(2026, 1, 10, 2, tzinfo=UTC)), dg.SkipReason)
    result = evaluate_schedule(datetime(2026, 1, 10, 7, tzinfo=UTC))
    assert isinstance(result, dg.RunRequest)
    assert result.partition_key == "2026-01-09"

    # 20:00 in New York is 01:00 UTC the next day: "yesterday" is New York's, not UTC's.
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "20")
    result = evaluate_schedule(datetime(2026, 1, 11, 1, tzinfo=UTC))
    assert result.partition_key == "2026-01-09"
    skip = evaluate_schedule(datetime(2026, 1, 11, 2, tzinfo=UTC))
    assert "2026-01-11T20:00:00-05:00" in skip.skip_message


def test_the_schedule_runs_once_across_daylight_saving_changes(schedule_env):
    schedule_env.setenv("SENTIMENT_SCHEDULE_TIMEZONE", "America/New_York")

    def runs(hour: int, day: tuple[int, int, int]) -> list[str]:
        schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", str(hour))
        results = [evaluate_schedule(datetime(*day, h, tzinfo=UTC)) for h in range(24)]
        results += [
            evaluate_schedule(datetime(day[0], day[1], day[2] + 1, h, tzinfo=UTC)) for h in range(6)
        ]
        return [r.partition_key for r in results if isinstance(r, dg.RunRequest)]

    # 2026-03-08: 02:00 does not exist in New York; the run happens at 03:00 EDT instead.
    assert runs(2, (2026, 3, 8)) == ["2026-03-07"]
    # 2026-11-01: 01:00 happens twice; the run happens once.
    assert runs(1, (2026, 11, 1)) == ["2026-10-31"]


def test_bad_schedule_settings_fail_with_a_clear_message(schedule_env):
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "25")
    with pytest.raises(Exception, match="SENTIMENT_SCHEDULE_HOUR"):
        evaluate_schedule(datetime(2026, 1, 10, 2, tzinfo=UTC))
    schedule_env.setenv("SENTIMENT_SCHEDULE_HOUR", "2")
    schedule_env.setenv("SENTIMENT_SCHEDULE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(Exception, match="SENTIMENT_SCHEDULE_TIMEZONE"):
        evaluate_schedule(datetime(2026, 1, 10, 2, tzinfo=UTC))


# --- the sensor ------------------------------------------------------------------------------


def tick(sensor: dg.SensorDefinition, cursor: str | None, resources: dict):
    """One evaluation: (partition keys, run keys by partition, the new cursor)."""
    # Partitioned run requests are checked against the job, found through the definitions.
    defs = dg.Definitions(assets=[tiny_asset], jobs=[tiny_job], sensors=[sensor])
    with dg.build_sensor_context(cursor=cursor, resources=resources, definitions=defs) as context:
        data = sensor.evaluate_tick(context)
    keys = [request.partition_key for request in data.run_requests]
    assert len(keys) == len(set(keys)), "one run request per day"
    return keys, {r.partition_key: r.run_key for r in data.run_requests}, data.cursor


def assert_sensor_follows_files(sensor, resources, write, files_in_cursor):
    """The same story on any location; ``write(name, text)`` creates or replaces a file."""
    write("a.jsonl", TWO_DAYS + REJECTED)
    days, first_keys, cursor = tick(sensor, None, resources)
    assert days == ["2026-01-08", "2026-01-09"]
    assert files_in_cursor(cursor) == ["a.jsonl"]

    # No change: nothing to run, the cursor stays.
    days, _, again = tick(sensor, cursor, resources)
    assert days == []
    assert json.loads(again) == json.loads(cursor)

    # The file changes (a message on a third day): every day it touches runs again, new keys.
    write("a.jsonl", TWO_DAYS + REJECTED + jsonl(THIRD_DAY))
    days, keys, cursor = tick(sensor, cursor, resources)
    assert days == ["2026-01-08", "2026-01-09", "2026-01-10"]
    assert keys["2026-01-08"] != first_keys["2026-01-08"]
    assert keys["2026-01-09"] != first_keys["2026-01-09"]

    # A new file: only its days.
    write("b.jsonl", OTHER_FILE)
    days, _, cursor = tick(sensor, cursor, resources)
    assert days == ["2026-01-09", "2026-01-11"]
    assert files_in_cursor(cursor) == ["a.jsonl", "b.jsonl"]
    days, _, cursor = tick(sensor, cursor, resources)
    assert days == []
    return cursor


@pytest.fixture
def quiet_env(monkeypatch):
    monkeypatch.delenv("SENTIMENT_SOURCE_PATH", raising=False)
    monkeypatch.delenv("SENTIMENT_SOURCE_FORMAT", raising=False)
    return monkeypatch


def test_the_sensor_follows_a_local_folder(tmp_path, quiet_env, caplog):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "notes.csv").write_text("not a jsonl file\n")  # another format: ignored
    sensor = new_files_sensor(tiny_job)
    assert sensor.minimum_interval_seconds == 60
    resources = {"source": SourceResource(path=str(folder), format="jsonl"), "s3": S3Resource()}

    def write(name: str, text: str) -> None:
        path = folder / name
        before = path.stat().st_mtime_ns if path.exists() else None
        path.write_text(text)
        if before is not None and path.stat().st_mtime_ns == before:  # coarse clocks
            path.touch()

    def names(cursor: str) -> list[str]:
        return sorted(uri.rsplit("/", 1)[-1] for uri in json.loads(cursor))

    with caplog.at_level(logging.DEBUG):
        cursor = assert_sensor_follows_files(sensor, resources, write, names)
    assert SECRET_BODY not in caplog.text  # counts only, never message text

    # A file that vanishes drops out of the cursor, and starts nothing.
    (folder / "a.jsonl").unlink()
    days, _, cursor = tick(sensor, cursor, resources)
    assert days == []
    assert names(cursor) == ["b.jsonl"]


def test_the_sensor_skips_an_empty_location_and_keeps_its_cursor(tmp_path, quiet_env):
    sensor = new_files_sensor(tiny_job)
    resources = {"source": SourceResource(path=str(tmp_path), format="jsonl"), "s3": S3Resource()}
    with dg.build_sensor_context(cursor='{"x": "1"}', resources=resources) as context:
        data = sensor.evaluate_tick(context)
    assert data.run_requests == []
    assert "no files ending with" in data.skip_message
    assert data.cursor in (None, '{"x": "1"}')


def test_the_sensor_has_nothing_to_watch_with_the_kustomer_api_source(quiet_env):
    resources = {"source": SourceResource(format="kustomer_api"), "s3": S3Resource()}
    with dg.build_sensor_context(cursor='{"x": "1"}', resources=resources) as context:
        data = new_files_sensor(tiny_job).evaluate_tick(context)
    assert data.run_requests == []
    assert "Kustomer's API" in data.skip_message and "daily schedule" in data.skip_message


def test_the_sensor_reads_the_source_settings_from_the_environment(tmp_path, quiet_env):
    (tmp_path / "m.jsonl").write_text(TWO_DAYS)
    quiet_env.setenv("SENTIMENT_SOURCE_PATH", str(tmp_path))
    quiet_env.setenv("SENTIMENT_SOURCE_FORMAT", "jsonl")
    days, _, _ = tick(
        new_files_sensor(tiny_job), None, {"source": SourceResource(), "s3": S3Resource()}
    )
    assert days == ["2026-01-08", "2026-01-09"]


def test_days_outside_the_partitions_are_not_requested(tmp_path, quiet_env):
    (tmp_path / "m.jsonl").write_text(
        jsonl(message("old", "1999-06-01T00:00:00Z"), message("ok", "2026-01-08T00:00:00Z"))
    )
    resources = {"source": SourceResource(path=str(tmp_path), format="jsonl"), "s3": S3Resource()}
    days, _, _ = tick(new_files_sensor(tiny_job), None, resources)
    assert days == ["2026-01-08"]


def test_build_automation_fits_in_definitions():
    schedules, sensors = build_automation(tiny_job)
    defs = dg.Definitions(
        assets=[tiny_asset],
        jobs=[tiny_job],
        schedules=schedules,
        sensors=sensors,
        resources={"source": SourceResource(), "s3": S3Resource()},
    )
    dg.Definitions.validate_loadable(defs)
    assert [(s.name, s.job_name) for s in schedules] == [("tiny_job_daily", "tiny_job")]
    assert [(s.name, s.job_name) for s in sensors] == [("tiny_job_new_files", "tiny_job")]


# --- the sensor on S3 ------------------------------------------------------------------------


@pytest.fixture
def s3_endpoint(monkeypatch):
    """A real S3 API on a free local port (moto's standalone server), with dummy credentials."""
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_the_sensor_follows_an_s3_prefix(s3_endpoint, quiet_env):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="exports")
    # Outside the prefix, or of another format: never listed.
    client.put_object(Bucket="exports", Key="other/x.jsonl", Body=TWO_DAYS.encode())
    client.put_object(Bucket="exports", Key="kustomer-old/y.jsonl", Body=TWO_DAYS.encode())
    client.put_object(Bucket="exports", Key="kustomer/readme.txt", Body=b"hello")
    client.put_object(Bucket="exports", Key="kustomer/", Body=b"")  # a console's folder marker

    sensor = new_files_sensor(tiny_job)
    resources = {
        "source": SourceResource(path="s3://exports/kustomer", format="jsonl"),
        "s3": S3Resource(endpoint_url=s3_endpoint, region_name="us-east-1"),
    }

    def write(name: str, text: str) -> None:
        client.put_object(Bucket="exports", Key=f"kustomer/{name}", Body=text.encode())

    def names(cursor: str) -> list[str]:
        uris = sorted(json.loads(cursor))
        assert all(uri.startswith("s3://exports/kustomer/") for uri in uris)
        return [uri.rsplit("/", 1)[-1] for uri in uris]

    cursor = assert_sensor_follows_files(sensor, resources, write, names)

    # Overwritten with the same bytes: same ETag, nothing to run.
    write("b.jsonl", OTHER_FILE)
    days, _, cursor = tick(sensor, cursor, resources)
    assert days == []

    # Deleted: dropped from the cursor.
    client.delete_object(Bucket="exports", Key="kustomer/a.jsonl")
    days, _, cursor = tick(sensor, cursor, resources)
    assert days == []
    assert names(cursor) == ["b.jsonl"]


def test_an_s3_location_can_name_one_object(s3_endpoint, quiet_env):
    from orchestration.sources.location import list_source_files, local_copy

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="exports")
    client.put_object(Bucket="exports", Key="day/messages.jsonl", Body=TWO_DAYS.encode())
    client.put_object(Bucket="exports", Key="day/messages.jsonl.bak/x.jsonl", Body=b"{}\n")

    [file] = list_source_files("s3://exports/day/messages.jsonl", (".jsonl",), client)
    assert file.uri == "s3://exports/day/messages.jsonl"
    assert file.size == len(TWO_DAYS.encode())

    with local_copy(file, client) as path:
        assert path.name == "messages.jsonl"
        assert path.read_text() == TWO_DAYS
    assert not path.exists()  # the download is deleted afterwards

    # Overwritten after listing: the pinned download refuses the new version.
    client.put_object(Bucket="exports", Key="day/messages.jsonl", Body=OTHER_FILE.encode())
    with (
        pytest.raises(client.exceptions.ClientError, match="PreconditionFailed"),
        local_copy(file, client),
    ):
        pass

    days, _, _ = tick(
        new_files_sensor(tiny_job),
        None,
        {
            "source": SourceResource(path="s3://exports/day/messages.jsonl", format="jsonl"),
            "s3": S3Resource(endpoint_url=s3_endpoint, region_name="us-east-1"),
        },
    )
    assert days == ["2026-01-09", "2026-01-11"]

    with pytest.raises(FileNotFoundError, match="s3://exports/nothing/"):
        list_source_files("s3://exports/nothing", (".jsonl",), client)
