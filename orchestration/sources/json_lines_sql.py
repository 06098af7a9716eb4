"""JSON Lines read by DuckDB: Kustomer exports and flat records, straight into a table.

Parsing a million lines in Python (``json.loads``, the contract checks, a dataclass per row,
then Arrow) costs about 25 s; DuckDB's JSON functions do the same work in a few seconds.
DuckDB's ``read_json`` cannot be used as is: with ``ignore_errors`` it drops a broken line
without a trace, and without it one broken line fails the whole file. So this reader:

1. reads the file in bounded byte chunks cut at line ends, numbering the lines itself;
2. has DuckDB parse each chunk's lines and project the message record, accepting only lines
   that are unambiguously valid: every field of the JSON type the contract expects, ids that
   begin and end with printable ASCII (so stripping them changes nothing), ASCII channels and
   directions, timestamps in the ISO forms that Python and DuckDB read alike, no repeated key
   in the objects the record is read from, nothing DuckDB's lenient parser accepts but
   Python's rejects (trailing commas, nan and inf in other spellings);
3. hands every other line to the format's Python line reader, which produces the message or
   the rejection with its reason, exactly as the pure Python reader does.

So a line is never lost and never read two ways: the SQL path is a fast path for the lines
whose reading is unambiguous, and ``tests/unit/test_json_lines_sql.py`` checks that both
paths give the same messages and rejections.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import duckdb
import pyarrow as pa

from ._lines import read_lines
from .flat import flat_line
from .kustomer import RECORD_OBJECTS as KUSTOMER_OBJECTS
from .kustomer import kustomer_line
from .record import DIRECTIONS, FIRST_DAY, MESSAGE_COLUMNS, Message, Rejection

log = logging.getLogger(__name__)

CHUNK_BYTES = 16 * 1024 * 1024
LAST_DAY = "9999-12-31"
ARROW_BATCH_ROWS = 8_192

LineReader = Callable[[str, int, str], Message | Rejection | None]


def json_path(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f".{key}" for key in keys)


@dataclass(frozen=True)
class JsonLayout:
    """Where a format keeps each field of the message record (JSONPath), and the objects
    whose keys must be unique for the line to be read unambiguously."""

    paths: dict[str, str]
    objects: tuple[str, ...]
    line_reader: LineReader
    # Kustomer falls back from the full body to the preview, and from lang to language.
    body_fallback: str | None = None
    language_fallback: str | None = None
    message_type: str | None = None  # required value of $.type


KUSTOMER = JsonLayout(
    paths={
        "type": "$.type",
        "message_id": "$.id",
        "conversation_id": "$.relationships.conversation.data.id",
        "customer_id": "$.relationships.customer.data.id",
        "channel": "$.attributes.channel",
        "direction": "$.attributes.direction",
        "created_at": "$.attributes.createdAt",
        "updated_at": "$.attributes.updatedAt",
        "body": "$.attributes.body",
        "preview": "$.attributes.preview",
        "subject": "$.attributes.meta.subject",
        "meta": "$.attributes.meta",
        "language": "$.attributes.lang",
        "language_2": "$.attributes.language",
    },
    objects=tuple(json_path(path) for path in KUSTOMER_OBJECTS),
    line_reader=kustomer_line,
    body_fallback="preview",
    language_fallback="language_2",
    message_type="message",
)

FLAT = JsonLayout(
    paths={
        name: f"$.{name}"
        for name in (
            "message_id",
            "conversation_id",
            "customer_id",
            "channel",
            "direction",
            "created_at",
            "updated_at",
            "body",
            "subject",
            "language",
        )
    },
    objects=("$",),
    line_reader=flat_line,
)

LAYOUTS = {"kustomer": KUSTOMER, "jsonl": FLAT}


def reads_with_sql(fmt: str, path: Path) -> bool:
    """Whether this reader takes the file: JSON Lines of a format it knows (a Kustomer ``.json``
    file is one JSON:API document, which the Python reader takes)."""
    if fmt == "kustomer":
        return path.suffix.lower() != ".json"
    return fmt in LAYOUTS


# Python's datetime.fromisoformat and DuckDB's cast read these forms the same way; any other
# timestamp goes to the Python reader.
_ISO = r"\d{4}-\d\d-\d\d[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"


def timestamp(expr: str) -> str:
    """SQL for an ISO timestamp string as TIMESTAMPTZ (no offset: UTC), null if invalid."""
    return (
        f"try_cast(case when regexp_matches({expr}, '(Z|[+-]\\d\\d:\\d\\d)$') then {expr} "
        f"else {expr} || '+00:00' end as timestamptz)"
    )


# Lines DuckDB's parser must not read: it takes trailing commas, which JSON (and Python)
# reject, nan/inf in any spelling (Python takes NaN, Infinity and -Infinity only) and nesting
# deeper than Python's recursion limit, and it fails the whole query on a lone surrogate
# escape. All of them go to Python (a line with 500 brackets may be nested that deep).
_SCREEN = (
    "json_valid(raw)"
    # 500 open brackets need 1,000 bytes: most lines are shorter, and skip the count.
    " and (strlen(raw) < 1000"
    " or strlen(raw) - strlen(replace(replace(raw, '[', ''), '{', '')) < 500)"
    " and not regexp_matches(raw, ',\\s*[\\]}]')"
    " and not regexp_matches(raw, '(?i)[:,\\[]\\s*-?(nan|inf)')"
    " and not regexp_matches(raw, '\\\\u[dD][89a-fA-F]')"
)


def _chunk_sql(layout: JsonLayout) -> str:
    """The query that parses a chunk's lines (``_json_lines``) once and projects the record."""
    names = list(layout.paths)
    index = {name: names.index(name) + 1 for name in names}  # DuckDB lists count from 1
    paths = ", ".join(f"'{path}'" for path in layout.paths.values())
    objects = ", ".join(f"'{path}'" for path in layout.objects)

    def v(name: str) -> str:
        return f"v[{index[name]}]"

    def t(name: str) -> str:
        return f"coalesce(t[{index[name]}], 'NULL')"

    def text_or_null(name: str) -> str:
        return f"{t(name)} in ('NULL', 'VARCHAR')"

    def ident(name: str) -> str:
        # Printable ASCII at both ends: Python's strip() would change nothing.
        return (
            f"({t(name)} = 'VARCHAR' and ord({v(name)}[1]) between 33 and 126 "
            f"and ord({v(name)}[-1]) between 33 and 126)"
        )

    directions = ", ".join(f"'{k}': '{d}'" for k, d in DIRECTIONS.items())
    body = (
        f"case when {v('body')} <> '' then {v('body')} else {v(layout.body_fallback)} end"
        if layout.body_fallback
        else v("body")
    )
    language = (
        f"case when {v('language')} <> '' then {v('language')} "
        f"else {v(layout.language_fallback)} end"
        if layout.language_fallback
        else v("language")
    )
    checks = [
        "parseable",
        *(ident(name) for name in ("message_id", "conversation_id", "customer_id")),
        f"{t('channel')} = 'VARCHAR' and regexp_full_match({v('channel')}, '[!-~]([ -~]*[!-~])?')",
        # ASCII letters: lower() would fold other letters unlike Python's str.lower().
        f"{t('direction')} = 'VARCHAR' and regexp_full_match({v('direction')}, '[A-Za-z]+') "
        "and direction is not null",
        f"{t('created_at')} = 'VARCHAR' and regexp_full_match({v('created_at')}, '{_ISO}')",
        # Year 10000 is beyond Python's datetime: such a line goes to Python, which rejects it.
        f"created_at >= '{FIRST_DAY:%Y-%m-%d}' and created_at < '{LAST_DAY}'",
        f"(updated_is is null or updated_is < '{LAST_DAY}')",
        f"({t('updated_at')} = 'NULL' or {v('updated_at')} = '' or ({t('updated_at')} = 'VARCHAR' "
        f"and regexp_full_match({v('updated_at')}, '{_ISO}') and updated_is is not null))",
        *(text_or_null(name) for name in ("body", "subject", "language")),
        *(text_or_null(name) for name in (layout.body_fallback, layout.language_fallback) if name),
        "(body is null or not contains(body, chr(0)))",
        "(language_raw is null or regexp_full_match(language_raw, '[!-~]*'))",
        "coalesce(list_bool_and([len(o) = len(list_distinct(o)) for o in k if o is not null]), true)",
    ]
    if "meta" in index:
        checks.append(f"{t('meta')} in ('NULL', 'OBJECT')")
    if layout.message_type:
        checks.append(f"{t('type')} = 'VARCHAR' and {v('type')} = '{layout.message_type}'")
    return f"""
    create or replace temp table _json_chunk as
    with screened as (
        select
            segment,
            source_row,
            raw,
            {_SCREEN} as parseable
        from _json_lines
    ),
    parsed as (
        select
            *,
            case when parseable then json_extract_string(raw, [{paths}]) end as v,
            case when parseable then json_type(raw, [{paths}]) end as t,
            case when parseable then json_keys(raw, [{objects}]) end as k
        from screened
    ),
    projected as (
        select
            *,
            timezone('UTC', {timestamp(v("created_at"))}) as created_at,
            timezone('UTC', {timestamp(v("updated_at"))}) as updated_is,
            map {{{directions}}}[lower({v("direction")})] as direction,
            {body} as body,
            {language} as language_raw
        from parsed
    )
    select
        segment,
        source_row,
        raw,
        coalesce({" and ".join(f"({check})" for check in checks)}, false) as ok,
        {v("message_id")} as message_id,
        {v("conversation_id")} as conversation_id,
        {v("customer_id")} as customer_id,
        lower({v("channel")}) as channel,
        direction,
        created_at,
        case when {t("updated_at")} = 'NULL' or {v("updated_at")} = '' then created_at
            else updated_is end as updated_at,
        body,
        nullif({v("subject")}, '') as subject,
        nullif(lower(language_raw), '') as language
    from projected
    """


_SQL = {fmt: _chunk_sql(layout) for fmt, layout in LAYOUTS.items()}


def _chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(first line number, bytes)`` of whole lines, about ``CHUNK_BYTES`` at a time."""
    number, carry = 1, b""
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            block = carry + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a chunk: read on until it ends
                carry = block
                continue
            chunk, carry = block[:cut], block[cut:]
            yield number, chunk
            number += chunk.count(b"\n")
    if carry:
        yield number, carry


@dataclass
class _Segment:
    """Consecutive lines of one file, waiting in the buffer."""

    source: str
    first: int
    seq_base: int
    lines: list[str]


class _BufferedLines:
    """Runs a query over the lines of JSON Lines files, and the Python reader over the lines
    the query leaves.

    Lines of several files share one buffer of about ``CHUNK_BYTES``, so that a folder of small
    daily files costs a few queries rather than one per file (planning a query costs about
    20 ms). ``add`` and ``flush`` yield the Python reader's item for each line the query does
    not take. A subclass gives the query (it reads ``_json_lines``: segment, source_row, raw,
    and creates ``result``) and ``collect``, which uses the result and returns the leftover
    ``(segment, source_row, raw)`` lines.
    """

    result: str

    def __init__(self, connection, fmt: str, sql: str) -> None:
        self.connection, self.layout, self.sql = connection, LAYOUTS[fmt], sql
        self.segments: list[_Segment] = []
        self.size = 0

    def add(self, path: Path, source: str, seq_base: int = 0) -> Iterator[Message | Rejection]:
        for first, chunk in _chunks(path):
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                # Some line is not UTF-8: the Python reader rejects exactly that line.
                yield from read_lines(source, chunk.split(b"\n"), self.layout.line_reader, first)
                continue
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            self.segments.append(_Segment(source, first, seq_base, lines))
            self.size += len(chunk)
            if self.size >= CHUNK_BYTES:
                yield from self.flush()

    def flush(self) -> Iterator[Message | Rejection]:
        segments, self.segments, self.size = self.segments, [], 0
        if not segments:
            return
        batch = pa.Table.from_batches(
            # Record batches of a few thousand rows let DuckDB parse on every core.
            pa.table(
                {
                    "segment": pa.array(
                        [i for i, s in enumerate(segments) for _ in s.lines], pa.int32()
                    ),
                    "source_row": pa.array(
                        [n for s in segments for n in range(s.first, s.first + len(s.lines))],
                        pa.int64(),
                    ),
                    "raw": pa.array([line for s in segments for line in s.lines], pa.string()),
                }
            ).to_batches(max_chunksize=ARROW_BATCH_ROWS)
        )
        self.connection.register("_json_lines", batch)
        try:
            self.connection.execute(self.sql)
        except duckdb.Error as error:
            # A line DuckDB's parser chokes on must not fail the load: Python reads the lines.
            # DuckDB's message can quote the input, which is customer text: not logged.
            log.warning(
                "DuckDB could not read %d lines (%s); the Python reader takes them, slower",
                batch.num_rows,
                type(error).__name__,
            )
            for s in segments:
                yield from read_lines(s.source, s.lines, self.layout.line_reader, s.first)
            return
        finally:
            self.connection.unregister("_json_lines")
        try:
            leftovers = self.collect(segments)
        finally:
            self.connection.execute(f"drop table if exists {self.result}")
        for segment, number, raw in leftovers:
            item = self.layout.line_reader(segments[segment].source, number, raw.rstrip("\r"))
            if item is not None:
                yield item

    def collect(self, segments: list[_Segment]) -> list[tuple[int, int, str]]:
        raise NotImplementedError


class JsonLinesStager(_BufferedLines):
    """Stages JSON Lines files into ``table`` (the ingest stage table); the rows it inserts
    have ``load_seq = seq_base + line number``."""

    result = "_json_chunk"

    def __init__(self, connection, fmt: str, table: str) -> None:
        super().__init__(connection, fmt, _SQL[fmt])
        self.table = table

    def collect(self, segments: list[_Segment]) -> list[tuple[int, int, str]]:
        sources = pa.table(
            {
                "segment": pa.array(range(len(segments)), pa.int32()),
                "source_name": [s.source for s in segments],
                "seq_base": pa.array([s.seq_base for s in segments], pa.int64()),
            }
        )
        self.connection.register("_json_sources", sources)
        try:
            columns = ", ".join(MESSAGE_COLUMNS)
            self.connection.execute(
                f"insert into {self.table} ({columns}, ingested_at, load_seq) "
                f"select {columns}, timezone('UTC', now()), seq_base + source_row "
                "from _json_chunk join _json_sources using (segment) where ok"
            )
        finally:
            self.connection.unregister("_json_sources")
        return self.connection.execute(
            "select segment, source_row, raw from _json_chunk where not ok "
            "order by segment, source_row"
        ).fetchall()


def _days_sql(layout: JsonLayout) -> str:
    """The query that reads only each line's created_at (and type), for finding days."""
    paths = [layout.paths["created_at"]]
    is_message = ""
    if layout.message_type:
        paths.append(layout.paths["type"])
        is_message = f"and v[2] = '{layout.message_type}'"
    return f"""
    create or replace temp table _json_days as
    with parsed as (
        select
            segment,
            source_row,
            raw,
            case when {_SCREEN} then json_extract_string(raw, [{", ".join(f"'{p}'" for p in paths)}])
            end as v
        from _json_lines
    )
    select
        segment,
        source_row,
        raw,
        case when regexp_full_match(v[1], '{_ISO}') {is_message}
            then timezone('UTC', {timestamp("v[1]")}) end as created_at
    from parsed
    """


_DAYS_SQL = {fmt: _days_sql(layout) for fmt, layout in LAYOUTS.items()}


class _DayScan(_BufferedLines):
    """Collects the UTC days of lines' creation times; lines without an ISO one go to Python."""

    result = "_json_days"

    def __init__(self, connection, fmt: str) -> None:
        super().__init__(connection, fmt, _DAYS_SQL[fmt])
        self.days: set[str] = set()

    def collect(self, segments: list[_Segment]) -> list[tuple[int, int, str]]:
        self.days.update(
            day
            for (day,) in self.connection.execute(
                "select distinct cast(created_at as date)::varchar from _json_days "
                f"where created_at >= '{FIRST_DAY:%Y-%m-%d}' and created_at < '{LAST_DAY}'"
            ).fetchall()
        )
        return self.connection.execute(
            "select segment, source_row, raw from _json_days "
            "where created_at is null and trim(raw) <> ''"
        ).fetchall()


def json_lines_days(connection, paths: Iterable[tuple[Path, str]], fmt: str) -> set[str]:
    """The UTC days (ISO) of the messages in JSON Lines files (``(path, source name)``).

    Only the creation time and type are read in SQL; a line without an ISO creation time
    goes to the Python reader, and its day counts if it is a valid message. A line that has
    one but breaks the contract otherwise still gives its day: at worst the full load runs a
    partition that ends up empty. That reads a million lines in about a third of the time
    the full reader takes, and the full load reads every file again to ingest it.
    """
    scan = _DayScan(connection, fmt)
    items = chain.from_iterable(scan.add(path, source) for path, source in paths)
    days = {
        i.created_at.date().isoformat()
        for i in chain(items, scan.flush())
        if isinstance(i, Message)
    }
    return days | scan.days
