"""The topic pass: what it writes, and that a change re-scores only what it must."""

from datetime import datetime

import duckdb
import pytest

from orchestration.engines.base import ScoreFailure
from orchestration.engines.routing import EngineRouter
from orchestration.engines.vader import VaderEngine, score_texts
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.record import Message
from orchestration.text.prepare import TextSettings
from orchestration.topics.config import parse_topics
from orchestration.topics.evaluate import evaluate_topics

TOPICS_YAML = """
refund: [refund, money back]
delivery: [late, courier, tracking]
billing: [charge, invoice]
"""


class CountingEngine(VaderEngine):
    """VADER that remembers every text it was asked to score; ``fail`` texts fail."""

    def __init__(self):
        super().__init__(workers=1)
        self.texts: list[str] = []
        self.fail: set[str] = set()

    def score_batch(self, texts, language):
        self.texts.extend(texts)
        return [
            ScoreFailure("engine_error", "boom") if text in self.fail else score
            for text, score in zip(texts, super().score_batch(texts, language), strict=True)
        ]


def message(message_id, body, direction="in", updated_hour=10, language="en", updated_at=None):
    """A chat message of conversation c1, created 2026-01-02 09:00 and updated at
    ``updated_at`` (else ``updated_hour`` o'clock that day)."""
    return Message(
        message_id=message_id,
        conversation_id="c1",
        customer_id="u1",
        channel="chat",
        direction=direction,
        created_at=datetime(2026, 1, 2, 9),
        updated_at=updated_at or datetime(2026, 1, 2, updated_hour),
        body=body,
        subject=None,
        language=language,
        source_name="f.jsonl",
        source_row=1,
    )


MESSAGES = [
    message("m1", "My refund is late. I love the courier though! The invoice is fine."),
    message("m2", "Where is my refund?"),  # one sentence: its snippet is the whole text
    message("m3", "My refund is late. I love the courier though! The invoice is fine."),  # = m1
    message("m4", "Thanks, all good."),  # no topic
    message("m5", "Refund me now, this charge is awful", direction="out"),  # an agent's
    message("m6", "Die Rückerstattung ist spät, refund bitte", language="de"),  # not scored
    message("m7", "Tracking shows nothing. I want my money back! Awful charge."),
]


@pytest.fixture
def warehouse():
    with duckdb.connect() as connection:
        connection.execute(RAW_SCHEMA_DDL)
        engine = CountingEngine()
        load_messages(connection, MESSAGES, [])
        score_pending(connection, engine)
        engine.texts.clear()  # the messages' own scores
        yield connection, engine


def run(connection, engine, yaml_text=TOPICS_YAML):
    return evaluate_topics(connection, EngineRouter([engine]), parse_topics(yaml_text), workers=1)


def rows(connection):
    """Each (message, topic) row's matched terms, sentence count, score and write time."""
    return {
        (m, t): (terms, count, score, at)
        for m, t, terms, count, score, at in connection.execute(
            "select message_id, topic, matched_terms, sentence_count, score, evaluated_at "
            "from raw.message_topics"
        ).fetchall()
    }


def test_first_run_writes_one_row_per_inbound_scored_message_and_topic(warehouse):
    connection, engine = warehouse
    stats = run(connection, engine)
    found = rows(connection)
    assert set(found) == {
        ("m1", "refund"),
        ("m1", "delivery"),
        ("m1", "billing"),
        ("m2", "refund"),
        ("m3", "refund"),
        ("m3", "delivery"),
        ("m3", "billing"),
        ("m7", "refund"),
        ("m7", "delivery"),
        ("m7", "billing"),
    }
    assert found["m1", "delivery"][:2] == ("courier, late", 2)
    # The topic's score is the engine's score of its sentences, not of the whole message.
    assert found["m1", "delivery"][2] == pytest.approx(
        score_texts(["My refund is late. I love the courier though!"])[0].score
    )
    assert found["m7", "billing"][2] == pytest.approx(score_texts(["Awful charge."])[0].score)
    # m3 repeats m1's text: matched once, its snippets scored once. m2's snippet is its whole
    # text, whose score the message score cache already holds: never sent.
    assert sorted(engine.texts) == sorted(
        {
            "My refund is late.",
            "My refund is late. I love the courier though!",
            "The invoice is fine.",
            "Tracking shows nothing.",
            "I want my money back!",
            "Awful charge.",
        }
    )
    assert stats.snippets_scored == 6 and stats.snippet_cache_hits == 1
    assert stats.messages_evaluated == 5  # m1, m2, m3, m4, m7
    assert stats.texts_matched == 3  # m4 does not pass the pre-screen; m3 = m1
    assert stats.added == ["refund", "delivery", "billing"]
    scans = connection.execute("select count(*) from raw.topic_scans").fetchone()[0]
    assert scans == 5


def test_a_rerun_with_nothing_new_evaluates_nothing(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    before, calls = rows(connection), len(engine.texts)
    stats = run(connection, engine)
    assert (stats.messages_evaluated, stats.messages_rechecked, stats.texts_matched) == (0, 0, 0)
    assert len(engine.texts) == calls
    assert rows(connection) == before  # evaluated_at included: nothing was rewritten


def test_editing_one_topic_re_evaluates_that_topic_only(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    before = rows(connection)
    engine.texts.clear()
    edited = TOPICS_YAML.replace("[late, courier, tracking]", "[late, tracking]")
    stats = run(connection, engine, edited)
    assert stats.changed == ["delivery"] and stats.added == stats.removed == []
    assert stats.messages_evaluated == 0
    after = rows(connection)
    # The other topics' rows were not touched.
    for key, value in before.items():
        if key[1] != "delivery":
            assert after[key] == value
    # m1's delivery snippet lost its courier sentence; m7's is unchanged.
    assert after["m1", "delivery"][:2] == ("late", 1)
    assert after["m7", "delivery"][:2] == ("tracking", 1)
    # m1's new snippet, "My refund is late.", was already scored as its refund snippet: the
    # cache answers, and nothing at all goes to the engine.
    assert engine.texts == []
    assert stats.snippet_cache_hits == stats.snippets

    # New snippets of the edited topic, and only those, go to the engine.
    again = run(
        connection,
        engine,
        TOPICS_YAML.replace("[late, courier, tracking]", "[courier, tracking, charge]"),
    )
    assert again.changed == ["delivery"]
    assert sorted(engine.texts) == [
        "I love the courier though!",  # m1 and m3 share it: scored once
        "Tracking shows nothing. Awful charge.",
    ]
    assert again.messages_rechecked == 3  # m1, m3, m7 pass the pre-screen; m2 and m4 do not


def test_reordering_keywords_changes_nothing(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    before = rows(connection)
    stats = run(
        connection,
        engine,
        TOPICS_YAML.replace("[late, courier, tracking]", "[tracking, courier, late]"),
    )
    assert stats.changed == [] and rows(connection) == before


def test_adding_a_topic_evaluates_only_it_and_removing_one_deletes_its_rows(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    before = rows(connection)
    engine.texts.clear()
    stats = run(connection, engine, TOPICS_YAML + "praise: [love]\n")
    assert stats.added == ["praise"] and stats.changed == []
    assert engine.texts == ["I love the courier though!"]
    after = rows(connection)
    assert set(after) - set(before) == {("m1", "praise"), ("m3", "praise")}
    assert all(after[key] == value for key, value in before.items())

    engine.texts.clear()
    stats = run(connection, engine, TOPICS_YAML.replace("billing: [charge, invoice]\n", ""))
    assert stats.removed == ["billing", "praise"] and engine.texts == []
    assert {t for _, t in rows(connection)} == {"refund", "delivery"}
    assert connection.execute(
        "select list(topic order by topic) from raw.topic_definitions"
    ).fetchone() == (["delivery", "refund"],)


def test_an_edited_message_is_evaluated_again_and_the_others_are_not(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    before = rows(connection)
    load_messages(connection, [message("m2", "The courier was late again.", updated_hour=12)], [])
    score_pending(connection, engine)
    engine.texts.clear()
    stats = run(connection, engine)
    assert stats.messages_evaluated == 1
    after = rows(connection)
    assert ("m2", "refund") not in after and after["m2", "delivery"][:2] == ("courier, late", 1)
    assert all(after[key] == value for key, value in before.items() if key[0] != "m2")
    # A one-sentence message: its snippet is its text, scored with the message itself.
    assert engine.texts == []


def test_a_deleted_or_unscored_message_loses_its_rows(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    connection.execute("delete from raw.messages where message_id = 'm7'")
    load_messages(connection, [message("m2", "", updated_hour=12)], [])  # now empty
    score_pending(connection, engine)
    run(connection, engine)
    assert {m for m, _ in rows(connection)} == {"m1", "m3"}
    assert connection.execute(
        "select count(*) from raw.topic_scans where message_id = 'm7'"
    ).fetchone() == (0,)


def test_a_snippet_the_engine_fails_on_is_retried_by_the_next_run(warehouse):
    connection, engine = warehouse
    engine.fail = {"Awful charge."}
    stats = run(connection, engine)
    assert [m for m, _ in stats.failures] == ["m7"]
    assert ("m7", "billing") not in rows(connection) and ("m7", "refund") in rows(connection)
    engine.fail = set()
    engine.texts.clear()
    stats = run(connection, engine)
    assert stats.messages_evaluated == 1 and stats.failures == []
    assert ("m7", "billing") in rows(connection)
    assert engine.texts == ["Awful charge."]  # the other snippets came from the cache


def test_a_message_scored_by_an_engine_no_longer_configured_is_not_scored_by_another(warehouse):
    connection, engine = warehouse

    class OtherVader(CountingEngine):
        version = "0.0-other"

    other = OtherVader()
    other.version = "0.0-other"
    stats = run(connection, other)
    assert other.texts == []
    # m1, m3 and m7 need snippets scored by vader 3.3.2, which is not configured: they wait
    # (for message_scores to rescore them). m2's snippet is its whole text, whose score by
    # its own engine is in the cache.
    assert [m for m, _ in stats.failures] == ["m1", "m3", "m7"]
    assert "not configured now" in stats.failures[0][1]
    assert set(rows(connection)) == {("m2", "refund")}
    assert connection.execute(
        "select list(message_id order by message_id) from raw.topic_scans"
    ).fetchone() == (["m2", "m4"],)


def test_under_text_policy_none_there_are_no_rows_rather_than_wrong_ones():
    with duckdb.connect() as connection:
        connection.execute(RAW_SCHEMA_DDL)
        engine = CountingEngine()
        load_messages(connection, MESSAGES, [])
        score_pending(connection, engine, settings=TextSettings(policy="none"))
        engine.texts.clear()
        stats = run(connection, engine)
        assert rows(connection) == {} and engine.texts == []
        assert stats.messages_without_text == 5 and stats.messages_evaluated == 0
        # Scanned: the next run does not count them again.
        assert run(connection, engine).messages_without_text == 0


def test_after_a_switch_to_policy_none_a_changed_topic_drops_its_rows(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    # What enforcing policy none does to the stored texts (orchestration.text_policy).
    connection.execute("update raw.message_scores set cleaned_text = null")
    unchanged = run(connection, engine)
    assert unchanged.messages_without_text == 0 and len(rows(connection)) == 10
    stats = run(connection, engine, TOPICS_YAML.replace("[charge, invoice]", "[charge]"))
    assert stats.changed == ["billing"] and stats.messages_without_text == 5
    # The billing rows were computed with keywords that no longer hold, and the texts are
    # gone: no billing rows. The unchanged topics keep theirs.
    assert {t for _, t in rows(connection)} == {"refund", "delivery"}


# --- incremental runs agree with a from-scratch evaluation ------------------------------------

ROW_COLUMNS = (
    "message_id, topic, text_hash, topic_hash, snippet_hash, matched_terms, sentence_count, "
    "sentiment, positive, negative, neutral, mixed, score, polarity, confidence, engine, "
    "engine_version, language"
)


def full_rows(connection):
    """Every column of raw.message_topics but the write time, sorted."""
    return connection.execute(
        f"select {ROW_COLUMNS} from raw.message_topics order by message_id, topic"
    ).fetchall()


def fresh_rows(connection, topics=TOPICS_YAML):
    """raw.message_topics as a first run over the same messages and scores computes it: in a
    new database with a copy of raw.messages, raw.message_scores and raw.score_cache.
    ``topics``: a topics file's text, or the topics."""
    topics = parse_topics(topics) if isinstance(topics, str) else topics
    with duckdb.connect() as fresh:
        fresh.execute(RAW_SCHEMA_DDL)
        for table in ("messages", "message_scores", "score_cache"):
            data = connection.execute(f"select * from raw.{table}").fetch_arrow_table()
            fresh.register("_copy", data)
            fresh.execute(f"insert into raw.{table} select * from _copy")
            fresh.unregister("_copy")
        stats = evaluate_topics(fresh, EngineRouter([CountingEngine()]), topics, workers=1)
        assert stats.failures == []
        return full_rows(fresh)


def test_a_topic_change_while_a_message_waits_for_rescoring_loses_none_of_its_rows(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    # The source sends m7 again, same text, newer updated_at: its score row is now behind.
    load_messages(connection, [message("m7", MESSAGES[6].body, updated_hour=11)], [])
    edited = TOPICS_YAML.replace("[late, courier, tracking]", "[late, courier, tracking, parcel]")
    stats = run(connection, engine, edited)
    assert stats.changed == ["delivery"]
    # Rescored with the same text: the same text_hash, so no new scan of its own.
    score_pending(connection, engine)
    run(connection, engine, edited)
    assert {t for m, t in rows(connection) if m == "m7"} == {"refund", "delivery", "billing"}
    assert full_rows(connection) == fresh_rows(connection, edited)


def test_a_message_that_was_not_inbound_for_a_while_gets_its_rows_back(warehouse):
    connection, engine = warehouse
    run(connection, engine)
    body = MESSAGES[6].body
    # A corrected record makes m7 an agent's message, then a customer's again, same text:
    # the same text_hash as when it was scanned.
    load_messages(connection, [message("m7", body, direction="out", updated_hour=11)], [])
    score_pending(connection, engine)
    run(connection, engine)
    assert not {t for m, t in rows(connection) if m == "m7"}
    load_messages(connection, [message("m7", body, updated_hour=12)], [])
    score_pending(connection, engine)
    run(connection, engine)
    assert {t for m, t in rows(connection) if m == "m7"} == {"refund", "delivery", "billing"}
    assert full_rows(connection) == fresh_rows(connection)


def test_a_topic_added_next_to_an_overlapping_keyword_gives_what_a_fresh_run_gives(warehouse):
    # delivery has "tracking"; a new topic's "tracking shows" covers it at the same place.
    # Each topic is matched on its own: m7 keeps delivery and gains status.
    connection, engine = warehouse
    run(connection, engine)
    with_status = TOPICS_YAML + "status: [tracking shows]\n"
    stats = run(connection, engine, with_status)
    assert stats.added == ["status"]
    found = rows(connection)
    assert found["m7", "status"][0] == "tracking shows"
    assert found["m7", "delivery"][0] == "tracking"
    assert full_rows(connection) == fresh_rows(connection, with_status)


class InFlightEngine(CountingEngine):
    """Counts the batches submitted and not yet collected; commits two texts at a time."""

    commit_texts = 2

    def __init__(self):
        super().__init__()
        self.in_flight = self.most_in_flight = self.batches = 0

    def submit_batch(self, texts, language):
        self.in_flight += 1
        self.batches += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

        def results():
            self.in_flight -= 1
            return self.score_batch(texts, language)

        return results


def test_snippets_are_scored_with_a_bounded_number_of_batches_in_flight(warehouse):
    connection, _ = warehouse
    engine = InFlightEngine()
    stats = run(connection, engine)
    assert stats.snippets_scored == 6 and engine.batches == 3
    assert engine.most_in_flight <= 2
    assert full_rows(connection) == fresh_rows(connection)


def test_emoji_and_symbol_keywords_end_to_end():
    with duckdb.connect() as connection:
        connection.execute(RAW_SCHEMA_DDL)
        engine = CountingEngine()
        load_messages(
            connection,
            [
                message("e1", "I am 😡 about the €50 fee. Thanks anyway."),
                message("e2", "Fine, all good."),
                message("e3", "So angry😡 at 5€!"),
            ],
            [],
        )
        score_pending(connection, engine)
        symbols = 'angry: ["😡"]\nprice: [€, "£"]\n'
        stats = run(connection, engine, symbols)
        assert stats.failures == []
        found = rows(connection)
        assert set(found) == {("e1", "angry"), ("e1", "price"), ("e3", "angry"), ("e3", "price")}
        assert found["e1", "angry"][:2] == ("😡", 1)
        assert found["e1", "price"][:2] == ("€", 1)
        assert full_rows(connection) == fresh_rows(connection, symbols)


def test_small_batches_of_texts_and_snippets_write_the_same_rows(warehouse, monkeypatch):
    from orchestration.topics import evaluate

    connection, engine = warehouse
    monkeypatch.setattr(evaluate, "TEXT_BATCH", 1)
    monkeypatch.setattr(evaluate, "SNIPPET_BATCH", 2)
    stats = run(connection, engine)
    assert stats.texts_matched == 3 and stats.snippets_scored == 6
    assert full_rows(connection) == fresh_rows(connection)
