"""Entity-level (targeted) sentiment for scored English texts, into ``raw.entity_mentions``.

Texts are analysed once per text hash (``raw.entity_scans`` remembers those with no entity
too), in parts committed one by one, so a rerun or a resumed run sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from .engines.base import ScoreFailure
from .engines.comprehend import ComprehendEngine, EntityMention
from .scoring import EVERYTHING

_PENDING_SQL = """
select distinct s.text_hash, s.cleaned_text
from raw.message_scores s
join raw.messages m using (message_id)
where m.created_at >= $start and m.created_at < $end
  and s.status = 'scored'  -- by any engine: with vader,comprehend English is scored locally
  and s.cleaned_text is not null  -- text policy none keeps no text to analyse
  and (s.language is null or lower(s.language) = 'en' or lower(s.language) like 'en-%')
  and not exists (select 1 from raw.entity_scans e where e.text_hash = s.text_hash)
order by s.text_hash
"""
_FIELDS = (
    "entity_index", "mention_index", "entity_text", "entity_type", "mention_text", "begin_offset",
    "end_offset", "sentiment", "positive", "negative", "neutral", "mixed",
)  # fmt: skip


@dataclass
class EntityStats:
    texts: int = 0
    mentions: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (text_hash, reason)


def analyse_pending(connection, engine: ComprehendEngine, window=EVERYTHING) -> EntityStats:
    """Send every scored English text of messages created in ``window`` that has no entity
    scan yet; store mentions and scans."""
    stats = EntityStats()
    pending = connection.execute(_PENDING_SQL, {"start": window[0], "end": window[1]}).fetchall()
    for start in range(0, len(pending), engine.commit_texts):
        part = pending[start : start + engine.commit_texts]
        found = engine.detect_entities([text for _, text in part])
        _store(connection, engine, part, found, stats)
    return stats


def _store(
    connection, engine, part, found: list[list[EntityMention] | ScoreFailure], stats: EntityStats
) -> None:
    rows: dict[str, list] = {name: [] for name in ("text_hash", *_FIELDS)}
    scans: dict[str, list] = {"text_hash": [], "entity_count": []}
    for (digest, _), mentions in zip(part, found, strict=True):
        if isinstance(mentions, ScoreFailure):
            stats.failed.append((digest, mentions.reason))
            continue
        stats.texts += 1
        stats.mentions += len(mentions)
        scans["text_hash"].append(digest)
        scans["entity_count"].append(len({m.entity_index for m in mentions}))
        for mention in mentions:
            rows["text_hash"].append(digest)
            for name in _FIELDS:
                rows[name].append(getattr(mention, name))
    params = {"engine": engine.name, "version": engine.version}
    connection.execute("begin transaction")
    if rows["text_hash"]:
        connection.register("_mentions", pa.table(rows))
        connection.execute(
            f"""
            insert or replace into raw.entity_mentions
            select text_hash, {", ".join(_FIELDS)}, positive - negative, $engine, $version,
                   timezone('UTC', now())
            from _mentions
            """,
            params,
        )
        connection.unregister("_mentions")
    if scans["text_hash"]:
        connection.register("_scans", pa.table(scans))
        connection.execute(
            "insert or replace into raw.entity_scans select text_hash, entity_count, timezone('UTC', now()) from _scans"
        )
        connection.unregister("_scans")
    connection.execute("commit")
