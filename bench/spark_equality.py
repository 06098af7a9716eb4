"""The same marts on DuckDB and on Spark: build the sample both ways and compare every mart.

On N generated messages (default 100k), in a temporary folder:

1. **The warehouse**: ``sentiment-warehouse sample`` and ``sentiment-warehouse run`` (DuckDB
   file mode) score the sample into a DuckDB file.
2. **Kustomer's own tables**: the sample is a file export, so ``raw.conversations``,
   ``raw.customers`` and ``raw.entity_mentions`` are empty. Deterministic rows are planted in
   them (names, statuses in mixed case, channel and assignee lists, some empty or null, deleted
   tombstones, entities with several mentions and tied probabilities), so that the marts that
   join them, and the list columns, are compared too (``--no-plant`` leaves them empty).
3. **The lake**: every dbt source written as Parquet by the pipeline's own lake writer
   (``orchestration.lake.sync_lake``; a plain ``COPY`` of the same layout when that module
   is absent).
4. **DuckDB, lake mode**: ``dbt build --vars lake_root`` on a copy of the warehouse: sources
   from the lake, marts written to ``<lake>/marts/<model>.parquet``.
5. **Spark**: ``dbt build --target spark --vars lake_root``: a local PySpark session reading
   the same lake, marts as Parquet tables in its own warehouse folder.
6. **The comparison**, mart by mart, of the Parquet files each engine wrote (read back with
   DuckDB): the same columns, the same number of rows, rows matched by the mart's key (its
   unique test), and every value equal: numbers within 1e-9 (absolute or relative), strings,
   booleans, dates, timestamps and lists exactly. Timestamps must be naive (UTC) on both
   sides. The DuckDB file mode's marts (``dbt build`` on the warehouse itself, after the
   planting) are compared with the lake mode's the same way (``--no-file-mode`` skips it).

Exits 1 when any mart differs; every mismatch is listed (the first few values per column).
Needs Java 17 and ``pip install -e '.[spark]'``.

    .venv/bin/python -m bench.spark_equality [--messages 100000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
RESULTS = Path(__file__).resolve().parent / "results"
TOLERANCE = 1e-9
# Each mart's key (its unique test in the model YAML): rows are matched on it.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_message_sentiment": ("message_id",),
    "fct_conversation_sentiment": ("conversation_id",),
    "dim_customer_sentiment": ("customer_id",),
    "agg_sentiment_daily": ("day", "channel"),
    "agg_language_daily": ("day", "language"),
    "agg_sentiment_weekly": ("week_start", "channel"),
    "fct_entity_sentiment": ("message_id", "entity_index"),
    "fct_sentiment_shifts": ("shift_id",),
    "fct_sentiment_anomalies": ("anomaly_id",),
    "fct_topic_sentiment": ("message_id", "topic"),
    "agg_topic_sentiment_weekly": ("week_start", "topic"),
}
EXAMPLES = 5


def marts() -> list[str]:
    """Every mart of the dbt project."""
    return sorted(path.stem for path in (DBT_PROJECT / "models" / "marts").glob("*.sql"))


# -- building ---------------------------------------------------------------------------------


def _bin(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def _run(command: list[str], log: Path, env: dict[str, str], cwd: Path = REPO) -> float:
    """Run a command, its output appended to ``log``; its wall seconds. Fails loudly."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise RuntimeError(f"{command[0]} failed ({done.returncode}); the end of {log}:\n{tail}")
    return time.perf_counter() - started


def _base_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SENTIMENT_LAKE_ROOT", None)  # the pipeline runs in DuckDB file mode
    env.update(
        {
            "SENTIMENT_DBT_DOCS": "off",
            "DAGSTER_HOME": str(work / "dagster_home"),
            "DBT_TARGET_PATH": str(work / "dbt_target"),
            "DBT_LOG_PATH": str(work / "dbt_logs"),
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    )
    return env


def dbt_build(
    work: Path, name: str, dbt_vars: dict[str, str], log: Path, target: str | None = None
) -> float:
    """``dbt build`` (models and data tests) with its own target folder; its wall seconds."""
    command = [
        _bin("dbt"),
        "build",
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / f"dbt_{name}"),
        "--log-path",
        str(work / "dbt_logs"),
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(dbt_vars),
    ]
    if target:
        command += ["--target", target]
    return _run(command, log, _base_env(work), cwd=DBT_PROJECT)


def plant_kustomer_rows(connection) -> dict[str, int]:
    """Deterministic rows in the API source's tables, which a file export leaves empty."""
    connection.execute(
        """
        insert into raw.conversations
        with conversations as (
            select
                conversation_id,
                any_value(customer_id) as customer_id,
                list(distinct channel order by channel) as channels,
                count(*) as messages,
                min(created_at) as created_at,
                max(updated_at) as updated_at,
                row_number() over (order by conversation_id) as n
            from raw.messages
            group by conversation_id
        )
        select
            conversation_id,
            customer_id,
            case when n % 7 = 0 then null else 'Conversation ' || n end,
            ['OPEN', 'snoozed', 'Done'][n % 3 + 1],
            channels,
            case n % 5
                when 0 then []::varchar[]
                when 1 then null
                else ['user_' || (n % 7), 'user_' || (n % 11 + 7)]
            end,
            case when n % 4 = 0 then null else ['team_' || (n % 3)] end,
            cast(messages as integer),
            created_at,
            updated_at,
            n % 17 = 0,
            false,
            'redacted',
            timestamp '2026-01-01 00:00:00.123456'
        from conversations
        where n % 3 <> 2
        """
    )
    connection.execute(
        """
        insert into raw.customers
        with customers as (
            select distinct customer_id from raw.messages
        ), numbered as (
            select customer_id, row_number() over (order by customer_id) as n from customers
        )
        select
            customer_id,
            'Customer ' || n,
            case n % 3 when 0 then 'en_US' when 1 then 'de_DE' end,
            timestamp '2025-01-01 00:00:00' + n * interval 1 minute,
            timestamp '2026-01-01 00:00:00.5',
            n % 13 = 0,
            'redacted',
            timestamp '2026-01-01 00:00:00'
        from numbered
        where n % 2 = 0
        """
    )
    connection.execute(
        """
        insert into raw.entity_mentions
        with texts as (
            select text_hash, row_number() over (order by text_hash) as n
            from (
                select distinct text_hash from raw.message_scores
                where status = 'scored' and text_hash is not null
            )
        ), mentions as (
            select
                text_hash,
                n,
                entity_index,
                mention_index,
                -- class weights, some tied on purpose (n % 10 = 0: positive = negative)
                (n * 37 + entity_index * 11 + mention_index * 5) % 97 + 1 as w_pos,
                case when n % 10 = 0
                    then (n * 37 + entity_index * 11 + mention_index * 5) % 97 + 1
                    else (n * 53 + entity_index * 7 + mention_index * 3) % 89 + 1
                end as w_neg,
                (n * 29 + entity_index * 5) % 83 + 1 as w_neu,
                (n * 13 + mention_index) % 19 + 1 as w_mix
            from texts,
                range(cast(n % 3 + 1 as bigint)) as e(entity_index),
                range(cast(n % 2 + 1 as bigint)) as m(mention_index)
            where n % 4 = 0
        )
        select
            text_hash,
            cast(entity_index as integer),
            cast(mention_index as integer),
            'entity ' || entity_index || case when mention_index > 0 then ' (again)' else '' end,
            ['ORGANIZATION', 'commercial_item', 'Person'][(n + entity_index) % 3 + 1],
            'mention ' || mention_index,
            cast(mention_index * 10 as integer),
            cast(mention_index * 10 + 6 as integer),
            ['POSITIVE', 'NEGATIVE', 'NEUTRAL', 'MIXED'][(n + mention_index) % 4 + 1],
            w_pos / (w_pos + w_neg + w_neu + w_mix),
            w_neg / (w_pos + w_neg + w_neu + w_mix),
            w_neu / (w_pos + w_neg + w_neu + w_mix),
            w_mix / (w_pos + w_neg + w_neu + w_mix),
            (w_pos - w_neg) / (w_pos + w_neg + w_neu + w_mix),
            'comprehend',
            '2023-11-30',
            timestamp '2026-01-02 03:04:05.678901'
        from mentions
        """
    )
    return {
        table: connection.execute(f"select count(*) from raw.{table}").fetchone()[0]
        for table in ("conversations", "customers", "entity_mentions")
    }


def write_lake(connection, root: Path) -> str:
    """Write the dbt sources to the lake at ``root`` with the pipeline's own writer."""
    from orchestration.lake import sync_lake

    sync_lake(connection, str(root))
    return "orchestration.lake.sync_lake"


# -- comparing --------------------------------------------------------------------------------


@dataclass
class MartResult:
    mart: str
    rows: dict[str, int] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the largest difference between two numbers that were not exactly equal (0: none)
    max_abs_difference: float = 0.0

    @property
    def equal(self) -> bool:
        return not self.differences


def _read(connection, source: str) -> tuple[list[str], list[str], list[tuple]]:
    cursor = connection.execute(f"select * from {source}")
    names = [column[0] for column in cursor.description]
    types = [str(column[1]) for column in cursor.description]
    return names, types, cursor.fetchall()


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def values_equal(left: Any, right: Any) -> bool:
    """Equal, numbers within TOLERANCE (absolute or relative); timestamps must be naive."""
    if left is None or right is None:
        return left is None and right is None
    if _number(left) and _number(right):
        left, right = float(left), float(right)
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(left, datetime) or isinstance(right, datetime):
        return (
            isinstance(left, datetime)
            and isinstance(right, datetime)
            and left.tzinfo is None
            and right.tzinfo is None
            and left == right
        )
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(values_equal, left, right))
    if type(left) is not type(right) and not (isinstance(left, date) and isinstance(right, date)):
        return False
    return left == right


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row)


def compare_mart(
    mart: str, connection, left: tuple[str, str], right: tuple[str, str]
) -> MartResult:
    """Compare one mart read from two relations, ``(label, relation)`` each."""
    (left_label, left_source), (right_label, right_source) = left, right
    result = MartResult(mart)
    left_names, left_types, left_rows = _read(connection, left_source)
    right_names, right_types, right_rows = _read(connection, right_source)
    result.rows = {left_label: len(left_rows), right_label: len(right_rows)}
    if left_names != right_names:
        result.differences.append(f"columns differ: {left_names} vs {right_names}")
        return result
    for name, left_type, right_type in zip(left_names, left_types, right_types, strict=True):
        if left_type != right_type:
            result.notes.append(f"{name}: {left_type} vs {right_type}")
    if len(left_rows) != len(right_rows):
        result.differences.append(f"row counts differ: {len(left_rows)} vs {len(right_rows)}")
    key = MART_KEYS.get(mart, tuple(left_names))
    result.key = key
    positions = [left_names.index(column) for column in key]

    def index(rows: list[tuple], label: str) -> dict[tuple, tuple]:
        keyed: dict[tuple, tuple] = {}
        for row in rows:
            row_key = tuple(row[position] for position in positions)
            if row_key in keyed and key != tuple(left_names):
                result.differences.append(f"{label}: key {row_key} is not unique")
            keyed[row_key] = row
        return keyed

    if key == tuple(left_names):  # no key known: compare the rows sorted by every column
        pairs = list(
            zip(sorted(left_rows, key=_sort_key), sorted(right_rows, key=_sort_key), strict=False)
        )
        only_left, only_right = [], []
    else:
        left_index, right_index = index(left_rows, left_label), index(right_rows, right_label)
        only_left = sorted(set(left_index) - set(right_index), key=_sort_key)
        only_right = sorted(set(right_index) - set(left_index), key=_sort_key)
        pairs = [(left_index[k], right_index[k]) for k in left_index if k in right_index]
    for label, missing in ((left_label, only_left), (right_label, only_right)):
        if missing:
            result.differences.append(
                f"{len(missing)} keys only in {label}, e.g. {missing[:EXAMPLES]}"
            )
    for left_row, right_row in pairs:
        for a, b in zip(left_row, right_row, strict=True):
            if _number(a) and _number(b) and a != b:
                gap = abs(float(a) - float(b))
                result.max_abs_difference = max(result.max_abs_difference, gap)
    for column, name in enumerate(left_names):
        mismatched = [
            (pair[0][column], pair[1][column], [pair[0][p] for p in positions])
            for pair in pairs
            if not values_equal(pair[0][column], pair[1][column])
        ]
        if mismatched:
            examples = "; ".join(
                f"key {row_key}: {a!r} vs {b!r}" for a, b, row_key in mismatched[:EXAMPLES]
            )
            result.differences.append(f"{name}: {len(mismatched)} values differ ({examples})")
    return result


def compare_all(
    connection, left_label: str, left: dict[str, str], right_label: str, right: dict[str, str]
) -> list[MartResult]:
    return [
        compare_mart(mart, connection, (left_label, left[mart]), (right_label, right[mart]))
        for mart in marts()
    ]


def parquet_marts(folder_of: dict[str, str]) -> dict[str, str]:
    return {mart: f"read_parquet('{path}')" for mart, path in folder_of.items() if path is not None}


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Report:
    messages: int
    seconds: dict[str, float] = field(default_factory=dict)
    planted: dict[str, int] = field(default_factory=dict)
    lake_writer: str = ""
    spark: list[MartResult] = field(default_factory=list)
    file_mode: list[MartResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.equal for result in [*self.spark, *self.file_mode])


def run(
    messages: int,
    work: Path,
    plant: bool = True,
    file_mode: bool = True,
    echo=print,
) -> Report:
    """Build the sample on DuckDB and Spark under ``work`` and compare the marts."""
    import duckdb

    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    env = _base_env(work)
    report = Report(messages)
    sample, warehouse = work / "messages.jsonl", work / "warehouse.duckdb"
    lake, spark_dir = work / "lake", work / "spark"

    echo(f"[1/6] sample of {messages:,} messages and the DuckDB warehouse (file mode)")
    cli = _bin("sentiment-warehouse")
    report.seconds["sample"] = _run(
        [cli, "sample", "--messages", str(messages), "--out", str(sample)], log, env
    )
    report.seconds["pipeline"] = _run(
        [cli, "run", "--source", str(sample), "--format", "kustomer", "--warehouse",
         str(warehouse), "--dagster-home", str(work / "dagster_home")],
        log,
        env,
    )  # fmt: skip

    echo("[2/6] Kustomer conversations, customers and entity mentions" if plant else "[2/6] -")
    with duckdb.connect(str(warehouse)) as connection:
        if plant:
            report.planted = plant_kustomer_rows(connection)
    if file_mode:
        report.seconds["duckdb_file_build"] = dbt_build(
            work, "file", {"warehouse_path": str(warehouse)}, log
        )

    echo(f"[3/6] the lake at {lake}")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as connection:
        report.lake_writer = write_lake(connection, lake)
    report.seconds["lake_write"] = time.perf_counter() - started

    echo("[4/6] dbt build on DuckDB, lake mode")
    lake_warehouse = work / "lake_mode.duckdb"
    shutil.copy(warehouse, lake_warehouse)
    report.seconds["duckdb_lake_build"] = dbt_build(
        work, "duckdb_lake", {"warehouse_path": str(lake_warehouse), "lake_root": str(lake)}, log
    )

    echo("[5/6] dbt build on Spark")
    report.seconds["spark_build"] = dbt_build(
        work, "spark", {"lake_root": str(lake), "spark_dir": str(spark_dir)}, log, "spark"
    )

    echo("[6/6] comparing the marts")
    started = time.perf_counter()
    duckdb_lake = {mart: str(lake / "marts" / f"{mart}.parquet") for mart in marts()}
    spark_tables = spark_dir / "warehouse" / "marts.db"
    spark = {mart: str(spark_tables / mart / "*.parquet") for mart in marts()}
    with duckdb.connect() as connection:
        report.spark = compare_all(
            connection,
            "duckdb",
            parquet_marts(duckdb_lake),
            "spark",
            parquet_marts(spark),
        )
    if file_mode:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            report.file_mode = compare_all(
                connection,
                "duckdb_file",
                {mart: f"marts.{mart}" for mart in marts()},
                "duckdb_lake",
                parquet_marts(duckdb_lake),
            )
    report.seconds["compare"] = time.perf_counter() - started
    report.seconds = {key: round(value, 1) for key, value in report.seconds.items()}
    return report


def print_report(report: Report, echo=print) -> None:
    for title, results in (
        ("DuckDB (lake mode) vs Spark", report.spark),
        ("DuckDB file mode vs lake mode", report.file_mode),
    ):
        if not results:
            continue
        echo(f"\n{title}:")
        for result in results:
            rows = " / ".join(f"{count:,}" for count in result.rows.values())
            status = "equal" if result.equal else "DIFFERENT"
            echo(
                f"  {result.mart:<28} {rows:>17} rows  {status}  (key: {', '.join(result.key)}; "
                f"largest numeric difference {result.max_abs_difference:.1e})"
            )
            for difference in result.differences:
                echo(f"      - {difference}")
            if result.notes:
                echo(f"      types (values compared as numbers): {'; '.join(result.notes)}")
    echo(f"\nseconds: {report.seconds}")
    if report.planted:
        echo(f"planted rows: {report.planted}")
    echo(f"lake written by: {report.lake_writer}")
    echo("ALL MARTS EQUAL" if report.ok else "MARTS DIFFER")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-plant", dest="plant", action="store_false")
    parser.add_argument("--no-file-mode", dest="file_mode", action="store_false")
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="spark_equality_"))
    try:
        report = run(args.messages, work, plant=args.plant, file_mode=args.file_mode)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    print_report(report)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"spark_equality-{stamp}.json"
    payload = {
        "messages": report.messages,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "seconds": report.seconds,
        "planted": report.planted,
        "lake_writer": report.lake_writer,
        "ok": report.ok,
        "spark": [asdict(result) | {"equal": result.equal} for result in report.spark],
        "file_mode": [asdict(result) | {"equal": result.equal} for result in report.file_mode],
    }
    out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"results: {out}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
