"""Headless Chromium for the end-to-end tests (``test_ui_lineage.py``, ``test_report_render.py``),
and the process-group handling it shares with ``dagster dev``: each runs in its own session and
is stopped as one, helpers (crashpad, zygote, code servers) included."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STOP_TIMEOUT_S = 30
NO_CHROMIUM = "chromium is not installed (.ci/run installs it on Debian)"
# Every use: no sandbox, GPU or first-run UI, and none of Chromium's background services.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_binary() -> str:
    """The Chromium executable on PATH; skips the test when there is none."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.skip(NO_CHROMIUM)
    return binary


def chromium(binary: str, profile: Path, *args: str, timeout: float = 60) -> tuple[str, str]:
    """Run headless Chromium (``CHROMIUM_FLAGS``, a profile of its own, then ``args``) in its
    own session; fail the test if it hangs or exits non-zero, and end its whole process group
    either way. Its stdout and stderr."""
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium {args} did not finish within {timeout} s")
    finally:  # also ends helpers (crashpad, zygote) that outlive the browser process
        stop_process_group(process, timeout=2)
    err = stderr.decode(errors="replace")
    assert process.returncode == 0, f"chromium {args} exited {process.returncode}: {err[-2000:]}"
    return stdout.decode(errors="replace"), err


def _proc_stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, session id, start time) of a live process, from /proc (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[3]), int(fields[19])


def process_tree(root: int) -> dict[int, int]:
    """Every live process in ``root``'s session or descended from it: {pid: start time}."""
    if sys.platform != "linux":
        return {}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))):
            stats[int(entry.name)] = stat
    found = {pid for pid, (_, session, _) in stats.items() if session == root}
    found.add(root)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _) in stats.items() if ppid in found} - found
        found |= children
        grew = bool(children)
    return {pid: stats[pid][2] for pid in found if pid in stats}


def _alive(pid: int, started_at: int) -> bool:
    """Whether ``pid`` still is the process seen before (not a reused pid)."""
    stat = _proc_stat(pid)
    return stat is not None and stat[2] == started_at


def stop_process_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGINT the process's group (its own session), wait, then SIGKILL whatever it started
    that is still alive, by pid: the group, and any descendant that left it."""
    started = process_tree(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    deadline = time.monotonic() + 5  # children finish shutting down after the parent exits
    while time.monotonic() < deadline:
        started |= process_tree(process.pid)
        if not any(_alive(pid, at) for pid, at in started.items() if pid != process.pid):
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid, started_at in started.items():
        if pid != process.pid and _alive(pid, started_at):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        process.kill()
    process.wait()
