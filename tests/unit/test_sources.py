"""Every reader: valid rows land as messages, every broken row becomes a rejection."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.sources import read_source, source_files
from orchestration.sources.record import Message, Rejection

FLAT = {
    "message_id": "m1",
    "conversation_id": "c1",
    "customer_id": "u1",
    "channel": "email",
    "direction": "in",
    "created_at": "2026-01-02T10:00:00Z",
    "updated_at": "2026-01-02T11:00:00Z",
    "body": "<p>Where is my refund?</p>",
    "subject": "Refund",
    "language": "en",
}


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Message)], [
        i for i in items if isinstance(i, Rejection)
    ]


def test_jsonl_reader_quarantines_each_kind_of_bad_line(tmp_path):
    path = tmp_path / "messages.jsonl"
    lines = [
        json.dumps(FLAT).encode(),
        b'{"message_id": "m2", "conversation_id": ',  # truncated
        json.dumps(FLAT | {"message_id": "m3", "customer_id": None}).encode(),
        json.dumps(FLAT | {"message_id": "m4", "created_at": "yesterday"}).encode(),
        json.dumps(FLAT | {"message_id": "m5", "body": ""}).encode(),
        json.dumps(FLAT | {"message_id": "m6", "body": "x" * 100_000}).encode(),
        b'{"message_id": "m7", "body": "caf\xe9"}',  # latin-1 byte: invalid UTF-8
        b"[1, 2]",
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    messages, rejections = split(read_source(path, "jsonl"))
    assert [m.message_id for m in messages] == ["m1", "m5", "m6"]
    assert len(messages[2].body) == 100_000
    reasons = {r.source_row: r.reason for r in rejections}
    assert set(reasons) == {2, 3, 4, 7, 8}
    assert reasons[2].startswith("malformed JSON")
    assert "customer_id" in reasons[3]
    assert "bad timestamp" in reasons[4]
    assert reasons[7].startswith("invalid UTF-8")
    assert "\\xe9" in next(r.raw_content for r in rejections if r.source_row == 7)


def test_csv_reader(tmp_path):
    path = tmp_path / "messages.csv"
    header = ",".join(FLAT)
    good = ",".join(f'"{v}"' for v in FLAT.values())
    bad_direction = good.replace('"in"', '"sideways"')
    path.write_bytes(
        f"{header}\n{good}\n{bad_direction}\n".encode()
        + b'"m9","c","u","sms","in","2026-01-02T10:00:00Z","","caf\xe9","",""\n'
    )
    messages, rejections = split(read_source(path, "csv"))
    assert [m.message_id for m in messages] == ["m1"]
    assert messages[0].updated_at.hour == 11
    assert [(r.source_row, r.reason.split(":")[0]) for r in rejections] == [
        (2, "unknown direction"),
        (3, "invalid UTF-8"),
    ]


def test_parquet_reader(tmp_path):
    path = tmp_path / "messages.parquet"
    rows = [FLAT, FLAT | {"message_id": "m2", "direction": None}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    messages, rejections = split(read_source(path, "parquet"))
    assert [m.message_id for m in messages] == ["m1"]
    assert rejections[0].source_row == 2 and "direction" in rejections[0].reason


def kustomer_resource(message_id="k1", **attributes):
    return {
        "type": "message",
        "id": message_id,
        "attributes": {
            "channel": "chat",
            "direction": "out",
            "preview": "short preview",
            "createdAt": "2026-01-02T10:00:00.000Z",
            "updatedAt": "2026-01-02T10:05:00.000Z",
            "meta": {"subject": "Hi"},
            "lang": "de",
        }
        | attributes,
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": "conv1"}},
            "customer": {"data": {"type": "customer", "id": "cust1"}},
        },
    }


def test_kustomer_reader_maps_the_resource_and_prefers_the_body(tmp_path):
    path = tmp_path / "export.jsonl"
    missing_conversation = kustomer_resource("k3")
    del missing_conversation["relationships"]["conversation"]
    lines = [
        kustomer_resource("k1"),
        kustomer_resource("k2", body="<p>full body</p>"),
        missing_conversation,
        {"type": "conversation", "id": "x"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    messages, rejections = split(read_source(path, "kustomer"))
    first, second = messages
    assert (first.conversation_id, first.customer_id, first.direction, first.language) == (
        "conv1",
        "cust1",
        "out",
        "de",
    )
    assert first.body == "short preview" and first.subject == "Hi"
    assert second.body == "<p>full body</p>"
    assert [r.source_row for r in rejections] == [3, 4]
    assert (
        "conversation_id" in rejections[0].reason and "type='conversation'" in rejections[1].reason
    )


def test_kustomer_json_api_document(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"data": [kustomer_resource("k1"), kustomer_resource("k2")]}))
    messages, rejections = split(read_source(path, "kustomer"))
    assert [m.message_id for m in messages] == ["k1", "k2"] and not rejections


def test_twcs_threads_roots_and_customers(tmp_path):
    path = tmp_path / "twcs.csv"
    path.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,brand,False,Tue Oct 31 22:10:47 +0000 2017,@115 we can help,2,3\n"
        "2,115,True,Tue Oct 31 22:11:45 +0000 2017,@brand how,,1\n"
        "3,115,True,Tue Oct 31 22:08:27 +0000 2017,@brand broken again,1,\n"
        "4,brand,False,Tue Oct 31 22:00:00 +0000 2017,@999 sorry to hear,,404\n"
        "5,116,True,not a date,@brand hi,,\n"
    )
    messages, rejections = split(read_source(path, "twcs"))
    by_id = {m.message_id: m for m in messages}
    assert {m.conversation_id for m in messages if m.message_id in "123"} == {"3"}
    assert by_id["1"].customer_id == "115" and by_id["1"].direction == "out"
    # A brand reply whose parent is outside the file: its own thread, customer from the @mention.
    assert (by_id["4"].conversation_id, by_id["4"].customer_id) == ("4", "999")
    assert by_id["2"].channel == "twitter"
    assert [(r.source_row, r.reason.split(":")[0]) for r in rejections] == [
        (5, "bad timestamp in created_at")
    ]


def test_folder_source_reads_matching_files_and_unknown_format_fails(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps(FLAT))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in source_files(tmp_path, "jsonl")] == ["a.jsonl"]
    with pytest.raises(ValueError, match="unknown source format"):
        source_files(tmp_path, "xml")
    with pytest.raises(FileNotFoundError):
        source_files(tmp_path / "missing.csv", "csv")
