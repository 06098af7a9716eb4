"""Route each message to the first configured engine that supports its language.

The local VADER engine scores English only and Comprehend twelve languages, so a warehouse
configured with ``vader,comprehend`` scores English locally and sends the rest to AWS. A
language no configured engine supports has no route: the message is stored unscored with
``unsupported_language``, never as neutral.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor

from .base import SentimentEngine

# The engines a warehouse can be configured with.
ENGINE_NAMES = ("vader", "comprehend")


class EngineRouter:
    """The configured engines, in order of preference."""

    def __init__(self, engines: Sequence[SentimentEngine]):
        if not engines:
            raise ValueError("at least one sentiment engine must be configured")
        self.engines = list(engines)
        self._routes: dict[str, SentimentEngine | None] = {}

    def __iter__(self) -> Iterator[SentimentEngine]:
        return iter(self.engines)

    @property
    def names(self) -> str:
        """The engines as configured, e.g. ``vader,comprehend`` (stored on unsupported rows,
        so that a change of engines gives them another chance)."""
        return ",".join(engine.name for engine in self.engines)

    @property
    def versions(self) -> list[tuple[str, str]]:
        return [(engine.name, engine.version) for engine in self.engines]

    @property
    def workers(self) -> int:
        """The most processes any engine wants; the scoring pass's pool has that many."""
        return max((getattr(engine, "workers", 0) for engine in self.engines), default=0)

    def route(self, language: str) -> SentimentEngine | None:
        """The engine that scores ``language``, or None when no configured engine does."""
        if language not in self._routes:
            self._routes[language] = next(
                (engine for engine in self.engines if engine.supports(language)), None
            )
        return self._routes[language]

    def use_pool(self, pool: Executor | None) -> None:
        for engine in self.engines:
            engine.use_pool(pool)

    def usage_metadata(self) -> dict[str, float]:
        usage: dict[str, float] = {}
        for engine in self.engines:
            usage.update(engine.usage_metadata())
        return usage
