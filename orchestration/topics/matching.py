"""Which topics a text mentions, and the sentences that mention them.

Matching rules (``MATCHING_VERSION`` in ``config`` changes when they do):

- case-insensitive, on whole words: a keyword matches where no letter, digit or underscore
  touches it on either side (``late`` matches "late!" and "Late", not "latest" or "chocolate");
- a phrase's words match across any run of whitespace ("money  back" and "money\\nback" inside
  one sentence);
- plurals: the keyword's last word may carry one ``s`` or ``es`` (``refund`` matches "refunds",
  ``box`` "boxes", ``money back`` "money backs"); nothing else: no stemming, so ``delivery``
  does not match "deliveries" and ``charge`` does not match "charged" (list those forms);
- sentences are those of ``orchestration.text.pieces.split_sentences`` (a break after . ! ?
  followed by a space, and at every line break), the same cut the engines use; a keyword is
  looked for inside one sentence at a time;
- each topic is matched on its own, so the topics a text mentions never depend on the other
  topics: ``shipping cost`` of one topic and ``shipping`` of another both count in "the
  shipping cost". Within one topic, where its keywords overlap at one place (``money`` and
  ``money back``), the longest counts (``matched_terms`` lists it alone);
- a keyword that begins or ends with a symbol rather than a letter, digit or underscore
  (``€``, ``😡``, ``[card]``) needs no word boundary on that side, and takes no plural ending
  after a final symbol: ``€`` matches "€50", ``😡`` "angry😡".

A topic's snippet is the sentences that mention it, in text order, joined by one space; it
is what the engine scores. The DuckDB pre-screen (``prescreen_pattern``) looks for the
longest word of each keyword anywhere, case-insensitively, without word boundaries or plural
endings, so it lets through every text that can match, but for a few letters that RE2 and
Python fold differently (Python's IGNORECASE takes the Turkish "İ" and "ı" for "i").
``orchestration.topics.evaluate`` runs it per topic and matches a text only against the
topics whose pre-screen it passes: even there, what a topic matches depends on that topic
alone.
"""

from __future__ import annotations

import bisect
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The sentence breaks of split_sentences, the cut the engines use: sentence_spans finds the
# same sentences with their places in the text.
from ..text.pieces import _SENTENCE_END as SENTENCE_END
from .config import Topic

PLURAL_SUFFIX = "(?:e?s)?"
_WORD_CHARACTER = re.compile(r"\w")


def _words_pattern(words: str) -> str:
    """Literal words separated by any run of whitespace."""
    return r"\s+".join(re.escape(word) for word in words.split(" "))


def _cased(character: str) -> bool:
    return character.lower() != character or character.upper() != character


def _boundary_before(first: str) -> str:
    """Before a keyword whose first character is a letter, digit or underscore: no such
    character may precede it."""
    return r"(?<!\w)" if _WORD_CHARACTER.match(first) else ""


def _boundary_after(first: str) -> str:
    """The same, checked once the first character has matched."""
    return r"(?<!\w.)" if _WORD_CHARACTER.match(first) else ""


def _ending(term: str) -> str:
    """After a keyword whose last character is a letter, digit or underscore: an optional
    plural ending, then a word boundary. Nothing after a final symbol."""
    return rf"{PLURAL_SUFFIX}(?!\w)" if _WORD_CHARACTER.match(term[-1]) else ""


def _re2_escape(word: str) -> str:
    """A literal for RE2 (DuckDB's regex engine). RE2 accepts a backslash before ASCII
    punctuation only (``\\😡`` or ``\\€`` is an invalid escape): ASCII punctuation is
    backslashed, other ASCII symbols written as ``\\x{..}``, and everything else (letters of
    any script, digits, emoji, currency signs) left as it is."""
    out = []
    for character in word:
        if not character.isascii() or character.isalnum() or character == "_":
            out.append(character)
        elif character in string.punctuation:
            out.append("\\" + character)
        else:
            out.append(f"\\x{{{ord(character):x}}}")
    return "".join(out)


def prescreen_pattern(topics: Iterable[Topic]) -> str | None:
    """An RE2 pattern that matches every text in which one of the topics' keywords can
    match (and more): the longest word of each keyword, case-insensitive, anywhere. None
    when there is no keyword."""
    words = {max(term.split(" "), key=len) for topic in topics for term in topic.terms}
    if not words:
        return None
    # Longest first, for a deterministic pattern (the order does not change what matches).
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return "(?i)(?:" + "|".join(_re2_escape(w) for w in ordered) + ")"


@dataclass(frozen=True)
class TopicMatch:
    """One topic in one text: its snippet (the sentences that mention it), how many
    sentences that is, and the keywords found (sorted)."""

    topic: str
    snippet: str
    sentence_count: int
    terms: tuple[str, ...]


class _TopicPattern:
    """One topic's pattern: each keyword's pattern is one group, longest first, so that
    where two keywords match at one place the longer is reported, and the group that matched
    names the keyword.

    The keywords are grouped by first character, longest first in each group: ``r(?<!\\w.)
    (?:(efund)...|(eimburse)...)|m(?<!\\w.)(?:(oney\\s+back)...)``. Branches that start with
    a literal let Python's regex engine jump to the places where one of those characters
    occurs instead of trying every keyword at every position (3 to 8 times faster); the word
    boundary before a keyword is checked after its first character (``(?<!\\w.)``). Only
    keywords with the same first character can start at one place, unless a first character
    is a non-ASCII letter that IGNORECASE folds with another ("ſ" with "s"): such a topic's
    keywords stay one plain alternation, longest first.
    """

    def __init__(self, topic: Topic):
        self.name = topic.name
        self.terms = sorted(topic.terms, key=lambda t: (-len(t), t))  # by group number - 1
        by_first: dict[str, list[str]] = {}
        for term in self.terms:
            by_first.setdefault(term[0], []).append(term)
        if all(first.isascii() or not _cased(first) for first in by_first):
            self.terms = [term for terms in by_first.values() for term in terms]
            source = "|".join(
                f"{re.escape(first)}{_boundary_after(first)}"
                f"(?:{'|'.join(f'({_words_pattern(t[1:])}){_ending(t)}' for t in terms)})"
                for first, terms in by_first.items()
            )
        else:
            source = "|".join(
                f"({_boundary_before(t[0])}{_words_pattern(t)}){_ending(t)}" for t in self.terms
            )
        # For an ASCII text and ASCII keywords, matching the lower-cased text exactly is what
        # IGNORECASE does, and faster; elsewhere IGNORECASE's Unicode folding decides.
        self.plain = re.compile(source)
        self.folded = re.compile(source, re.IGNORECASE)
        self.ascii = all(term.isascii() for term in topic.terms)

    def hits(self, text: str, lowered: str | None) -> list[tuple[int, int, str]]:
        """(start, end, keyword) of each match in ``text``, left to right, not overlapping;
        ``lowered``: ``text.lower()`` when ``text`` is ASCII, else None."""
        if lowered is not None and self.ascii:
            found = self.plain.finditer(lowered)
        else:
            found = self.folded.finditer(text)
        terms = self.terms
        return [(*hit.span(), terms[hit.lastindex - 1]) for hit in found]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where the sentences of ``split_sentences(text)`` are in ``text``: (start, end) of
    each, in order (``text[start:end]`` is the sentence)."""
    spans = []
    start = 0
    for separator in SENTENCE_END.finditer(text):
        _add_span(spans, text, start, separator.start())
        start = separator.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        first = start + len(piece) - len(piece.lstrip())
        spans.append((first, first + len(stripped)))


class TopicMatcher:
    """The topics a text mentions, each topic matched on its own.

    Each topic's pattern runs over the whole text once, and each match is placed in its
    sentence. That is what matching sentence by sentence finds, as long as no match runs
    across a sentence break (the text's matches and the sentences' ones agree up to the first
    that does: the same characters, and whitespace or the text's edge around a sentence, which
    the boundaries treat alike). Where one does (a phrase whose words a line break
    separates), that topic is matched again sentence by sentence.
    """

    def __init__(self, topics: Sequence[Topic]):
        self.topics = tuple(topics)
        self._patterns = [_TopicPattern(topic) for topic in self.topics]

    def match(self, text: str | None, candidates: Iterable[int] | None = None) -> list[TopicMatch]:
        """The topics ``text`` mentions, in the order of ``topics``. ``candidates``: the
        indices (in ``topics``) of the only topics to look for; None, every topic."""
        if not text:
            return []
        chosen = (
            self._patterns
            if candidates is None
            else [self._patterns[i] for i in sorted(set(candidates))]
        )
        lowered = text.lower() if text.isascii() else None
        found = [(topic, hits) for topic in chosen if (hits := topic.hits(text, lowered))]
        if not found:
            return []
        # The sentence breaks: piece i runs from the end of break i - 1 to the start of break
        # i; a sentence is a piece, stripped (empty pieces hold no match).
        breaks = [separator.span() for separator in SENTENCE_END.finditer(text)]
        sentences = _Sentences(text, [start for start, _ in breaks], [end for _, end in breaks])
        matches = []
        for topic, hits in found:
            placed = sentences.place(hits)
            if placed is None:  # a match across a sentence break
                placed = _by_sentence(topic, text)
            snippet, count, terms = placed
            if count:
                matches.append(TopicMatch(topic.name, snippet, count, tuple(sorted(terms))))
        return matches


class _Sentences:
    """The sentences of one text, found from the breaks around a position."""

    def __init__(self, text: str, break_starts: list[int], break_ends: list[int]):
        self.text, self.break_starts, self.break_ends = text, break_starts, break_ends
        self.pieces: dict[int, str] = {}

    def place(self, hits) -> tuple[str, int, set[str]] | None:
        """The snippet, sentence count and keywords of a topic's matches; None when a match
        is not inside one sentence."""
        indices: list[int] = []
        terms: set[str] = set()
        for start, end, term in hits:
            index = bisect.bisect_right(self.break_ends, start)
            if index < len(self.break_starts) and end > self.break_starts[index]:
                return None
            if not indices or indices[-1] != index:
                indices.append(index)
            terms.add(term)
        return " ".join(self.piece(i) for i in indices), len(indices), terms

    def piece(self, index: int) -> str:
        if index not in self.pieces:
            start = self.break_ends[index - 1] if index else 0
            end = self.break_starts[index] if index < len(self.break_starts) else len(self.text)
            self.pieces[index] = self.text[start:end].strip()
        return self.pieces[index]


def _by_sentence(topic: _TopicPattern, text: str) -> tuple[str, int, set[str]]:
    sentences: list[str] = []
    terms: set[str] = set()
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        hits = topic.hits(sentence, sentence.lower() if sentence.isascii() else None)
        if hits:
            sentences.append(sentence)
            terms.update(term for _, _, term in hits)
    return " ".join(sentences), len(sentences), terms


def match_many(
    texts: Sequence[str],
    topics: Sequence[Topic],
    candidates: Sequence[Sequence[int] | None] | None = None,
) -> list[list[TopicMatch]]:
    """``TopicMatcher(topics).match`` over many texts, each with its own ``candidates`` (a
    unit of work for a worker process)."""
    matcher = TopicMatcher(topics)
    if candidates is None:
        return [matcher.match(text) for text in texts]
    return [matcher.match(text, only) for text, only in zip(texts, candidates, strict=True)]
