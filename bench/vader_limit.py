"""Baseline 2: the scoring limit, the raw VADER rate on given texts with one worker per core.

Nothing else is timed: no I/O, no database, no cleaning, no hashing. The pool is started and
warmed before the clock starts, so the figure is VADER's own throughput on this machine,
which the pipeline's scoring stage is measured against.
"""

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

CHUNK = 2_000

_analyzer = None


def _score(texts: list[str]) -> int:
    global _analyzer
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    for text in texts:
        _analyzer.polarity_scores(text)
    return len(texts)


def vader_limit(texts: list[str], workers: int | None = None) -> dict:
    """Texts per second of plain ``SentimentIntensityAnalyzer.polarity_scores`` over
    ``texts``, spread over ``workers`` processes (default: one per core)."""
    workers = workers or os.cpu_count() or 1
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        list(pool.map(_score, [["warm up the analyzer"]] * workers))
        started = time.perf_counter()
        done = sum(pool.map(_score, chunks))
        seconds = time.perf_counter() - started
    return {
        "texts": done,
        "workers": workers,
        "seconds": round(seconds, 2),
        "texts_per_second": round(done / seconds, 1) if seconds else 0.0,
    }
