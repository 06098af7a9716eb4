"""The engine interface and the score every engine returns.

The score is modelled on Amazon Comprehend's ``DetectSentiment`` answer, plus the two numbers
Kustomer shows (an integer polarity and a confidence) and a -1..1 strength (``score``). The
assets only see this module: a new engine (Comprehend) drops in by implementing
:class:`SentimentEngine`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import NamedTuple

SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")

# |score| below this is neutral, for messages and for every aggregate.
NEUTRAL_BAND = 0.05


class SentimentScore(NamedTuple):
    """One text's sentiment. Class probabilities sum to 1.

    A named tuple rather than a dataclass: scores cross from the worker processes in the
    hundreds of thousands, and a tuple pickles ten times faster (2 s of a million-message
    run went to pickling dataclasses)."""

    sentiment: str
    positive: float
    negative: float
    neutral: float
    mixed: float
    score: float
    polarity: int
    confidence: float


@dataclass(frozen=True, slots=True)
class ScoreFailure:
    """A text the engine could not score: stored unscored with the code and reason."""

    status: str  # engine_error | unsupported_language | ...
    reason: str


def polarity_of(sentiment: str) -> int:
    """Kustomer's integer polarity: 1 for POSITIVE, -1 for NEGATIVE, else 0."""
    return {"POSITIVE": 1, "NEGATIVE": -1}.get(sentiment, 0)


# store(language, keys, results): how a bulk scorer hands over the results of the texts with
# these keys, as they arrive.
BulkStore = Callable[[str, list[str], list[SentimentScore | ScoreFailure]], None]


class SentimentEngine(ABC):
    """Scores texts of one language. Implementations must be safe to call from an asset."""

    name: str
    version: str
    # How many texts the scoring stage hands over, and commits, at a time. A remote engine
    # sets it low, so that a run killed halfway loses only the requests in flight.
    commit_texts: int = 100_000
    # A run with more texts than this for the engine scores them all at once through
    # ``score_bulk`` (Comprehend's asynchronous jobs); None: the engine has no bulk path.
    bulk_threshold: int | None = None

    def usage_metadata(self) -> dict[str, float]:
        """What the engine spent in this run (calls, billed units, cost), for the run's metadata."""
        return {}

    def use_pool(self, pool: Executor | None) -> None:  # noqa: B027 (optional hook)
        """Lend the scoring pass's process pool (None takes it back). Engines that do not
        score in local processes ignore it."""

    @abstractmethod
    def supports(self, language: str | None) -> bool:
        """Whether the engine can score this language (None: unknown)."""

    def submit_batch(
        self, texts: Sequence[str], language: str | None
    ) -> Callable[[], list[SentimentScore | ScoreFailure]]:
        """Start scoring texts; the returned function waits for the answers. Engines that
        score in local worker processes start at once, so that the scoring stage prepares
        the next texts meanwhile; by default the texts are scored when the answers are asked
        for."""
        return lambda: self.score_batch(texts, language)

    @abstractmethod
    def score_batch(
        self, texts: Sequence[str], language: str | None
    ) -> list[SentimentScore | ScoreFailure]:
        """Score texts of one language, answering in the same order."""

    def score_bulk(self, texts: Mapping[str, Sequence[tuple[str, str]]], store: BulkStore) -> None:
        """Score a large run's texts (``{language: [(key, text), ...]}``) at once, handing
        results to ``store`` as they arrive, so that what was paid for is kept even if the run
        fails later. Only engines with a ``bulk_threshold`` implement it."""
        raise NotImplementedError(f"the {self.name} engine has no bulk path")
