"""The topics file: a YAML mapping of topic names to keywords and phrases.

```yaml
refund: [refund, money back, chargeback]
delivery: [late, delivery, courier, tracking]
```

Rules (also written at the top of ``dbt_project/topics.yml``):

- the top level is a mapping; each key is a topic name of lower-case letters, digits and
  underscores, starting with a letter (``product_quality``), and appears once;
- each value is a non-empty list of keywords; a keyword is a non-empty string (quote numbers
  and YAML's yes/no/on/off: ``"404"``), without a comma (``matched_terms`` lists keywords
  separated by commas), listed once per topic (the same keyword may serve several topics);
- keywords are stored lower-case with their inner whitespace collapsed to one space.

A topic's fingerprint is a hash of its sorted keywords and of the matching rules' version,
so reordering keywords changes nothing, and editing one topic re-evaluates that topic only.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# Bump when the matching rules (orchestration.topics.matching) change what a keyword
# matches: every topic's fingerprint changes, so every topic is evaluated again.
# 2: each topic matched on its own (another topic's longer keyword hid one before); a
# keyword's edge that is a symbol (€, 😡) needs no word boundary.
MATCHING_VERSION = "2"

TOPIC_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class TopicsFileError(ValueError):
    """topics.yml is missing, not YAML, or breaks one of the rules; the message names the
    file and the problem."""


@dataclass(frozen=True)
class Topic:
    """A topic and its keywords (normalised: lower-case, one space between words)."""

    name: str
    terms: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """What the rows of this topic were computed from: its sorted keywords and the
        matching rules' version."""
        key = json.dumps([MATCHING_VERSION, sorted(self.terms)], ensure_ascii=False)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def normalize_term(term: str) -> str:
    return " ".join(term.split()).lower()


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (the
    plain loader keeps the last one silently, which would drop a topic's keywords)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise _DuplicateKey(key, seen[key], line)
            seen[key] = line
        except TypeError:  # an unhashable key (a list); the topic rules report it
            continue
    return loader.construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key, first: int, again: int):
        super().__init__(key, first, again)
        self.key, self.first, self.again = key, first, again


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def parse_topics(text: str, source: str = "topics.yml") -> tuple[Topic, ...]:
    """The topics of a topics file's content, in file order; ``source`` names the file in
    errors."""

    def fail(problem: str) -> TopicsFileError:
        return TopicsFileError(f"{source}: {problem}")

    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except _DuplicateKey as duplicate:
        raise fail(
            f"topic {duplicate.key!r} is defined twice (lines {duplicate.first} and "
            f"{duplicate.again}); merge its keywords into one list"
        ) from None
    except yaml.YAMLError as error:
        raise fail(f"not valid YAML: {error}") from None
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise fail(
            f"must be a mapping of topic names to lists of keywords (e.g. 'refund: [refund, "
            f"money back]'), but the file is {kind}"
        )
    topics = []
    for name, keywords in document.items():
        if not isinstance(name, str) or not TOPIC_NAME.match(name):
            raise fail(
                f"topic name {name!r} must be lower-case letters, digits and underscores, "
                "starting with a letter (e.g. product_quality)"
            )
        if not isinstance(keywords, list):
            raise fail(
                f"topic {name!r} must map to a list of keywords (e.g. '{name}: [a, b]'), "
                f"not {type(keywords).__name__} {keywords!r}"
            )
        if not keywords:
            raise fail(f"topic {name!r} has an empty keyword list; give at least one keyword")
        terms: list[str] = []
        for keyword in keywords:
            if not isinstance(keyword, str):
                raise fail(
                    f"topic {name!r}: keyword {keyword!r} is a {type(keyword).__name__}, not a "
                    f'string; quote it (e.g. "{keyword}")'
                )
            term = normalize_term(keyword)
            if not term:
                raise fail(f"topic {name!r}: a keyword is empty")
            if "," in term:
                raise fail(
                    f"topic {name!r}: keyword {keyword!r} contains a comma; list its parts as "
                    "separate keywords (matched_terms separates keywords by commas)"
                )
            if term in terms:
                raise fail(f"topic {name!r}: keyword {keyword!r} is listed twice")
            terms.append(term)
        topics.append(Topic(name, tuple(terms)))
    return tuple(topics)


def load_topics(path: Path) -> tuple[Topic, ...]:
    """The topics of the file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopicsFileError(
            f"{path}: topics file not found (set the topics resource's path or "
            "$SENTIMENT_TOPICS_PATH)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TopicsFileError(f"{path}: cannot read the topics file: {error}") from None
    return parse_topics(text, str(path))
