"""Byte-level line reading shared by the JSON readers.

Lines are read as bytes and decoded one at a time so that one line of invalid UTF-8 becomes a
rejection of that line, not a crash of the whole file (``open(..., encoding="utf-8")`` raises
on the first bad byte and loses the rest).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .record import Rejection


def iter_json_lines(path: Path) -> Iterator[tuple[int, str, Any] | Rejection]:
    """Yield ``(line_number, raw_text, parsed)`` per non-blank line, or a rejection."""
    source = str(path)
    with open(path, "rb") as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Rejection(
                    source,
                    number,
                    raw_bytes.decode("utf-8", "backslashreplace").rstrip("\r\n"),
                    f"invalid UTF-8 at byte {error.start}",
                )
                continue
            raw = raw.rstrip("\r\n")
            if not raw.strip():
                continue
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as error:
                yield Rejection(
                    source, number, raw, f"malformed JSON: {error.msg} at column {error.colno}"
                )
                continue
            if not isinstance(parsed, dict):
                yield Rejection(source, number, raw, "malformed record: a JSON object is expected")
                continue
            yield number, raw, parsed
