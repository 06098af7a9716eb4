"""Line-level JSON parsing shared by the JSON readers (and by the SQL reader's fallback).

Lines are read as bytes and decoded one at a time so that one line of invalid UTF-8 becomes a
rejection of that line, not a crash of the whole file (``open(..., encoding="utf-8")`` raises
on the first bad byte and loses the rest).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .record import Message, Rejection

ParsedLine = tuple[int, str, Any]
# Key paths of the JSON objects a reader takes fields from; () is the record itself.
ObjectPaths = tuple[tuple[str, ...], ...]


class JsonObject(dict):
    """A parsed JSON object that remembers its first repeated key (None if none)."""

    duplicate: str | None = None


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    record = JsonObject(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        record.duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
    return record


def duplicate_key(parsed: Any, objects: ObjectPaths) -> str | None:
    """The first repeated key in the objects a reader takes fields from.

    JSON leaves duplicate keys undefined: Python keeps the last value, DuckDB's reader the
    first. A record whose fields could be read two ways is quarantined instead of guessed at;
    a repeated key elsewhere (an object the record never reads) changes nothing.
    """
    for path in objects:
        node = parsed
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, JsonObject) and node.duplicate is not None:
            return node.duplicate
    return None


def parse_line(
    source: str, number: int, raw: str, objects: ObjectPaths = ((),)
) -> ParsedLine | Rejection | None:
    """``(number, raw, parsed)`` for a line holding a JSON object, a rejection for any other
    line, and None for a blank line. ``raw`` has its line ending already removed; ``objects``
    are the objects whose keys must be unique."""
    if not raw.strip():
        return None
    try:
        parsed = json.loads(raw, object_pairs_hook=_object)
    except json.JSONDecodeError as error:
        return Rejection(
            source, number, raw, f"malformed JSON: {error.msg} at column {error.colno}"
        )
    except RecursionError:
        return Rejection(source, number, raw, "malformed JSON: nested too deeply")
    if not isinstance(parsed, dict):
        return Rejection(source, number, raw, "malformed record: a JSON object is expected")
    duplicate = duplicate_key(parsed, objects)
    if duplicate is not None:
        return Rejection(source, number, raw, f"malformed JSON: duplicate key {duplicate!r}")
    return number, raw, parsed


def decode_line(source: str, number: int, raw_bytes: bytes) -> str | Rejection:
    """The line as text without its line ending, or a rejection when it is not UTF-8."""
    try:
        return raw_bytes.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return Rejection(
            source,
            number,
            raw_bytes.decode("utf-8", "backslashreplace").rstrip("\r\n"),
            f"invalid UTF-8 at byte {error.start}",
        )


def read_lines(
    source: str,
    lines: Iterable[bytes | str],
    line_reader: Callable[[str, int, str], Message | Rejection | None],
    first: int = 1,
) -> Iterator[Message | Rejection]:
    """``line_reader``'s item for each line (numbered from ``first``) that is not blank; a
    line of bytes that is not UTF-8 is rejected alone."""
    for number, raw in enumerate(lines, start=first):
        if isinstance(raw, bytes):
            raw = decode_line(source, number, raw)
            if isinstance(raw, Rejection):
                yield raw
                continue
        item = line_reader(source, number, raw.rstrip("\r\n"))
        if item is not None:
            yield item


def read_json_lines(
    path: Path, line_reader: Callable[[str, int, str], Message | Rejection | None]
) -> Iterator[Message | Rejection]:
    """Every line of a JSON Lines file through ``line_reader``."""
    with open(path, "rb") as handle:
        yield from read_lines(str(path), handle, line_reader)
