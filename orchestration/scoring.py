"""Score the messages that need it into ``raw.message_scores``, through the score cache.

A message needs scoring when it has no score row, when it was edited after its score, when
its score came from an engine (or version) no longer configured, when the engines that found
its language unsupported have changed, or when the engine failed on it last time.

Each distinct body is prepared once (``orchestration.text.prepare``: cleaned, redacted,
its language detected), in the worker pool. A text too short to detect waits until every
other message of the pass is known, then takes its conversation's or customer's language.
Each message goes to the first configured engine that supports its language. Its prepared
text is hashed with (language, engine, version); a hash already in ``raw.score_cache`` is
reused, and each distinct missing text is scored once, so a rerun with no new input scores
nothing (and, with a paid engine, bills nothing).

An engine with a bulk path (Comprehend's asynchronous jobs) takes a large run's missing texts
all at once: when the run has more pending messages than the engine's ``bulk_threshold``, its
missing texts are held back chunk after chunk, and once every chunk is planned they go to
``score_bulk`` if there are still more than the threshold (else to its batch calls). Their
messages wait in the staged rows as scored, and those whose text failed are marked at the end.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from .engines.base import ScoreFailure, SentimentEngine, SentimentScore
from .engines.routing import EngineRouter
from .parallel import submit_in_chunks, worker_pool
from .text.clean import text_hash
from .text.language import normalize_language
from .text.prepare import UNDETERMINED, TextSettings, prepare_many

CHUNK_ROWS = 50_000
# Cleaning goes to the worker pool in parts of this many texts, once a chunk has enough
# distinct texts to be worth shipping to other processes.
CLEAN_CHUNK = 2_000
PARALLEL_CLEAN_MIN = 4_000
# The score's fields, in the order of raw.score_cache's columns.
SCORE_FIELDS = SentimentScore._fields

_PENDING_SQL = """
select m.message_id, m.conversation_id, m.customer_id, m.channel, m.body, m.language,
       m.updated_at
from raw.messages m
left join raw.message_scores s using (message_id)
where m.created_at >= $start and m.created_at < $end
  and (
      s.message_id is null
      or s.message_updated_at < m.updated_at
      -- Under text policy none, a scored message's text is gone: it keeps its score until
      -- the source sends a new version.
      or ((m.body is not null or m.text_policy is distinct from 'none') and (
          s.status = 'engine_error'
          or (s.status = 'scored' and not list_contains($engines, s.engine || ' ' || s.engine_version))
          -- another set of engines may support its language
          or (s.status = 'unsupported_language' and s.engine is distinct from $routing)
          -- scored before languages were decided (as English, whatever the language)
          or (s.status = 'scored' and s.language is null)
      ))
  )
"""
# Scores of messages that re-ingestion removed from raw.messages.
_ORPHANS_SQL = """
delete from raw.message_scores
where message_id not in (select message_id from raw.messages)
"""
_COUNT_PENDING_SQL = f"select count(*) from ({_PENDING_SQL})"
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
    engine varchar,
    engine_version varchar,
    message_updated_at timestamp
)
"""
_WRITE_SCORES_SQL = f"""
insert or replace into raw.message_scores
select
    s.message_id, s.text_hash, s.cleaned_text, s.language, s.status, s.status_reason,
    {", ".join(f"case when s.status = 'scored' then c.{f} end" for f in SCORE_FIELDS)},
    case when s.status = 'scored' then c.engine else s.engine end,
    case when s.status = 'scored' then c.engine_version else s.engine_version end,
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
    languages: Counter = field(default_factory=Counter)  # messages per language stored
    language_fallbacks: int = 0  # short texts given their conversation's or customer's language
    texts_removed: int = 0  # text policy none: bodies dropped once their message was scored
    engine_errors: list[tuple[str, str]] = field(default_factory=list)  # (message_id, reason)
    seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def store_scores(
    connection, table: str, engine, language, digests, results
) -> tuple[int, dict[str, ScoreFailure]]:
    """Write one part's scores at once into ``table`` (``raw.score_cache``, or a table of the
    same columns such as ``raw.topic_snippet_scores``), keyed by the texts' hashes: what is
    committed is never sent again. Returns how many were stored, and the failures by hash."""
    failures: dict[str, ScoreFailure] = {}
    hashes, scores = [], []
    for digest, result in zip(digests, results, strict=True):
        if isinstance(result, SentimentScore):
            hashes.append(digest)
            scores.append(result)
        else:
            failures[digest] = result
    if hashes:
        rows = {"text_hash": hashes} | dict(
            zip(SCORE_FIELDS, zip(*scores, strict=True), strict=True)
        )
        # One set-based insert: DuckDB's executemany goes row by row and is far slower.
        connection.register("_new_scores", pa.table(rows))
        connection.execute(
            f"""
            insert or replace into {table}
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
    return len(hashes), failures


def _store_scores(connection, engine, language, digests, results, stats) -> dict[str, ScoreFailure]:
    """Write one part's scores to the cache at once: what is committed is never sent again."""
    stored, failures = store_scores(
        connection, "raw.score_cache", engine, language, digests, results
    )
    stats.texts_scored += stored
    return failures


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A distinct text to score: what is sent, in which language, to which engine."""

    text: str
    language: str
    engine: SentimentEngine


def _submit_missing(
    missing: dict[str, _Wanted],
) -> list[tuple[SentimentEngine, str, list[str], Callable[[], list]]]:
    """Start scoring the texts whose hash is not cached: ``(engine, language, hashes,
    results)`` per part of at most ``engine.commit_texts`` texts, ``results()`` waiting for
    the answers."""
    groups: dict[tuple[int, str], list[str]] = {}
    for digest, wanted in missing.items():
        groups.setdefault((id(wanted.engine), wanted.language), []).append(digest)
    parts = []
    for digests in groups.values():
        engine, language = missing[digests[0]].engine, missing[digests[0]].language
        for start in range(0, len(digests), engine.commit_texts):
            part = digests[start : start + engine.commit_texts]
            texts = [missing[d].text for d in part]
            parts.append((engine, language, part, engine.submit_batch(texts, language)))
    return parts


@dataclass
class _Rows:
    """Messages with their prepared text and language (None: not decided yet)."""

    message_id: list[str] = field(default_factory=list)
    conversation_id: list[str] = field(default_factory=list)
    customer_id: list[str] = field(default_factory=list)
    updated_at: list = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    language: list[str | None] = field(default_factory=list)

    def append(self, source: dict[str, list], index: int, text: str, language: str | None):
        self.message_id.append(source["message_id"][index])
        self.conversation_id.append(source["conversation_id"][index])
        self.customer_id.append(source["customer_id"][index])
        self.updated_at.append(source["updated_at"][index])
        self.text.append(text)
        self.language.append(language)

    def __len__(self) -> int:
        return len(self.message_id)


@dataclass
class _Chunk:
    """Pending messages, their distinct (body, channel, detect) items being prepared in the
    pool."""

    data: dict[str, list]
    items: list[tuple[str | None, str, bool]]
    distinct: list[tuple[str | None, str, bool]]
    preparing: Callable[[], list[tuple[str, str | None]]]


def _start_chunk(batch, pool: Executor | None, settings: TextSettings) -> _Chunk | None:
    if batch is None:
        return None
    data = batch.to_pydict()
    data["language"] = [normalize_language(code) for code in data["language"]]
    if settings.detect == "always":
        detect = [True] * len(data["language"])
    elif settings.detect == "missing":
        detect = [code is None for code in data["language"]]
    else:
        detect = [False] * len(data["language"])
    # Support data repeats itself ("thanks!", templated replies): each distinct
    # (body, channel) is prepared once, on every core when there are many.
    items = list(zip(data["body"], data["channel"], detect, strict=True))
    distinct = list(dict.fromkeys(items))
    preparing = submit_in_chunks(
        pool,
        functools.partial(prepare_many, redact=settings.redacts),
        distinct,
        CLEAN_CHUNK,
        PARALLEL_CLEAN_MIN,
    )
    return _Chunk(data, items, distinct, preparing)


def _prepared_rows(chunk: _Chunk, settings: TextSettings, deferred: _Rows) -> _Rows:
    """The chunk's messages whose language is decided; the others go to ``deferred``."""
    prepared = dict(zip(chunk.distinct, chunk.preparing(), strict=True))
    rows = _Rows()
    for index, item in enumerate(chunk.items):
        text, detected = prepared[item]
        source = chunk.data["language"][index]
        if settings.detect == "always":
            # Detection says zh for zh-TW too: a source that agrees on the language keeps
            # its more precise tag.
            agrees = source is not None and detected == source.split("-")[0]
            language = source if agrees else (detected or source)
        else:
            language = source or detected
        if language is None and text:
            # Too short to detect: decided once every message of the run is known.
            deferred.append(chunk.data, index, text, None)
        else:
            rows.append(chunk.data, index, text, language)
    return rows


def score_pending(
    connection,
    engines: SentimentEngine | EngineRouter,
    window=EVERYTHING,
    settings: TextSettings | None = None,
) -> ScoringStats:
    """Score every message created in ``window`` (naive UTC, half-open) that needs it, each
    with the first of ``engines`` that supports its language."""
    router = engines if isinstance(engines, EngineRouter) else EngineRouter([engines])
    settings = settings or TextSettings()
    stats = ScoringStats()
    stats.orphans_removed = connection.execute(_ORPHANS_SQL).fetchone()[0]
    started = time.perf_counter()
    # The pending rows stream through a second cursor (its own connection to the same
    # database, reading one snapshot) while the chunks are written through the first: this
    # process holds two chunks at most, and the staged rows wait in DuckDB (which spills).
    # The exception is the messages whose language waits for the whole pass (short texts,
    # usually; every text without a source language under detect=never), held until the end.
    workers = router.workers or os.cpu_count() or 1
    deferred = _Rows()
    pending = {
        "engines": [f"{name} {version}" for name, version in router.versions],
        "routing": router.names,
        "start": window[0],
        "end": window[1],
    }
    bulk = _BulkQueue.for_run(connection, router, pending)
    with worker_pool(workers) as pool, connection.cursor() as reading:
        router.use_pool(pool)  # the local engine scores on the same workers
        reader = reading.execute(_PENDING_SQL, pending).fetch_record_batch(CHUNK_ROWS)
        connection.execute(_CHUNK_ROWS_DDL)
        try:
            batches = iter(reader)
            chunk = _start_chunk(next(batches, None), pool, settings)
            while chunk is not None:
                rows = _prepared_rows(chunk, settings, deferred)
                plan = _plan(connection, router, settings, rows, stats)
                scoring = _submit_missing(bulk.hold(plan) if bulk else plan.missing)
                # The workers score this chunk while this process reads the next one and
                # queues its preparation, so neither side waits for the other.
                chunk = _start_chunk(next(batches, None), pool, settings)
                _score_and_finish(connection, plan, scoring, settings, stats)
            if deferred:
                _decide_languages(connection, deferred, settings, stats)
                plan = _plan(connection, router, settings, deferred, stats)
                scoring = _submit_missing(bulk.hold(plan) if bulk else plan.missing)
                _score_and_finish(connection, plan, scoring, settings, stats)
            if bulk:
                _mark_failures(connection, bulk.score(connection, stats), stats)
        finally:
            # An open reader keeps the database open even after its connection is closed,
            # and a failed run's traceback would keep the reader alive.
            reader.close()
            router.use_pool(None)
    # One join of every chunk's rows with the cache, rather than one per chunk: each join
    # builds a hash table over the whole cache (5.3 s at a million messages, 1.5 s like this).
    connection.execute(_WRITE_SCORES_SQL)
    if not settings.keeps_text:
        stats.texts_removed = connection.execute(_DROP_SCORED_TEXT_SQL).fetchone()[0]
    connection.execute("drop table _scored_rows")
    stats.seconds = time.perf_counter() - started
    return stats


# Text policy none: a message's body and subject are kept only until it is scored (or found
# empty or unsupported); an engine error keeps them, for the next run to try again.
_DROP_SCORED_TEXT_SQL = """
update raw.messages set body = null, subject = null, text_policy = 'none'
where message_id in (select message_id from _scored_rows where status <> 'engine_error')
  and (body is not null or subject is not null)
"""

# Known languages of the conversations and customers of texts too short to detect: this
# run's decisions, then earlier runs', then the source's. 'und' is no knowledge.
_KNOWN_LANGUAGES_SQL = """
with known as (
    select
        m.conversation_id,
        m.customer_id,
        coalesce(nullif(r.language, 'und'), nullif(p.language, 'und'), m.language) as language
    from raw.messages m
    left join _scored_rows r using (message_id)
    left join raw.message_scores p using (message_id)
    where m.conversation_id in (select conversation_id from _deferred)
       or m.customer_id in (select customer_id from _deferred)
)
select conversation_id, customer_id, language, count(*) as messages
from known
where language is not null
group by all
"""


def _decide_languages(
    connection, deferred: _Rows, settings: TextSettings, stats: ScoringStats
) -> None:
    """Give each short text its conversation's most common known language, else its
    customer's, else ``und``."""
    connection.register(
        "_deferred",
        pa.table(
            {"conversation_id": deferred.conversation_id, "customer_id": deferred.customer_id}
        ),
    )
    try:
        known = connection.execute(_KNOWN_LANGUAGES_SQL).fetchall()
    finally:
        connection.unregister("_deferred")
    by_conversation: dict[str, Counter] = {}
    by_customer: dict[str, Counter] = {}
    for conversation, customer, code, messages in known:
        language = normalize_language(code)
        if language is None or language == UNDETERMINED:
            continue
        by_conversation.setdefault(conversation, Counter())[language] += messages
        by_customer.setdefault(customer, Counter())[language] += messages
    for index in range(len(deferred)):
        votes = by_conversation.get(deferred.conversation_id[index]) or by_customer.get(
            deferred.customer_id[index]
        )
        if votes:
            stats.language_fallbacks += 1
            # most_common keeps first-seen order on ties; sorting makes the choice stable.
            deferred.language[index] = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        else:
            deferred.language[index] = UNDETERMINED


@dataclass
class _Plan:
    """Messages after routing and the cache lookup: what each gets."""

    rows: _Rows
    status: list[str]
    reason: list[str | None]
    hashes: list[str | None]
    engine: list[str]
    engine_version: list[str | None]
    cached: set[str]
    missing: dict[str, _Wanted]


def _plan(
    connection, router: EngineRouter, settings: TextSettings, rows: _Rows, stats: ScoringStats
) -> _Plan:
    count = len(rows)
    stats.messages += count
    stats.languages.update(language or "none" for language in rows.language)
    status: list[str] = ["scored"] * count
    reason: list[str | None] = [None] * count
    hashes: list[str | None] = [None] * count
    engine_name: list[str] = [router.names] * count
    engine_version: list[str | None] = [None] * count
    wanted: dict[str, _Wanted] = {}
    digest_of: dict[tuple[str, str, str], str] = {}  # repeated texts are hashed once
    for i, text in enumerate(rows.text):
        language = rows.language[i]
        scored_as = settings.undetermined_language if language == UNDETERMINED else language
        engine = router.route(scored_as) if text else None
        if not text:
            status[i], reason[i] = "empty", "no text after cleaning"
        elif engine is None:
            status[i], reason[i] = (
                "unsupported_language",
                f"no configured engine ({router.names}) scores language {language}",
            )
        else:
            engine_name[i], engine_version[i] = engine.name, engine.version
            key = (text, scored_as, engine.name)
            digest = digest_of.get(key)
            if digest is None:
                digest = digest_of[key] = text_hash(text, scored_as, engine.name, engine.version)
                wanted[digest] = _Wanted(text, scored_as, engine)
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
    return _Plan(rows, status, reason, hashes, engine_name, engine_version, cached, missing)


@dataclass
class _BulkQueue:
    """The missing texts held back for engines that score a large run at once (Comprehend's
    asynchronous jobs), by hash: whether a run is large for an engine is known only once
    every chunk is planned."""

    engines: list[SentimentEngine]
    texts: dict[str, _Wanted] = field(default_factory=dict)

    @classmethod
    def for_run(cls, connection, router: EngineRouter, pending: dict) -> _BulkQueue | None:
        """A queue for the engines whose threshold the run may pass, else None. A pending
        message has at most one text to score, so a run with no more pending messages than
        an engine's threshold is scored batch by batch as it streams."""
        candidates = [e for e in router if e.bulk_threshold is not None]
        if not candidates:
            return None
        messages = connection.execute(_COUNT_PENDING_SQL, pending).fetchone()[0]
        engines = [e for e in candidates if messages > e.bulk_threshold]
        return cls(engines) if engines else None

    def hold(self, plan: _Plan) -> dict[str, _Wanted]:
        """Keep the plan's missing texts for bulk engines; return the others, to score now.

        A text an earlier chunk already holds leaves ``plan.missing``, so that its messages
        count as repeats, as they would had the earlier chunk scored it."""
        now = {}
        for digest, wanted in list(plan.missing.items()):
            if not any(wanted.engine is engine for engine in self.engines):
                now[digest] = wanted
            elif digest in self.texts:
                del plan.missing[digest]
            else:
                self.texts[digest] = wanted
        return now

    def score(self, connection, stats: ScoringStats) -> dict[str, ScoreFailure]:
        """Score the held texts, each engine's in bulk if it has more than its threshold,
        else in batches; every result is stored as it arrives. Returns the failures by hash."""
        failures: dict[str, ScoreFailure] = {}
        for engine in self.engines:
            groups: dict[str, list[tuple[str, str]]] = {}  # language -> [(hash, text)]
            for digest, wanted in self.texts.items():
                if wanted.engine is engine:
                    groups.setdefault(wanted.language, []).append((digest, wanted.text))
            if sum(map(len, groups.values())) <= engine.bulk_threshold:
                held = {d: w for d, w in self.texts.items() if w.engine is engine}
                for _, language, part, results in _submit_missing(held):
                    failures.update(
                        _store_scores(connection, engine, language, part, results(), stats)
                    )
                continue
            answered: set[str] = set()

            def store(language, digests, results, engine=engine, answered=answered):
                answered.update(digests)
                failures.update(
                    _store_scores(connection, engine, language, digests, results, stats)
                )

            engine.score_bulk(groups, store)
            # Never stored as scored without a score, whatever the engine left out.
            for items in groups.values():
                for digest, _ in items:
                    if digest not in answered:
                        failures[digest] = ScoreFailure(
                            "engine_error", "the engine returned no result"
                        )
        self.texts.clear()
        return failures


def _mark_failures(connection, failures: dict[str, ScoreFailure], stats: ScoringStats) -> None:
    """Mark the staged messages whose held text failed (they were staged as scored)."""
    if not failures:
        return
    connection.register(
        "_failed_texts",
        pa.table(
            {
                "text_hash": list(failures),
                "status": [f.status for f in failures.values()],
                "status_reason": [f.reason for f in failures.values()],
            }
        ),
    )
    try:
        marked = connection.execute(
            "select s.message_id, f.status, f.status_reason from _scored_rows s "
            "join _failed_texts f using (text_hash) where s.status = 'scored'"
        ).fetchall()
        connection.execute(
            "update _scored_rows set status = f.status, status_reason = f.status_reason "
            "from _failed_texts f "
            "where _scored_rows.text_hash = f.text_hash and _scored_rows.status = 'scored'"
        )
    finally:
        connection.unregister("_failed_texts")
    stats.scored_messages -= len(marked)
    stats.unscored.update(status for _, status, _ in marked)
    stats.engine_errors.extend(
        (message_id, reason) for message_id, status, reason in marked if status == "engine_error"
    )


def _score_and_finish(connection, plan: _Plan, scoring, settings: TextSettings, stats) -> None:
    failures: dict[str, ScoreFailure] = {}
    for engine, language, part, results in scoring:
        failures.update(_store_scores(connection, engine, language, part, results(), stats))
    _finish(connection, plan, failures, settings, stats)


def _finish(
    connection,
    plan: _Plan,
    failures: dict[str, ScoreFailure],
    settings: TextSettings,
    stats: ScoringStats,
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
        (plan.rows.message_id[i], reason[i]) for i, s in enumerate(status) if s == "engine_error"
    )
    stats.scored_messages += status.count("scored")

    rows = plan.rows
    table = pa.table(
        {
            "message_id": rows.message_id,
            "text_hash": hashes,
            # Text policy none keeps no text; the hash stands for it.
            "cleaned_text": rows.text if settings.keeps_text else [None] * len(rows),
            "language": rows.language,
            "status": status,
            "status_reason": reason,
            "engine": plan.engine,
            "engine_version": plan.engine_version,
            "message_updated_at": rows.updated_at,
        },
        schema=_SCORED_ROWS_SCHEMA,
    )
    connection.register("_scored_chunk", table)
    connection.execute("insert into _scored_rows select * from _scored_chunk")
    connection.unregister("_scored_chunk")


_SCORED_ROWS_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("text_hash", pa.string()),
        ("cleaned_text", pa.string()),
        ("language", pa.string()),
        ("status", pa.string()),
        ("status_reason", pa.string()),
        ("engine", pa.string()),
        ("engine_version", pa.string()),
        ("message_updated_at", pa.timestamp("us")),
    ]
)
