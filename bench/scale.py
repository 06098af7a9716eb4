"""The warehouse at scale, side by side with its two baselines, in one invocation.

For each size N (default 100k and 1M generated messages, one Kustomer JSON Lines file per UTC
day), on the same files:

1. **The pipeline**: ``sentiment-warehouse run`` (the main job) in its own process. Reported
   per stage (ingest, scoring, dbt incl. publish, total): wall seconds and messages per
   second, from the Dagster step events; and the peak resident memory of the whole process
   tree (the CLI, its step processes, scoring workers and dbt), sampled every 50 ms.
2. **The rerun**: the same command again with nothing new; it must score 0 texts.
3. **Baseline 1, the plain script** (``bench/plain_script.py``): pandas, VADER row by row,
   pandas groupbys; same wall-time and memory measurement.
4. **Baseline 2, the scoring limit** (``bench/vader_limit.py``): raw VADER on the texts the
   pipeline actually scored, one worker per core, nothing else.

Every ratio it prints is between figures measured in this run, on this machine.

    .venv/bin/python -m bench.scale [--sizes 100000 1000000] [--skip-plain]
"""

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.daily import split_by_day

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
STAGES = {
    "raw_messages": "ingest",
    "message_scores": "scoring",
    "message_entities": "scoring",
    "sentiment_dbt_models": "dbt",
    "published_marts": "dbt",
}
TARGETS = {
    "total_seconds_1m": 60,
    "peak_rss_gib_1m": 2,
    "scoring_share_of_limit": 0.85,
    "pipeline_over_plain": 0.6,
    "rerun_over_first": 0.15,
    "rss_1m_over_100k": 2,
}


class TreeMemory:
    """Peak resident memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.root, self.interval, self.peak = psutil.Process(pid), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for process in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def measured(command: list[str], env: dict[str, str], log: Path) -> dict:
    """Run ``command`` to completion; its wall seconds and the tree's peak RSS."""
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        memory = TreeMemory(process.pid)
        code = process.wait()
        peak = memory.stop()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{command[:4]} exited {code}; see {log}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(peak / 2**20, 1)}


def step_durations(instance, run_id: str) -> dict[str, float]:
    """Seconds from STEP_START to STEP_SUCCESS of each step key of one run."""
    import dagster as dg

    starts, seconds = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            seconds[event.step_key] = entry.timestamp - starts[event.step_key]
    return seconds


def run_stats(dagster_home: Path, since: float) -> dict:
    """Per-stage step seconds and texts scored, over the runs started after ``since``."""
    import dagster as dg

    stages = dict.fromkeys(["ingest", "scoring", "dbt"], 0.0)
    texts_scored = 0
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for record in instance.get_run_records():
            if record.create_timestamp.timestamp() < since:
                continue
            run_id = record.dagster_run.run_id
            for step, seconds in step_durations(instance, run_id).items():
                if step in STAGES:
                    stages[STAGES[step]] += seconds
            # A run over several days records the step once per day, with the same metadata.
            scores = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            for score in scores:
                materialization = score.event_log_entry.asset_materialization
                if materialization.asset_key == dg.AssetKey("message_scores"):
                    texts_scored += materialization.metadata["texts_scored"].value
                    break
    return {"stages": {k: round(v, 2) for k, v in stages.items()}, "texts_scored": texts_scored}


def scored_texts(warehouse: Path) -> list[str]:
    """The distinct cleaned texts the pipeline sent to the engine."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select any_value(cleaned_text) from raw.message_scores "
            "where status = 'scored' group by text_hash"
        ).fetchall()
    return [row[0] for row in rows]


def pipeline_command(folder: Path, warehouse: Path, home: Path) -> list[str]:
    """``sentiment-warehouse run`` (the main job) over a folder of Kustomer files."""
    return [
        sys.executable,
        "-m",
        "orchestration.cli",
        "run",
        "--source",
        str(folder),
        "--format",
        "kustomer",
        "--warehouse",
        str(warehouse),
        "--dagster-home",
        str(home),
    ]


def one_size(size: int, work: Path, skip_plain: bool) -> dict:
    from bench.vader_limit import vader_limit
    from orchestration.sample.generator import iter_sample_lines

    folder, home = work / "messages", work / "dagster_home"
    folder.mkdir()
    home.mkdir()
    split_by_day(iter_sample_lines(size, seed=7), folder)
    warehouse = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(work / "dbt_target"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = pipeline_command(folder, warehouse, home)
    first_started = time.time()
    first = measured(command, env, work / "first.log")
    first |= run_stats(home, first_started)
    rerun_started = time.time()
    rerun = measured(command, env, work / "rerun.log")
    rerun |= run_stats(home, rerun_started)

    plain = None
    if not skip_plain:
        plain = measured(
            [sys.executable, "-m", "bench.plain_script", str(folder), str(work / "plain")],
            env,
            work / "plain.log",
        )
    limit = vader_limit(scored_texts(warehouse))
    scoring_rate = first["texts_scored"] / first["stages"]["scoring"]
    result = {
        "messages": size,
        "pipeline": first,
        "rerun": rerun,
        "plain_script": plain,
        "vader_limit": limit,
        "per_stage_messages_per_second": {
            stage: round(size / seconds, 1) if seconds else None
            for stage, seconds in [*first["stages"].items(), ("total", first["seconds"])]
        },
        "scoring_texts_per_second": round(scoring_rate, 1),
        "scoring_share_of_limit": round(scoring_rate / limit["texts_per_second"], 3),
        "rerun_over_first": round(rerun["seconds"] / first["seconds"], 3),
        "pipeline_over_plain": round(first["seconds"] / plain["seconds"], 3) if plain else None,
    }
    return result


def print_table(report: dict) -> None:
    print(f"\n{'messages':>10} {'stage':>8} {'seconds':>8} {'msg/s':>10} {'peak MiB':>9}")
    for run in report["runs"]:
        first = run["pipeline"]
        rates = run["per_stage_messages_per_second"]
        for stage in ("ingest", "scoring", "dbt"):
            print(f"{run['messages']:>10,} {stage:>8} {first['stages'][stage]:>8} {rates[stage]!s:>10}")  # fmt: skip
        print(f"{run['messages']:>10,} {'total':>8} {first['seconds']:>8} {rates['total']!s:>10} {first['peak_rss_mib']:>9}")  # fmt: skip
        plain = run["plain_script"]
        if plain:
            print(f"{run['messages']:>10,} {'plain':>8} {plain['seconds']:>8} {'':>10} {plain['peak_rss_mib']:>9}  pipeline/plain {run['pipeline_over_plain']}x")  # fmt: skip
        print(f"{run['messages']:>10,} {'rerun':>8} {run['rerun']['seconds']:>8} texts scored {run['rerun']['texts_scored']}, rerun/first {run['rerun_over_first']}x")  # fmt: skip
        print(f"{run['messages']:>10,} scoring {run['scoring_texts_per_second']} texts/s vs VADER limit {run['vader_limit']['texts_per_second']} ({run['scoring_share_of_limit']:.0%})")  # fmt: skip
    if report.get("rss_largest_over_smallest"):
        print(f"peak memory, largest N / smallest N: {report['rss_largest_over_smallest']}x")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--skip-plain", action="store_true", help="leave out Baseline 1")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    runs = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as tmp:
            runs.append(one_size(size, Path(tmp), args.skip_plain))
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "targets": TARGETS,
        "runs": runs,
    }
    if len(runs) > 1:
        report["rss_largest_over_smallest"] = round(
            runs[-1]["pipeline"]["peak_rss_mib"] / runs[0]["pipeline"]["peak_rss_mib"], 2
        )
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print_table(report)
    print(f"results: {out}")
    return report


if __name__ == "__main__":
    main()
