"""A property of the topic pass: whatever the sequence of changes (topics added, edited and
removed; messages added, edited, sent again, turned outbound and back, deleted; rescoring
or not in between) and whenever the pass runs, raw.message_topics after an incremental run
is what a from-scratch evaluation of the same messages, scores and topics writes: the same
rows, with the same scores."""

import random
from datetime import datetime, timedelta

import duckdb
import pytest

from orchestration.engines.routing import EngineRouter
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.record import Message
from orchestration.topics.config import Topic
from orchestration.topics.evaluate import evaluate_topics
from tests.unit.test_topics_rescoring import CountingEngine, fresh_rows, full_rows, message

# Keywords that overlap inside and across topics, with symbols and emoji.
KEYWORDS = [
    "refund",
    "money back",
    "money",
    "back",
    "late",
    "late delivery",
    "delivery",
    "shipping",
    "shipping cost",
    "cost",
    "fee",
    "late fee",
    "charge",
    "return",
    "return label",
    "label",
    "tracking",
    "box",
    "😡",
    "€",
    "[card]",
]
NAMES = ["refund", "delivery", "fees", "billing", "returns", "mood", "parcel"]
FILLER = ["the", "my", "is", "so", "very", "again", "today", "thanks", "order", "bad", "great"]
ENDINGS = [". ", "! ", "? ", "\n", " ", ", "]


def random_text(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(1, 14)):
        if rng.random() < 0.35:
            word = rng.choice(KEYWORDS)
            word = rng.choice([word, word.upper(), word.title(), word + "s", word + "es"])
        else:
            word = rng.choice(FILLER)
        words.append(word + (rng.choice(ENDINGS) if rng.random() < 0.3 else " "))
    return "".join(words).strip() or "ok"


def random_topic_terms(rng: random.Random) -> tuple[str, ...]:
    return tuple(rng.sample(KEYWORDS, rng.randint(1, 5)))


class World:
    """The messages and topics as the changes leave them."""

    def __init__(self, rng: random.Random, connection):
        self.rng, self.connection = rng, connection
        self.engine = CountingEngine()
        self.topics: dict[str, tuple[str, ...]] = {}
        self.messages: dict[str, Message] = {}
        self.next_id = 0
        self.minute = 0

    def send(self, message_id: str, body: str, direction: str = "in") -> None:
        load_messages(self.connection, [self.version(message_id, body, direction)], [])

    def version(self, message_id: str, body: str, direction: str = "in") -> Message:
        self.minute += 1
        version = message(
            message_id,
            body,
            direction,
            updated_at=datetime(2026, 1, 2, 10) + timedelta(minutes=self.minute),
        )
        self.messages[message_id] = version
        return version

    def add_message(self) -> None:
        self.next_id += 1
        self.send(f"m{self.next_id}", random_text(self.rng))

    def add_messages(self, count: int) -> None:
        first = self.next_id + 1
        self.next_id += count
        texts = [random_text(self.rng) for _ in range(count)]
        messages = [self.version(f"m{first + i}", text) for i, text in enumerate(texts)]
        load_messages(self.connection, messages, [])

    def pick(self) -> Message | None:
        return self.messages[self.rng.choice(sorted(self.messages))] if self.messages else None

    def current_topics(self) -> tuple[Topic, ...]:
        return tuple(Topic(name, terms) for name, terms in self.topics.items())

    def step(self) -> str:
        rng = self.rng
        change = rng.choice(
            [
                "add_topic",
                "edit_topic",
                "remove_topic",
                "add_message",
                "edit_message",
                "resend_message",
                "flip_direction",
                "delete_message",
                "rescore",
                "rescore",
                "run",
                "run",
            ]
        )
        message = self.pick()
        if change == "add_topic" and len(self.topics) < len(NAMES):
            name = rng.choice([n for n in NAMES if n not in self.topics])
            self.topics[name] = random_topic_terms(rng)
        elif change == "edit_topic" and self.topics:
            self.topics[rng.choice(sorted(self.topics))] = random_topic_terms(rng)
        elif change == "remove_topic" and self.topics:
            del self.topics[rng.choice(sorted(self.topics))]
        elif change == "add_message":
            self.add_message()
        elif change == "edit_message" and message:
            self.send(message.message_id, random_text(rng), message.direction)
        elif change == "resend_message" and message:
            self.send(message.message_id, message.body, message.direction)
        elif change == "flip_direction" and message:
            flipped = "out" if message.direction == "in" else "in"
            self.send(message.message_id, message.body, flipped)
        elif change == "delete_message" and message:
            del self.messages[message.message_id]
            self.connection.execute(
                "delete from raw.messages where message_id = ?", [message.message_id]
            )
        elif change == "rescore":
            score_pending(self.connection, self.engine)
        elif change == "run":
            self.run()
        return change

    def run(self) -> None:
        stats = evaluate_topics(
            self.connection, EngineRouter([self.engine]), self.current_topics(), workers=1
        )
        assert stats.failures == []


@pytest.mark.parametrize("seed", range(12))
def test_incremental_runs_write_what_a_fresh_evaluation_writes(seed):
    rng = random.Random(seed)
    with duckdb.connect() as connection:
        connection.execute(RAW_SCHEMA_DDL)
        world = World(rng, connection)
        world.add_messages(8)
        world.topics = {name: random_topic_terms(rng) for name in rng.sample(NAMES, 3)}
        score_pending(connection, world.engine)
        world.run()
        history = []
        for _ in range(16):
            history.append(world.step())
            if history[-1] == "run":
                assert full_rows(connection) == fresh_rows(connection, world.current_topics()), (
                    history
                )
        world.run()
        final = full_rows(connection)
        assert final == fresh_rows(connection, world.current_topics()), history
        # The final state once every message is rescored, too.
        score_pending(connection, world.engine)
        world.run()
        assert full_rows(connection) == fresh_rows(connection, world.current_topics()), history
