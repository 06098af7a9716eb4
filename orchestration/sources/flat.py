"""Readers for flat records: JSON Lines, CSV and Parquet.

Each column is a field of the message record (see DESIGN.md); extra columns are ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from ._lines import parse_line, read_json_lines
from .record import Message, Rejection, check

PARQUET_BATCH_ROWS = 50_000


def read_jsonl(path: Path) -> Iterator[Message | Rejection]:
    """One flat JSON object per line; the row number is the line number."""
    return read_json_lines(path, flat_line)


def flat_line(source: str, number: int, raw: str) -> Message | Rejection | None:
    """One line of flat JSON Lines (None for a blank line)."""
    item = parse_line(source, number, raw)
    if item is None or isinstance(item, Rejection):
        return item
    return check(item[2], source, number, raw)


def has_bad_bytes(value: str) -> bool:
    # Undecodable bytes survive as lone surrogates under errors="surrogateescape".
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(row: dict) -> str:
    text = json.dumps(row, ensure_ascii=False)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_csv(path: Path) -> Iterator[Message | Rejection]:
    """CSV with a header row; the row number counts data rows from 1."""
    source = str(path)
    # surrogateescape keeps reading past invalid UTF-8 so that only the bad row is rejected;
    # newline="" lets the csv module handle quoted line breaks itself.
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=1):
            if None in row:  # more cells than header columns
                yield Rejection(
                    source, number, _printable(row), "malformed CSV row: too many cells"
                )
                continue
            if any(isinstance(v, str) and has_bad_bytes(v) for v in row.values()):
                yield Rejection(source, number, _printable(row), "invalid UTF-8")
                continue
            yield check(row, source, number, _printable(row))


def read_parquet(path: Path) -> Iterator[Message | Rejection]:
    """Parquet of flat records, read in bounded batches; the row number counts from 1."""
    import pyarrow.parquet as pq

    source = str(path)
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for row in batch.to_pylist():
            number += 1
            yield check(row, source, number, json.dumps(row, default=str, ensure_ascii=False))
