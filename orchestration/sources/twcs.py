"""Reader for the Customer Support on Twitter CSV (Kaggle ``twcs.csv``).

A tweet is a message; ``inbound`` gives the direction; a reply thread, followed through
``in_response_to_tweet_id`` up to the first tweet whose parent is not in the file, is a
conversation whose id is that root's ``tweet_id``. The thread's customer is its first inbound
author. A thread with no inbound tweet (a brand replying to a tweet outside the file) takes the
customer the root addresses (its first @mention), so every conversation still has a customer.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .flat import has_bad_bytes
from .record import ContractError, Message, Rejection, build_message

_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
_MENTION = re.compile(r"@(\w+)")


def parse_twitter_time(value: str) -> datetime:
    """``Tue Oct 31 22:10:47 +0000 2017`` -> aware datetime."""
    try:
        return datetime.strptime(value.strip(), _TWITTER_TIME)
    except (ValueError, AttributeError):
        raise ContractError(f"bad timestamp in created_at: {value!r}") from None


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        yield from enumerate(csv.DictReader(handle), start=1)


def _thread_roots(parents: dict[str, str]) -> dict[str, str]:
    """Map every tweet to its thread root, following parents that are in the file."""
    roots: dict[str, str] = {}
    for tweet in parents:
        path = []
        node = tweet
        while node not in roots:
            path.append(node)
            parent = parents.get(node, "")
            if not parent or parent not in parents or parent in path:
                roots[node] = node
                break
            node = parent
        root = roots[node]
        for visited in path:
            roots[visited] = root
    return roots


def _thread_customers(path: Path, roots: dict[str, str]) -> dict[str, str]:
    """Pick each thread's customer: its earliest inbound author, else the root's first @mention."""
    earliest: dict[str, tuple[datetime, str]] = {}
    fallback: dict[str, str] = {}
    for _, row in _rows(path):
        tweet = row.get("tweet_id") or ""
        root = roots.get(tweet)
        if root is None:
            continue
        if tweet == root:
            mention = _MENTION.search(row.get("text") or "")
            fallback[root] = mention.group(1) if mention else (row.get("author_id") or "")
        if (row.get("inbound") or "").strip().lower() == "true":
            try:
                when = parse_twitter_time(row.get("created_at") or "")
            except ContractError:
                continue
            if root not in earliest or when < earliest[root][0]:
                earliest[root] = (when, row.get("author_id") or "")
    customers = dict(fallback)
    customers.update({root: author for root, (_, author) in earliest.items()})
    return customers


def read_twcs(path: Path) -> Iterator[Message | Rejection]:
    """Two passes over the file: the thread structure first, then the messages."""
    source = str(path)
    parents: dict[str, str] = {}
    for _, row in _rows(path):
        tweet = (row.get("tweet_id") or "").strip()
        if tweet:
            parents[tweet] = (row.get("in_response_to_tweet_id") or "").strip()
    roots = _thread_roots(parents)
    customers = _thread_customers(path, roots)

    for number, row in _rows(path):
        raw = json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogateescape")
        raw_text = raw.decode("utf-8", "backslashreplace")
        if None in row:
            yield Rejection(source, number, raw_text, "malformed CSV row: too many cells")
            continue
        if any(isinstance(v, str) and has_bad_bytes(v) for v in row.values()):
            yield Rejection(source, number, raw_text, "invalid UTF-8")
            continue
        tweet = (row.get("tweet_id") or "").strip()
        root = roots.get(tweet, "")
        try:
            inbound = (row.get("inbound") or "").strip().lower()
            if inbound not in ("true", "false"):
                raise ContractError(f"unknown direction: inbound={row.get('inbound')!r}")
            fields = {
                "message_id": tweet,
                "conversation_id": root,
                "customer_id": customers.get(root, ""),
                "channel": "twitter",
                "direction": "in" if inbound == "true" else "out",
                "created_at": parse_twitter_time(row.get("created_at") or ""),
                "body": row.get("text"),
            }
            yield build_message(fields, source, number)
        except ContractError as error:
            yield Rejection(source, number, raw_text, str(error))
