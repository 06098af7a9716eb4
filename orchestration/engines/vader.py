"""The local default engine: VADER (vaderSentiment), English only, parallel across cores.

``score`` is VADER's compound. The Comprehend-style class probabilities are derived from it:
the strength |compound| is the polar mass, split into the dominant class and ``mixed`` by how
balanced VADER's positive and negative proportions are; the rest is neutral. ``confidence`` is
the probability of the chosen class, so a long text with many negative words (compound near -1)
gets a confident NEGATIVE and a short ambiguous one a small confidence.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from importlib.metadata import version as package_version

from ..parallel import map_in_chunks, submit_in_chunks, worker_pool
from ..text.pieces import split_sentences
from .base import NEUTRAL_BAND, ScoreFailure, SentimentEngine, SentimentScore, polarity_of

# VADER's cost grows faster than the text; above this length a text is scored sentence by
# sentence (as VADER's authors advise) and the sentences' valences are summed back.
SENTENCE_SPLIT_CHARS = 1_000
# VADER's normalisation constant: compound = x / sqrt(x^2 + ALPHA).
_ALPHA = 15.0
# Below this many texts a process pool costs more than it saves.
PARALLEL_MIN_TEXTS = 4_000
CHUNK_TEXTS = 2_000

_analyzer = None


def _get_analyzer():
    global _analyzer
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


# A "sentence" longer than this (a text without punctuation) is cut at spaces into windows:
# VADER on one 100 KB run-on sentence takes about 30 s, on its 400-character windows well
# under a second.
MAX_PIECE_CHARS = 400


def _windows(piece: str) -> list[str]:
    if len(piece) <= MAX_PIECE_CHARS:
        return [piece]
    windows, start = [], 0
    while start < len(piece):
        end = start + MAX_PIECE_CHARS
        if end < len(piece):
            space = piece.rfind(" ", start + 1, end)
            end = space if space > start else end
        windows.append(piece[start:end].strip())
        start = end
    return [w for w in windows if w]


def vader_pieces(text: str) -> list[str]:
    """Sentences of a text; a sentence longer than MAX_PIECE_CHARS is cut at spaces."""
    return [window for sentence in split_sentences(text) for window in _windows(sentence)]


def _valence(compound: float) -> float:
    """Invert VADER's normalisation: the summed valence behind a compound."""
    c = max(min(compound, 0.9999), -0.9999)
    return c * math.sqrt(_ALPHA / (1.0 - c * c))


def vader_polarity_scores(text: str) -> dict[str, float]:
    """VADER's scores for a text of any length.

    Long texts are scored per sentence; the compound is rebuilt from the summed sentence
    valences (what VADER does for one text, so a long angry email stays strongly negative
    instead of being averaged towards neutral), and pos/neg/neu are length-weighted.
    """
    analyzer = _get_analyzer()
    if len(text) <= SENTENCE_SPLIT_CHARS:
        return analyzer.polarity_scores(text)
    pieces = vader_pieces(text) or [text]
    total_valence = 0.0
    weighted = {"pos": 0.0, "neg": 0.0, "neu": 0.0}
    total_length = 0
    for piece in pieces:
        scores = analyzer.polarity_scores(piece)
        total_valence += _valence(scores["compound"])
        length = len(piece)
        total_length += length
        for key in weighted:
            weighted[key] += scores[key] * length
    compound = total_valence / math.sqrt(total_valence * total_valence + _ALPHA)
    return {key: value / total_length for key, value in weighted.items()} | {"compound": compound}


def score_from_vader(scores: dict[str, float]) -> SentimentScore:
    """Map VADER's pos/neg/neu/compound onto the Comprehend-style score."""
    compound = float(scores["compound"])
    strength = abs(compound)
    pos, neg = float(scores["pos"]), float(scores["neg"])
    larger = max(pos, neg)
    balance = min(pos, neg) / larger if larger > 0 else 0.0
    mixed = strength * balance / 2
    dominant = strength - mixed
    neutral = 1.0 - strength
    if strength < NEUTRAL_BAND:
        sentiment, confidence = "NEUTRAL", neutral
    elif balance >= 0.6 and strength < 0.5:
        sentiment, confidence = "MIXED", mixed
    elif compound > 0:
        sentiment, confidence = "POSITIVE", dominant
    else:
        sentiment, confidence = "NEGATIVE", dominant
    return SentimentScore(
        sentiment=sentiment,
        positive=dominant if compound > 0 else 0.0,
        negative=dominant if compound < 0 else 0.0,
        neutral=neutral,
        mixed=mixed,
        score=compound,
        polarity=polarity_of(sentiment),
        confidence=confidence,
    )


def score_texts(texts: Sequence[str]) -> list[SentimentScore]:
    """Score texts in this process."""
    return [score_from_vader(vader_polarity_scores(text)) for text in texts]


class VaderEngine(SentimentEngine):
    """VADER on every core: large batches go through a process pool in chunks."""

    name = "vader"

    def __init__(self, workers: int = 0):
        self.workers = workers or os.cpu_count() or 1
        self.version = package_version("vaderSentiment")
        # A pool lent by the caller for a whole scoring pass (see orchestration.parallel);
        # without one, a large batch starts a pool of its own.
        self.pool: Executor | None = None

    def use_pool(self, pool: Executor | None) -> None:
        self.pool = pool

    def supports(self, language: str | None) -> bool:
        # None: a caller that decides no language (the scoring pass always does).
        return language is None or language == "en" or language.startswith("en-")

    def submit_batch(
        self, texts: Sequence[str], language: str | None
    ) -> Callable[[], list[SentimentScore | ScoreFailure]]:
        if self.pool is None or not self.supports(language):
            return super().submit_batch(texts, language)
        return submit_in_chunks(self.pool, score_texts, texts, CHUNK_TEXTS, PARALLEL_MIN_TEXTS)

    def score_batch(
        self, texts: Sequence[str], language: str | None
    ) -> list[SentimentScore | ScoreFailure]:
        if not self.supports(language):
            return [
                ScoreFailure("unsupported_language", f"vader scores English only, not {language}")
            ] * len(texts)
        if self.workers <= 1 or len(texts) < PARALLEL_MIN_TEXTS:
            return list(score_texts(texts))
        if self.pool is not None:
            return map_in_chunks(self.pool, score_texts, texts, CHUNK_TEXTS, PARALLEL_MIN_TEXTS)
        with worker_pool(self.workers) as pool:
            return map_in_chunks(pool, score_texts, texts, CHUNK_TEXTS, PARALLEL_MIN_TEXTS)
