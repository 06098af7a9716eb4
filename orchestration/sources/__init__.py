"""Readers, one per input format, all yielding the message record or a rejection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from .flat import read_csv, read_jsonl, read_parquet
from .kustomer import read_kustomer
from .record import Message, Rejection
from .twcs import read_twcs

Reader = Callable[[Path], Iterator[Message | Rejection]]

READERS: dict[str, Reader] = {
    "kustomer": read_kustomer,
    "jsonl": read_jsonl,
    "csv": read_csv,
    "parquet": read_parquet,
    "twcs": read_twcs,
}

# File name endings each format reads when the source is a folder.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "kustomer": (".jsonl", ".json", ".ndjson"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
    "csv": (".csv",),
    "parquet": (".parquet",),
    "twcs": (".csv",),
}


def source_files(path: str | Path, fmt: str) -> list[Path]:
    """The files a source location holds: the file itself, or a folder's matching files."""
    if fmt not in READERS:
        raise ValueError(f"unknown source format {fmt!r}; expected one of {sorted(READERS)}")
    location = Path(path)
    if location.is_dir():
        files = sorted(
            p for p in location.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES[fmt])
        )
        if not files:
            raise FileNotFoundError(f"no {fmt} files ({', '.join(SUFFIXES[fmt])}) under {location}")
        return files
    if not location.exists():
        raise FileNotFoundError(f"source not found: {location}")
    return [location]


def read_source(path: str | Path, fmt: str) -> Iterator[Message | Rejection]:
    """Every message and rejection of a source location, file by file."""
    files = source_files(path, fmt)
    reader = READERS[fmt]
    for file in files:
        yield from reader(file)


__all__ = ["READERS", "Message", "Rejection", "read_source", "source_files"]
