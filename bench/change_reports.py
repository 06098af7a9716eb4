"""What the sentiment-change reports cost at scale: the dbt stage with and without them.

On N generated messages (default 1M, one Kustomer JSON Lines file per UTC day):

1. **The pipeline**: ``sentiment-warehouse run`` (the main job) builds the warehouse. Every
   step's seconds come from the Dagster event log, so the topic scoring, the report and the
   alert checks are reported beside the dbt build.
2. **The dbt stage, twice over, on that warehouse**, alternating for ``--rounds`` rounds:

   - *baseline*: ``dbt build`` of every model that existed before the reports (all but
     ``REPORT_MODELS``) over all days, then publishing those marts;
   - *with reports*: ``dbt build`` of every model, publishing every mart, and writing the
     report; and, timed apart, ``dbt docs generate`` (forced here: a scheduled build
     regenerates the docs only when the dbt project changed).

   The target is *with reports* / *baseline* <= 1.25 (the best round of each), printed
   without and with the docs.
3. **The topic pass over the whole history** (``message_topics`` with its state and snippet
   cache emptied, as on a first run): Python work beside the scoring stage, reported against
   the pipeline's ``message_scores`` step.

Every ratio is between figures measured in this run, on this machine.

    .venv/bin/python -m bench.change_reports [--messages 1000000] [--rounds 2]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.daily import split_by_day
from bench.scale import RESULTS, measured, step_durations

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
# The models the reports added; the baseline builds every other one.
REPORT_MODELS = (
    "fct_sentiment_shifts",
    "agg_sentiment_weekly",
    "fct_sentiment_anomalies",
    "stg_support__message_topics",
    "fct_topic_sentiment",
    "agg_topic_sentiment_weekly",
)
TARGET_RATIO = 1.25


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per step key, summed over every run recorded in ``dagster_home``."""
    import dagster as dg

    seconds: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for record in instance.get_run_records():
            for step, took in step_durations(instance, record.dagster_run.run_id).items():
                seconds[step] = seconds.get(step, 0.0) + took
    return {key: round(value, 2) for key, value in sorted(seconds.items())}


def dbt(args: list[str], warehouse: Path, target: Path) -> float:
    """Run one dbt command on the warehouse; its wall seconds."""
    from orchestration.dbt_project import dbt_executable

    started = time.perf_counter()
    subprocess.run(
        [dbt_executable(), *args, "--target-path", str(target), "--quiet"],
        cwd=DBT_PROJECT,
        check=True,
        env={**os.environ, "SENTIMENT_WAREHOUSE_PATH": str(warehouse)},
    )
    return time.perf_counter() - started


def publish(warehouse: Path, published: Path) -> float:
    import duckdb

    from orchestration.publish import publish_marts

    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as connection:
        publish_marts(connection, published)
    return time.perf_counter() - started


def drop_report_models(warehouse: Path) -> None:
    """Remove the reports' relations, so the baseline publishes only the marts it built."""
    import duckdb

    with duckdb.connect(str(warehouse)) as connection:
        for schema, name, kind in connection.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
        ).fetchall():
            if name in REPORT_MODELS:
                what = "view" if kind == "VIEW" else "table"
                connection.execute(f'drop {what} "{schema}"."{name}"')


def write_the_report(warehouse: Path, work: Path) -> float:
    import duckdb

    from orchestration.reporting.build import write_report

    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        write_report(connection, work / "report.html")
    return time.perf_counter() - started


def topics_first_run(warehouse: Path) -> float:
    """Seconds of ``message_topics`` over the whole history, its state and cache emptied."""
    import dagster as dg
    import duckdb

    from orchestration.assets.topics import message_topics
    from orchestration.resources import build_resources

    with duckdb.connect(str(warehouse)) as connection:
        for table in (
            "raw.message_topics",
            "raw.topic_scans",
            "raw.topic_definitions",
            "raw.topic_snippet_scores",
        ):
            connection.execute(f"delete from {table}")
    os.environ["SENTIMENT_WAREHOUSE_PATH"] = str(warehouse)
    started = time.perf_counter()
    result = dg.materialize([message_topics], resources=build_resources())
    assert result.success
    return time.perf_counter() - started


def dbt_stage(warehouse: Path, work: Path, with_reports: bool) -> dict:
    from orchestration.assets.dbt import dbt_build_args, dbt_docs_args
    from orchestration.partitions import ALL_TIME
    from orchestration.resources import DEFAULT_MEMORY_LIMIT

    build = dbt_build_args(warehouse, ALL_TIME, DEFAULT_MEMORY_LIMIT)
    figures = {}
    if with_reports:
        figures["dbt_build"] = dbt(build, warehouse, work / "dbt_target")
        figures["publish"] = publish(warehouse, work / "published.duckdb")
        figures["report"] = write_the_report(warehouse, work)
        figures["total"] = sum(figures.values())
        docs = work / "docs"
        shutil.rmtree(docs, ignore_errors=True)
        docs.mkdir()
        shutil.copyfile(DBT_PROJECT / "target" / "manifest.json", docs / "manifest.json")
        figures["dbt_docs"] = dbt(dbt_docs_args(warehouse, DEFAULT_MEMORY_LIMIT), warehouse, docs)
        figures["total_with_docs"] = figures["total"] + figures["dbt_docs"]
    else:
        drop_report_models(warehouse)
        figures["dbt_build"] = dbt(
            [*build, "--exclude", *REPORT_MODELS], warehouse, work / "dbt_target"
        )
        figures["publish"] = publish(warehouse, work / "published.duckdb")
        figures["total"] = sum(figures.values())
    return {key: round(value, 2) for key, value in figures.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from orchestration.dbt_project import prepare_manifest
    from orchestration.sample.generator import iter_sample_lines

    prepare_manifest()
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        work = Path(tmp)
        folder, home = work / "messages", work / "dagster_home"
        folder.mkdir()
        home.mkdir()
        split_by_day(iter_sample_lines(args.messages, seed=7), folder)
        warehouse = work / "warehouse.duckdb"
        env = {
            **os.environ,
            "DBT_TARGET_PATH": str(work / "dbt_target"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        command = [sys.executable, "-m", "orchestration.cli", "run", "--source", str(folder)]
        command += ["--format", "kustomer", "--warehouse", str(warehouse)]
        command += ["--dagster-home", str(home)]
        pipeline = measured(command, env, work / "pipeline.log")
        pipeline["steps"] = step_seconds(home)

        rounds = []
        for _ in range(args.rounds):
            rounds.append(
                {
                    "baseline": dbt_stage(warehouse, work, with_reports=False),
                    "with_reports": dbt_stage(warehouse, work, with_reports=True),
                }
            )
        topics_seconds = round(topics_first_run(warehouse), 2)
        baseline = min(r["baseline"]["total"] for r in rounds)
        with_reports = min(r["with_reports"]["total"] for r in rounds)
        with_docs = min(r["with_reports"]["total_with_docs"] for r in rounds)
        scoring = pipeline["steps"].get("message_scores")
        report = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "messages": args.messages,
            "pipeline": pipeline,
            "rounds": rounds,
            "dbt_stage_baseline_seconds": baseline,
            "dbt_stage_with_reports_seconds": with_reports,
            "with_reports_over_baseline": round(with_reports / baseline, 3),
            "dbt_stage_with_reports_and_docs_seconds": with_docs,
            "with_reports_and_docs_over_baseline": round(with_docs / baseline, 3),
            "topics_first_run_seconds": topics_seconds,
            "topics_over_scoring_step": round(topics_seconds / scoring, 3) if scoring else None,
            "target": TARGET_RATIO,
        }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"change_reports_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    verdict = "met" if report["with_reports_over_baseline"] <= TARGET_RATIO else "MISSED"
    print(
        f"\ndbt stage at {args.messages:,} messages: baseline {baseline:.1f} s, with the reports "
        f"{with_reports:.1f} s = {report['with_reports_over_baseline']:.2f}x "
        f"(target <= {TARGET_RATIO}: {verdict}); with the docs generated too {with_docs:.1f} s = "
        f"{report['with_reports_and_docs_over_baseline']:.2f}x. Topic pass over the history: "
        f"{topics_seconds:.1f} s (the scoring step: {scoring} s). Results in {out}"
    )
    return report


if __name__ == "__main__":
    main()
