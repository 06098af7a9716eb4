"""The SQL reader of JSON Lines gives exactly what the Python readers give, line for line.

DuckDB takes the lines it can read unambiguously and hands every other line to the Python
reader; these tests feed both paths the same files, full of the lines where the two could
disagree, and compare every message and every rejection.
"""

import dataclasses
import json
import re

import duckdb
import pytest

from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.sample.generator import iter_sample_lines
from orchestration.sources import READERS
from orchestration.sources import json_lines_sql as sql_reader
from orchestration.sources.location import list_source_files
from orchestration.sources.record import MESSAGE_COLUMNS, Message
from orchestration.stage import FILE_SEQ, create_stage, stage_files


def kustomer(message_id="m1", **attributes):
    record = {
        "type": "message",
        "id": message_id,
        "attributes": {
            "channel": "email",
            "direction": "in",
            "preview": "short",
            "body": "<p>Where is my refund?</p>",
            "lang": "en",
            "createdAt": "2026-01-02T10:00:00.000Z",
            "updatedAt": "2026-01-02T11:00:00.000Z",
            "meta": {"subject": "Refund"},
        },
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": "c1"}},
            "customer": {"data": {"type": "customer", "id": "u1"}},
        },
    }
    for name, value in attributes.items():
        if value is ...:
            record["attributes"].pop(name, None)
        else:
            record["attributes"][name] = value
    return record


def line(record) -> str:
    return json.dumps(record, ensure_ascii=False)


def relationship(record, name, value):
    record = json.loads(json.dumps(record))
    record["relationships"][name] = value
    return record


# Lines where a careless SQL reading would differ from Python's: each is either read the same
# way by both paths or left to Python.
KUSTOMER_LINES = [
    line(kustomer("plain")),
    line(kustomer("crlf")) + "\r",
    "",
    "   ",
    line(kustomer("\u00a0nbsp-id")),
    line(kustomer(" spaced ")),
    line({**kustomer(), "id": 42}),
    line(kustomer("unicode-id-é")),
    line(kustomer("dir-upper", direction="INBOUND")),
    line(kustomer("dir-spaced", direction=" out ")),
    line(kustomer("dir-bool", direction=True)),
    line(kustomer("dir-unknown", direction="sideways")),
    line(kustomer("chan-upper", channel="EMAIL")),
    line(kustomer("chan-spaced", channel=" chat ")),
    line(kustomer("chan-unicode", channel="chät")),
    line(kustomer("ts-offset", createdAt="2026-01-02T10:00:00+05:30")),
    line(kustomer("ts-naive", createdAt="2026-01-02T10:00:00", updatedAt=...)),
    line(kustomer("ts-space", createdAt="2026-01-02 10:00:00.5", updatedAt=None)),
    line(kustomer("ts-micro", createdAt="2026-01-02T10:00:00.123456Z", updatedAt="")),
    line(kustomer("ts-nanos", createdAt="2026-01-02T10:00:00.123456789Z")),
    line(kustomer("ts-epoch", createdAt=1767348000000)),
    line(kustomer("ts-date", createdAt="2026-01-02")),
    line(kustomer("ts-feb30", createdAt="2026-02-30T10:00:00Z")),
    line(kustomer("ts-hour24", createdAt="2026-01-02T24:00:00Z")),
    line(kustomer("ts-old", createdAt="1999-12-31T23:59:59Z")),
    line(kustomer("ts-empty", createdAt="")),
    line(kustomer("ts-missing", createdAt=...)),
    line(kustomer("upd-bad", updatedAt="soon")),
    line(kustomer("upd-number", updatedAt=5)),
    line(kustomer("body-empty", body="")),
    line(kustomer("body-null", body=None)),
    line(kustomer("body-none", body=..., preview=...)),
    line(kustomer("body-number", body=7)),
    line(kustomer("body-nul", body="a\u0000b")),
    line(kustomer("body-emoji", body="great 😀 thanks")),
    '{"type":"message","id":"body-escaped","attributes":{"channel":"chat","direction":"in",'
    '"body":"ok \\ud83d\\ude00","createdAt":"2026-01-02T10:00:00Z"},"relationships":{"conversation"'
    ':{"data":{"id":"c"}},"customer":{"data":{"id":"u"}}}}',
    '{"type":"message","id":"body-lone","attributes":{"channel":"chat","direction":"in",'
    '"body":"bad \\ud83d","createdAt":"2026-01-02T10:00:00Z"},"relationships":{"conversation"'
    ':{"data":{"id":"c"}},"customer":{"data":{"id":"u"}}}}',
    line(kustomer("meta-string", meta="x")),
    line(kustomer("meta-null", meta=None)),
    line(kustomer("subject-empty", meta={"subject": ""})),
    line(kustomer("subject-number", meta={"subject": 3})),
    line(kustomer("lang-empty", lang="", language="DE")),
    line(kustomer("lang-upper", lang="EN-us")),
    line(kustomer("lang-spaced", lang=" en ")),
    line(kustomer("lang-none", lang=None, language=None)),
    line(kustomer("lang-number", lang=5)),
    line(relationship(kustomer("rel-list"), "conversation", [1])),
    line(relationship(kustomer("rel-missing"), "customer", None)),
    line({**kustomer("attrs-list"), "attributes": ["x"]}),
    line({**kustomer("rels-list"), "relationships": ["x"]}),
    line({**kustomer("type-other"), "type": "conversation"}),
    line({k: v for k, v in kustomer("type-missing").items() if k != "type"}),
    '{"type":"message","id":"dup-root","id":"other","attributes":{"channel":"chat",'
    '"direction":"in","createdAt":"2026-01-02T10:00:00Z"},"relationships":{"conversation":'
    '{"data":{"id":"c"}},"customer":{"data":{"id":"u"}}}}',
    '{"type":"message","id":"dup-nested","attributes":{"channel":"chat","channel":"sms",'
    '"direction":"in","createdAt":"2026-01-02T10:00:00Z"},"relationships":{"conversation":'
    '{"data":{"id":"c","id":"d"}},"customer":{"data":{"id":"u"}}}}',
    line(kustomer("trailing-comma"))[:-1] + ",}",
    '{"type":"message","id":"nan","attributes":{"channel":"chat","direction":"in",'
    '"body":NaN,"createdAt":"2026-01-02T10:00:00Z"},"relationships":{"conversation":'
    '{"data":{"id":"c"}},"customer":{"data":{"id":"u"}}}}',
    '{"type":"message", "id": "truncated", "attributes": {',
    "[1, 2]",
    '"just a string"',
    "\ufeff" + line(kustomer("bom")),
    # A repeated key in an object the record is not read from changes nothing: both accept.
    line(kustomer("dup-elsewhere"))[:-1] + ', "links": {"self": "a", "self": "b"}}',
    # nan and inf: Python takes NaN and Infinity only, DuckDB every spelling.
    line(kustomer("nan-lower"))[:-1] + ', "x": nan}',
    line(kustomer("inf-lower"))[:-1] + ', "x": -inf}',
    line(kustomer("nan-python"))[:-1] + ', "x": NaN}',
    line(kustomer("deep"))[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}",
    line(kustomer("dir-dotted-i", direction="\u0130N")),
    line(kustomer("year-10000", createdAt="9999-12-31T23:00:00-05:00")),
    line(kustomer("upd-10000", updatedAt="9999-12-31T23:30:00-05:00")),
    line(kustomer("ts-nan", createdAt=float("nan"))),
]

FLAT = {
    "message_id": "f1",
    "conversation_id": "c1",
    "customer_id": "u1",
    "channel": "chat",
    "direction": "out",
    "created_at": "2026-01-02T10:00:00Z",
    "updated_at": "2026-01-02T11:00:00Z",
    "body": "thanks",
    "subject": None,
    "language": "en",
}

FLAT_LINES = [
    line(FLAT),
    line(FLAT | {"message_id": "f-body-empty", "body": ""}),
    line(FLAT | {"message_id": "f-subject-empty", "subject": ""}),
    line(FLAT | {"message_id": "f-lang-empty", "language": ""}),
    line(FLAT | {"message_id": "f-epoch", "created_at": 1767348000}),
    line(FLAT | {"message_id": "f-no-update", "updated_at": None}),
    line(FLAT | {"message_id": "f-number-conv", "conversation_id": 12}),
    line({k: v for k, v in FLAT.items() if k != "customer_id"} | {"message_id": "f-no-cust"}),
    line(FLAT | {"message_id": "f-dir", "direction": "Agent"}),
    '{"message_id":"f-dup","message_id":"f-dup2","conversation_id":"c","customer_id":"u",'
    '"channel":"chat","direction":"in","created_at":"2026-01-02T10:00:00Z"}',
    line(FLAT | {"message_id": "f-nested-dup"})[:-1] + ', "extra": {"k": 1, "k": 2}}',
    line(FLAT | {"message_id": "f-inf", "score": float("inf")}),
]


def stage(paths, fmt, tmp_path):
    """(rows, rejections) through the SQL reader, via ingest's staging."""
    files = list_source_files(str(tmp_path), ())
    files = [f for f in files if any(f.uri.endswith(p.name) for p in paths)]
    with duckdb.connect() as connection:
        connection.execute(RAW_SCHEMA_DDL)
        create_stage(connection, "s")
        rejections = list(stage_files(connection, files, fmt, "s"))
        rows = connection.execute(
            f"select {', '.join(MESSAGE_COLUMNS)}, load_seq from s order by load_seq"
        ).fetchall()
    return rows, rejections


def python_read(paths, fmt):
    """(rows, rejections) through the Python reader, with the load_seq staging gives them."""
    rows, rejections = [], []
    for ordinal, path in enumerate(sorted(paths)):
        for item in READERS[fmt](path):
            if isinstance(item, Message):
                rows.append((*item.as_row(), ordinal * FILE_SEQ + item.source_row))
            else:
                rejections.append(item)
    return rows, rejections


def assert_same(paths, fmt, tmp_path):
    sql_rows, sql_rejections = stage(paths, fmt, tmp_path)
    py_rows, py_rejections = python_read(paths, fmt)
    assert sql_rows == py_rows
    key = lambda r: (r.source_name, r.source_row)  # noqa: E731
    assert sorted(sql_rejections, key=key) == sorted(py_rejections, key=key)
    return sql_rows, sql_rejections


def write(path, lines, ending="\n"):
    path.write_bytes((ending.join(lines) + ending).encode("utf-8", "surrogatepass"))
    return path


def test_every_tricky_kustomer_line_is_read_as_python_reads_it(tmp_path):
    rows, rejections = assert_same(
        [write(tmp_path / "k.jsonl", KUSTOMER_LINES)], "kustomer", tmp_path
    )
    ids = {row[0] for row in rows}
    # Spot checks that the comparison is not vacuous: both kinds of outcome occur.
    assert {"plain", "crlf", "nbsp-id", "spaced", "42", "ts-offset", "body-escaped"} <= ids
    reasons = {r.raw_content[:60]: r.reason for r in rejections}
    assert any("duplicate key 'id'" in reason for reason in reasons.values())
    assert any("duplicate key 'channel'" in reason for reason in reasons.values())
    assert any(reason.startswith("malformed JSON") for reason in reasons.values())
    assert any("lone UTF-16 surrogate" in reason for reason in reasons.values())
    assert "dup-root" not in ids and "trailing-comma" not in ids and "body-nul" not in ids
    assert "dup-elsewhere" in ids and "nan-python" in ids
    rejected = {
        m.group(1) for r in rejections if (m := re.search(r'"id": "([^"]+)"', r.raw_content))
    }
    assert {"dir-dotted-i", "year-10000", "upd-10000"} <= rejected
    assert not {"nan-lower", "inf-lower", "deep", "ts-nan"} & ids


def test_every_tricky_flat_line_is_read_as_python_reads_it(tmp_path):
    rows, rejections = assert_same([write(tmp_path / "f.jsonl", FLAT_LINES)], "jsonl", tmp_path)
    assert {row[0] for row in rows} >= {
        "f1",
        "f-body-empty",
        "f-epoch",
        "f-number-conv",
        "f-nested-dup",
        "f-inf",
    }
    assert any("duplicate key 'message_id'" in r.reason for r in rejections)


def test_plain_lines_never_reach_the_python_reader(tmp_path, monkeypatch):
    def python_reader(*_):
        raise AssertionError("a plain line went to the Python reader")

    layout = dataclasses.replace(sql_reader.KUSTOMER, line_reader=python_reader)
    monkeypatch.setitem(sql_reader.LAYOUTS, "kustomer", layout)
    path = write(tmp_path / "plain.jsonl", [line(kustomer(f"m{i}")) for i in range(50)])
    rows, rejections = stage([path], "kustomer", tmp_path)
    assert len(rows) == 50 and not rejections


def test_files_larger_than_a_chunk_share_buffers_and_keep_their_line_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(sql_reader, "CHUNK_BYTES", 4096)
    lines = list(iter_sample_lines(3_000, seed=3))
    paths = [
        write(tmp_path / "a.jsonl", lines[:1_400]),
        write(tmp_path / "b.jsonl", lines[1_400:1_410]),  # small: shares a buffer
        write(tmp_path / "c.jsonl", lines[1_410:] + KUSTOMER_LINES, ending="\r\n"),
        # one line longer than a chunk
        write(tmp_path / "d.jsonl", [line(kustomer("long", body="x" * 10_000))]),
    ]
    rows, rejections = assert_same(paths, "kustomer", tmp_path)
    assert len(rows) > 2_500 and len(rejections) > 3  # the sample has malformed lines
    assert [row[-1] for row in rows] == sorted(row[-1] for row in rows)


def test_a_line_of_invalid_utf8_is_rejected_alone(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        (line(kustomer("before")) + "\n").encode()
        + b'{"type":"message","id":"caf\xe9"}\n'
        + (line(kustomer("after")) + "\n").encode()
    )
    rows, rejections = assert_same([path], "kustomer", tmp_path)
    assert [row[0] for row in rows] == ["before", "after"]
    assert [(r.source_row, r.reason.split(" at ")[0]) for r in rejections] == [(2, "invalid UTF-8")]


def test_a_query_duckdb_cannot_run_leaves_the_lines_to_python(tmp_path, monkeypatch):
    monkeypatch.setitem(sql_reader._SQL, "kustomer", "select error('parser gave up')")
    path = write(tmp_path / "k.jsonl", KUSTOMER_LINES)
    rows, _ = assert_same([path], "kustomer", tmp_path)
    assert "plain" in {row[0] for row in rows}


@pytest.mark.parametrize("fmt", ["kustomer", "jsonl"])
def test_only_json_lines_files_take_the_sql_path(tmp_path, fmt):
    assert sql_reader.reads_with_sql(fmt, tmp_path / "x.jsonl")
    assert sql_reader.reads_with_sql(fmt, tmp_path / "x.ndjson")
    # A Kustomer .json file is one JSON:API document; flat .json files are JSON Lines.
    assert sql_reader.reads_with_sql(fmt, tmp_path / "x.json") is (fmt == "jsonl")
    assert not sql_reader.reads_with_sql("csv", tmp_path / "x.csv")


def test_the_day_scan_finds_the_days_of_valid_messages(tmp_path):
    def at(message_id, created, **changes):
        return line({**kustomer(message_id, createdAt=created, updatedAt=None), **changes})

    path = tmp_path / "days.jsonl"
    text_lines = [
        at("a", "2026-01-01T10:00:00Z"),
        at("b", 1767614400000),  # epoch milliseconds (2026-01-05): the Python reader's day
        at("c", "2026-01-06T10:00:00Z", type="conversation"),  # not a message
        '{"type": "message", "attributes": {"createdAt": "2026-01-07T10:00:00Z"',  # broken
        at("e", "2026-01-09T23:30:00-02:00"),  # 01:30 UTC on the 10th
        at("f", "1999-12-31T10:00:00Z"),  # before the warehouse's first day
        at("y", "9999-12-31T23:00:00-05:00"),  # after its last (year 10000 in UTC)
        "",
    ]
    write(path, text_lines)
    # A file with a line of invalid UTF-8 is read by Python whole; the others go through SQL.
    other = tmp_path / "other.jsonl"
    other.write_bytes(
        at("g", "2026-01-11").encode()
        + b'\n{"id": "caf\xe9"}\n'
        + at("h", "2026-01-12T00:00:00Z").encode()
    )
    with duckdb.connect() as connection:
        days = sql_reader.json_lines_days(
            connection, [(path, str(path)), (other, str(other))], "kustomer"
        )
    python_days = {
        item.created_at.date().isoformat()
        for p in (path, other)
        for item in READERS["kustomer"](p)
        if isinstance(item, Message)
    }
    assert (
        days
        == python_days
        == {
            "2026-01-01",
            "2026-01-05",
            "2026-01-10",
            "2026-01-11",
            "2026-01-12",
        }
    )


def test_the_day_scan_counts_a_dated_line_that_breaks_the_contract_otherwise(tmp_path):
    # The documented over-approximation: its day becomes a partition that loads nothing.
    record = relationship(kustomer("no-customer"), "customer", None)
    path = write(tmp_path / "k.jsonl", [line(record)])
    with duckdb.connect() as connection:
        assert sql_reader.json_lines_days(connection, [(path, "k")], "kustomer") == {"2026-01-02"}
    assert not [i for i in READERS["kustomer"](path) if isinstance(i, Message)]
