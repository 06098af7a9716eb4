"""Score the messages that need it into ``raw.message_scores``, through the score cache.

A message needs scoring when it has no score row, when it was edited after its score, when
its score came from another engine or version, or when the engine failed on it last time.
Its cleaned text is hashed with (language, engine, version); a hash already in
``raw.score_cache`` is reused, and each distinct missing text is scored once, so a rerun with
no new input scores nothing (and, with a paid engine, bills nothing).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from .engines.base import ScoreFailure, SentimentEngine, SentimentScore
from .parallel import submit_in_chunks, worker_pool
from .text.clean import clean_many, text_hash

CHUNK_ROWS = 50_000
# Cleaning goes to the worker pool in parts of this many texts, once a chunk has enough
# distinct texts to be worth shipping to other processes.
CLEAN_CHUNK = 2_000
PARALLEL_CLEAN_MIN = 4_000
# The score's fields, in the order of raw.score_cache's columns.
SCORE_FIELDS = SentimentScore._fields

_PENDING_SQL = """
select m.message_id, m.channel, m.body, m.language, m.updated_at
from raw.messages m
left join raw.message_scores s using (message_id)
where m.created_at >= $start and m.created_at < $end
  and (
      s.message_id is null
      or s.message_updated_at < m.updated_at
      or s.status = 'engine_error'
      or (s.status = 'scored' and (s.engine <> $engine or s.engine_version <> $version))
  )
"""
# Scores of messages that re-ingestion removed from raw.messages.
_ORPHANS_SQL = """
delete from raw.message_scores
where message_id not in (select message_id from raw.messages)
"""
EVERYTHING = (datetime(1, 1, 1), datetime(9999, 12, 31))
# Each chunk's rows wait here, unindexed; the scores are joined in once at the end.
_CHUNK_ROWS_DDL = """
create or replace temp table _scored_rows (
    message_id varchar,
    text_hash varchar,
    cleaned_text varchar,
    language varchar,
    status varchar,
    status_reason varchar,
    message_updated_at timestamp
)
"""
_WRITE_SCORES_SQL = f"""
insert or replace into raw.message_scores
select
    s.message_id, s.text_hash, s.cleaned_text, s.language, s.status, s.status_reason,
    {", ".join(f"case when s.status = 'scored' then c.{f} end" for f in SCORE_FIELDS)},
    case when s.status = 'scored' then c.engine else $engine end,
    case when s.status = 'scored' then c.engine_version else $version end,
    case when s.status = 'scored' then c.scored_at end,
    s.message_updated_at
from _scored_rows s
-- The join condition is the hash equality alone, and the status test lives in the select:
-- with "s.status = 'scored' and ..." in ON, DuckDB plans a nested-loop join over the whole
-- cache (1.7 s for 10k rows against 350k cached texts; 8 ms like this).
left join raw.score_cache c on c.text_hash = s.text_hash
"""


@dataclass
class ScoringStats:
    """Counts of one scoring pass. ``cache_hits`` are messages whose text was already in the
    cache (from an earlier run or chunk); ``duplicates_in_run`` repeat a text scored now."""

    messages: int = 0
    scored_messages: int = 0
    texts_scored: int = 0
    cache_hits: int = 0
    duplicates_in_run: int = 0
    orphans_removed: int = 0
    unscored: Counter = field(default_factory=Counter)
    engine_errors: list[tuple[str, str]] = field(default_factory=list)  # (message_id, reason)
    seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _store_scores(connection, engine, language, digests, results, stats) -> dict[str, ScoreFailure]:
    """Write one part's scores to the cache at once: what is committed is never sent again."""
    failures: dict[str, ScoreFailure] = {}
    hashes, scores = [], []
    for digest, result in zip(digests, results, strict=True):
        if isinstance(result, SentimentScore):
            hashes.append(digest)
            scores.append(result)
        else:
            failures[digest] = result
    stats.texts_scored += len(hashes)
    if hashes:
        rows = {"text_hash": hashes} | dict(
            zip(SCORE_FIELDS, zip(*scores, strict=True), strict=True)
        )
        # One set-based insert: DuckDB's executemany goes row by row and is far slower.
        connection.register("_new_scores", pa.table(rows))
        connection.execute(
            f"""
            insert or replace into raw.score_cache
            select text_hash, {", ".join(SCORE_FIELDS)}, $engine, $version, $language, $scored_at
            from _new_scores
            """,
            {
                "engine": engine.name,
                "version": engine.version,
                "language": language,
                "scored_at": _now(),
            },
        )
        connection.unregister("_new_scores")
    return failures


def _submit_missing(
    engine: SentimentEngine, missing: dict[str, tuple[str, str | None]]
) -> list[tuple[str | None, list[str], Callable[[], list]]]:
    """Start scoring the texts whose hash is not cached: ``(language, hashes, results)`` per
    part of at most ``engine.commit_texts`` texts, ``results()`` waiting for the answers."""
    by_language: dict[str | None, list[str]] = {}
    for digest, (_, language) in missing.items():
        by_language.setdefault(language, []).append(digest)
    parts = []
    for language, digests in by_language.items():
        for start in range(0, len(digests), engine.commit_texts):
            part = digests[start : start + engine.commit_texts]
            texts = [missing[d][0] for d in part]
            parts.append((language, part, engine.submit_batch(texts, language)))
    return parts


@dataclass
class _Chunk:
    """Pending messages, their distinct (body, channel) pairs being cleaned in the pool."""

    data: dict[str, list]
    pairs: list[tuple[str | None, str]]
    distinct: list[tuple[str | None, str]]
    cleaning: Callable[[], list[str]]


def _start_chunk(batch, pool: Executor | None) -> _Chunk | None:
    if batch is None:
        return None
    data = batch.to_pydict()
    # Support data repeats itself ("thanks!", templated replies): each distinct
    # (body, channel) is cleaned once, on every core when there are many.
    pairs = list(zip(data["body"], data["channel"], strict=True))
    distinct = list(dict.fromkeys(pairs))
    cleaning = submit_in_chunks(pool, clean_many, distinct, CLEAN_CHUNK, PARALLEL_CLEAN_MIN)
    return _Chunk(data, pairs, distinct, cleaning)


def score_pending(connection, engine: SentimentEngine, window=EVERYTHING) -> ScoringStats:
    """Score every message created in ``window`` (naive UTC, half-open) that needs it."""
    stats = ScoringStats()
    stats.orphans_removed = connection.execute(_ORPHANS_SQL).fetchone()[0]
    started = time.perf_counter()
    # The pending rows stream through a second cursor (its own connection to the same
    # database, reading one snapshot) while the chunks are written through the first: this
    # process holds two chunks at most, and the staged rows wait in DuckDB (which spills).
    workers = getattr(engine, "workers", 0) or os.cpu_count() or 1
    with worker_pool(workers) as pool, connection.cursor() as reading:
        engine.use_pool(pool)  # the local engine scores on the same workers
        reader = reading.execute(
            _PENDING_SQL,
            {
                "engine": engine.name,
                "version": engine.version,
                "start": window[0],
                "end": window[1],
            },
        ).fetch_record_batch(CHUNK_ROWS)
        connection.execute(_CHUNK_ROWS_DDL)
        try:
            batches = iter(reader)
            chunk = _start_chunk(next(batches, None), pool)
            while chunk is not None:
                plan = _plan_chunk(connection, engine, chunk, stats)
                scoring = _submit_missing(engine, plan.missing)
                # The workers score this chunk while this process reads the next one and
                # queues its cleaning, so neither side waits for the other.
                next_chunk = _start_chunk(next(batches, None), pool)
                failures: dict[str, ScoreFailure] = {}
                for language, part, results in scoring:
                    failures.update(
                        _store_scores(connection, engine, language, part, results(), stats)
                    )
                _finish_chunk(connection, plan, failures, stats)
                chunk = next_chunk
        finally:
            # An open reader keeps the database open even after its connection is closed,
            # and a failed run's traceback would keep the reader alive.
            reader.close()
            engine.use_pool(None)
    # One join of every chunk's rows with the cache, rather than one per chunk: each join
    # builds a hash table over the whole cache (5.3 s at a million messages, 1.5 s like this).
    connection.execute(_WRITE_SCORES_SQL, {"engine": engine.name, "version": engine.version})
    connection.execute("drop table _scored_rows")
    stats.seconds = time.perf_counter() - started
    return stats


@dataclass
class _Plan:
    """A chunk after cleaning and the cache lookup: what each message gets."""

    data: dict[str, list]
    cleaned: list[str]
    status: list[str]
    reason: list[str | None]
    hashes: list[str | None]
    cached: set[str]
    missing: dict[str, tuple[str, str | None]]


def _plan_chunk(connection, engine: SentimentEngine, chunk: _Chunk, stats: ScoringStats) -> _Plan:
    data = chunk.data
    count = len(data["message_id"])
    stats.messages += count
    cleaned_by_pair = dict(zip(chunk.distinct, chunk.cleaning(), strict=True))
    cleaned = [cleaned_by_pair[pair] for pair in chunk.pairs]
    status: list[str] = ["scored"] * count
    reason: list[str | None] = [None] * count
    hashes: list[str | None] = [None] * count
    wanted: dict[str, tuple[str, str | None]] = {}
    digest_of: dict[tuple[str, str | None], str] = {}  # repeated texts are hashed once
    for i, text in enumerate(cleaned):
        language = data["language"][i]
        if not text:
            status[i], reason[i] = "empty", "no text after cleaning"
        elif not engine.supports(language):
            status[i], reason[i] = (
                "unsupported_language",
                f"{engine.name} does not score language {language}",
            )
        else:
            key = (text, language)
            digest = digest_of.get(key)
            if digest is None:
                digest = digest_of[key] = text_hash(text, language, engine.name, engine.version)
                wanted[digest] = key
            hashes[i] = digest

    cached = set()
    if wanted:
        connection.register("_wanted", pa.table({"text_hash": list(wanted)}))
        cached = {
            row[0]
            for row in connection.execute(
                "select c.text_hash from raw.score_cache c join _wanted w using (text_hash)"
            ).fetchall()
        }
        connection.unregister("_wanted")
    missing = {d: v for d, v in wanted.items() if d not in cached}
    return _Plan(data, cleaned, status, reason, hashes, cached, missing)


def _finish_chunk(
    connection, plan: _Plan, failures: dict[str, ScoreFailure], stats: ScoringStats
) -> None:
    status, reason, hashes = plan.status, plan.reason, plan.hashes
    for i, digest in enumerate(hashes):
        if digest is None:
            continue
        if digest in failures:
            status[i], reason[i] = failures[digest].status, failures[digest].reason
        elif digest in plan.cached:
            stats.cache_hits += 1
    # Messages repeating a text that this chunk scores once (cache hits are counted above).
    stats.duplicates_in_run += sum(h is not None and h not in plan.cached for h in hashes) - len(
        plan.missing
    )
    stats.unscored.update(s for s in status if s != "scored")
    stats.engine_errors.extend(
        (plan.data["message_id"][i], reason[i]) for i, s in enumerate(status) if s == "engine_error"
    )
    stats.scored_messages += status.count("scored")

    table = pa.table(
        {
            "message_id": plan.data["message_id"],
            "text_hash": hashes,
            "cleaned_text": plan.cleaned,
            "language": plan.data["language"],
            "status": status,
            "status_reason": reason,
            "message_updated_at": plan.data["updated_at"],
        }
    )
    connection.register("_scored_chunk", table)
    connection.execute("insert into _scored_rows select * from _scored_chunk")
    connection.unregister("_scored_chunk")
