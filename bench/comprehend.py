"""Comprehend engine vs the naive loop, against the test suite's fake endpoint.

The naive loop is what a user would write: one ``DetectSentiment`` call per message, one at a
time. The engine is the real scoring stage (cleaning, text cache, ``BatchDetectSentiment`` in
batches of 25, ``max_concurrency`` in flight, the request-rate cap). Both talk to the same fake
endpoint over HTTP with the same latency per call, so the ratio is measured, not assumed.

    .venv/bin/python -m bench.comprehend [--messages 3000] [--latency-ms 50] [--rps 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import duckdb
from botocore.config import Config

from bench.fake_process import FakeComprehendProcess
from orchestration.engines.comprehend import ComprehendEngine, billed_units, normalize_language
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.sample.generator import write_sample
from orchestration.scoring import score_pending
from orchestration.sources import read_source
from orchestration.text.clean import clean_text
from tests.fakes import FaultPlan

RESULTS = Path(__file__).resolve().parent / "results"


def client(endpoint: str, pool: int):
    return boto3.client(
        "comprehend",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=pool
        ),
    )


def load(sample: Path, database: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(database))
    connection.execute(RAW_SCHEMA_DDL)
    load_messages(connection, read_source(sample, "kustomer"), [str(sample)])
    return connection


def naive_inputs(connection) -> list[tuple[str, str]]:
    """(text, language) per message, as a user's loop would send them: every message, cleaned."""
    rows = connection.execute(
        "select body, channel, language from raw.messages order by message_id"
    ).fetchall()
    inputs = []
    for body, channel, language in rows:
        text = clean_text(body, channel)
        if text:
            inputs.append((text, normalize_language(language)))
    return inputs


def run_naive(endpoint: str, inputs: list[tuple[str, str]], seconds: float) -> dict:
    """One DetectSentiment per message, sequentially, for at most ``seconds``."""
    naive = client(endpoint, 1)
    started = time.perf_counter()
    done = 0
    for text, language in inputs:
        naive.detect_sentiment(Text=text, LanguageCode=language)
        done += 1
        if time.perf_counter() - started > seconds:
            break
    elapsed = time.perf_counter() - started
    return {
        "messages_measured": done,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(done / elapsed, 1),
        "calls_for_all": len(inputs),
        "billed_units_for_all": sum(billed_units(text) for text, _ in inputs),
    }


def run_engine(endpoint: str, connection, rps: float, concurrency: int) -> dict:
    engine = ComprehendEngine(
        client(endpoint, concurrency), max_concurrency=concurrency, max_requests_per_second=rps
    )
    started = time.perf_counter()
    stats = score_pending(connection, engine)
    elapsed = time.perf_counter() - started
    statuses = dict(
        connection.execute("select status, count(*) from raw.message_scores group by 1").fetchall()
    )
    return {
        "messages": stats.messages,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(stats.messages / elapsed, 1),
        "documents_per_second": round(engine.usage.documents / elapsed, 1),
        "calls": engine.usage.calls,
        "documents": engine.usage.documents,
        "billed_units": engine.usage.billed_units,
        "documents_saved_by_cache": stats.cache_hits + stats.duplicates_in_run,
        "statuses": statuses,
    }


def scenario(
    name: str, plan: FaultPlan, sample: Path, work: Path, args, naive: dict | None
) -> dict:
    with FakeComprehendProcess(plan) as fake, load(sample, work / f"{name}.duckdb") as connection:
        inputs = naive_inputs(connection)
        if naive is None:
            naive = run_naive(fake.endpoint_url, inputs, args.naive_seconds)
            fake.reset()
        engine = run_engine(fake.endpoint_url, connection, args.rps, args.concurrency)
        records = fake.records()
        requests = [r for r in records.requests if r.operation == "BatchDetectSentiment"]
        busiest = records.max_requests_in_window("BatchDetectSentiment", 1.0)
        lengths = [len(text) for text, _ in inputs]
        return {
            "scenario": name,
            "fault_plan": {k: v for k, v in vars(plan).items() if v and k != "always_fail_texts"},
            "texts": {
                "messages_with_text": len(inputs),
                "mean_chars": round(statistics.mean(lengths), 1),
                "median_chars": statistics.median(lengths),
                "distinct_share": round(len(set(inputs)) / len(inputs), 3),
            },
            "naive": naive,
            "engine": engine,
            "speedup_messages_per_second": round(
                engine["messages_per_second"] / naive["messages_per_second"], 1
            ),
            "speedup_documents_per_second": round(
                engine["documents_per_second"] / naive["messages_per_second"], 1
            ),
            "max_requests_in_any_1s_window": busiest,
            "rps_cap": args.rps,
            "cap_held": busiest <= args.rps,
            "throttled_requests": sum(r.status in (400, 429) for r in requests),
            "documents_billed_more_than_once": sum(
                1 for n in records.billed_documents.values() if n > 1
            ),
            "limit_violations": len(records.violations),
            "every_message_scored": engine["statuses"].get("engine_error", 0) == 0,
            "billed_units_not_above_naive": engine["billed_units"] <= naive["billed_units_for_all"],
        }, naive


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rps", type=float, default=20.0, help="the engine's request-rate cap")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--naive-seconds", type=float, default=15.0, help="how long to time the naive loop"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)

    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample = work / "sample.jsonl"
        write_sample(sample, args.messages, seed=7)
        clean, naive = scenario("clean", FaultPlan(latency_s=latency), sample, work, args, None)
        faults, _ = scenario(
            "throttled_10pct_docs_fail_once_2pct",
            FaultPlan(latency_s=latency, throttle_rate=0.10, doc_fail_once_rate=0.02, seed=1),
            sample,
            work,
            args,
            naive,
        )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": __import__("os").cpu_count(), "python": platform.python_version()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "scenarios": [clean, faults],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"comprehend-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(
        f"{'scenario':<38} {'naive msg/s':>11} {'engine msg/s':>12} {'x':>6} {'docs/s x':>8} {'calls':>6} "
        f"{'naive calls':>11} {'units':>7} {'naive units':>11} {'max req/1s':>10} {'billed twice':>12}"
    )
    for s in report["scenarios"]:
        print(f"{s['scenario']:<38} {s['naive']['messages_per_second']:>11} {s['engine']['messages_per_second']:>12} "
              f"{s['speedup_messages_per_second']:>6} {s['speedup_documents_per_second']:>8} {s['engine']['calls']:>6} "
              f"{s['naive']['calls_for_all']:>11} {s['engine']['billed_units']:>7} {s['naive']['billed_units_for_all']:>11} "
              f"{s['max_requests_in_any_1s_window']:>10} {s['documents_billed_more_than_once']:>12}")  # fmt: skip
    print(f"\nresults: {out}")
    failed = [
        f"{s['scenario']}: {check}"
        for s in report["scenarios"]
        for check in ("cap_held", "every_message_scored", "billed_units_not_above_naive")
        if not s[check]
    ] + [
        f"{s['scenario']}: billed twice or limits broken"
        for s in report["scenarios"]
        if s["documents_billed_more_than_once"] or s["limit_violations"]
    ]
    if failed:
        raise SystemExit("targets missed: " + ", ".join(failed))
    return report


if __name__ == "__main__":
    main()
