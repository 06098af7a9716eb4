"""Comprehend's asynchronous jobs at a million texts: what the run itself costs.

The target (issue 9): the async path takes 1M generated texts to scores, every message mapped
back correctly, and the run's own overhead is at most 60 s while the fake completes jobs at
once. The run is the engine's bulk path as the scoring stage calls it
(``ComprehendEngine.score_bulk``): the texts are cut into pieces and written to S3 as
ONE_DOC_PER_LINE files, jobs are started and polled, each job's ``output.tar.gz`` is read and
mapped back by (file, line), and the results are stored in ``raw.score_cache`` through the
stage's own ``store_scores``, job by job.

- **Texts.** Bodies of the sample generator's messages (``orchestration/sample``, seed 7), in
  the order generated; a body seen before gets `` (ref N)`` appended, so every text is
  distinct and goes to the engine; one text in ``--long-every`` (default 1,000) is replaced by
  that body and the next 40 joined by blank lines (about 8 KB: more than one piece).
  Generating them is not timed.
- **Services.** moto's S3 server and the suite's fake Comprehend run in one other process, as
  AWS would. The fake completes a job as soon as it has read its input, scored every line and
  written the output. It scores with ``hashed_sentiment`` (a hash of the line, in
  microseconds), not VADER: VADER on a million lines would take minutes and is the service's
  time anyway. The fake times its scoring itself (``job_scoring_seconds``).
- **Overhead.** ``wall - fake scoring``: the whole bulk call, less the time the fake spent
  scoring. This charges the run with the fake's S3 reads, output writing and gzip as well;
  ``wall - waiting`` (the run's time not spent sleeping between polls) is shown too.
- **Check.** Every text's stored score is compared with what the fake answers for it
  (``hashed_sentiment`` of its line; a long text's pieces combined as the sync engine does).

    .venv/bin/python -m bench.comprehend_async [--texts 1000000] [--max-lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_OVERHEAD_S = 60.0
ROLE = "arn:aws:iam::123456789012:role/bench-comprehend-jobs"
LONG_PARTS = 40


def generate_texts(count: int, seed: int, long_every: int) -> list[str]:
    """``count`` distinct texts from the sample generator's message bodies (see the module's
    docstring)."""
    from orchestration.sample.generator import iter_sample_lines

    bodies = []
    for line in iter_sample_lines(count * 3, seed=seed):
        try:
            attributes = json.loads(line).get("attributes") or {}
        except (ValueError, AttributeError):
            continue  # the sample plants malformed lines
        body = attributes.get("body") or attributes.get("preview")
        if isinstance(body, str) and body.strip():
            bodies.append(body)
            if len(bodies) == count + LONG_PARTS:
                break
    seen: dict[str, int] = {}
    texts = []
    for number in range(count):
        body = bodies[number]
        if long_every and number % long_every == long_every - 1:
            body = "\n\n".join(bodies[number : number + LONG_PARTS])
        repeats = seen.get(body, 0)
        seen[body] = repeats + 1
        texts.append(body if not repeats else f"{body} (ref {number})")
    return texts


def text_stats(texts: list[str]) -> dict:
    from orchestration.engines.comprehend import MAX_DOCUMENT_BYTES

    lengths = sorted(len(text) for text in texts)
    return {
        "texts": len(texts),
        "mean_chars": round(statistics.mean(lengths), 1),
        "median_chars": statistics.median(lengths),
        "p99_chars": lengths[int(len(lengths) * 0.99)],
        "max_chars": lengths[-1],
        "over_5000_bytes": sum(len(t.encode("utf-8")) > MAX_DOCUMENT_BYTES for t in texts),
        "distinct_share": round(len(set(texts)) / len(texts), 3),
    }


# --------------------------------------------------------------------------- services


def _serve(connection) -> None:
    """moto's S3 and the fake Comprehend (hash-scored), in this process until told to stop."""
    from tests.fakes.comprehend_server import FakeComprehend, hashed_sentiment
    from tests.fakes.s3_server import MotoS3

    with MotoS3() as s3:
        bucket = s3.new_bucket("bench")
        with FakeComprehend(s3_endpoint_url=s3.endpoint_url, scorer=hashed_sentiment) as fake:
            connection.send((s3.endpoint_url, fake.endpoint_url, bucket))
            while connection.recv() == "stats":
                jobs = list(fake.jobs.values())
                connection.send(
                    {
                        "jobs": len(jobs),
                        "lines_read": sum(len(job.texts) for job in jobs),
                        "max_active_jobs": fake.max_active_jobs,
                        "job_scoring_seconds": round(fake.job_scoring_seconds, 2),
                        "job_work_seconds": round(fake.job_work_seconds, 2),
                        "violations": list(fake.violations),
                    }
                )


class Services:
    """``with Services() as services: services.s3_url, services.comprehend_url``."""

    def __enter__(self) -> Services:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.s3_url, self.comprehend_url, self.bucket = self._connection.recv()
        return self

    def stats(self) -> dict:
        self._connection.send("stats")
        return self._connection.recv()

    def __exit__(self, *exc_info) -> None:
        self._connection.send("stop")
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()


# --------------------------------------------------------------------------- the run


def engine_for(services: Services, args):
    from orchestration.engines.comprehend import ComprehendEngine
    from orchestration.engines.comprehend_jobs import JobSettings
    from orchestration.resources import ComprehendResource

    resource_ = ComprehendResource(
        endpoint_url=services.comprehend_url,
        s3_endpoint_url=services.s3_url,
        max_requests_per_second=100,
    )
    jobs = JobSettings(
        s3_uri=f"s3://{services.bucket}/sentiment-jobs",
        data_access_role_arn=ROLE,
        max_lines_per_job=args.max_lines,
        max_active_jobs=args.max_active,
        poll_initial_s=0.05,
        poll_max_s=0.5,
    )
    return ComprehendEngine(
        resource_.build_client(),
        max_requests_per_second=100,
        jobs=jobs,
        s3_client=resource_.build_s3_client(),
        async_threshold=0,
    )


def run(texts: list[str], services: Services, args, work: Path) -> dict:
    import duckdb

    from orchestration.raw_schema import RAW_SCHEMA_DDL
    from orchestration.scoring import store_scores
    from orchestration.text.clean import text_hash

    engine = engine_for(services, args)
    keys = [text_hash(text, "en", engine.name, engine.version) for text in texts]
    connection = duckdb.connect(str(work / "bench.duckdb"))
    connection.execute(RAW_SCHEMA_DDL)
    storing = {"seconds": 0.0, "failures": 0, "calls": 0}

    def store(language, digests, results):
        started = time.perf_counter()
        _, failures = store_scores(
            connection, "raw.score_cache", engine, language, digests, results
        )
        storing["seconds"] += time.perf_counter() - started
        storing["failures"] += len(failures)
        storing["calls"] += 1

    started = time.perf_counter()
    engine.score_bulk({"en": list(zip(keys, texts, strict=True))}, store)
    wall = time.perf_counter() - started
    service = services.stats()
    checked = check(connection, keys, texts)
    connection.close()
    usage = engine.usage
    waited = usage.job_wait_seconds
    return {
        "wall_seconds": round(wall, 2),
        "fake_scoring_seconds": service["job_scoring_seconds"],
        "fake_job_work_seconds": service["job_work_seconds"],
        "run_waiting_seconds": round(waited, 2),
        "overhead_seconds": round(wall - service["job_scoring_seconds"], 2),
        "run_busy_seconds": round(wall - waited, 2),
        "store_seconds": round(storing["seconds"], 2),
        "store_calls": storing["calls"],
        "jobs_started": usage.jobs_started,
        "job_lines": usage.job_lines,
        "billed_units": usage.billed_units,
        "estimated_cost_usd": round(usage.billed_units * engine.price_per_unit_usd, 2),
        "failed_texts": storing["failures"],
        "service": service,
        "check": checked,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def check(connection, keys: list[str], texts: list[str]) -> dict:
    """Compare every stored score with the fake's answer for its text."""
    from orchestration.engines.comprehend import combine_pieces
    from orchestration.engines.comprehend_jobs import document_lines
    from tests.fakes.comprehend_server import hashed_sentiment

    stored = {
        row[0]: row[1:]
        for row in connection.execute(
            "select text_hash, sentiment, positive, negative, neutral, mixed from raw.score_cache"
        ).fetchall()
    }
    missing = wrong = 0
    for key, text in zip(keys, texts, strict=True):
        row = stored.get(key)
        if row is None:
            missing += 1
            continue
        lines = document_lines(text)
        if len(lines) == 1:
            label, score = hashed_sentiment(lines[0])
            want = (label, score["Positive"], score["Negative"], score["Neutral"], score["Mixed"])
        else:
            parts = [dict(zip(("Sentiment", "SentimentScore"), hashed_sentiment(line), strict=True))
                     for line in lines]  # fmt: skip
            combined = combine_pieces(parts, [len(line) for line in lines])
            want = combined[:5]
        if row[0] != want[0] or any(
            abs(a - b) > 1e-12 for a, b in zip(row[1:], want[1:], strict=True)
        ):
            wrong += 1
    return {"texts": len(texts), "stored": len(stored), "missing": missing, "wrong": wrong}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--max-lines", type=int, default=1_000_000, help="lines per job")
    parser.add_argument("--max-active", type=int, default=10, help="jobs active at once")
    parser.add_argument("--long-every", type=int, default=1_000, help="one long text in N")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    # The services are local fakes: dummy credentials, so that none of the user's are sent.
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("AWS_SESSION_TOKEN", None)

    generating = time.perf_counter()
    texts = generate_texts(args.texts, args.seed, args.long_every)
    generated_s = time.perf_counter() - generating
    stats = text_stats(texts)
    print(
        f"{stats['texts']:,} texts generated in {generated_s:.1f} s: mean {stats['mean_chars']} "
        f"chars, median {stats['median_chars']}, p99 {stats['p99_chars']}, max "
        f"{stats['max_chars']}, {stats['over_5000_bytes']} over 5,000 bytes, distinct share "
        f"{stats['distinct_share']}"
    )
    with tempfile.TemporaryDirectory() as tmp, Services() as services:
        measured = run(texts, services, args, Path(tmp))
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "texts": stats | {"generation_seconds": round(generated_s, 1)},
        "run": measured,
        "target_overhead_seconds": TARGET_OVERHEAD_S,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"comprehend-async-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    m, service, checked = measured, measured["service"], measured["check"]
    print(
        f"wall {m['wall_seconds']} s = fake scoring {m['fake_scoring_seconds']} s + overhead "
        f"{m['overhead_seconds']} s (target <= {TARGET_OVERHEAD_S:.0f} s)\n"
        f"  the fake's whole job work {m['fake_job_work_seconds']} s (read, score, write output); "
        f"the run waited {m['run_waiting_seconds']} s between polls, busy {m['run_busy_seconds']} s; "
        f"storing {m['store_seconds']} s in {m['store_calls']} calls\n"
        f"  {m['jobs_started']} jobs, {m['job_lines']:,} lines, {m['billed_units']:,} billed units "
        f"(${m['estimated_cost_usd']:,}), most active at once {service['max_active_jobs']}, "
        f"unscored {m['failed_texts']}, peak RSS {m['peak_rss_mib']} MiB\n"
        f"  check: {checked['texts']:,} texts, {checked['missing']} missing, {checked['wrong']} "
        f"wrong; the fake read {service['lines_read']:,} lines; violations "
        f"{len(service['violations'])}"
    )
    print(f"\nresults: {out}")
    failed = [
        name
        for name, bad in (
            ("overhead", m["overhead_seconds"] > TARGET_OVERHEAD_S),
            ("texts missing or wrong", checked["missing"] or checked["wrong"]),
            ("texts unscored", m["failed_texts"]),
            ("fake violations", service["violations"]),
            ("lines sent more than once or not read", service["lines_read"] != m["job_lines"]),
            ("more jobs active than allowed", service["max_active_jobs"] > args.max_active),
        )
        if bad
    ]
    if failed:
        raise SystemExit("targets missed: " + ", ".join(failed))
    return report


if __name__ == "__main__":
    main()
