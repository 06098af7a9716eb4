"""`dagster dev` on the project's workspace: the lineage graph the README promises, a daily
partition materialized through the UI's GraphQL API, a failed run re-executed from failure,
and the lineage page (/asset-groups) rendered by headless Chromium.

One `dagster dev` (web server, daemon, code server) serves every test of this module; it runs
with the instance configuration the project ships (the `duckdb_warehouse` pool limited to 1),
a temporary DAGSTER_HOME, warehouse and dbt target, and a small JSON Lines source. Slow parts
(runs with dbt, Chromium) are marked `# SLOW` and bounded by explicit timeouts; the whole
module takes about a minute and a half on two cores.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, chromium_binary, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTANCE_CONFIG = ROOT / "orchestration" / "instance" / "dagster.yaml"

JOB = "sentiment_warehouse"
SCORE_JOB = "score_days"  # ingest and score only: the failure test needs no dbt build
DAY = "2026-01-09"  # the partition the first run materializes
LATE_DAY = "2026-01-10"  # the partition of the run that fails, then is re-executed
RUN_TIMEOUT_S = 180
# Every step of the default multiprocess executor is a new process that imports the code
# location (~10 s each on two busy cores); in process, a run pays that once.
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
# The UI is a single-page app: the virtual time budget lets it fetch and draw the graph.
UI_FLAGS = ("--window-size=1600,1000", "--virtual-time-budget=15000")

LINEAGE_QUERY = """
{ assetNodes { assetKey { path } dependencyKeys { path } hasAssetChecks } }
"""

LOCATIONS_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name locationOrLoadError { __typename
        ... on RepositoryLocation { repositories { name jobs { name } } }
        ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message } } }
"""

REEXECUTE = """
mutation Reexecute($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on Error { message } } }
"""

RUN_QUERY = """
query Run($runId: ID!) { runOrError(runId: $runId) { __typename
    ... on Run { runId status rootRunId parentRunId jobName tags { key value }
      stepStats { stepKey status }
      assetMaterializations { assetKey { path } partition
        metadataEntries { label ... on IntMetadataEntry { intValue }
                                ... on TextMetadataEntry { text } } } }
    ... on Error { message } } }
"""

RUN_EVENTS = """
query Events($runId: ID!) { logsForRun(runId: $runId, limit: 1000) { __typename
    ... on EventConnection { events { __typename
        ... on MessageEvent { message level stepKey }
        ... on ErrorEvent { error { message causes { message } } } } }
    ... on Error { message } } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, query: str, variables: dict | None = None) -> dict:
    body = {"query": query} | ({"variables": variables} if variables else {})
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def message(n: int, day: str, direction: str, body: str) -> dict:
    return {
        "message_id": f"m-{day}-{n:02d}",
        "conversation_id": f"c-{day}-{n // 4}",
        "customer_id": f"cust-{n % 3}",
        "channel": "email" if n % 2 else "chat",
        "direction": direction,
        "created_at": f"{day}T{10 + n // 6:02d}:{(n * 7) % 60:02d}:00Z",
        "body": body,
    }


BODIES = [
    ("in", "My order arrived broken and nobody answers. This is terrible."),
    ("out", "Sorry about that! We are sending a replacement today."),
    ("in", "Thank you so much, that is great news."),
    ("in", "Still waiting for the refund, really disappointed."),
    ("out", "The refund was issued, it takes 3 to 5 days."),
    ("in", "Ok."),
    ("in", "Love the new app, checkout is so fast now!"),
    ("out", "Glad you like it :)"),
    ("in", "The package never came. Worst service ever."),
    ("in", "Perfect, thanks for the quick help."),
]


def write_jsonl(path: Path, day: str, count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for n, (direction, body) in enumerate(BODIES[:count]):
            out.write(json.dumps(message(n, day, direction, body)) + "\n")
    return path


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and children inherit that; dagster
    # dev ignores SIGTERM, so SIGINT must work for it to be stoppable.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class DagsterDev:
    base: str
    home: Path
    tmp: Path
    stderr_path: Path
    location: str = ""

    @property
    def graphql(self) -> str:
        return f"{self.base}/graphql"

    def stderr_tail(self, chars: int = 4000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no stderr captured)"

    def query(self, query: str, variables: dict | None = None) -> dict:
        answer = post(self.graphql, query, variables)
        assert "errors" not in answer, f"GraphQL errors: {answer['errors']}"
        return answer["data"]

    def run(self, run_id: str) -> dict:
        return self.query(RUN_QUERY, {"runId": run_id})["runOrError"]

    def run_events(self, run_id: str, chars: int = 6000) -> str:
        """The run's log as text, for failure messages."""
        try:
            logs = self.query(RUN_EVENTS, {"runId": run_id})["logsForRun"]
        except Exception as error:  # diagnostics only
            return f"(could not read the run's events: {error})"
        lines = []
        for event in logs.get("events", []):
            if event["__typename"].endswith("PlannedEvent"):  # one per asset and check: noise
                continue
            line = f"{event['__typename']} {event.get('stepKey') or ''}: {event.get('message')}"
            if event.get("error"):
                for error in [event["error"], *event["error"]["causes"]]:
                    line += f"\n    {error['message'].strip()}"
            lines.append(line)
        return "\n".join(lines)[-chars:]

    def diagnostics(self, run_id: str | None = None) -> str:
        events = f"\n--- run {run_id} events ---\n{self.run_events(run_id)}" if run_id else ""
        return f"{events}\n--- dagster dev stderr (tail) ---\n{self.stderr_tail()}"

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT_S) -> dict:
        """Poll until the run finishes (dagster dev queues runs: QUEUED -> STARTED -> ...)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run.get("status") in ("SUCCESS", "FAILURE", "CANCELED"):
                return run
            if time.monotonic() > deadline:
                pytest.fail(
                    f"run {run_id} still {run.get('status')} after {timeout} s"
                    + self.diagnostics(run_id)
                )
            time.sleep(1)

    def launch(self, job: str, partition: str, run_config: dict) -> str:
        params = {
            "selector": {
                "repositoryLocationName": self.location,
                "repositoryName": "__repository__",
                "jobName": job,
            },
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            "runConfigData": run_config,
        }
        result = self.query(LAUNCH_RUN, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", f"launchRun: {result}"
        return result["run"]["runId"]


def wait_for_server(process: subprocess.Popen, dev: DagsterDev, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited ({process.returncode}):\n{dev.stderr_tail()}")
        try:
            urllib.request.urlopen(f"{dev.base}/server_info", timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"dagster dev did not answer within {timeout} s:\n{dev.stderr_tail()}")
            time.sleep(1)


def wait_for_location(dev: DagsterDev, timeout: float = 90) -> None:
    """The code location loads after the web server answers; find its name."""
    deadline = time.monotonic() + timeout
    while True:
        answer = dev.query(LOCATIONS_QUERY)["workspaceOrError"]
        for entry in answer.get("locationEntries") or []:
            loaded = entry.get("locationOrLoadError") or {}
            if loaded.get("__typename") == "PythonError":
                pytest.fail(f"code location {entry['name']} failed to load: {loaded['message']}")
            jobs = {j["name"] for r in loaded.get("repositories", []) for j in r["jobs"]}
            if JOB in jobs:
                dev.location = entry["name"]
                return
        if time.monotonic() > deadline:
            pytest.fail(f"no code location with {JOB} after {timeout} s: {answer}")
        time.sleep(1)


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    if not (BIN / "dagster").exists():
        pytest.skip(f"dagster CLI not found beside {sys.executable}")
    tmp = tmp_path_factory.mktemp("dagster_dev")
    home = tmp / "dagster_home"
    home.mkdir()
    # The project's instance configuration: the duckdb_warehouse pool limited to one step.
    shutil.copy(INSTANCE_CONFIG, home / "dagster.yaml")
    source = write_jsonl(tmp / "source" / "messages.jsonl", DAY, len(BODIES))
    port = free_port()
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        # dagster-dbt's manifest preparer under `dagster dev` looks for `dbt` on PATH.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SENTIMENT_SOURCE_PATH": str(source),
        "SENTIMENT_SOURCE_FORMAT": "jsonl",
        "SENTIMENT_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(tmp / "dbt_target"),
    }
    stderr_path = tmp / "dagster_dev.stderr"
    dev = DagsterDev(base=f"http://127.0.0.1:{port}", home=home, tmp=tmp, stderr_path=stderr_path)
    with stderr_path.open("wb") as stderr:  # a file, not a pipe: a full pipe would block it
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1"]
            + ["-p", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own session and process group, stopped as one
            preexec_fn=_default_sigint,
        )
    try:
        wait_for_server(process, dev)
        wait_for_location(dev)
        assert dev.query("mutation { setNuxSeen }")["setNuxSeen"] is True  # the pop-up
        pools = dev.query("{ instance { poolConfig { defaultPoolLimit poolGranularity } } }")
        assert pools["instance"]["poolConfig"] == {"defaultPoolLimit": 1, "poolGranularity": "op"}
        yield dev
    finally:
        stop_process_group(process)


def test_dagster_dev_shows_one_graph_from_raw_messages_to_the_marts(dagster_dev):
    nodes = dagster_dev.query(LINEAGE_QUERY)["assetNodes"]
    graph = {
        "/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]}
        for n in nodes
    }
    assert graph["message_scores"] == {"raw_messages"}
    assert graph["staging/stg_support__messages"] == {"raw_messages"}
    assert graph["staging/stg_support__message_scores"] == {"message_scores"}
    assert graph["marts/fct_message_sentiment"] == {"intermediate/int_messages__scored"}
    assert graph["message_entities"] == {"message_scores"}
    assert graph["staging/stg_support__entity_mentions"] == {"message_entities"}
    for mart in (
        "fct_conversation_sentiment",
        "dim_customer_sentiment",
        "agg_sentiment_daily",
        "fct_entity_sentiment",
    ):
        assert f"marts/{mart}" in graph
    checks = {"/".join(n["assetKey"]["path"]) for n in nodes if n["hasAssetChecks"]}
    assert "marts/fct_conversation_sentiment" in checks


def raw_messages_metadata(run: dict) -> dict:
    for event in run["assetMaterializations"]:
        if event["assetKey"]["path"] == ["raw_messages"]:
            entries = event["metadataEntries"]
            values = {e["label"]: e.get("intValue", e.get("text")) for e in entries}
            return values | {"partition": event["partition"]}
    return {}


def test_one_daily_partition_materializes_from_the_ui(dagster_dev):
    # SLOW (~30 s): ingest, score, dbt build of every model, publish.
    run_id = dagster_dev.launch(JOB, DAY, IN_PROCESS)
    run = dagster_dev.wait_for_run(run_id)
    assert run["status"] == "SUCCESS", dagster_dev.diagnostics(run_id)
    assert {"key": "dagster/partition", "value": DAY} in run["tags"]
    raw = raw_messages_metadata(run)
    assert raw["partition"] == DAY
    assert raw["inserted"] == len(BODIES), raw
    materialized = {"/".join(e["assetKey"]["path"]) for e in run["assetMaterializations"]}
    assert {"message_scores", "marts/fct_message_sentiment", "published_marts"} <= materialized


def test_a_failed_run_is_reexecuted_from_failure(dagster_dev):
    # Failure injection: run config overrides the `source` resource's `path` (a field of a
    # ConfigurableResource stays configurable per run) with a file that does not exist yet,
    # so `raw_messages` raises FileNotFoundError and the run fails. The file is then written
    # and the run re-executed FROM_FAILURE: the re-execution keeps the parent's run config and
    # tags, so the same step now reads the file. No server restart or env change needed.
    # The job is `score_days` (raw_messages -> message_scores -> message_entities), a
    # partitioned job of the same Definitions without the dbt build, to keep the test short;
    # the full `sentiment_warehouse` job is exercised by the test above.
    late = dagster_dev.tmp / "late_export" / "messages.jsonl"
    missing_source = {"source": {"config": {"path": str(late), "format": "jsonl"}}}
    run_config = IN_PROCESS | {"resources": missing_source}
    # SLOW (~20 s): the run fails at its first step.
    failed_id = dagster_dev.launch(SCORE_JOB, LATE_DAY, run_config)
    failed = dagster_dev.wait_for_run(failed_id)
    assert failed["status"] == "FAILURE", dagster_dev.diagnostics(failed_id)
    steps = {s["stepKey"]: s["status"] for s in failed["stepStats"]}
    assert steps.get("raw_messages") == "FAILURE", steps
    events = dagster_dev.run_events(failed_id, chars=100_000)
    assert "FileNotFoundError" in events and str(late) in events, events[-3000:]

    write_jsonl(late, LATE_DAY, 4)
    result = dagster_dev.query(
        REEXECUTE, {"params": {"parentRunId": failed_id, "strategy": "FROM_FAILURE"}}
    )["launchRunReexecution"]
    assert result["__typename"] == "LaunchRunSuccess", f"launchRunReexecution: {result}"
    # SLOW (~20 s): the failed step and the two after it.
    rerun_id = result["run"]["runId"]
    rerun = dagster_dev.wait_for_run(rerun_id)
    assert rerun["status"] == "SUCCESS", dagster_dev.diagnostics(rerun_id)
    assert rerun["parentRunId"] == failed_id
    assert rerun["rootRunId"] == failed_id
    rerun_steps = {s["stepKey"]: s["status"] for s in rerun["stepStats"]}
    assert rerun_steps == dict.fromkeys(
        ("raw_messages", "message_scores", "message_entities"), "SUCCESS"
    ), rerun_steps
    assert {"key": "dagster/partition", "value": LATE_DAY} in rerun["tags"]
    raw = raw_messages_metadata(rerun)
    assert raw["partition"] == LATE_DAY
    assert raw["source"] == str(late)
    assert raw["inserted"] == 4, raw


def test_the_lineage_page_renders_in_headless_chromium(dagster_dev):
    binary = chromium_binary()
    url = f"{dagster_dev.base}/asset-groups"
    # SLOW (~5 s each): the UI is a single-page app; the virtual time budget lets it fetch the
    # asset graph over GraphQL and render it before the DOM is dumped. With this many assets
    # the global lineage shows one box per asset group (ingest -> scoring -> staging ->
    # intermediate -> marts -> publish), so the group names are what the page must show.
    dom, _ = chromium(binary, dagster_dev.tmp / "chromium_dom", *UI_FLAGS, "--dump-dom", url)
    groups = ("ingest", "scoring", "staging", "intermediate", "marts", "publish")
    missing = [group for group in groups if f">{group}<" not in dom]
    assert "Global asset lineage" in dom and not missing, (
        f"the lineage page lacks the groups {missing}; DOM ({len(dom)} chars) ends with: "
        f"{dom[-2000:]}\n--- dagster dev stderr (tail) ---\n{dagster_dev.stderr_tail()}"
    )
    screenshot = dagster_dev.tmp / "lineage.png"
    chromium(binary, dagster_dev.tmp / "chromium_png", *UI_FLAGS, f"--screenshot={screenshot}", url)
    assert screenshot.exists(), "chromium wrote no screenshot"
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000, f"screenshot is only {len(png)} bytes: probably a blank page"
