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
