"""The Kustomer API pull against the minimum time the rate limit allows, on the fake server.

The target: 100k messages are pulled from the local server in pages of 100 within 5% of the
minimum time its rate limit allows, with the limit scaled down in time (250 requests per 6
seconds). Each round pulls the same generated data twice through the real ``KustomerPull``
into a fresh DuckDB file, both times from the test suite's fake Kustomer
(``tests/fakes/kustomer_server.py``, fixed windows of ``--limit`` requests per ``--window``
seconds):

- **without a rate limit**, to measure what a request costs the pull (HTTP, parsing, writing
  and committing its page), for each kind of record;
- **with the rate limit**: the figure measured.

The minimum a client could do: ``ceil(records / page size)`` requests per kind (the fake gives
no ``links.next`` after a full last page, so a full last page costs no extra request; an empty
kind still costs one). Its first request opens a window, so ``R`` requests need at least
``ceil(R / limit) - 1`` whole windows before the last one opens, and then the last window's
requests at their measured cost each: ``(ceil(R / limit) - 1) * window + sum of the last
window's request costs`` (never less than the unlimited pull's own time). The target is the
rate-limited pull's time over that minimum, ``<= 1.05``.

The fake runs in this process; its records are frozen out of the garbage collector
(``gc.freeze``) once loaded, so the pull is not charged for walking a heap that a real server
keeps elsewhere.

    .venv/bin/python -m bench.kustomer_api [--messages 100000] [--page-size 100] [--limit 250]
        [--window 6] [--rounds 1] [--seed 7] [--check]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.sources.kustomer_api import KustomerClient, KustomerPull
from orchestration.sources.kustomer_api.records import RESOURCES, source_prefix
from orchestration.text.prepare import TextSettings
from tests.fakes.kustomer_server import MAX_PAGE_SIZE, FakeKustomer

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 1.05
TOKEN = "bench-token"
# The fake's data counts, by the pull's kind names.
DATA_FIELDS = {"customer": "customers", "conversation": "conversations", "message": "messages"}


def minimum_requests(records: int, page_size: int) -> int:
    """Requests a client needs for ``records`` in pages of ``page_size``: a full last page
    has no ``links.next`` (so no extra request), and an empty search still costs one."""
    return max(1, math.ceil(records / page_size))


def minimum_seconds(
    requests: list[tuple[str, int]], cost: dict[str, float], limit: int, window: float
) -> dict:
    """The least time ``requests`` ((kind, count), in pull order) take under a fixed-window
    limit of ``limit`` per ``window`` seconds, each request costing ``cost[kind]`` seconds.

    The first request opens the first window; the first request of window ``w`` cannot come
    before ``(w - 1) * window``. So the last window opens after ``ceil(R / limit) - 1``
    whole windows, and its requests then take their own cost. Never less than the requests'
    cost without a limit."""
    total = sum(count for _, count in requests)
    windows = math.ceil(total / limit)
    last = total - (windows - 1) * limit
    # The last window's requests are the last ``last`` requests of the pull.
    tail, left = 0.0, last
    for kind, count in reversed(requests):
        take = min(count, left)
        tail += take * cost[kind]
        left -= take
        if not left:
            break
    unlimited = sum(count * cost[kind] for kind, count in requests)
    seconds = max((windows - 1) * window + tail, unlimited)
    return {
        "requests": total,
        "windows": windows,
        "whole_windows": windows - 1,
        "last_window_requests": last,
        "last_window_seconds": round(tail, 3),
        "seconds": round(seconds, 3),
        "bound_by": "rate limit" if seconds > unlimited else "service time",
    }


def pass_costs(log: list, started: float, ended: float) -> dict[str, dict]:
    """Per kind: its pass's time (from its first request's arrival to the next pass's first,
    or to the end of the pull) and requests, from the fake's request log."""
    firsts = {}
    counts = Counter()
    for entry in log:
        firsts.setdefault(entry.kind, entry.time)
        counts[entry.kind] += 1
    kinds = [kind for kind in RESOURCES if kind in firsts]
    passes = {}
    for position, kind in enumerate(kinds):
        end = firsts[kinds[position + 1]] if position + 1 < len(kinds) else ended
        seconds = end - firsts[kind]
        passes[kind] = {
            "requests": counts[kind],
            "seconds": round(seconds, 3),
            "ms_per_request": round(1000 * seconds / counts[kind], 3),
            "first_request_at_s": round(firsts[kind] - started, 3),
        }
    return passes


def replay_windows(log: list, window: float) -> list[dict]:
    """The fake's fixed windows, replayed from the arrival times of the requests it counted
    (every answer but a 429 counts): a request at or after its window's start + ``window``
    opens the next one."""
    windows: list[list] = []
    for entry in log:
        if entry.status == 429:
            continue
        if not windows or entry.time >= windows[-1][0].time + window:
            windows.append([entry])
        else:
            windows[-1].append(entry)
    replayed = []
    for position, entries in enumerate(windows):
        start = entries[0].time
        following = windows[position + 1][0].time if position + 1 < len(windows) else None
        replayed.append(
            {
                "start": start,
                "requests": len(entries),
                "kinds": dict(Counter(entry.kind for entry in entries)),
                # From the window's first request to its last one's arrival.
                "active_s": round(entries[-1].time - start, 3),
                # How long after the window's end the next window's first request came.
                "late_s": None if following is None else round(following - start - window, 4),
            }
        )
    return replayed


def count_rows(connection, kind: str) -> dict:
    table = {"message": "messages", "conversation": "conversations", "customer": "customers"}
    rows = connection.execute(f"select count(*) from raw.{table[kind]}").fetchone()[0]
    rejected = connection.execute(
        "select count(*) from raw.rejected_messages where starts_with(source_name, ?)",
        [source_prefix(kind)],
    ).fetchone()[0]
    return {"rows": rows, "rejected": rejected}


def pull(args, rate_limit: tuple[int, float] | None) -> dict:
    """Load the sample into a fresh fake, pull it all into a fresh DuckDB file, check the
    rows, and return the timings with the fake's request log."""
    with (
        FakeKustomer(token=TOKEN, rate_limit=rate_limit) as api,
        tempfile.TemporaryDirectory(prefix="bench-kustomer-") as tmp,
    ):
        rss_before = psutil.Process().memory_info().rss
        data = api.load_sample(args.messages, seed=args.seed)
        gc.collect()
        gc.freeze()  # the fake's records are not the pull's to collect
        rss_fake = psutil.Process().memory_info().rss - rss_before
        connection = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"))
        client = KustomerClient(api.url, TOKEN)
        said: list[str] = []
        try:
            connection.execute(RAW_SCHEMA_DDL)
            puller = KustomerPull(
                connection,
                client,
                TextSettings(policy="redacted"),
                page_size=args.page_size,
                log=said.append,
            )
            started = time.monotonic()
            stats = puller.run()
            ended = time.monotonic()
            counts = {kind: count_rows(connection, kind) for kind in RESOURCES}
        finally:
            client.close()
            connection.close()
            gc.unfreeze()
        log = list(api.requests)
    served = {kind: getattr(data, DATA_FIELDS[kind]) for kind in RESOURCES}
    checks = {
        kind: {
            **counts[kind],
            "served": served[kind],
            "ok": counts[kind]["rows"] + counts[kind]["rejected"] == served[kind],
        }
        for kind in RESOURCES
    }
    return {
        "data": asdict(data),
        "served": served,
        "started": started,
        "ended": ended,
        "seconds": round(ended - started, 3),
        "log": log,
        "client": asdict(client.stats),
        "resources": {kind: asdict(stats.resources[kind]) for kind in RESOURCES},
        "messages_inserted": stats.messages.inserted,
        "messages_updated": stats.messages.updated,
        "rows": checks,
        "pull_log": said,
        "statuses": dict(Counter(entry.status for entry in log)),
        "fake_rss_mib": round(rss_fake / 2**20, 1),
    }


def one_round(args, imports_rss_mib: float) -> dict:
    unlimited = pull(args, None)
    limited = pull(args, (args.limit, args.window))
    page, limit, window = args.page_size, args.limit, args.window
    served = limited["served"]

    # What a request costs the pull, per kind, without a rate limit.
    costs = pass_costs(unlimited["log"], unlimited["started"], unlimited["ended"])
    cost = {kind: costs[kind]["seconds"] / costs[kind]["requests"] for kind in costs}
    least = [(kind, minimum_requests(served[kind], page)) for kind in RESOURCES]
    minimum = minimum_seconds(least, cost, limit, window)
    made = Counter(entry.kind for entry in limited["log"])
    minimum_as_made = minimum_seconds([(k, made[k]) for k in RESOURCES], cost, limit, window)

    # The rate-limited pull, window by window.
    log, started, ended = limited["log"], limited["started"], limited["ended"]
    windows = replay_windows(log, window)
    full = [w for w in windows if w["requests"] >= limit]
    startup = log[0].time - started
    turns = [w["late_s"] for w in windows if w["late_s"] is not None]
    last_window = ended - windows[-1]["start"]

    # The message pass alone.
    messages = costs["message"]
    first_message = next(entry for entry in log if entry.kind == "message")
    message_requests = minimum_requests(served["message"], page)
    alone = minimum_seconds([("message", message_requests)], cost, limit, window)
    # ... and from where its first window stood when it began.
    opened = max(w["start"] for w in windows if w["start"] <= first_message.time)
    used = sum(
        1 for entry in log if entry.status != 429 and opened <= entry.time < first_message.time
    )
    left_in_window = limit - used
    if message_requests <= left_in_window:
        as_found = message_requests * cost["message"]
    else:
        after = message_requests - left_in_window
        later = math.ceil(after / limit)
        as_found = (
            (opened + window - first_message.time)
            + (later - 1) * window
            + (after - (later - 1) * limit) * cost["message"]
        )
    as_found = max(as_found, message_requests * cost["message"])
    message_seconds = ended - first_message.time

    records = sum(served.values())
    limited_429 = limited["statuses"].get(429, 0) + limited["client"]["statuses"].get(429, 0)
    ratio = (ended - started) / minimum["seconds"]
    return {
        "data": limited["data"],
        "service_time": {
            "method": "unlimited pull of the same data in the same round: each kind's pass "
            "time (from its first request to the next pass's first, or the end) over its "
            "requests",
            "unlimited_seconds": unlimited["seconds"],
            "unlimited_requests": len(unlimited["log"]),
            # From the last page's arrival to the end of the pull: its last commit and the
            # end of the message pass, a fixed cost the per-request times spread out.
            "unlimited_after_last_request_s": round(
                unlimited["ended"] - unlimited["log"][-1].time, 3
            ),
            "ms_per_request_average": round(1000 * unlimited["seconds"] / len(unlimited["log"]), 3),
            "passes": costs,
        },
        "minimum": {
            "requests_by_kind": dict(least),
            **minimum,
        },
        "minimum_for_requests_made": minimum_as_made,
        "pull": {
            "seconds": round(ended - started, 3),
            "requests": len(log),
            "requests_by_kind": dict(made),
            "extra_requests": len(log) - minimum["requests"],
            "searches": {kind: limited["resources"][kind]["searches"] for kind in RESOURCES},
            "rate_limit_waits": limited["client"]["rate_limit_waits"],
            "waited_s": round(limited["client"]["waited_s"], 3),
            "statuses": limited["statuses"],
            "responses_429": limited_429,
            "records_per_second": round(records / (ended - started), 1),
            "messages_per_second": round(served["message"] / (ended - started), 1),
            "resources": limited["resources"],
            "messages_inserted": limited["messages_inserted"],
            "messages_updated": limited["messages_updated"],
            "pull_log": limited["pull_log"],
        },
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "passed": ratio <= TARGET_RATIO,
        "excess": {
            "seconds": round((ended - started) - minimum["seconds"], 3),
            "before_first_request_s": round(startup, 3),
            "window_turns": len(turns),
            "window_turns_late_s": round(sum(turns), 3),
            "window_turn_late_max_s": round(max(turns, default=0.0), 4),
            "last_window_s": round(last_window, 3),
            "last_window_minimum_s": minimum["last_window_seconds"],
            "after_last_request_s": round(ended - log[-1].time, 3),
        },
        "windows": {
            "count": len(windows),
            "full": len(full),
            "busiest_full_window_active_s": max((w["active_s"] for w in full), default=None),
            "fits": all(w["active_s"] < window for w in full),
            "each": [{k: v for k, v in w.items() if k != "start"} for w in windows],
        },
        "messages_only": {
            "pass_seconds": round(message_seconds, 3),
            "requests": sum(1 for entry in log if entry.kind == "message"),
            "minimum_requests": message_requests,
            "minimum_alone_s": alone["seconds"],
            "ratio_alone": round(message_seconds / alone["seconds"], 4),
            "first_window_requests_left": left_in_window,
            "minimum_as_found_s": round(as_found, 3),
            "ratio_as_found": round(message_seconds / as_found, 4),
            "unlimited_pass_seconds": messages["seconds"],
        },
        "rows": limited["rows"],
        "rows_ok": all(check["ok"] for check in limited["rows"].values()),
        "unlimited_rows_ok": all(check["ok"] for check in unlimited["rows"].values()),
        # The first load in the process shows it best (later ones reuse freed memory).
        "fake_rss_mib": max(unlimited["fake_rss_mib"], limited["fake_rss_mib"]),
        "imports_rss_mib": imports_rss_mib,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def show(number: int, r: dict, args) -> None:
    data, service, minimum, p = r["data"], r["service_time"], r["minimum"], r["pull"]
    excess, windows, m = r["excess"], r["windows"], r["messages_only"]
    per_kind = ", ".join(
        f"{kind} {service['passes'][kind]['ms_per_request']:.1f} ms" for kind in RESOURCES
    )
    by_kind = " + ".join(f"{minimum['requests_by_kind'][kind]:,} {kind}" for kind in RESOURCES)
    print(f"round {number}")
    print(f"  data: {data['messages']:,} messages, {data['conversations']:,} conversations, "
          f"{data['customers']:,} customers ({data['skipped_lines']} sample lines not records)")  # fmt: skip
    print(f"  service time per request (unlimited pull of the same data: {service['unlimited_seconds']} s, "
          f"{service['unlimited_requests']:,} requests, {service['ms_per_request_average']:.1f} ms average): {per_kind}")  # fmt: skip
    print(f"  minimum: {minimum['requests']:,} requests ({by_kind}) = {minimum['windows']} windows: "
          f"{minimum['whole_windows']} x {args.window} s + {minimum['last_window_requests']} requests "
          f"at their service time ({minimum['last_window_seconds']} s) = {minimum['seconds']} s "
          f"(bound by {minimum['bound_by']})")  # fmt: skip
    print(f"  pull: {p['seconds']} s, {p['requests']:,} requests (minimum {minimum['requests']:,}), "
          f"{p['rate_limit_waits']} rate-limit wait(s) ({p['waited_s']} s), 429 answers: {p['responses_429']}")  # fmt: skip
    print(f"  ratio elapsed / minimum: {r['ratio']:.3f} (target <= {TARGET_RATIO}): "
          f"{'PASS' if r['passed'] else 'FAIL'}")  # fmt: skip
    print(f"  over the minimum: {excess['seconds']} s = before the first request {excess['before_first_request_s']} s "
          f"+ {excess['window_turns']} window turns {excess['window_turns_late_s']} s late (max {excess['window_turn_late_max_s']} s) "
          f"+ last window {excess['last_window_s']} s against {excess['last_window_minimum_s']} s; "
          f"from the last request's arrival to the end: {excess['after_last_request_s']} s "
          f"({service['unlimited_after_last_request_s']} s without the limit)")  # fmt: skip
    print(f"  windows: {windows['count']} ({windows['full']} full); busiest full window's requests span "
          f"{windows['busiest_full_window_active_s']} s of {args.window} s: "
          f"{'fits' if windows['fits'] else 'DOES NOT FIT'}")  # fmt: skip
    print(f"  message pass only: {m['pass_seconds']} s for {m['requests']:,} requests; minimum alone "
          f"(fresh window) {m['minimum_alone_s']} s, ratio {m['ratio_alone']:.3f}; from where it began "
          f"({m['first_window_requests_left']} requests left in its first window) {m['minimum_as_found_s']} s, "
          f"ratio {m['ratio_as_found']:.3f}")  # fmt: skip
    print(f"  throughput: {p['records_per_second']:,} records/s ({p['messages_per_second']:,} messages/s); "
          f"peak RSS {r['peak_rss_mib']} MiB (the process after imports: {r['imports_rss_mib']} MiB; the fake's "
          f"loaded data: about {r['fake_rss_mib']} MiB)")  # fmt: skip
    rows = "; ".join(
        f"{kind} {c['rows']:,} + {c['rejected']:,} rejected = {c['served']:,} served "
        f"{'OK' if c['ok'] else 'MISMATCH'}"
        for kind, c in r["rows"].items()
    )
    print(f"  rows: {rows}")
    if p["pull_log"]:
        print(f"  pull said: {p['pull_log']}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="sample lines to generate")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--limit", type=int, default=250, help="requests per rate-limit window")
    parser.add_argument("--window", type=float, default=6.0, help="rate-limit window, seconds")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--check", action="store_true", help="exit non-zero when a round misses the target"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    if not 1 <= args.page_size <= MAX_PAGE_SIZE:
        parser.error(f"--page-size must be from 1 to {MAX_PAGE_SIZE}")
    if args.limit < 1 or args.window <= 0 or args.rounds < 1:
        parser.error("--limit and --rounds must be at least 1, --window above 0")

    print(
        f"Kustomer API pull, {args.messages:,} sample lines (seed {args.seed}), pages of "
        f"{args.page_size}, rate limit {args.limit} requests per {args.window} s "
        f"(fixed windows), default commit size, text policy redacted"
    )
    # The process before any data: Python, DuckDB, and the source's imports (Dagster among them).
    imports_rss_mib = round(psutil.Process().memory_info().rss / 2**20, 1)
    rounds = []
    for number in range(1, args.rounds + 1):
        rounds.append(one_round(args, imports_rss_mib))
        show(number, rounds[-1], args)
    ratios = [r["ratio"] for r in rounds]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "rounds": rounds,
        "ratio_median": round(statistics.median(ratios), 4),
        "ratio_worst": max(ratios),
        "passed": all(r["passed"] for r in rounds),
        "rows_ok": all(r["rows_ok"] and r["unlimited_rows_ok"] for r in rounds),
        "responses_429": sum(r["pull"]["responses_429"] for r in rounds),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"kustomer-api-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(
        f"\ntarget: elapsed / minimum <= {TARGET_RATIO} in every round: "
        f"{'PASS' if report['passed'] else 'FAIL'} (median {report['ratio_median']:.3f}, "
        f"worst {report['ratio_worst']:.3f} over {len(rounds)} round(s))"
    )
    print(f"results: {out}")
    # Lost rows or 429s mean the pull is wrong, not slow: always an error.
    if not report["rows_ok"] or report["responses_429"]:
        raise SystemExit("the pull lost rows or was refused (429): see the rows and statuses")
    if args.check and not report["passed"]:
        raise SystemExit(f"target missed: elapsed / minimum above {TARGET_RATIO}")
    return report


if __name__ == "__main__":
    main()
