"""The Comprehend benchmark harness runs end to end on a tiny input (its figures are taken by
`make bench-comprehend`, not here: this only keeps the harness from rotting)."""

import json

from bench.comprehend import main


def test_comprehend_benchmark_runs_and_checks_its_targets(tmp_path):
    report = main(
        [
            "--messages",
            "300",
            "--latency-ms",
            "5",
            "--naive-seconds",
            "1",
            "--rps",
            "50",
            "--out",
            str(tmp_path),
        ]
    )
    clean, faults = report["scenarios"]
    for scenario in (clean, faults):
        assert scenario["cap_held"] and scenario["every_message_scored"]
        assert scenario["documents_billed_more_than_once"] == 0
        assert scenario["engine"]["billed_units"] <= scenario["naive"]["billed_units_for_all"]
    assert faults["throttled_requests"] > 0
    (written,) = tmp_path.glob("comprehend-*.json")
    assert json.loads(written.read_text())["scenarios"][0]["scenario"] == "clean"


def test_scale_benchmark_measures_every_stage_and_both_baselines(tmp_path):
    """`make bench` on 2,000 messages: every stage timed, both baselines measured in the same
    run, the rerun scores nothing."""
    from bench.scale import main as scale

    report = scale(["--sizes", "2000", "--out", str(tmp_path)])
    (run,) = report["runs"]
    pipeline = run["pipeline"]
    assert all(pipeline["stages"][stage] > 0 for stage in ("ingest", "scoring", "dbt"))
    assert pipeline["peak_rss_mib"] > 50 and pipeline["texts_scored"] > 500
    assert run["rerun"]["texts_scored"] == 0
    assert run["plain_script"]["seconds"] > 0 and run["plain_script"]["peak_rss_mib"] > 50
    assert run["vader_limit"]["texts"] == pipeline["texts_scored"]
    assert run["scoring_share_of_limit"] > 0
    assert (
        json.loads(next(tmp_path.glob("scale-*.json")).read_text())["runs"][0]["messages"] == 2000
    )


def test_kustomer_api_benchmark_measures_the_pull_against_its_minimum(tmp_path):
    """`make bench-kustomer` on 1,500 messages and 20 requests per 0.5 s: the minimum, the
    rate-limited pull and its rows are measured and agree with each other (the ratio itself is
    taken at full size, not here)."""
    from bench.kustomer_api import main as kustomer

    report = kustomer(
        ["--messages", "1500", "--limit", "20", "--window", "0.5", "--out", str(tmp_path)]
    )
    (run,) = report["rounds"]
    minimum, pull = run["minimum"], run["pull"]
    assert minimum["requests"] == sum(minimum["requests_by_kind"].values()) > 20
    assert minimum["windows"] >= 2 and minimum["seconds"] >= 0.5
    assert pull["requests"] >= minimum["requests"] and pull["rate_limit_waits"] >= 1
    assert pull["responses_429"] == 0 and set(pull["statuses"]) == {200}
    assert pull["seconds"] >= minimum["seconds"] and run["ratio"] >= 1
    assert run["rows_ok"] and run["unlimited_rows_ok"]
    for check in run["rows"].values():
        assert check["rows"] + check["rejected"] == check["served"] > 0
    assert run["rows"]["message"]["served"] == run["data"]["messages"]
    assert run["messages_only"]["pass_seconds"] >= run["messages_only"]["minimum_as_found_s"]
    (written,) = tmp_path.glob("kustomer-api-*.json")
    assert json.loads(written.read_text())["rounds"][0]["minimum"]["seconds"] > 0
