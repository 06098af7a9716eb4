"""``sentiment-warehouse``: run the main job, or write the generated sample.

The run executes the same Definitions as the Dagster UI, on the Dagster instance in
``DAGSTER_HOME``, so CLI runs show in the UI's run history.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from .engines.routing import ENGINE_NAMES
from .sources import READERS
from .sources.location import is_s3
from .text.prepare import POLICIES


def _engines(value: str) -> str:
    names = [name.strip().lower() for name in value.split(",")]
    unknown = [name for name in names if name not in ENGINE_NAMES]
    if unknown or not value.strip():
        raise argparse.ArgumentTypeError(
            f"unknown engine {value!r}: choose from {', '.join(ENGINE_NAMES)}, comma-separated"
        )
    return ",".join(names)


ENV_BY_OPTION = {
    "source": "SENTIMENT_SOURCE_PATH",
    "format": "SENTIMENT_SOURCE_FORMAT",
    "warehouse": "SENTIMENT_WAREHOUSE_PATH",
    "lake": "SENTIMENT_LAKE_ROOT",
    "engine": "SENTIMENT_ENGINE",
    "text_policy": "SENTIMENT_TEXT_POLICY",
    "workers": "SENTIMENT_WORKERS",
    "comprehend_endpoint_url": "SENTIMENT_COMPREHEND_ENDPOINT_URL",
    "comprehend_max_rps": "SENTIMENT_COMPREHEND_MAX_RPS",
    "comprehend_concurrency": "SENTIMENT_COMPREHEND_CONCURRENCY",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sentiment-warehouse", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="ingest, score and build every table")
    run.add_argument("--source", help="input file or folder [$SENTIMENT_SOURCE_PATH]")
    run.add_argument(
        "--format",
        choices=[*sorted(READERS), "kustomer_api"],
        help="input format; kustomer_api pulls from Kustomer's API at $SENTIMENT_KUSTOMER_URL "
        "with the token in $KUSTOMER_API_TOKEN [$SENTIMENT_SOURCE_FORMAT, kustomer]",
    )
    run.add_argument(
        "--warehouse", help="DuckDB file [$SENTIMENT_WAREHOUSE_PATH, warehouse/sentiment.duckdb]"
    )
    run.add_argument(
        "--lake",
        help="lake mode: a folder or s3://bucket/prefix where the sources and marts are "
        "written as Parquet and the models read them [$SENTIMENT_LAKE_ROOT; none]",
    )
    run.add_argument(
        "--engine",
        type=_engines,
        help="sentiment engine: vader, comprehend, or both in order of preference "
        "(vader,comprehend: English locally, other languages on Comprehend) "
        "[$SENTIMENT_ENGINE, vader]",
    )
    run.add_argument(
        "--text-policy",
        choices=list(POLICIES),
        help="what is kept of message texts: full, redacted (personal data replaced) or none "
        "(only hashes and scores) [$SENTIMENT_TEXT_POLICY, redacted]",
    )
    run.add_argument(
        "--workers", type=int, help="scoring processes [$SENTIMENT_WORKERS, one per core]"
    )
    run.add_argument(
        "--comprehend-endpoint-url",
        help="Comprehend endpoint override [$SENTIMENT_COMPREHEND_ENDPOINT_URL]",
    )
    run.add_argument(
        "--comprehend-max-rps",
        type=float,
        help="cap on Comprehend requests per second [$SENTIMENT_COMPREHEND_MAX_RPS, 10]",
    )
    run.add_argument(
        "--comprehend-concurrency",
        type=int,
        help="Comprehend batches in flight [$SENTIMENT_COMPREHEND_CONCURRENCY, 8]",
    )
    run.add_argument(
        "--dagster-home", help="Dagster instance folder [$DAGSTER_HOME, .dagster_home]"
    )

    sample = commands.add_parser("sample", help="write the generated sample (Kustomer JSON Lines)")
    sample.add_argument(
        "--messages", type=int, default=5_000, help="number of lines (default 5000)"
    )
    sample.add_argument("--out", required=True, help="output file")
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    return parser


def apply_run_options(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """Turn options into the environment variables the resources read at run time.

    Paths become absolute so the dbt subprocess and the UI resolve them the same way.
    """
    for option, env_name in ENV_BY_OPTION.items():
        value = getattr(args, option)
        if value is None:
            continue
        if option in ("source", "warehouse") or (option == "lake" and not is_s3(value)):
            value = str(Path(value).resolve())
        environ[env_name] = str(value)
    home = args.dagster_home or environ.get("DAGSTER_HOME") or ".dagster_home"
    environ["DAGSTER_HOME"] = str(Path(home).resolve())


INSTANCE_CONFIG = Path(__file__).resolve().parent / "instance" / "dagster.yaml"


def ensure_instance(home: Path) -> None:
    """Create the Dagster instance folder; a new one gets the project's dagster.yaml (the
    warehouse writer pool, no telemetry). An existing configuration is left as it is."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG.read_text())


def run(args: argparse.Namespace) -> int:
    apply_run_options(args, os.environ)
    ensure_instance(Path(os.environ["DAGSTER_HOME"]))
    print(f"preparing the dbt project (DAGSTER_HOME={os.environ['DAGSTER_HOME']})", flush=True)
    from .dbt_project import prepare_manifest

    prepare_manifest()

    import dagster as dg

    from .definitions import defs
    from .full_load import run_full_load
    from .resources import SourceResource, WarehouseResource

    source = SourceResource()
    started = time.perf_counter()
    results = run_full_load(
        defs,
        dg.DagsterInstance.get(),
        source.location(),
        source.source_format(),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        say=lambda line: print(line, flush=True),
        warehouse=WarehouseResource(),
    )
    failed = [r for r in results if not r.success]
    if failed:
        print(f"run {failed[0].run_id} failed; see the messages above", file=sys.stderr)
        return 1
    from .report import format_summary
    from .reporting import ReportResource

    print(f"\n{len(results)} runs succeeded in {time.perf_counter() - started:.1f} s")
    warehouse = WarehouseResource()
    print(
        format_summary(
            warehouse.database_path(),
            os.environ["DAGSTER_HOME"],
            warehouse.published_database_path(),
            ReportResource().report_path(warehouse.database_path()),
            warehouse.docs_path() / "static_index.html" if warehouse.writes_docs() else None,
        )
    )
    return 0


def sample(args: argparse.Namespace) -> int:
    from .sample.generator import write_sample

    started = time.perf_counter()
    stats = write_sample(args.out, args.messages, seed=args.seed)
    print(
        f"wrote {stats.messages:,} messages ({stats.malformed} malformed lines), "
        f"{stats.conversations:,} conversations, {stats.customers:,} customers to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return {"run": run, "sample": sample}[args.command](args)


def console_main() -> int:
    """``sentiment-warehouse`` and ``python -m orchestration.cli``: :func:`main`, then exit."""
    code = main()
    sys.stdout.flush()
    # The final garbage collection of everything Dagster and dbt imported takes about a
    # second; frozen objects are left to the operating system, which reclaims them at once.
    # (Not in main(): a test calling it in-process would keep its objects forever.)
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
