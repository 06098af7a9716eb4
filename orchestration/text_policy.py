"""The text policy at ingest: what ``raw.messages`` and ``raw.rejected_messages`` keep.

Under ``redacted`` and ``none`` a staged message's body and subject have their personal data
replaced by typed placeholders (``orchestration.text.redact``) before the upsert writes them
to the warehouse; a rejected line's raw content is redacted too, or not kept at all under
``none`` (its hash, row number and reason say what was rejected). Each message row records
the policy it was written under, and ``enforce_on_stored`` brings what is already stored up
to a stricter policy.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence

import pyarrow as pa

from .parallel import map_in_chunks, worker_pool
from .text.prepare import TextSettings
from .text.redact import MAY_CHANGE_SQL_PATTERN, redact_many, redact_text

BATCH_ROWS = 100_000
# Redaction goes to a process pool in parts of this many texts, once there are enough.
REDACT_CHUNK = 5_000
PARALLEL_REDACT_MIN = 20_000


# A JSON string escape of one character outside the surrogates ("\u00df", "\u0040"): a
# rejected line is JSON text, where "Hauptstra\u00dfe 5" or "jane\u0040example.com" would
# hide personal data from the patterns.
_JSON_ESCAPE = re.compile(r"\\u(?![dD][89a-fA-F])([0-9a-fA-F]{4})")


def _unescaped(raw_content: str) -> str:
    return _JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), raw_content)


def redact_lines(lines: Sequence[str | None]) -> list[str | None]:
    """Rejected lines redacted, with their JSON escapes written out first (so that the
    patterns see the characters); the unit of work sent to worker processes."""
    return [None if line is None else redact_text(_unescaped(line)) for line in lines]


def kept_raw_content(raw_content: str | None, settings: TextSettings) -> str | None:
    """A rejected line's raw content as the policy keeps it."""
    if raw_content is None or settings.policy == "full":
        return raw_content
    if settings.policy == "none":
        return None
    return redact_lines([raw_content])[0]


def content_hash(raw_content: str | None) -> str | None:
    if raw_content is None:
        return None
    return hashlib.sha256(raw_content.encode("utf-8", "surrogatepass")).hexdigest()


def apply_to_stage(connection, table: str, settings: TextSettings) -> int:
    """Record the policy on every staged row and redact their bodies and subjects (unless the
    policy is ``full``); returns how many rows had personal data replaced."""
    connection.execute(f"update {table} set text_policy = $policy", {"policy": settings.policy})
    if not settings.redacts:
        return 0
    return _redact_in_place(connection, table, ("body", "subject"))


# Rows of raw.messages written under a weaker policy than the one configured now.
_WEAKER = {
    "redacted": "coalesce(text_policy, 'full') = 'full'",
    "none": "coalesce(text_policy, 'full') <> 'none'",
}


def enforce_on_stored(connection, settings: TextSettings) -> int:
    """Bring what is already stored up to a stricter policy than it was written under (a
    warehouse from before text policies counts as ``full``): bodies, subjects, cleaned texts,
    rejected lines and entity mentions are redacted, or dropped under ``none`` once their
    message is scored. Returns how many messages it changed; a check of one query when
    there is nothing to do."""
    if not settings.redacts:
        return 0
    weaker = _WEAKER[settings.policy]
    count = connection.execute(f"select count(*) from raw.messages where {weaker}").fetchone()[0]
    if not count:
        return 0
    of_weaker = f"message_id in (select message_id from raw.messages where {weaker})"
    connection.execute("begin transaction")
    # Rejected lines from before the hash column get theirs before their content changes.
    connection.execute(
        "update raw.rejected_messages set raw_content_sha256 = sha256(raw_content) "
        "where raw_content_sha256 is null and raw_content is not null"
    )
    if settings.keeps_text:
        _redact_in_place(connection, "raw.message_scores", ("cleaned_text",), of_weaker)
        _redact_in_place(connection, "raw.rejected_messages", ("raw_content",), redact=redact_lines)
        _redact_in_place(connection, "raw.entity_mentions", ("entity_text", "mention_text"))
    else:
        connection.execute(f"update raw.message_scores set cleaned_text = null where {of_weaker}")
        connection.execute("update raw.rejected_messages set raw_content = null")
        # Entity mentions are words of the texts: none of them is kept.
        connection.execute("delete from raw.entity_mentions")
        connection.execute("delete from raw.entity_scans")
    _redact_in_place(connection, "raw.messages", ("body", "subject"), weaker)
    if not settings.keeps_text:
        # Only where the current version is scored: an unscored or newer version keeps its
        # (redacted) text until the scoring pass has read it.
        connection.execute(
            f"""
            update raw.messages set body = null, subject = null
            where {weaker} and message_id in (
                select s.message_id from raw.message_scores s
                join raw.messages m using (message_id)
                where s.status <> 'engine_error' and s.message_updated_at >= m.updated_at
            )
            """
        )
    connection.execute(
        f"update raw.messages set text_policy = $policy where {weaker}",
        {"policy": settings.policy},
    )
    _apply_to_built_marts(connection, settings)
    connection.execute("commit")
    return count


def enforce_on_names(connection, settings: TextSettings) -> int:
    """Bring the Kustomer API source's conversation and customer names up to a stricter
    policy: under ``redacted`` a conversation's name (usually its first subject) is redacted
    like a subject and customer names stay; under ``none`` no name is kept. Returns how many
    rows were brought to the policy (the next dbt build carries them into the marts)."""
    if not settings.redacts:
        return 0
    weaker = _WEAKER[settings.policy]
    changed = 0
    for table in ("raw.conversations", "raw.customers"):
        rows = connection.execute(f"select count(*) from {table} where {weaker}").fetchone()[0]
        if not rows:
            continue
        changed += rows
        if not settings.keeps_text:
            connection.execute(f"update {table} set name = null where {weaker}")
        elif table == "raw.conversations":
            _redact_in_place(connection, table, ("name",), weaker)
        connection.execute(
            f"update {table} set text_policy = $policy where {weaker}",
            {"policy": settings.policy},
        )
    return changed


def _apply_to_built_marts(connection, settings: TextSettings) -> None:
    """The message mart keeps the subjects of the days it built (it is incremental): they
    are brought to the policy too, and the builds forgotten, so that the next run builds and
    publishes again (the published copy is replaced whole)."""
    built = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_message_sentiment'"
    ).fetchone()[0]
    if built:
        if settings.keeps_text:
            _redact_in_place(connection, "marts.fct_message_sentiment", ("subject",))
        else:
            connection.execute("update marts.fct_message_sentiment set subject = null")
    connection.execute("delete from raw.dbt_builds")


def _redact_in_place(
    connection,
    table: str,
    columns: tuple[str, ...],
    where: str = "true",
    redact: Callable[[Sequence[str | None]], list[str | None]] = redact_many,
) -> int:
    """Redact ``columns`` of the rows of ``table`` matching ``where`` with ``redact`` (a
    module-level function, for the worker processes); returns how many rows changed."""
    # Only the rows redaction could change are read into Python: most texts have no digit
    # and no "@" (58% of a million generated bodies).
    candidate = " or ".join(f"regexp_matches({column}, $pattern)" for column in columns)
    reader = connection.execute(
        f"select rowid as row_id, {', '.join(columns)} from {table} "
        f"where ({where}) and ({candidate})",
        {"pattern": MAY_CHANGE_SQL_PATTERN},
    ).fetch_record_batch(BATCH_ROWS)
    # Only the rows that change are kept (few), and written back once the read is done.
    changed: dict[str, list] = {name: [] for name in ("row_id", *columns)}
    workers = int(os.environ.get("SENTIMENT_WORKERS", "0") or 0) or os.cpu_count() or 1
    try:
        with worker_pool(workers) as pool:
            for batch in reader:
                _redact_batch(batch.to_pydict(), columns, pool, redact, changed)
    finally:
        reader.close()
    if changed["row_id"]:
        assignments = ", ".join(f"{column} = r.{column}" for column in columns)
        connection.register("_redacted", pa.table(changed))
        try:
            connection.execute(
                f"update {table} set {assignments} from _redacted r where {table}.rowid = r.row_id"
            )
        finally:
            connection.unregister("_redacted")
    return len(changed["row_id"])


def _redact_batch(data: dict[str, list], columns, pool, redact, changed: dict[str, list]) -> None:
    # Each distinct text is redacted once: support data repeats itself.
    distinct = list(dict.fromkeys(value for column in columns for value in data[column]))
    redacted = dict(
        zip(
            distinct,
            map_in_chunks(pool, redact, distinct, REDACT_CHUNK, PARALLEL_REDACT_MIN),
            strict=True,
        )
    )
    for index, row_id in enumerate(data["row_id"]):
        new = [redacted[data[column][index]] for column in columns]
        if any(n != data[column][index] for n, column in zip(new, columns, strict=True)):
            changed["row_id"].append(row_id)
            for column, value in zip(columns, new, strict=True):
                changed[column].append(value)
