"""Sentence splitting and packing texts into pieces an engine accepts.

Engines have limits (Comprehend: 5,000 bytes of UTF-8 per document) or costs that grow faster
than the text (VADER). Both score long texts in pieces cut on sentence boundaries, so that a
long email is judged whole instead of by its first 5,000 bytes.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text: split after . ! ? followed by space, and on line breaks."""
    return [piece for piece in (p.strip() for p in _SENTENCE_END.split(text)) if piece]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def cut_to_bytes(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` of UTF-8, cut on a character
    boundary (never inside a multi-byte character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")


def _cut_long_sentence(sentence: str, max_bytes: int) -> list[str]:
    """A sentence over the limit, cut at spaces where possible, else at a character boundary."""
    parts: list[str] = []
    rest = sentence
    while utf8_len(rest) > max_bytes:
        head = cut_to_bytes(rest, max_bytes)
        space = head.rfind(" ")
        if space > len(head) // 2:
            head = head[:space]
        parts.append(head.strip())
        rest = rest[len(head) :].strip()
    if rest:
        parts.append(rest)
    return [p for p in parts if p]


def pack_pieces(text: str, max_bytes: int) -> list[str]:
    """Split a text into as few pieces as possible, each within ``max_bytes`` of UTF-8,
    cutting only between sentences unless one sentence alone is too long.

    Fewer, fuller pieces cost fewer calls and billed units than one piece per sentence.
    """
    if utf8_len(text) <= max_bytes:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    current_bytes = 0
    for sentence in split_sentences(text):
        for part in _cut_long_sentence(sentence, max_bytes):
            size = utf8_len(part)
            joined = current_bytes + size + (1 if current else 0)
            if current and joined > max_bytes:
                pieces.append(" ".join(current))
                current, current_bytes = [], 0
                joined = size
            current.append(part)
            current_bytes = joined
    if current:
        pieces.append(" ".join(current))
    return pieces
