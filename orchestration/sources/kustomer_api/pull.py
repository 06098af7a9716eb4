"""The incremental pull from Kustomer's search: pages in, rows committed, cursor advanced.

For each resource (customers, conversations, then messages) a *pass* searches for records
with ``<kind>_updated_at >= cursor``, sorted ascending, and follows ``links.next``. Pages are
committed in groups (and always before sleeping out a rate-limit window, when committing
costs no time); the cursor, the greatest ``updatedAt`` committed, is written after the rows,
so a run killed at any point resumes from its last commit and reads at most one group again,
which the upserts by id absorb.

Two things of the real API shape the loop:

- **A search returns at most 10,000 results** (``max_results``). Before a page would cross
  that, the pass starts a new search from the cursor.
- **Pages are offsets into a result set that moves.** A record updated while the pass pages
  through moves to the end; if it had been read already, every later record shifts one place
  toward the start, and the record at the next page boundary is never returned. Its
  ``updatedAt`` lies below the cursor the pass then commits, so no later run would see it
  either. The pass keeps the records it has read with their ``updatedAt``
  (``raw.kustomer_pass_reads``, durable, so this holds across a kill); a record that comes
  back newer means a shift may have hidden one, and the pass rolls the cursor back to that
  record's old ``updatedAt`` and searches again from there. Reads are repeated, never lost.

Records updated after their page was read are caught later in the pass or by the next run:
the cursor is inclusive and every write is an upsert by id.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from ... import changed_days
from ...forget import forget_messages
from ...ingest import IngestStats, load_messages, store_rejections
from ...text.prepare import TextSettings
from ..kustomer import check_resource
from ..record import ContractError, Message, Rejection
from .client import KustomerApiError, KustomerClient
from .records import (
    CONVERSATION,
    CUSTOMER,
    MESSAGE,
    RESOURCES,
    conversation_of,
    conversation_row,
    customer_row,
    is_deleted,
    is_redacted,
    raw_json,
    record_id,
    source_name,
    source_prefix,
    updated_at,
)
from .store import upsert_conversations, upsert_customers

DEFAULT_PAGE_SIZE = 100
MAX_SEARCH_RESULTS = 10_000  # Kustomer's cap on one search's results
DEFAULT_COMMIT_RECORDS = 5_000
# Each API record is its own source (source_name kustomer-api:<kind>:<id>), so its row is 1:
# the same whichever page or run read it.
RECORD_ROW = 1
# Past this many roll-backs in one pass (records moving faster than they are read), the
# pass goes on without rolling back and says so; a shifted record then waits for its next edit.
MAX_ROLLBACKS = 50


def iso_ms(instant: datetime) -> str:
    """Naive UTC as Kustomer writes it, cut to milliseconds (a cut can only widen the
    inclusive search)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def search_body(kind: str, since: datetime | None) -> dict:
    """The search for ``kind`` records updated at or after ``since``, oldest first."""
    body: dict = {
        "queryContext": kind,
        "sort": [{f"{kind}_updated_at": "asc"}],
        "includeDeleted": True,
    }
    if since is not None:
        body["and"] = [{f"{kind}_updated_at": {"gte": iso_ms(since)}}]
    return body


@dataclass
class ResourceStats:
    records: int = 0
    pages: int = 0
    searches: int = 0
    rejected: int = 0
    written: int = 0
    deleted: int = 0
    redacted: int = 0
    rollbacks: int = 0


@dataclass
class PullStats:
    resources: dict[str, ResourceStats] = field(
        default_factory=lambda: {kind: ResourceStats() for kind in RESOURCES}
    )
    messages: IngestStats = field(default_factory=IngestStats)
    rejected_by_reason: Counter = field(default_factory=Counter)
    days_changed: set[str] = field(default_factory=set)
    messages_removed: int = 0  # deleted, or in a deleted conversation
    in_deleted_conversations: int = 0  # pulled, but their conversation is deleted: not stored
    cursors: dict[str, str | None] = field(default_factory=dict)


def load_cursor(connection, kind: str) -> datetime | None:
    row = connection.execute(
        "select cursor_at from raw.kustomer_cursors where resource = ?", [kind]
    ).fetchone()
    return row[0] if row else None


def save_cursor(connection, kind: str, cursor: datetime) -> None:
    connection.execute(
        """
        insert into raw.kustomer_cursors values (?, ?, timezone('UTC', now()))
        on conflict (resource) do update set cursor_at = excluded.cursor_at,
            updated_at = excluded.updated_at
        """,
        [kind, cursor],
    )


class KustomerPull:
    """One run's pull of every resource into the warehouse ``connection``."""

    def __init__(
        self,
        connection,
        client: KustomerClient,
        settings: TextSettings,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_results: int = MAX_SEARCH_RESULTS,
        commit_records: int = DEFAULT_COMMIT_RECORDS,
        max_rollbacks: int = MAX_ROLLBACKS,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        if not 1 <= page_size <= max_results:
            raise ValueError(f"page size must be from 1 to {max_results}, not {page_size}")
        self.connection = connection
        self.client = client
        self.settings = settings
        self.page_size = page_size
        self.max_results = max_results
        self.commit_records = max(commit_records, page_size)
        self.max_rollbacks = max_rollbacks  # 0 turns the guard against shifted pages off
        self.log = log
        self.stats = PullStats()

    def run(self, kinds: tuple[str, ...] = RESOURCES) -> PullStats:
        for kind in kinds:
            self._pass(kind)
        return self.stats

    # -- one pass over a resource ---------------------------------------------------------

    def _pass(self, kind: str) -> None:
        stats = self.stats.resources[kind]
        cursor = load_cursor(self.connection, kind)
        rollbacks_allowed = self.max_rollbacks > 0
        while True:
            stats.searches += 1
            started_from = cursor
            body = search_body(kind, cursor)
            link: str | None = self.client.first_page_link(self.page_size)
            read = 0
            buffer: list = []
            again = window_full = False
            while link:
                page = self.client.search(link, body)
                resume_at = time.monotonic() + page.wait_s
                stats.pages += 1
                if link and page.next_link and not page.records:
                    raise KustomerApiError(
                        f"Kustomer answered an empty {kind} page with a next link; following "
                        "it could go on for ever, so the run stops (nothing of it is lost: the "
                        "cursor holds)"
                    )
                read += len(page.records)
                buffer.extend(page.records)
                link = page.next_link
                if link and read + self.page_size > self.max_results:
                    # The search's window is used up: search again from the cursor.
                    link, again, window_full = None, True, True
                if link and len(buffer) < self.commit_records and not page.wait_s:
                    continue
                cursor, moved_from = self._commit(kind, buffer, cursor, rollbacks_allowed)
                buffer = []
                if moved_from is not None:
                    stats.rollbacks += 1
                    rollbacks_allowed = stats.rollbacks < self.max_rollbacks
                    if not rollbacks_allowed:
                        self.log(
                            f"{kind}: records keep moving while the search is paged; this pass "
                            f"no longer rolls back ({self.max_rollbacks} times already)"
                        )
                    cursor, link, again, window_full = moved_from, None, True, False
                wait = resume_at - time.monotonic()
                if wait > 0:
                    self.client.wait(wait)
            if not again:
                break
            if window_full and cursor == started_from:
                # A whole search window of records shares one updatedAt: searching again from
                # it would return the same window forever.
                raise KustomerApiError(
                    f"more than {read} {kind} records share updatedAt "
                    f"{None if cursor is None else iso_ms(cursor)}; the search cannot page past "
                    "them. Raise max_search_results if the API allows, or ask Kustomer support."
                )
        # The pass reached the end of the search: its record list is done with.
        self.connection.execute("delete from raw.kustomer_pass_reads where resource = ?", [kind])
        self.stats.cursors[kind] = None if cursor is None else iso_ms(cursor)

    def _commit(
        self, kind: str, records: list, cursor: datetime | None, rollbacks_allowed: bool
    ) -> tuple[datetime | None, datetime | None]:
        """Write a group of pages, then the cursor; returns the new cursor and, when a record
        read earlier in the pass came back newer, the instant to search again from."""
        stats = self.stats.resources[kind]
        stats.records += len(records)
        keyed = self._keyed(records)
        ids, instants = zip(*keyed, strict=True) if keyed else ((), ())
        self.connection.register(
            "_group_reads",
            pa.table(
                {
                    "record_id": pa.array(ids, pa.string()),
                    "updated_at": pa.array(instants, pa.timestamp("us")),
                }
            ),
        )
        try:
            moved_from = self._moved_from(kind, keyed) if rollbacks_allowed else None
            if moved_from is not None:
                # Before anything of the group is written: once the moved record's new read
                # is remembered, a resumed run could no longer tell that it moved.
                save_cursor(self.connection, kind, moved_from)
            if kind == MESSAGE:
                self._write_messages(records)
            elif kind == CONVERSATION:
                self._write_conversations(records)
            else:
                self._write_customers(records)
            self._remember(kind)
        finally:
            self.connection.unregister("_group_reads")
        newest = max((instant for _, instant in keyed), default=None)
        if newest is not None and (cursor is None or newest > cursor):
            cursor = newest
        if cursor is not None and moved_from is None:
            save_cursor(self.connection, kind, cursor)
        return cursor, moved_from

    @staticmethod
    def _keyed(records: list) -> list[tuple[str, datetime]]:
        keyed = []
        for record in records:
            key = record_id(record)
            try:
                instant = updated_at(record)
            except ContractError:
                continue
            if key is not None:
                keyed.append((key, instant))
        return keyed

    def _moved_from(self, kind: str, keyed: list[tuple[str, datetime]]) -> datetime | None:
        """The oldest ``updatedAt`` of records read before in this pass (earlier in this
        group, or in ``raw.kustomer_pass_reads``) that came back newer."""
        first: dict[str, datetime] = {}
        moved: list[datetime] = []
        for key, instant in keyed:
            seen = first.setdefault(key, instant)
            if instant != seen:
                moved.append(min(seen, instant))
                first[key] = min(seen, instant)
        earlier = self.connection.execute(
            """
            with read_before as (
                select record_id, max(updated_at) as updated_at
                from raw.kustomer_pass_reads
                where resource = ? and record_id in (select record_id from _group_reads)
                group by record_id
            ),
            read_now as (
                select record_id, min(updated_at) as updated_at
                from _group_reads group by record_id
            )
            select min(r.updated_at) from read_before r
            join read_now p using (record_id)
            where p.updated_at > r.updated_at
            """,
            [kind],
        ).fetchone()[0]
        if earlier is not None:
            moved.append(earlier)
        return min(moved) if moved else None

    def _remember(self, kind: str) -> None:
        """Add the group's reads to the pass's list (after its rows are written)."""
        self.connection.execute(
            """
            insert into raw.kustomer_pass_reads
            select ?, record_id, max(updated_at) from _group_reads group by record_id
            """,
            [kind],
        )

    # -- writers --------------------------------------------------------------------------

    def _replace_rejections(self, kind: str, records: list) -> None:
        """A record read again replaces its earlier rejection (or clears it, now valid)."""
        names = sorted({source_name(kind, r) for r in records})
        self.connection.execute(
            "delete from raw.rejected_messages where source_name in (select unnest(?))", [names]
        )

    def _count_rejection(self, rejection: Rejection, kind: str) -> None:
        self.stats.resources[kind].rejected += 1
        self.stats.rejected_by_reason[rejection.reason.split(":")[0]] += 1

    def _write_messages(self, records: list) -> None:
        deleted, redacted, items, names = [], [], [], []
        for record in records:
            key = record_id(record)
            name = source_name(MESSAGE, record)
            names.append(name)
            if key is not None and is_deleted(record):
                deleted.append(key)
                continue
            if key is not None and is_redacted(record):
                # whether or not the rest of the record is valid: its text must go
                redacted.append(key)
            item = check_resource(record, name, RECORD_ROW, raw_json(record))
            items.append((item, conversation_of(record)))
        # A message of a conversation deleted in Kustomer is not stored again, not even as a
        # rejection; one of a redacted conversation is stored without its text.
        gone, hushed = self._deleted_and_redacted({c for _, c in items if c})
        kept = [item for item, conversation in items if conversation not in gone]
        self.stats.in_deleted_conversations += len(items) - len(kept)
        items = kept
        for item in items:
            if isinstance(item, Rejection):
                self._count_rejection(item, MESSAGE)
        redacted += [
            m.message_id for m in items if isinstance(m, Message) and m.conversation_id in hushed
        ]
        days = self._days_changed_by([m for m in items if isinstance(m, Message)])
        # Marked before the rows are written: once they are, a resumed run reading the same
        # records again would find nothing newer, and the days would never be rebuilt.
        changed_days.mark(self.connection, days)
        stats = load_messages(self.connection, items, sorted(set(names)), settings=self.settings)
        self.stats.messages.add(stats)
        self.stats.days_changed |= days
        self._redact_messages(redacted)
        self._remove_messages(deleted)
        self.stats.resources[MESSAGE].deleted += len(deleted)
        self.stats.resources[MESSAGE].written += stats.inserted + stats.updated

    def _remove_messages(self, ids: list[str]) -> None:
        if ids:
            forgotten = forget_messages(self.connection, ids, keep_rows=False)
            self.stats.messages_removed += forgotten.messages_removed
            self.stats.days_changed |= forgotten.days

    def _redact_messages(self, ids: list[str]) -> None:
        if ids:
            forgotten = forget_messages(self.connection, ids, keep_rows=True)
            self.stats.resources[MESSAGE].redacted += len(ids)
            self.stats.days_changed |= forgotten.days

    def _days_changed_by(self, messages: list[Message]) -> set[str]:
        """The created days of the messages that are new or newer than the stored version
        (a record read again at the cursor's instant changes nothing, and marks nothing)."""
        if not messages:
            return set()
        self.connection.register(
            "_pulled",
            pa.table(
                {
                    "message_id": [m.message_id for m in messages],
                    "created_at": [m.created_at for m in messages],
                    "updated_at": [m.updated_at for m in messages],
                }
            ),
        )
        try:
            rows = self.connection.execute(
                """
                select distinct cast(p.created_at as date)::varchar from _pulled p
                left join raw.messages m using (message_id)
                where m.message_id is null or p.updated_at > m.updated_at
                union
                -- an edit that moved created_at leaves a stale row on the old day
                select distinct cast(m.created_at as date)::varchar from _pulled p
                join raw.messages m using (message_id)
                where p.updated_at > m.updated_at and p.created_at <> m.created_at
                """
            ).fetchall()
        finally:
            self.connection.unregister("_pulled")
        return {day for (day,) in rows}

    def _deleted_and_redacted(self, conversation_ids: set[str]) -> tuple[set[str], set[str]]:
        """Those of ``conversation_ids`` deleted in Kustomer, and those redacted (not deleted)."""
        if not conversation_ids:
            return set(), set()
        rows = self.connection.execute(
            "select conversation_id, deleted from raw.conversations "
            "where (deleted or redacted) and conversation_id in (select unnest(?))",
            [sorted(conversation_ids)],
        ).fetchall()
        return {c for c, deleted in rows if deleted}, {c for c, deleted in rows if not deleted}

    def _messages_of(self, conversation_ids: list[str]) -> list[str]:
        return [
            message_id
            for (message_id,) in self.connection.execute(
                "select message_id from raw.messages where conversation_id in (select unnest(?))",
                [conversation_ids],
            ).fetchall()
        ]

    def _write_rows(self, kind: str, records: list, to_row, upsert) -> list:
        self._replace_rejections(kind, records)
        rows, rejections = [], []
        for record in records:
            row = to_row(record, RECORD_ROW)
            if isinstance(row, Rejection):
                rejections.append(row)
                self._count_rejection(row, kind)
            else:
                rows.append(row)
        store_rejections(self.connection, rejections, IngestStats(), self.settings)
        self.stats.resources[kind].written += upsert(self.connection, rows, self.settings)
        return rows

    def _write_conversations(self, records: list) -> None:
        rows = self._write_rows(CONVERSATION, records, conversation_row, upsert_conversations)
        gone = [row.conversation_id for row in rows if row.deleted]
        if gone:
            self.stats.resources[CONVERSATION].deleted += len(gone)
            self._remove_messages(self._messages_of(gone))
            # Their messages' rejected lines too (kept content names the conversation).
            self.connection.execute(
                """
                delete from raw.rejected_messages
                where starts_with(source_name, ?)
                  and json_extract_string(
                      try_cast(raw_content as json), '$.relationships.conversation.data.id'
                  ) in (select unnest(?))
                """,
                [source_prefix(MESSAGE), gone],
            )
        hushed = [row.conversation_id for row in rows if row.redacted and not row.deleted]
        if hushed:
            self.stats.resources[CONVERSATION].redacted += len(hushed)
            self._redact_messages(self._messages_of(hushed))

    def _write_customers(self, records: list) -> None:
        rows = self._write_rows(CUSTOMER, records, customer_row, upsert_customers)
        self.stats.resources[CUSTOMER].deleted += sum(row.deleted for row in rows)


__all__ = ["KustomerPull", "PullStats", "iso_ms", "search_body"]
