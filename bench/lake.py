"""The lake mode against the DuckDB file mode, end to end, in one invocation.

On the same generated messages (one Kustomer JSON Lines file per UTC day), each mode runs
``sentiment-warehouse run`` (the main job: ingest, score, dbt, publish, report) in its own
process on a fresh warehouse:

1. **Baseline, the DuckDB file mode**: sources and marts in the DuckDB file.
2. **The lake mode, local**: the same, with ``--lake <folder>``: the sources are also written
   as hive-partitioned Parquet, the models read them there and write the marts back as
   Parquet.
3. **The lake mode on S3** (``--s3``): the lake under ``s3://`` on moto's server, started by
   this process, so the upload and the reads go over HTTP.

It prints wall time, per-stage step seconds and peak memory of each, and the ratio of each
lake run to the baseline measured in the same invocation. Target: lake / file <= 1.3 at 1M.

    .venv/bin/python -m bench.lake [--messages 1000000] [--s3] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.daily import split_by_day
from bench.scale import RESULTS, measured, pipeline_command, run_stats

TARGET = 1.3


def run_mode(work: Path, folder: Path, name: str, lake: str | None, env: dict) -> dict:
    """One first run of the main job into a fresh warehouse, with or without a lake."""
    home = work / f"{name}_home"
    home.mkdir()
    command = pipeline_command(folder, work / f"{name}_warehouse.duckdb", home)
    if lake:
        command += ["--lake", lake]
    started = time.time()
    figures = measured(
        command, env | {"DBT_TARGET_PATH": str(work / f"{name}_dbt")}, work / f"{name}.log"
    )
    return figures | run_stats(home, started)


def lake_size_mib(root: Path) -> float:
    return round(sum(p.stat().st_size for p in root.rglob("*.parquet")) / 2**20, 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="file/lake pairs, alternated")
    parser.add_argument("--s3", action="store_true", help="also the lake on S3 (moto's server)")
    args = parser.parse_args(argv)

    from orchestration.sample.generator import iter_sample_lines

    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SENTIMENT_DBT_DOCS": "off",
    }
    env.pop("SENTIMENT_LAKE_ROOT", None)
    report: dict = {
        "messages": args.messages,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": [],
    }
    # removed only after a successful run: a failed run's logs stay for reading
    work = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    if True:
        folder = work / "messages"
        folder.mkdir()
        split_by_day(iter_sample_lines(args.messages, seed=7), folder)
        for index in range(args.rounds):
            round_dir = work / f"round{index}"
            round_dir.mkdir()
            # alternate the order, so neither mode always runs on a warmer page cache
            order = ["file", "lake"] if index % 2 == 0 else ["lake", "file"]
            figures = {}
            for mode in order:
                lake = str(round_dir / "lake") if mode == "lake" else None
                figures[mode] = run_mode(round_dir, folder, mode, lake, env)
            figures["lake"]["lake_mib"] = lake_size_mib(round_dir / "lake")
            for mode in order:
                database = round_dir / f"{mode}_warehouse.duckdb"
                figures[mode]["warehouse_mib"] = round(database.stat().st_size / 2**20, 1)
            figures["lake_over_file"] = round(
                figures["lake"]["seconds"] / figures["file"]["seconds"], 3
            )
            report["rounds"].append(figures)
            print(json.dumps(figures, indent=1), flush=True)
        if args.s3:
            report["s3"] = s3_round(work, folder, env)
            report["s3"]["lake_over_file"] = round(
                report["s3"]["seconds"] / report["rounds"][0]["file"]["seconds"], 3
            )
    shutil.rmtree(work)
    ratios = [r["lake_over_file"] for r in report["rounds"]]
    report["lake_over_file"] = {"each": ratios, "worst": max(ratios), "target": TARGET}
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lake-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwritten to {out}")
    return report


def s3_round(work: Path, folder: Path, env: dict) -> dict:
    from tests.fakes.s3_server import CREDENTIALS, REGION, MotoS3

    with MotoS3() as s3:
        bucket = s3.new_bucket("lake")
        s3_env = env | {
            "AWS_ENDPOINT_URL_S3": s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": REGION,
        }
        round_dir = work / "s3"
        round_dir.mkdir()
        figures = run_mode(round_dir, folder, "s3", f"s3://{bucket}/lake", s3_env)
        figures["objects"] = len(s3.keys(bucket))
    print(json.dumps(figures, indent=1), flush=True)
    return figures


def print_table(report: dict) -> None:
    print(f"\n{report['messages']:,} messages, {report['machine']}")
    print("| run | total | ingest | scoring | dbt+publish | peak RSS | lake / file |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for index, figures in enumerate(report["rounds"]):
        rows += [
            (f"{index + 1}: file", figures["file"], ""),
            (f"{index + 1}: lake", figures["lake"], f"{figures['lake_over_file']:.3f}"),
        ]
    if "s3" in report:
        rows.append(("lake on S3 (moto)", report["s3"], f"{report['s3']['lake_over_file']:.3f}"))
    for name, figures, ratio in rows:
        stages = figures["stages"]
        print(
            f"| {name} | {figures['seconds']:.1f} s | {stages['ingest']:.1f} s | "
            f"{stages['scoring']:.1f} s | {stages['dbt']:.1f} s | "
            f"{figures['peak_rss_mib']:,.0f} MiB | {ratio} |"
        )


if __name__ == "__main__":
    main()
