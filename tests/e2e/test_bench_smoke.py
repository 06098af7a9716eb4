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
