"""`dagster dev` on the project's workspace serves the one lineage graph the README promises."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

LINEAGE_QUERY = """
{ assetNodes { assetKey { path } dependencyKeys { path } hasAssetChecks } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture
def dagster_dev(tmp_path):
    if not (BIN / "dagster").exists():
        pytest.skip(f"dagster CLI not found beside {sys.executable}")
    port = free_port()
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SENTIMENT_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
    }
    # dagster dev ignores SIGTERM when started in the background; it stops cleanly on SIGINT.
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster dev exited: {process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("dagster dev did not answer /server_info within 120 s")
                time.sleep(1)
        yield f"{base}/graphql"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_dagster_dev_shows_one_graph_from_raw_messages_to_the_marts(dagster_dev):
    deadline = time.monotonic() + 60
    while True:  # the code location loads after the web server answers
        nodes = post(dagster_dev, LINEAGE_QUERY).get("data", {}).get("assetNodes") or []
        if nodes or time.monotonic() > deadline:
            break
        time.sleep(1)
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
