"""Topic sentiment into ``raw.message_topics``: for each scored inbound message and each
topic its cleaned text mentions, the score of the sentences that mention the topic, by the
engine that scored the message.

What a run evaluates, and what it leaves alone:

- **New or edited messages** (no scan in ``raw.topic_scans``, or a scan of another
  ``text_hash``: a new version, a new engine) are matched against every topic.
- **Topics added or whose keywords changed** (their fingerprint differs from
  ``raw.topic_definitions``): every other message is matched against those topics only; the
  topics' old rows go. **Removed topics** lose their rows. Unchanged topics are not touched.
- Only texts that DuckDB's pre-screen lets through (one regex over ``cleaned_text``) reach
  Python, and each distinct text is matched once.
- **Snippets** (the sentences that mention a topic) are scored through a cache keyed like the
  message score cache (hash of snippet, language, engine, version): ``raw.topic_snippet_scores``,
  and ``raw.score_cache`` itself, where a snippet that is a whole message's text is already
  scored. A snippet is sent to the engine once, ever; scores are committed per batch, so a
  failed run loses no engine call.
- A message whose snippet could not be scored (engine error, its engine no longer
  configured) loses its scan, so the next run evaluates it again.
- Under text policy ``none`` a message keeps no cleaned text: it gets no topic rows (no
  wrong ones), and when a topic changes, the rows it had for that topic go.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from ..engines.base import ScoreFailure, SentimentScore
from ..engines.routing import EngineRouter
from ..parallel import submit_in_chunks, worker_pool
from .config import Topic
from .matching import match_many, prescreen_pattern

SCORE_FIELDS = SentimentScore._fields
# Distinct texts read from DuckDB at a time. A page of at least PARALLEL_MATCH_MIN texts is
# matched on the worker pool in parts of MATCH_CHUNK; below that, matching in this process is
# faster than starting the workers (about 2 s of imports on two cores for 2 s of matching).
TEXT_BATCH = 100_000
MATCH_CHUNK = 5_000
PARALLEL_MATCH_MIN = 50_000
WARM_POOL_TEXTS = 10_000


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
  and s.message_updated_at >= m.updated_at
  and (t.message_id is null or t.text_hash <> s.text_hash {recheck})
"""

# Distinct texts to match; a text of a new or edited message is matched against every topic.
_TEXTS_SQL = """
create or replace temp table _topic_texts as
select row_number() over () as text_id, cleaned_text, full_scan
from (
    select cleaned_text, bool_or(full_scan) as full_scan
    from _topic_pending
    where cleaned_text is not null
      and (not full_scan or {all_matches})
    group by cleaned_text
)
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
    join _topic_matches x on x.text_id = t.text_id
    left join raw.score_cache c on c.text_hash = p.text_hash
    where p.full_scan or list_contains($redo, x.topic)
)
"""

_MISSING_SQL = """
select r.snippet_hash, any_value(r.snippet), any_value(r.language), any_value(r.engine),
       any_value(r.engine_version)
from _topic_rows r
left join raw.topic_snippet_scores a on a.text_hash = r.snippet_hash
left join raw.score_cache b on b.text_hash = r.snippet_hash
where a.text_hash is null and b.text_hash is null
group by r.snippet_hash
"""

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

# Rows of messages that are no longer a scored inbound message with that text (deleted,
# edited into an empty or unsupported text, rescored under another engine).
_STALE_SQL = """
delete from raw.message_topics t
where not exists (
    select 1
    from raw.message_scores s
    join raw.messages m on m.message_id = s.message_id
    where s.message_id = t.message_id
      and s.text_hash = t.text_hash
      and s.status = 'scored'
      and m.direction = 'in'
)
"""


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _regex(column: str, pattern: str | None) -> str:
    return f"regexp_matches({column}, {_sql_literal(pattern)})" if pattern else "false"


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

    recheck = f"or {_regex('s.cleaned_text', prescreen_pattern(redo_topics))}" if redo else ""
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
    if redo:
        # The messages whose text is gone lose the rows of the re-evaluated topics too.
        stats.messages_without_text += connection.execute(
            """
            select count(*) from raw.message_scores s join raw.messages m using (message_id)
            join raw.topic_scans t using (message_id)
            where s.status = 'scored' and m.direction = 'in' and s.cleaned_text is null
              and t.text_hash = s.text_hash
            """
        ).fetchone()[0]
    connection.execute(
        _TEXTS_SQL.format(all_matches=_regex("cleaned_text", prescreen_pattern(topics)))
    )
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
    workers = workers or engines.workers or os.cpu_count() or 1
    try:
        with worker_pool(workers) as pool:
            texts = connection.execute("select count(*) from _topic_texts").fetchone()[0]
            if pool is not None and texts >= WARM_POOL_TEXTS:
                # Many texts make many snippets: the workers start (a second of imports
                # each) while this process matches.
                for _ in range(workers):
                    pool.submit(int)
            _match_texts(connection, topics, redo_topics, pool, stats)
            connection.execute(_ROWS_SQL, {"redo": redo})
            engines.use_pool(pool)  # the local engine scores snippets on the same workers
            try:
                failed = _score_missing(connection, engines, stats)
            finally:
                engines.use_pool(None)
        _write(connection, topics, redo, failed, stats)
    finally:
        connection.unregister("_topic_defs")
        for table in ("_topic_pending", "_topic_texts", "_topic_matches", "_topic_rows"):
            connection.execute(f"drop table if exists {table}")
    stats.seconds = time.perf_counter() - started
    return stats


def _match_texts(connection, topics, redo_topics, pool, stats: TopicStats) -> None:
    """Match every distinct pre-screened text, in batches, into ``_topic_matches``."""
    connection.execute(
        "create or replace temp table _topic_matches (text_id bigint, topic varchar, "
        "snippet varchar, sentence_count integer, matched_terms varchar)"
    )
    # Pages of the temp table (a second cursor would be another connection, which does not
    # see this connection's temp tables).
    count = connection.execute("select count(*) from _topic_texts").fetchone()[0]
    for first in range(1, count + 1, TEXT_BATCH):
        data = (
            connection.execute(
                "select text_id, cleaned_text, full_scan from _topic_texts "
                "where text_id >= $first and text_id < $end",
                {"first": first, "end": first + TEXT_BATCH},
            )
            .fetch_arrow_table()
            .to_pydict()
        )
        out: dict[str, list] = {name: [] for name in _MATCHES_SCHEMA.names}
        for wanted_full, wanted in ((True, topics), (False, redo_topics)):
            indices = [i for i, f in enumerate(data["full_scan"]) if f is wanted_full]
            if not indices:
                continue
            texts = [data["cleaned_text"][i] for i in indices]
            found = submit_in_chunks(
                pool, _Matcher(tuple(wanted)), texts, MATCH_CHUNK, PARALLEL_MATCH_MIN
            )()
            for i, matches in zip(indices, found, strict=True):
                for match in matches:
                    out["text_id"].append(data["text_id"][i])
                    out["topic"].append(match.topic)
                    out["snippet"].append(match.snippet)
                    out["sentence_count"].append(match.sentence_count)
                    out["matched_terms"].append(", ".join(match.terms))
        stats.texts_matched += len(data["text_id"])
        connection.register("_matched", pa.table(out, schema=_MATCHES_SCHEMA))
        connection.execute("insert into _topic_matches select * from _matched")
        connection.unregister("_matched")


@dataclass(frozen=True)
class _Matcher:
    """A picklable ``match_many`` bound to its topics, for the worker processes."""

    topics: tuple[Topic, ...]

    def __call__(self, texts):
        return match_many(texts, self.topics)


def _score_missing(connection, engines: EngineRouter, stats: TopicStats) -> dict[str, str]:
    """Score the snippets no cache knows, each with its message's engine; returns the
    snippets that failed (hash -> reason)."""
    stats.snippets = connection.execute(
        "select count(distinct snippet_hash) from _topic_rows"
    ).fetchone()[0]
    missing = connection.execute(_MISSING_SQL).fetchall()
    stats.snippet_cache_hits = stats.snippets - len(missing)
    by_key = {(engine.name, engine.version): engine for engine in engines}
    groups: dict[tuple[str, str, str | None], list[tuple[str, str]]] = {}
    for digest, snippet, language, engine, version in missing:
        groups.setdefault((engine, version, language), []).append((digest, snippet))
    failed: dict[str, str] = {}
    parts = []
    for (name, version, language), items in groups.items():
        engine = by_key.get((name, version))
        if engine is None or not engine.supports(language):
            reason = (
                f"the message was scored by {name} {version}, which is not configured now; "
                "the next run evaluates it again once message_scores has rescored it"
            )
            failed.update((digest, reason) for digest, _ in items)
            continue
        for start in range(0, len(items), engine.commit_texts):
            part = items[start : start + engine.commit_texts]
            texts = [snippet for _, snippet in part]
            parts.append((engine, language, part, engine.submit_batch(texts, language)))
    for engine, language, part, results in parts:
        failed.update(_store_scores(connection, engine, language, part, results(), stats))
    return failed


def _store_scores(connection, engine, language, part, results, stats) -> dict[str, str]:
    """Commit one part's snippet scores at once: what is stored is never sent again."""
    failed: dict[str, str] = {}
    hashes, scores = [], []
    for (digest, _), result in zip(part, results, strict=True):
        if isinstance(result, SentimentScore):
            hashes.append(digest)
            scores.append(result)
        else:
            failed[digest] = result.reason if isinstance(result, ScoreFailure) else str(result)
    stats.snippets_scored += len(hashes)
    if hashes:
        rows = {"text_hash": hashes} | dict(
            zip(SCORE_FIELDS, zip(*scores, strict=True), strict=True)
        )
        connection.register("_snippet_scores", pa.table(rows))
        connection.execute(
            f"""
            insert or replace into raw.topic_snippet_scores
            select text_hash, {", ".join(SCORE_FIELDS)}, $engine, $version, $language, $now
            from _snippet_scores
            """,
            {"engine": engine.name, "version": engine.version, "language": language, "now": _now()},
        )
        connection.unregister("_snippet_scores")
    return failed


def _write(connection, topics, redo: list[str], failed: dict[str, str], stats) -> None:
    """Replace the rows of what was evaluated, in one transaction."""
    connection.register(
        "_snippet_failures",
        pa.table(
            {"snippet_hash": list(failed), "reason": list(failed.values())},
            schema=pa.schema([("snippet_hash", pa.string()), ("reason", pa.string())]),
        ),
    )
    connection.execute(
        """
        create or replace temp table _topic_failed as
        select r.message_id, any_value(f.reason) as reason
        from _topic_rows r join _snippet_failures f using (snippet_hash)
        group by r.message_id
        """
    )
    connection.unregister("_snippet_failures")
    stats.failures = connection.execute(
        "select message_id, reason from _topic_failed order by message_id"
    ).fetchall()
    names = [t.name for t in topics]
    now = _now()
    before = connection.execute("select count(*) from raw.message_topics").fetchone()[0]
    connection.execute("begin transaction")
    try:
        connection.execute(
            "delete from raw.message_topics "
            "where not list_contains($topics, topic) or list_contains($redo, topic)",
            {"topics": names, "redo": redo},
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
        connection.execute(
            "delete from raw.topic_scans where message_id in (select message_id from _topic_failed) "
            "or message_id not in (select message_id from raw.message_scores)"
        )
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
