"""The built-in sample data generator: deterministic Kustomer-shaped support messages.

>>> from orchestration.sample import write_sample
>>> stats = write_sample("data/sample/messages.jsonl", 100_000, seed=7)  # doctest: +SKIP
"""

from orchestration.sample.generator import (
    PLANTED_KINDS,
    PersonalData,
    SampleStats,
    iter_sample_lines,
    planted_cases,
    write_sample,
)

__all__ = [
    "PLANTED_KINDS",
    "PersonalData",
    "SampleStats",
    "iter_sample_lines",
    "planted_cases",
    "write_sample",
]
