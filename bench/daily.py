"""The daily run's cost follows the new data, not the history.

For each history size (default 100k and 1M generated messages, one export file per day), the
history is loaded with a full load, then a new day of messages arrives as a new file and the
daily run (the schedule's job for that one partition) is timed; then that day is run again
(a rerun must score nothing). Both history sizes run in the same invocation, on the same
machine, so the ratio between them is measured side by side.

    .venv/bin/python -m bench.daily [--histories 100000 1000000] [--day-messages 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
RESULTS = Path(__file__).resolve().parent / "results"
END = datetime(2026, 1, 31, tzinfo=UTC)


def split_by_day(lines, folder: Path, id_prefix: str = "") -> int:
    """Write generated lines into one JSON Lines file per UTC day of createdAt."""
    handles: dict[str, object] = {}
    count = 0
    try:
        for line in lines:
            try:
                day = json.loads(line)["attributes"]["createdAt"][:10]
            except (ValueError, KeyError, TypeError):
                day = "malformed"
            if not DAY.fullmatch(day):  # the generator's deliberately bad timestamps
                day = "malformed"
            if id_prefix:
                line = line.replace('"msg_', f'"{id_prefix}msg_').replace(
                    '"conv_', f'"{id_prefix}conv_'
                )
            handle = handles.get(day)
            if handle is None:
                # One handle per day stays open for the whole pass; all are closed below.
                handle = handles[day] = open(folder / f"{day}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            handle.write(line + "\n")
            count += 1
    finally:
        for handle in handles.values():
            handle.close()
    return count


def timed_day(defs, instance, day: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = defs.resolve_job_def("sentiment_warehouse").execute_in_process(
        instance=instance, partition_key=day
    )
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"daily run of {day} failed")
    metadata = {}
    for event in result.get_asset_materialization_events():
        name = event.asset_key.to_user_string()
        if name in ("raw_messages", "message_scores"):
            metadata[name] = {
                k: v.value
                for k, v in event.materialization.metadata.items()
                if isinstance(v.value, int | float | str)
            }
    return seconds, metadata


def one_history(size: int, day_messages: int, work: Path) -> dict:
    import dagster as dg

    from orchestration.full_load import run_full_load
    from orchestration.sample.generator import iter_sample_lines

    folder = work / f"history-{size}"
    folder.mkdir()
    os.environ.update(
        {
            "SENTIMENT_SOURCE_PATH": str(folder),
            "SENTIMENT_SOURCE_FORMAT": "kustomer",
            "SENTIMENT_WAREHOUSE_PATH": str(work / f"warehouse-{size}.duckdb"),
            "DAGSTER_HOME": str(work / f"dagster-{size}"),
            "DBT_TARGET_PATH": str(work / f"dbt-{size}"),
        }
    )
    (work / f"dagster-{size}").mkdir()
    from orchestration.cli import ensure_instance

    ensure_instance(work / f"dagster-{size}")
    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    split_by_day(iter_sample_lines(size, seed=7, end=END, days=90), folder)
    started = time.perf_counter()
    results = run_full_load(defs, instance, folder, "kustomer")
    history_seconds = time.perf_counter() - started
    if not all(r.success for r in results):
        raise SystemExit("history load failed")

    new_day = END.date().isoformat()  # the day after the history's last day
    split_by_day(
        iter_sample_lines(day_messages, seed=99, end=END + timedelta(days=1), days=1),
        folder,
        id_prefix="new",
    )
    daily_seconds, daily = timed_day(defs, instance, new_day)
    rerun_seconds, rerun = timed_day(defs, instance, new_day)
    return {
        "history_messages": size,
        "history_load_seconds": round(history_seconds, 1),
        "day": new_day,
        "day_messages": day_messages,
        "daily_run_seconds": round(daily_seconds, 2),
        "daily_run": daily,
        "rerun_seconds": round(rerun_seconds, 2),
        "rerun_messages_scored": rerun.get("message_scores", {}).get("texts_scored"),
        "rerun_messages_processed": rerun.get("message_scores", {}).get("messages_processed"),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--day-messages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from orchestration.dbt_project import prepare_manifest

    prepare_manifest()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_history(size, args.day_messages, Path(tmp)) for size in args.histories]
    base, largest = runs[0], runs[-1]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "runs": runs,
        "largest_over_smallest_daily_run": round(
            largest["daily_run_seconds"] / base["daily_run_seconds"], 2
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"daily-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(
        f"{'history':>10} {'load s':>8} {'daily run s':>11} {'files read':>10} {'rerun s':>8} {'rerun scored':>12}"
    )
    for run in runs:
        ingest = run["daily_run"].get("raw_messages", {})
        print(f"{run['history_messages']:>10,} {run['history_load_seconds']:>8} {run['daily_run_seconds']:>11} "
              f"{ingest.get('files_read', '?'):>10} {run['rerun_seconds']:>8} {run['rerun_messages_scored']!s:>12}")  # fmt: skip
    print(f"daily run, largest history / smallest: {report['largest_over_smallest_daily_run']}x")
    print(f"results: {out}")
    return report


if __name__ == "__main__":
    main()
