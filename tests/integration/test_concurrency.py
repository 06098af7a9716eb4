"""Concurrency against the one DuckDB warehouse file, with real processes.

DuckDB lets one process write a file, and while it writes no other process can open it, not
even read-only ("IOException: Could not set lock on file"). Two guards stand between
concurrent work and that error:

* every Dagster step that writes the warehouse joins the pool ``duckdb_warehouse``, which the
  instance configuration the project ships (``orchestration/instance/dagster.yaml``) limits to
  one step at a time, across runs;
* ``WarehouseResource.connect`` opens the file through dagster-duckdb's ``DuckDBResource``,
  which retries a locked file with a bounded exponential backoff (for a lock held by something
  outside Dagster: an analyst's notebook, a DuckDB shell).

These tests start ``dagster`` as separate OS processes, as a backfill or an operator would, with
a temporary DAGSTER_HOME holding a copy of the shipped dagster.yaml. They are slow (minutes,
see each test) because every run spawns a process per step and ``dbt build`` runs the whole
project.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
DAGSTER = str(VENV_BIN / "dagster")
SHIPPED_INSTANCE_YAML = REPO / "orchestration" / "instance" / "dagster.yaml"

# Four single-day runs of the ingest and scoring job, and one backfill-style run of the full
# job over a range of days (dbt build and publish included); every step of both writes the
# warehouse and joins the pool. (Five full-job runs would take ~10 minutes on 2 cores.)
JOB = "score_days"
FULL_JOB = "sentiment_warehouse"
POOL = "duckdb_warehouse"
# The backfill-style run covers the last BACKFILL_DAYS days; the four single-day runs take the
# first four (the last of which the backfill also covers). CI uses 2; the full-size
# check is SENTIMENT_TEST_BACKFILL_DAYS=30.
BACKFILL_DAYS = int(os.environ.get("SENTIMENT_TEST_BACKFILL_DAYS", "2"))
DAYS = [(date(2026, 1, 5) + timedelta(days=n)).isoformat() for n in range(3 + BACKFILL_DAYS)]
BODIES = [
    "I love this, thank you so much!",
    "Happy to help, anything else?",
    "This is terrible, my order is broken.",
    "Sorry about that, a replacement is on its way.",
]
LOCK_ERROR = "Could not set lock"
STEP_EVENT_SLACK_S = 1.0
RAW = {"raw_messages"}

# dagster_duckdb.DuckDBResource.get_connection retries duckdb.connect with
# dagster._utils.backoff.backoff(max_retries=10) and its default delays 0.1 * 2**i seconds:
# 0.1 + 0.2 + ... + 51.2 = 102.3 s of sleeping before the last IOException is raised.
BOUNDED_WAIT_S = sum(0.1 * 2**attempt for attempt in range(10))

RUNS_TIMEOUT_S = 1500
MATERIALIZE_TIMEOUT_S = 300


# --- processes ------------------------------------------------------------------------------


@dataclass
class Spawned:
    name: str
    process: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (the dagster CLI, its step workers, dbt)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields after the command: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def spawn(tmp_path):
    """Start a process in its own process group, output to a file; at teardown, every
    process of every group started here is killed, by group id."""
    spawned: list[Spawned] = []

    def start(args: list[str], env: dict[str, str], name: str, **kwargs) -> Spawned:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(arg) for arg in args],
                cwd=REPO,
                env=env,
                stdout=kwargs.pop("stdout", out),
                stderr=out,
                start_new_session=True,
                **kwargs,
            )
        item = Spawned(name, process, log)
        spawned.append(item)
        return item

    yield start

    for item in spawned:
        if item.process.poll() is None:
            os.killpg(item.process.pid, signal.SIGKILL)
            item.process.wait()
        for pid in group_members(item.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait_all(items: list[Spawned], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for item in items:
        try:
            item.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            tails = "\n".join(f"--- {i.name}\n{i.output()[-3000:]}" for i in items)
            pytest.fail(f"{item.name} still running after {timeout_s} s\n{tails}")


def assert_no_survivors(items: list[Spawned]) -> None:
    deadline = time.monotonic() + 10
    while any(group_members(i.process.pid) for i in items) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = {i.name: group_members(i.process.pid) for i in items}
    assert not any(left.values()), f"processes outlived their dagster command: {left}"


# --- environment ----------------------------------------------------------------------------


@dataclass
class Warehouse:
    root: Path
    home: Path
    path: Path
    env: dict[str, str]
    message_ids: dict[str, list[str]]


def write_source(path: Path) -> dict[str, list[str]]:
    """Flat JSON Lines: two conversations of two messages on each day."""
    ids: dict[str, list[str]] = {}
    with path.open("w") as out:
        for day in DAYS:
            for n, body in enumerate(BODIES):
                message_id = f"m-{day}-{n}"
                ids.setdefault(day, []).append(message_id)
                record = {
                    "message_id": message_id,
                    "conversation_id": f"c-{day}-{n // 2}",
                    "customer_id": f"customer-{n // 2}",
                    "channel": "chat" if n < 2 else "email",
                    "direction": "in" if n % 2 == 0 else "out",
                    "created_at": f"{day}T{9 + n:02d}:15:00Z",
                    "body": body,
                }
                out.write(json.dumps(record) + "\n")
    return ids


def build_warehouse(root: Path) -> Warehouse:
    """A source, a warehouse path and a DAGSTER_HOME with the shipped instance settings."""
    root.mkdir(parents=True, exist_ok=True)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(SHIPPED_INSTANCE_YAML, home / "dagster.yaml")
    source = root / "messages.jsonl"
    ids = write_source(source)
    path = root / "warehouse.duckdb"
    env = {
        **os.environ,
        "SENTIMENT_SOURCE_PATH": str(source),
        "SENTIMENT_SOURCE_FORMAT": "jsonl",
        "SENTIMENT_WAREHOUSE_PATH": str(path),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DAGSTER_HOME": str(home),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # Create the instance's SQLite storage once, before any concurrent process opens it:
    # several processes creating a fresh DAGSTER_HOME at the same moment race on the
    # schema migration (schedules/schedules.db gets two alembic_version rows and every
    # later `DagsterInstance.get()` fails with "more than one head present").
    with instance_of(home) as instance:
        assert instance.event_log_storage.supports_global_concurrency_limits
    return Warehouse(root, home, path, env, ids)


def instance_of(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    built = build_warehouse(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(built.home))
    return built


@pytest.fixture
def locked_warehouse(tmp_path) -> Warehouse:
    """A second warehouse, with its own instance, for an outside lock held beside the runs."""
    return build_warehouse(tmp_path / "locked")


def events(
    instance: dg.DagsterInstance,
    run_id: str,
    event_type: dg.DagsterEventType,
    steps: set[str] | None = None,
):
    """A run's events of one type, of the given steps only when ``steps`` is set (the runs
    also execute asset checks, e.g. freshness checks, outside the pool)."""
    records = instance.get_records_for_run(run_id, of_type=event_type).records
    return [
        r.event_log_entry for r in records if steps is None or r.event_log_entry.step_key in steps
    ]


# --- 1. concurrent partition runs -----------------------------------------------------------


def test_concurrent_runs_take_turns_and_an_outside_lock_fails_after_the_bounded_wait(
    warehouse, locked_warehouse, spawn
):
    """Five runs started at once, each its own `dagster job execute` process with the
    multiprocess executor, on one instance: four single-day runs of ``score_days`` and one
    backfill-style range run of the full job (ingest, scoring, topics, dbt build, publish,
    report, alert checks). Every run
    succeeds, nobody meets a locked file, the pool's steps of different runs never overlap,
    every day is loaded and scored, and the published copy holds the range's days.

    With op granularity the pool hands its one slot out step by step, so the 21 pool steps
    run one after another.

    Meanwhile, on another warehouse and instance, a lock held from outside Dagster outlives
    dagster-duckdb's bounded retries (~102 s of sleeping, by design): raw_messages fails and
    names the lock (:func:`check_long_outside_lock`). The two share the test so that the
    sleeping overlaps the runs' work instead of adding two minutes to the suite."""
    long_lock = start_long_outside_lock(spawn, locked_warehouse)
    run_config = warehouse.root / "multiprocess.yaml"
    # forkserver with the code preloaded: each step process forks from a warm server instead
    # of importing the project again (~5-10 s per step on 2 busy cores).
    run_config.write_text(
        "execution:\n  config:\n    multiprocess:\n      start_method:\n        forkserver:\n"
        "          preload_modules: [orchestration.definitions]\n"
    )
    from orchestration.definitions import defs

    def pool_steps_of(job_name: str) -> set[str]:
        job = defs.resolve_job_def(job_name)
        return {node.name for node in job.graph.nodes if node.definition.pool == POOL}

    pool_steps = {JOB: pool_steps_of(JOB), FULL_JOB: pool_steps_of(FULL_JOB)}
    assert pool_steps[JOB] == {"raw_messages", "message_scores", "message_entities"}
    alert_checks = {
        "marts__fct_sentiment_anomalies_new_anomaly_alert",
        "marts__fct_sentiment_shifts_large_negative_shift_alert",
    }
    assert pool_steps[FULL_JOB] == pool_steps[JOB] | alert_checks | {
        "message_topics",
        "sentiment_dbt_models",
        "published_marts",
        "sentiment_report",
    }

    def launch(job_name: str, tags: dict[str, str], name: str) -> Spawned:
        return spawn(
            [
                DAGSTER,
                "job",
                "execute",
                "-m",
                "orchestration.definitions",
                "-j",
                job_name,
                "--config",
                run_config,
                "--tags",
                json.dumps(tags),
            ],
            warehouse.env,
            name=name,
        )

    started = time.monotonic()
    range_days = DAYS[-BACKFILL_DAYS:]
    runs = [launch(JOB, {"dagster/partition": day}, f"run-{day}") for day in DAYS[:4]]
    runs.append(
        launch(
            FULL_JOB,
            {
                "dagster/asset_partition_range_start": range_days[0],
                "dagster/asset_partition_range_end": range_days[-1],
            },
            f"backfill-{range_days[0]}..{range_days[-1]}",
        )
    )
    wait_all(runs, RUNS_TIMEOUT_S)
    elapsed = time.monotonic() - started
    assert_no_survivors(runs)

    for run in runs:
        output = run.output()
        assert run.process.returncode == 0, (
            f"{run.name} exited {run.process.returncode}\n{output[-5000:]}"
        )
        assert LOCK_ERROR not in output, f"{run.name} met a locked warehouse"
        assert "Executing steps using multiprocess executor" in output, run.name

    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records()
        assert sorted(r.dagster_run.job_name for r in records) == [JOB] * 4 + [FULL_JOB]
        assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}

        # The pool was really used: its limit came from the shipped default, every slot was
        # given back, and at least one step had to wait for it.
        info = instance.event_log_storage.get_concurrency_info(POOL)
        assert (info.slot_count, info.limit, info.using_default_limit) == (1, 1, True)
        assert info.claimed_slots == [] and info.pending_steps == []
        blocked = [
            e
            for r in records
            for e in events(instance, r.dagster_run.run_id, dg.DagsterEventType.ENGINE_EVENT)
            if f"blocked by limit for pool {POOL}" in (e.message or "")
        ]
        assert blocked, "no step ever waited for the pool: the runs did not contend"

        # Steps of the pool, from STEP_START to STEP_SUCCESS, never overlap across runs.
        intervals = []
        for r in records:
            run_id, steps = r.dagster_run.run_id, pool_steps[r.dagster_run.job_name]
            starts = {
                e.step_key: e.timestamp
                for e in events(instance, run_id, dg.DagsterEventType.STEP_START, steps)
            }
            ends = {
                e.step_key: e.timestamp
                for e in events(instance, run_id, dg.DagsterEventType.STEP_SUCCESS, steps)
            }
            assert set(starts) == set(ends) == steps, run_id
            intervals += [(starts[s], ends[s], run_id, s) for s in steps]
        intervals.sort()
        for (_, end, run_a, step_a), (start, _, run_b, step_b) in zip(
            intervals, intervals[1:], strict=False
        ):
            # A step gives its slot back when its compute ends (its DuckDB connection is
            # closed by then); STEP_SUCCESS is written a moment later, so the event intervals
            # may touch by a fraction of a second. Real overlap would be whole steps.
            assert end - start <= STEP_EVENT_SLACK_S, (
                f"{run_a}/{step_a} overlaps {run_b}/{step_b} by {end - start:.2f} s"
            )
        closest_gap = min(
            (b[0] - a[1] for a, b in zip(intervals, intervals[1:], strict=False) if a[2] != b[2]),
            default=float("inf"),
        )
        durations = sorted(r.end_time - r.start_time for r in records)

    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        rows = connection.execute(
            "select cast(m.created_at as date)::varchar, m.message_id from raw.messages m "
            "join raw.message_scores s using (message_id)"
        ).fetchall()
    loaded: dict[str, list[str]] = {}
    for day, message_id in rows:
        loaded.setdefault(day, []).append(message_id)
    assert {day: sorted(ids) for day, ids in loaded.items()} == warehouse.message_ids

    # The backfill's dbt build and publish ran in the pool too: the analysts' copy holds its
    # days' messages.
    published = warehouse.path.with_suffix(".published.duckdb")
    with duckdb.connect(str(published), read_only=True) as connection:
        in_copy = {
            row[0]
            for row in connection.execute(
                "select message_id from marts.fct_message_sentiment"
            ).fetchall()
        }
    assert {m for day in range_days for m in warehouse.message_ids[day]} <= in_copy

    check_long_outside_lock(locked_warehouse, *long_lock)
    print(
        f"5 concurrent runs (4 partitions + a {BACKFILL_DAYS}-day full-job backfill): "
        f"{elapsed:.0f} s wall; run durations "
        f"{', '.join(f'{d:.0f}' for d in durations)} s; {len(blocked)} pool waits logged; "
        f"smallest gap between pool steps of different runs {closest_gap:.3f} s"
    )


# --- 2. a lock held outside Dagster ---------------------------------------------------------

# Holds the warehouse open read-write (DuckDB's exclusive file lock) until a line arrives on
# stdin, then releases it and prints the release time.
HOLDER = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
connection.close()
print("released", time.time(), flush=True)
"""


def hold_lock(spawn, warehouse: Warehouse) -> Spawned:
    holder = spawn(
        [sys.executable, "-c", HOLDER, warehouse.path],
        warehouse.env,
        name="lock-holder",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.process.stdout.readline().strip() == "locked", holder.output()
    return holder


def release(holder: Spawned) -> float:
    holder.process.stdin.write("release\n")
    holder.process.stdin.flush()
    word, when = holder.process.stdout.readline().split()
    assert word == "released"
    holder.process.wait(timeout=30)
    return float(when)


def materialize_raw_messages(spawn, warehouse: Warehouse, day: str) -> Spawned:
    return spawn(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "orchestration.definitions",
            "--select",
            "raw_messages",
            "--partition",
            day,
        ],
        warehouse.env,
        name=f"materialize-{day}",
    )


def only_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    runs = instance.get_runs()
    assert len(runs) == 1
    return runs[0]


def wait_for_step_start(instance: dg.DagsterInstance, item: Spawned, timeout_s: float = 180):
    """The raw_messages step's STEP_START event, once the materialize process logs it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert item.process.poll() is None, f"exited early\n{item.output()[-5000:]}"
        for run in instance.get_runs():
            started = events(instance, run.run_id, dg.DagsterEventType.STEP_START, RAW)
            if started:
                return started[0]
        time.sleep(0.5)
    pytest.fail(f"raw_messages never started\n{item.output()[-5000:]}")


def test_short_outside_lock_is_waited_for(warehouse, spawn):
    """A DuckDB connection outside Dagster holds the file; raw_messages starts while it is
    held, the lock is released 3 s later, and the step succeeds after waiting (~20 s)."""
    holder = hold_lock(spawn, warehouse)
    item = materialize_raw_messages(spawn, warehouse, DAYS[0])
    with dg.DagsterInstance.get() as instance:
        step_start = wait_for_step_start(instance, item)
        time.sleep(3)
        released_at = release(holder)
        wait_all([item], MATERIALIZE_TIMEOUT_S)
        assert_no_survivors([item, holder])
        output = item.output()
        assert item.process.returncode == 0, output[-5000:]
        run = only_run(instance)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        (step_success,) = events(instance, run.run_id, dg.DagsterEventType.STEP_SUCCESS, RAW)
    # The step ran while the file was locked and finished only after the release.
    assert step_start.timestamp < released_at < step_success.timestamp
    assert LOCK_ERROR not in output
    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        loaded = connection.execute("select message_id from raw.messages order by 1").fetchall()
    assert [m for (m,) in loaded] == sorted(warehouse.message_ids[DAYS[0]])
    print(
        f"raw_messages waited {released_at - step_start.timestamp:.1f} s for the lock, "
        f"succeeded {step_success.timestamp - released_at:.1f} s after the release"
    )


def start_long_outside_lock(spawn, warehouse: Warehouse) -> tuple[Spawned, Spawned]:
    """Hold ``warehouse``'s file from outside Dagster and start materializing raw_messages
    into it: the lock outlives dagster-duckdb's retries (~102 s of backoff)."""
    holder = hold_lock(spawn, warehouse)
    return holder, materialize_raw_messages(spawn, warehouse, DAYS[0])


def check_long_outside_lock(warehouse: Warehouse, holder: Spawned, item: Spawned) -> None:
    """raw_messages failed after the bounded wait, and the failure names the lock and the
    holding process and says what to do."""
    try:
        wait_all([item], MATERIALIZE_TIMEOUT_S)
    finally:
        release(holder)
    assert_no_survivors([item, holder])
    output = item.output()
    assert item.process.returncode != 0, output[-5000:]
    assert LOCK_ERROR in output
    with instance_of(warehouse.home) as instance:
        run = only_run(instance)
        assert run.status == dg.DagsterRunStatus.FAILURE
        (step_start,) = events(instance, run.run_id, dg.DagsterEventType.STEP_START, RAW)
        (step_failure,) = events(instance, run.run_id, dg.DagsterEventType.STEP_FAILURE, RAW)
    error = step_failure.dagster_event.step_failure_data.error
    message = error.to_string()
    assert LOCK_ERROR in message and str(warehouse.path) in message
    assert f"PID {holder.process.pid}" in message, message
    # ...and says what happened and what to do.
    assert "WarehouseLockedError" in message and "stayed locked by another process" in message
    assert "published copy" in message and "re-execute this step" in message
    waited = step_failure.timestamp - step_start.timestamp
    assert BOUNDED_WAIT_S <= waited < BOUNDED_WAIT_S + 60
    # The holder is gone and the file is intact.
    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        connection.execute("select 1").fetchall()
    print(
        f"bounded wait: step failed {waited:.1f} s after it started "
        f"(backoff sleeps {BOUNDED_WAIT_S:.1f} s); error: "
        f"{next(line for line in message.splitlines() if LOCK_ERROR in line)}"
    )
