"""Topic sentiment into ``raw.message_topics``: for each scored inbound message and each
topic its cleaned text mentions, the score of the sentences that mention the topic, by the
engine that scored the message.

What a run evaluates, and what it leaves alone:

- **New or edited messages** (no scan in ``raw.topic_scans``, or a scan of another
  ``text_hash``: a new version, a new engine) are matched against every topic.
- **Topics added or whose keywords changed** (their fingerprint differs from
  ``raw.topic_definitions``): every other message is matched against those topics only; the
  topics' old rows go. **Removed topics** lose their rows. Unchanged topics are not touched.
- Each topic is matched on its own (``orchestration.topics.matching``), so a message's rows
  never depend on the other topics, and an incremental run writes what a first run over the
  same messages would.
- Every scored inbound message counts with the text its score row holds, even while its
  score is behind an edit (dbt shows its rows once it is rescored; a rescoring that changes
  the text changes its ``text_hash``, and the message is evaluated again).
- A scan holds only while its message is a scored inbound message with that ``text_hash``:
  a message that is unscored, outbound or deleted for a while loses its scan with its rows,
  and is evaluated again when it comes back.
- Only texts that DuckDB's pre-screen lets through reach Python, each distinct text once,
  and only against the topics whose own pre-screen it passes (one regex per topic).
- **Snippets** (the sentences that mention a topic) are scored through a cache keyed like the
  message score cache (hash of snippet, language, engine, version): ``raw.topic_snippet_scores``,
  and ``raw.score_cache`` itself, where a snippet that is a whole message's text is already
  scored. A snippet is sent to the engine once, ever; scores are committed per batch, so a
  failed run loses no engine call. The missing snippets are read from DuckDB a batch at a
  time, with at most ``BATCHES_IN_FLIGHT`` batches submitted and not yet stored.
- A message whose snippet could not be scored (engine error, its engine no longer
  configured) loses its scan, so the next run evaluates it again.
- Under text policy ``none`` a message keeps no cleaned text: it gets no topic rows (no
  wrong ones), and when a topic changes, the rows it had for that topic go.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from ..engines.base import ScoreFailure, SentimentScore
from ..engines.routing import EngineRouter
from ..parallel import submit_in_chunks, worker_pool
from ..scoring import store_scores
from .config import Topic
from .matching import match_many, prescreen_pattern

SCORE_FIELDS = SentimentScore._fields
# Distinct texts read from DuckDB at a time. A page of at least PARALLEL_MATCH_MIN texts is
# matched on the worker pool in parts of MATCH_CHUNK; below that, matching in this process is
# faster than shipping the texts to the workers.
TEXT_BATCH = 100_000
MATCH_CHUNK = 5_000
PARALLEL_MATCH_MIN = 50_000
# From this many new or edited messages on, the workers are started before the pre-screen.
WARM_POOL_MESSAGES = 100_000
# Missing snippets are read from DuckDB and submitted at most this many at a time (fewer when
# the engine commits fewer at a time), and at most BATCHES_IN_FLIGHT batches wait for their
# scores: the next batch is submitted before the previous one is stored, so the workers are
# never idle, and this process holds two batches at most.
SNIPPET_BATCH = 50_000
BATCHES_IN_FLIGHT = 2


@dataclass
class TopicStats:
    """Counts of one topic pass."""

    topics: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    messages_evaluated: int = 0  # new or edited messages, matched against every topic
    messages_rechecked: int = 0  # other messages matched against the added or changed topics
    messages_without_text: int = 0  # of those, messages whose text is not kept (policy none)
    texts_matched: int = 0  # distinct texts that passed the pre-screen and were matched
    mentions_written: int = 0
    rows_deleted: int = 0
    snippets: int = 0  # distinct snippets of this run
    snippets_scored: int = 0  # sent to the engine
    snippet_cache_hits: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (message_id, reason)
    seconds: float = 0.0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Every scored inbound message with the text its score row holds, also while that row is
# behind an edit: the rows follow raw.message_scores, which is what the marts join them to.
_PENDING_SQL = """
create or replace temp table _topic_pending as
select
    s.message_id,
    s.text_hash,
    s.cleaned_text,
    s.language as stored_language,
    s.engine,
    s.engine_version,
    t.message_id is null or t.text_hash <> s.text_hash as full_scan
from raw.message_scores s
join raw.messages m on m.message_id = s.message_id
left join raw.topic_scans t on t.message_id = s.message_id
where s.status = 'scored'
  and m.direction = 'in'
  and (t.message_id is null or t.text_hash <> s.text_hash {recheck})
"""

# Distinct texts to match, each with the topics to match it against: those whose own
# pre-screen it passes, among every topic for a new or edited message's text, among the added
# or changed topics otherwise. A text no topic may match does not leave DuckDB. A text's id is
# its rowid (row_number() over () would cost as much again as the rest of the statement).
_TEXTS_SQL = """
create or replace temp table _topic_texts as
select cleaned_text, candidates
from (
    select cleaned_text, list_filter([{candidates}], lambda x: x is not null) as candidates
    from (
        select cleaned_text, bool_or(full_scan) as full_scan
        from _topic_pending
        where cleaned_text is not null
          and (not full_scan or {all_matches})
        group by cleaned_text
    )
)
where len(candidates) > 0
"""

_MATCHES_SCHEMA = pa.schema(
    [
        ("text_id", pa.int64()),
        ("topic", pa.string()),
        ("snippet", pa.string()),
        ("sentence_count", pa.int32()),
        ("matched_terms", pa.string()),
    ]
)

# One row per (message, topic) to write, with the snippet's cache key: the hash of
# (snippet, language, engine, version) that orchestration.text.clean.text_hash computes.
_ROWS_SQL = """
create or replace temp table _topic_rows as
select
    *,
    substr(sha256(concat_ws(chr(31), engine, engine_version, coalesce(language, ''), snippet)), 1, 32)
        as snippet_hash
from (
    select
        p.message_id,
        p.text_hash,
        x.topic,
        x.matched_terms,
        x.sentence_count,
        x.snippet,
        p.engine,
        p.engine_version,
        -- the language the message was scored in ('und' texts are scored as a configured one)
        coalesce(c.language, p.stored_language) as language
    from _topic_pending p
    join _topic_texts t on t.cleaned_text = p.cleaned_text
    join _topic_matches x on x.text_id = t.rowid
    left join raw.score_cache c on c.text_hash = p.text_hash
    where p.full_scan or list_contains($redo, x.topic)
)
"""

# The snippets no cache knows, numbered within each (engine, version, language): they are read
# back a batch at a time.
_MISSING_SQL = """
create or replace temp table _topic_missing as
select
    *,
    row_number() over (partition by engine, engine_version, language order by snippet_hash) as n
from (
    select r.snippet_hash, any_value(r.snippet) as snippet, any_value(r.language) as language,
           any_value(r.engine) as engine, any_value(r.engine_version) as engine_version
    from _topic_rows r
    left join raw.topic_snippet_scores a on a.text_hash = r.snippet_hash
    left join raw.score_cache b on b.text_hash = r.snippet_hash
    where a.text_hash is null and b.text_hash is null
    group by r.snippet_hash
)
"""

_MISSING_KEY = (
    "engine = $engine and engine_version = $version and language is not distinct from $language"
)

_INSERT_SQL = f"""
insert into raw.message_topics
select
    r.message_id, r.topic, r.text_hash, d.topic_hash, r.snippet_hash, r.matched_terms,
    r.sentence_count,
    {", ".join(f"coalesce(a.{f}, b.{f})" for f in SCORE_FIELDS)},
    r.engine, r.engine_version, r.language, $now
from _topic_rows r
join _topic_defs d on d.topic = r.topic
left join raw.topic_snippet_scores a on a.text_hash = r.snippet_hash
left join raw.score_cache b on b.text_hash = r.snippet_hash
-- a snippet that failed has no score: its message is evaluated again by the next run
where coalesce(a.text_hash, b.text_hash) is not null
"""

# A row, or a scan, holds only while its message is a scored inbound message with that text
# (not deleted, edited into an empty or unsupported text, rescored under another engine, or
# turned into an agent's message). A message that comes back with the same text_hash has no
# scan then, and is evaluated again.
_CURRENT = """
    select 1
    from raw.message_scores s
    join raw.messages m on m.message_id = s.message_id
    where s.message_id = {table}.message_id
      and s.text_hash = {table}.text_hash
      and s.status = 'scored'
      and m.direction = 'in'
"""
_STALE_SQL = f"""
delete from raw.message_topics
where not exists ({_CURRENT.format(table="message_topics")})
"""
_STALE_SCANS_SQL = f"""
delete from raw.topic_scans
where message_id in (select message_id from _topic_failed)
   or not exists ({_CURRENT.format(table="topic_scans")})
"""


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _regex(column: str, pattern: str | None) -> str:
    return f"regexp_matches({column}, {_sql_literal(pattern)})" if pattern else "false"


def _candidates_sql(topics: Sequence[Topic], redo: set[str]) -> str:
    """One list element per topic: its index where the text passes the topic's own
    pre-screen (and the topic is to be matched for that text), else null."""
    elements = []
    for index, topic in enumerate(topics):
        wanted = _regex("cleaned_text", prescreen_pattern([topic]))
        if topic.name not in redo:
            wanted = f"full_scan and {wanted}"
        elements.append(f"case when {wanted} then {index} end")
    return ", ".join(elements) or "null"


def evaluate_topics(
    connection, engines: EngineRouter, topics: Sequence[Topic], workers: int | None = None
) -> TopicStats:
    """Bring ``raw.message_topics`` up to date with ``topics`` and the scored messages."""
    started = time.perf_counter()
    stats = TopicStats(topics=[t.name for t in topics])
    current = {t.name: t.fingerprint for t in topics}
    applied = dict(
        connection.execute("select topic, topic_hash from raw.topic_definitions").fetchall()
    )
    stats.added = [name for name in current if name not in applied]
    stats.changed = [name for name in current if name in applied and applied[name] != current[name]]
    stats.removed = sorted(name for name in applied if name not in current)
    redo = [*stats.added, *stats.changed]
    redo_topics = [t for t in topics if t.name in redo]

    workers = workers or engines.workers or os.cpu_count() or 1
    try:
        with worker_pool(workers) as pool:
            _select_pending(connection, redo_topics, stats)
            if pool is not None and stats.messages_evaluated >= WARM_POOL_MESSAGES:
                # Enough texts to match on the workers: they start (imports, a fraction of a
                # second each) while DuckDB pre-screens the texts.
                for _ in range(workers):
                    pool.submit(int)
            connection.execute(
                _TEXTS_SQL.format(
                    candidates=_candidates_sql(topics, set(redo)),
                    all_matches=_regex("cleaned_text", prescreen_pattern(topics)),
                )
            )
            _register_definitions(connection, topics)
            _match_texts(connection, topics, pool, stats)
            connection.execute(_ROWS_SQL, {"redo": redo})
            engines.use_pool(pool)  # the local engine scores snippets on the same workers
            try:
                _score_missing(connection, engines, stats)
            finally:
                engines.use_pool(None)
        _write(connection, redo, stats)
    finally:
        connection.unregister("_topic_defs")  # no error when it was never registered
        for table in (
            "_topic_pending",
            "_topic_texts",
            "_topic_matches",
            "_topic_rows",
            "_topic_missing",
            "_snippet_failures",
        ):
            connection.execute(f"drop table if exists {table}")
    stats.seconds = time.perf_counter() - started
    return stats


def _select_pending(connection, redo_topics, stats: TopicStats) -> None:
    """``_topic_pending``: the messages this run evaluates, on every topic or on the added
    and changed ones."""
    recheck = (
        f"or {_regex('s.cleaned_text', prescreen_pattern(redo_topics))}" if redo_topics else ""
    )
    connection.execute(_PENDING_SQL.format(recheck=recheck))
    stats.messages_evaluated, stats.messages_without_text, stats.messages_rechecked = (
        connection.execute(
            """
            select count(*) filter (where full_scan and cleaned_text is not null),
                   count(*) filter (where cleaned_text is null),
                   count(*) filter (where not full_scan)
            from _topic_pending
            """
        ).fetchone()
    )
    if redo_topics:
        # The messages whose text is gone lose the rows of the re-evaluated topics too.
        stats.messages_without_text += connection.execute(
            """
            select count(*) from raw.message_scores s join raw.messages m using (message_id)
            join raw.topic_scans t using (message_id)
            where s.status = 'scored' and m.direction = 'in' and s.cleaned_text is null
              and t.text_hash = s.text_hash
            """
        ).fetchone()[0]


def _register_definitions(connection, topics: Sequence[Topic]) -> None:
    connection.register(
        "_topic_defs",
        pa.table(
            {
                "topic": [t.name for t in topics],
                "topic_hash": [t.fingerprint for t in topics],
                "terms": [list(t.terms) for t in topics],
            },
            schema=pa.schema(
                [
                    ("topic", pa.string()),
                    ("topic_hash", pa.string()),
                    ("terms", pa.list_(pa.string())),
                ]
            ),
        ),
    )


def _match_texts(connection, topics: Sequence[Topic], pool, stats: TopicStats) -> None:
    """Match every distinct pre-screened text against its candidate topics, in batches,
    into ``_topic_matches``."""
    connection.execute(
        "create or replace temp table _topic_matches (text_id bigint, topic varchar, "
        "snippet varchar, sentence_count integer, matched_terms varchar)"
    )
    matcher = _Matcher(tuple(topics))
    # Pages of the temp table (a second cursor would be another connection, which does not
    # see this connection's temp tables).
    end = connection.execute("select coalesce(max(rowid) + 1, 0) from _topic_texts").fetchone()[0]
    for first in range(0, end, TEXT_BATCH):
        page = connection.execute(
            "select rowid as text_id, cleaned_text, candidates from _topic_texts "
            "where rowid >= $first and rowid < $end",
            {"first": first, "end": first + TEXT_BATCH},
        ).to_arrow_table()
        text_ids = page["text_id"].to_pylist()
        items = list(
            zip(page["cleaned_text"].to_pylist(), page["candidates"].to_pylist(), strict=True)
        )
        found = submit_in_chunks(pool, matcher, items, MATCH_CHUNK, PARALLEL_MATCH_MIN)()
        out: dict[str, list] = {name: [] for name in _MATCHES_SCHEMA.names}
        for text_id, matches in zip(text_ids, found, strict=True):
            for topic, snippet, sentence_count, matched_terms in matches:
                out["text_id"].append(text_id)
                out["topic"].append(topic)
                out["snippet"].append(snippet)
                out["sentence_count"].append(sentence_count)
                out["matched_terms"].append(matched_terms)
        stats.texts_matched += len(text_ids)
        connection.register("_matched", pa.table(out, schema=_MATCHES_SCHEMA))
        connection.execute("insert into _topic_matches select * from _matched")
        connection.unregister("_matched")


@dataclass(frozen=True)
class _Matcher:
    """A picklable ``match_many`` bound to its topics, for the worker processes: it takes
    (text, candidate topic indices) pairs and answers, per text, (topic, snippet, sentence
    count, matched terms) tuples (plain tuples travel back from a worker faster)."""

    topics: tuple[Topic, ...]

    def __call__(self, items):
        found = match_many(
            [text for text, _ in items], self.topics, [candidates for _, candidates in items]
        )
        return [
            [(m.topic, m.snippet, m.sentence_count, ", ".join(m.terms)) for m in matches]
            for matches in found
        ]


def _score_missing(connection, engines: EngineRouter, stats: TopicStats) -> None:
    """Score the snippets no cache knows, each with its message's engine, a batch at a time;
    the snippets that failed go to ``_snippet_failures`` (hash, reason)."""
    stats.snippets = connection.execute(
        "select count(distinct snippet_hash) from _topic_rows"
    ).fetchone()[0]
    connection.execute(_MISSING_SQL)
    connection.execute(
        "create or replace temp table _snippet_failures (snippet_hash varchar, reason varchar)"
    )
    groups = connection.execute(
        "select engine, engine_version, language, count(*) from _topic_missing "
        "group by all order by all"
    ).fetchall()
    stats.snippet_cache_hits = stats.snippets - sum(count for *_, count in groups)
    by_key = {(engine.name, engine.version): engine for engine in engines}
    in_flight: deque = deque()
    for name, version, language, count in groups:
        key = {"engine": name, "version": version, "language": language}
        engine = by_key.get((name, version))
        if engine is None or not engine.supports(language):
            reason = (
                f"the message was scored by {name} {version}, which is not configured now; "
                "the next run evaluates it again once message_scores has rescored it"
            )
            connection.execute(
                f"insert into _snippet_failures select snippet_hash, $reason "
                f"from _topic_missing where {_MISSING_KEY}",
                {**key, "reason": reason},
            )
            continue
        size = max(1, min(engine.commit_texts, SNIPPET_BATCH))
        for first in range(1, count + 1, size):
            digests, snippets = zip(
                *connection.execute(
                    f"select snippet_hash, snippet from _topic_missing where {_MISSING_KEY} "
                    "and n >= $first and n < $end order by n",
                    {**key, "first": first, "end": first + size},
                ).fetchall(),
                strict=True,
            )
            scoring = engine.submit_batch(list(snippets), language)
            in_flight.append((engine, language, digests, scoring))
            if len(in_flight) >= BATCHES_IN_FLIGHT:
                _store(connection, *in_flight.popleft(), stats)
    while in_flight:
        _store(connection, *in_flight.popleft(), stats)


def _store(connection, engine, language, digests, results, stats: TopicStats) -> None:
    """Commit one batch's snippet scores at once (what is stored is never sent again), and
    note its failures."""
    stored, failures = store_scores(
        connection, "raw.topic_snippet_scores", engine, language, digests, results()
    )
    stats.snippets_scored += stored
    if failures:
        reasons = [
            failure.reason if isinstance(failure, ScoreFailure) else str(failure)
            for failure in failures.values()
        ]
        connection.register(
            "_failed_snippets", pa.table({"snippet_hash": list(failures), "reason": reasons})
        )
        connection.execute("insert into _snippet_failures select * from _failed_snippets")
        connection.unregister("_failed_snippets")


def _write(connection, redo: list[str], stats: TopicStats) -> None:
    """Replace the rows of what was evaluated, in one transaction."""
    connection.execute(
        """
        create or replace temp table _topic_failed as
        select r.message_id, any_value(f.reason) as reason
        from _topic_rows r join _snippet_failures f using (snippet_hash)
        group by r.message_id
        """
    )
    stats.failures = connection.execute(
        "select message_id, reason from _topic_failed order by message_id"
    ).fetchall()
    now = _now()
    before = connection.execute("select count(*) from raw.message_topics").fetchone()[0]
    connection.execute("begin transaction")
    try:
        connection.execute(
            "delete from raw.message_topics "
            "where topic not in (select topic from _topic_defs) or list_contains($redo, topic)",
            {"redo": redo},
        )
        connection.execute(
            "delete from raw.message_topics where message_id in "
            "(select message_id from _topic_pending where full_scan)"
        )
        connection.execute(_STALE_SQL)
        stats.mentions_written = connection.execute(_INSERT_SQL, {"now": now}).fetchone()[0]
        connection.execute(
            """
            insert or replace into raw.topic_scans
            select message_id, text_hash, $now from _topic_pending
            where full_scan and message_id not in (select message_id from _topic_failed)
            """,
            {"now": now},
        )
        connection.execute(_STALE_SCANS_SQL)
        connection.execute("delete from raw.topic_definitions")
        connection.execute(
            "insert into raw.topic_definitions select topic, topic_hash, terms, $now from _topic_defs",
            {"now": now},
        )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    finally:
        connection.execute("drop table if exists _topic_failed")
    after = connection.execute("select count(*) from raw.message_topics").fetchone()[0]
    stats.rows_deleted = before + stats.mentions_written - after
