"""Remove messages, or only what was derived from their text, from every raw table.

A message deleted in the source goes entirely; a redacted one keeps its row, without body or
subject. Either loses its score row with the cleaned text, its topic rows, and, when no other
message shares its text, the text's entity mentions (which quote it) and its score cache
entry. Its days are marked changed, so the marts drop it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from . import changed_days


@dataclass
class Forgotten:
    messages_removed: int = 0
    scores_removed: int = 0
    texts_removed: int = 0
    days: set[str] = field(default_factory=set)  # created days of the messages, marked changed


def forget_messages(connection, message_ids: list[str], *, keep_rows: bool) -> Forgotten:
    """Forget ``message_ids``: their rows too unless ``keep_rows`` (a redaction)."""
    result = Forgotten()
    if not message_ids:
        return result
    connection.register("_forget_ids", pa.table({"message_id": pa.array(message_ids, pa.string())}))
    try:
        result.days = {
            day
            for (day,) in connection.execute(
                "select distinct cast(created_at as date)::varchar from raw.messages "
                "where message_id in (select message_id from _forget_ids)"
            ).fetchall()
        }
        changed_days.mark(connection, result.days)
        connection.execute(
            """
            create or replace temp table _forget_hashes as
            select distinct text_hash from raw.message_scores
            where text_hash is not null and message_id in (select message_id from _forget_ids)
            """
        )
        result.scores_removed = connection.execute(
            "delete from raw.message_scores where message_id in (select message_id from _forget_ids)"
        ).fetchone()[0]
        for table in ("raw.message_topics", "raw.topic_scans"):
            connection.execute(
                f"delete from {table} where message_id in (select message_id from _forget_ids)"
            )
        if keep_rows:
            # whatever the source sent in place of the text, none of it is kept
            connection.execute(
                "update raw.messages set body = null, subject = null "
                "where message_id in (select message_id from _forget_ids)"
            )
        else:
            result.messages_removed = connection.execute(
                "delete from raw.messages where message_id in (select message_id from _forget_ids)"
            ).fetchone()[0]
        # A text another message still has keeps its derived rows (they serve that message).
        connection.execute(
            """
            delete from _forget_hashes where text_hash in (
                select text_hash from raw.message_scores where text_hash is not null
            )
            """
        )
        result.texts_removed = connection.execute("select count(*) from _forget_hashes").fetchone()[
            0
        ]
        for table in ("raw.entity_mentions", "raw.entity_scans", "raw.score_cache"):
            connection.execute(
                f"delete from {table} where text_hash in (select text_hash from _forget_hashes)"
            )
        connection.execute("drop table _forget_hashes")
    finally:
        connection.unregister("_forget_ids")
    return result
