"""The one text-preparation stage every engine's input goes through: clean, redact, detect.

A message body is cleaned for its channel (``clean``), its personal data is replaced by
typed placeholders unless the text policy is ``full`` (``redact``), and its language is
detected when the settings ask for it (``language``). ``prepare_many`` is the unit of work the
scoring pass sends to its worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .clean import clean_text
from .language import detect_language
from .redact import redact_text

POLICIES = ("full", "redacted", "none")
DETECT_MODES = ("missing", "always", "never")
# The language of a text too short to detect, in a conversation and for a customer of no
# known language (BCP-47's "undetermined").
UNDETERMINED = "und"


@dataclass(frozen=True)
class TextSettings:
    """What the warehouse keeps of a message's text and how its language is decided.

    ``policy``: ``full`` keeps texts as received; ``redacted`` replaces personal data before
    any text is stored or sent to an engine; ``none`` also redacts what is sent, and keeps
    only hashes and scores (the redacted body waits in ``raw.messages`` until its message is
    scored). ``detect``: detect the language when the source gives none (``missing``), for
    every text (``always``) or never. ``undetermined_language``: the language an undetermined
    text is scored as (``und``: it stays unscored).
    """

    policy: str = "redacted"
    detect: str = "missing"
    undetermined_language: str = "en"

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(
                f"unknown text policy {self.policy!r}; choose one of {', '.join(POLICIES)}"
            )
        if self.detect not in DETECT_MODES:
            raise ValueError(
                f"unknown language detection mode {self.detect!r}; "
                f"choose one of {', '.join(DETECT_MODES)}"
            )

    @property
    def redacts(self) -> bool:
        return self.policy != "full"

    @property
    def keeps_text(self) -> bool:
        return self.policy != "none"


def prepare_text(body: str | None, channel: str, redact: bool, detect: bool):
    """``(text to score, detected language or None)`` for one message body."""
    text = clean_text(body, channel)
    if redact and text:
        # The body was redacted at ingest, but cleaning decodes HTML entities and joins
        # text split by tags, which can reveal what the raw string hid (``a&#64;b.com``).
        text = redact_text(text)
    return text, (detect_language(text) if detect and text else None)


def prepare_many(
    items: Sequence[tuple[str | None, str, bool]], redact: bool
) -> list[tuple[str, str | None]]:
    """``prepare_text`` over ``(body, channel, detect)`` items, in order."""
    return [prepare_text(body, channel, redact, detect) for body, channel, detect in items]
