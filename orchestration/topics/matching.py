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
- where keywords overlap at one place (``money`` and ``money back``), the longest counts.

A topic's snippet is the sentences that mention it, in text order, joined by one space; it
is what the engine scores. The DuckDB pre-screen (``prescreen_pattern``) only has to let
every text that can match through: it looks for the longest word of every keyword anywhere,
without word boundaries or plural endings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..text.pieces import split_sentences
from .config import Topic

PLURAL_SUFFIX = "(?:e?s)?"
_WORD = re.compile(r"\w+")


def _term_pattern(term: str) -> str:
    return r"\s+".join(re.escape(word) for word in term.split(" "))


def _re2_escape(word: str) -> str:
    """A literal for RE2 (DuckDB's regex engine): every non-word character backslashed,
    which RE2 accepts for punctuation; letters of any script stay as they are."""
    return "".join(c if c.isalnum() or c == "_" else "\\" + c for c in word)


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


class TopicMatcher:
    """One compiled pattern for a set of topics: each distinct keyword is one group, so a
    keyword shared by several topics is found once and counts for each."""

    def __init__(self, topics: Sequence[Topic]):
        self.topics = tuple(topics)
        owners: dict[str, list[str]] = {}
        for topic in self.topics:
            for term in topic.terms:
                owners.setdefault(term, []).append(topic.name)
        # Longest first: where two keywords match at one place, the longer one is reported.
        self.terms = sorted(owners, key=lambda t: (-len(t), t))
        self.owners = [tuple(owners[t]) for t in self.terms]
        alternatives = "|".join(f"({_term_pattern(t)})" for t in self.terms)
        self.pattern = (
            re.compile(rf"(?<!\w)(?:{alternatives}){PLURAL_SUFFIX}(?!\w)", re.IGNORECASE)
            if self.terms
            else None
        )
        # Python's regex engine tries every alternative at every position (about 100 us for a
        # 150-character text with 70 keywords). A sentence can only match if it has, as a
        # whole word, the first word of some keyword (with a plural ending when that word is
        # the keyword's last): one C-speed pass over its words rules out most sentences. Only
        # where keyword and sentence are ASCII, where lower() and IGNORECASE agree exactly
        # (elsewhere, "ſ" matches "s" and "ı" matches "I" under IGNORECASE): other sentences,
        # or keywords, go to the pattern directly.
        self.first_words: set[str] | None = set()
        for term in self.terms:
            words = _WORD.findall(term)
            if not term.isascii() or not words:
                self.first_words = None
                break
            self.first_words.add(words[0])
            if len(words) == 1:
                self.first_words.update((words[0] + "s", words[0] + "es"))

    def _may_match(self, sentence: str) -> bool:
        return (
            self.first_words is None
            or not sentence.isascii()
            or not self.first_words.isdisjoint(_WORD.findall(sentence.lower()))
        )

    def match(self, text: str | None) -> list[TopicMatch]:
        """The topics ``text`` mentions, in the order of ``topics``."""
        if not text or self.pattern is None:
            return []
        sentences = split_sentences(text)
        found: dict[str, tuple[list[int], set[str]]] = {}
        for index, sentence in enumerate(sentences):
            if not self._may_match(sentence):
                continue
            for hit in self.pattern.finditer(sentence):
                group = hit.lastindex - 1
                for topic in self.owners[group]:
                    indices, terms = found.setdefault(topic, ([], set()))
                    if not indices or indices[-1] != index:
                        indices.append(index)
                    terms.add(self.terms[group])
        return [
            TopicMatch(
                topic.name,
                " ".join(sentences[i] for i in found[topic.name][0]),
                len(found[topic.name][0]),
                tuple(sorted(found[topic.name][1])),
            )
            for topic in self.topics
            if topic.name in found
        ]


def match_many(texts: Sequence[str], topics: Sequence[Topic]) -> list[list[TopicMatch]]:
    """``TopicMatcher(topics).match`` over many texts (a unit of work for a worker process)."""
    matcher = TopicMatcher(topics)
    return [matcher.match(text) for text in texts]
