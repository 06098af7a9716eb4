"""The text stage in the pipeline: what each text policy keeps at ingest and after scoring,
how languages are decided (source, detection, conversation and customer fallback), and how
each message is routed to an engine that supports its language."""

from dataclasses import replace
from datetime import datetime

import duckdb
import pytest

from orchestration.engines.base import ScoreFailure
from orchestration.engines.routing import EngineRouter
from orchestration.engines.vader import VaderEngine, score_texts
from orchestration.ingest import load_messages
from orchestration.raw_schema import RAW_SCHEMA_DDL
from orchestration.scoring import score_pending
from orchestration.sources.record import Message, Rejection
from orchestration.text.prepare import TextSettings
from orchestration.text_policy import enforce_on_stored
from tests.conftest import strings_in_tables

CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"
IBAN = "DE89 3704 0044 0532 0130 00"
PERSONAL = (CARD, EMAIL, IBAN)
PII_BODY = (
    f"<p>My card {CARD} was charged twice, this is awful.</p>"
    f"<p>Refund to {IBAN} please, or write to <a href='mailto:{EMAIL}'>{EMAIL}</a>.</p>"
)
GERMAN = "Der Zug hatte schon wieder eine Stunde Verspätung, das ist wirklich ärgerlich."
FRENCH = "Le colis est arrivé cassé et personne ne répond à mes messages depuis une semaine."
ENGLISH = "The parcel arrived broken and nobody has answered my messages for a whole week."


def message(message_id, body, conversation="c1", customer="u1", language=None, **changes):
    base = Message(
        message_id=message_id,
        conversation_id=conversation,
        customer_id=customer,
        channel="email",
        direction="in",
        created_at=datetime(2026, 1, 2, 9),
        updated_at=datetime(2026, 1, 2, 10),
        body=body,
        subject=None,
        language=language,
        source_name="f.jsonl",
        source_row=1,
    )
    return replace(base, **changes)


@pytest.fixture
def connection():
    with duckdb.connect() as conn:
        conn.execute(RAW_SCHEMA_DDL)
        yield conn


class RecordingEngine(VaderEngine):
    """VADER that records every text and language it is asked to score, and scores the
    languages it is told to (to stand in for a multilingual engine)."""

    def __init__(self, name="vader", languages=("en",)):
        super().__init__(workers=1)
        self.name = name
        self.languages = set(languages)
        self.sent: list[tuple[str, str]] = []

    def supports(self, language):
        return language in self.languages

    def score_batch(self, texts, language):
        self.sent.extend((text, language) for text in texts)
        return list(score_texts(texts))


def load_and_score(connection, settings, engine=None):
    items = [
        message("m1", PII_BODY, subject=f"Card {CARD}"),
        Rejection("f.jsonl", 7, f'{{"broken": "{EMAIL}"', "malformed JSON: x"),
    ]
    stats = load_messages(connection, items, ["f.jsonl"], settings=settings)
    engine = engine or RecordingEngine()
    score_pending(connection, engine, settings=settings)
    return stats, engine


@pytest.mark.parametrize("policy", ["redacted", "none"])
def test_personal_data_is_in_no_table_and_no_engine_request(connection, policy):
    stats, engine = load_and_score(connection, TextSettings(policy=policy))
    assert stats.redacted == 1
    stored = strings_in_tables(connection)
    sent = "\n".join(text for text, _ in engine.sent)
    for value in PERSONAL:
        assert value not in stored and value.replace(" ", "") not in stored
        assert value not in sent and value.replace(" ", "") not in sent
    assert "[CARD]" in sent and "[IBAN]" in sent and "[EMAIL]" in sent
    status, score = connection.execute("select status, score from raw.message_scores").fetchone()
    assert status == "scored" and score < 0  # the redacted text still carries its sentiment


def test_full_policy_keeps_the_text_as_received(connection):
    load_and_score(connection, TextSettings(policy="full"))
    stored = strings_in_tables(connection)
    assert all(value in stored for value in PERSONAL)  # the check above can fail
    assert connection.execute("select text_policy from raw.messages").fetchone() == ("full",)


def test_redacted_policy_keeps_redacted_text_and_the_rejected_line(connection):
    load_and_score(connection, TextSettings(policy="redacted"))
    body, subject, policy = connection.execute(
        "select body, subject, text_policy from raw.messages"
    ).fetchone()
    assert "[CARD]" in body and "[IBAN]" in body and subject == "Card [CARD]"
    assert policy == "redacted"
    cleaned = connection.execute("select cleaned_text from raw.message_scores").fetchone()[0]
    assert cleaned.startswith("My card [CARD] was charged twice")
    raw, digest = connection.execute(
        "select raw_content, raw_content_sha256 from raw.rejected_messages"
    ).fetchone()
    assert raw == '{"broken": "[EMAIL]"' and len(digest) == 64


def test_none_policy_keeps_only_hashes_and_scores(connection):
    load_and_score(connection, TextSettings(policy="none"))
    assert connection.execute("select body, subject, text_policy from raw.messages").fetchone() == (
        None,
        None,
        "none",
    )
    text_hash, cleaned, status = connection.execute(
        "select text_hash, cleaned_text, status from raw.message_scores"
    ).fetchone()
    assert cleaned is None and len(text_hash) == 32 and status == "scored"
    raw, digest = connection.execute(
        "select raw_content, raw_content_sha256 from raw.rejected_messages"
    ).fetchone()
    assert raw is None and len(digest) == 64


def test_none_policy_keeps_a_scored_message_as_it_is_when_the_engine_changes(connection):
    settings = TextSettings(policy="none")
    load_messages(connection, [message("m1", ENGLISH)], [], settings=settings)
    score_pending(connection, RecordingEngine(), settings=settings)
    before = connection.execute("select * from raw.message_scores").fetchall()
    later = RecordingEngine(name="other")
    stats = score_pending(connection, later, settings=settings)
    # Its text is gone: it is not rescored (into 'empty') but keeps its score.
    assert stats.messages == 0 and later.sent == []
    assert connection.execute("select * from raw.message_scores").fetchall() == before


def test_none_policy_keeps_the_text_of_an_engine_error_for_the_next_run(connection):
    class FailingEngine(RecordingEngine):
        def score_batch(self, texts, language):
            return [ScoreFailure("engine_error", "throttled")] * len(texts)

    settings = TextSettings(policy="none")
    load_messages(connection, [message("m1", ENGLISH)], [], settings=settings)
    score_pending(connection, FailingEngine(), settings=settings)
    assert connection.execute("select body is not null from raw.messages").fetchone() == (True,)
    retry = RecordingEngine()
    score_pending(connection, retry, settings=settings)
    assert len(retry.sent) == 1
    assert connection.execute("select body from raw.messages").fetchone() == (None,)


def test_languages_are_detected_and_routed_to_an_engine_that_supports_them(connection):
    load_messages(
        connection,
        [
            message("en", ENGLISH),
            message("de", GERMAN, conversation="c2"),
            message("fr", FRENCH, conversation="c3"),
            message("declared", ENGLISH, conversation="c4", language="en-US"),
        ],
        [],
    )
    local = RecordingEngine("vader", ["en"])
    remote = RecordingEngine("remote", ["de", "es"])
    score_pending(connection, EngineRouter([local, remote]))
    rows = dict(
        (r[0], r[1:])
        for r in connection.execute(
            "select message_id, language, status, engine from raw.message_scores"
        ).fetchall()
    )
    assert rows["en"] == ("en", "scored", "vader")
    assert rows["declared"] == ("en", "scored", "vader")
    assert rows["de"] == ("de", "scored", "remote")
    assert rows["fr"][:2] == ("fr", "unsupported_language")
    assert rows["fr"][2] == "vader,remote"
    assert {language for _, language in remote.sent} == {"de"}


def test_an_unsupported_message_is_never_scored_neutral(connection):
    load_messages(connection, [message("de", GERMAN)], [])
    score_pending(connection, RecordingEngine())
    status, reason, score, sentiment = connection.execute(
        "select status, status_reason, score, sentiment from raw.message_scores"
    ).fetchone()
    assert status == "unsupported_language" and "de" in reason
    assert score is None and sentiment is None


def test_adding_an_engine_scores_what_was_unsupported(connection):
    load_messages(connection, [message("de", GERMAN), message("en", ENGLISH, "c2")], [])
    local = RecordingEngine("vader", ["en"])
    score_pending(connection, local)
    remote = RecordingEngine("remote", ["de"])
    stats = score_pending(connection, EngineRouter([local, remote]))
    assert stats.messages == 1 and [lang for _, lang in remote.sent] == ["de"]
    assert connection.execute(
        "select status, engine from raw.message_scores where message_id = 'de'"
    ).fetchone() == ("scored", "remote")


def test_short_texts_take_their_conversations_then_customers_language(connection):
    load_messages(
        connection,
        [
            message("long-de", GERMAN, conversation="c1", customer="u1"),
            message("short-same-conversation", "Danke!", conversation="c1", customer="u1"),
            message("short-same-customer", "Super!!", conversation="c2", customer="u1"),
            message("short-declared", "ok", conversation="c3", customer="u2", language="fr"),
            message("short-alone", "Merci", conversation="c4", customer="u3"),
        ],
        [],
    )
    stats = score_pending(connection, RecordingEngine(), settings=TextSettings())
    languages = dict(
        connection.execute("select message_id, language from raw.message_scores").fetchall()
    )
    assert languages == {
        "long-de": "de",
        "short-same-conversation": "de",
        "short-same-customer": "de",
        "short-declared": "fr",
        "short-alone": "und",
    }
    assert stats.language_fallbacks == 2


def test_undetermined_texts_are_scored_as_the_configured_language_or_left_unscored(connection):
    load_messages(connection, [message("short", "thanks, great!")], [])
    scored = RecordingEngine()
    score_pending(connection, scored, settings=TextSettings(undetermined_language="en"))
    assert scored.sent == [("thanks, great!", "en")]
    assert connection.execute("select language, status from raw.message_scores").fetchone() == (
        "und",
        "scored",
    )
    with duckdb.connect() as other:
        other.execute(RAW_SCHEMA_DDL)
        load_messages(other, [message("short", "thanks, great!")], [])
        score_pending(other, RecordingEngine(), settings=TextSettings(undetermined_language="und"))
        assert other.execute("select language, status from raw.message_scores").fetchone() == (
            "und",
            "unsupported_language",
        )


def test_detection_always_overrides_a_wrong_source_language(connection):
    load_messages(connection, [message("m1", GERMAN, language="en")], [])
    score_pending(connection, RecordingEngine(), settings=TextSettings(detect="always"))
    assert connection.execute("select language, status from raw.message_scores").fetchone() == (
        "de",
        "unsupported_language",
    )


def test_bad_settings_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="full, redacted, none"):
        TextSettings(policy="some")
    with pytest.raises(ValueError, match="missing, always, never"):
        TextSettings(detect="sometimes")


@pytest.mark.parametrize("policy", ["redacted", "none"])
def test_a_stricter_policy_applies_to_what_is_already_stored(connection, policy):
    load_and_score(connection, TextSettings(policy="full"))
    assert all(value in strings_in_tables(connection) for value in PERSONAL)
    settings = TextSettings(policy=policy)
    assert enforce_on_stored(connection, settings) == 1
    stored = strings_in_tables(connection)
    assert [v for v in PERSONAL if v in stored or v.replace(" ", "") in stored] == []
    assert connection.execute("select text_policy from raw.messages").fetchone() == (policy,)
    cleaned = connection.execute("select cleaned_text from raw.message_scores").fetchone()[0]
    assert (cleaned is None) if policy == "none" else ("[CARD]" in cleaned)
    assert enforce_on_stored(connection, settings) == 0  # nothing left to do


def test_escaped_and_html_spaced_personal_data_is_redacted_at_ingest(connection):
    items = [
        message("m1", "<p>Card 4111&nbsp;1111&nbsp;1111&nbsp;1111 was charged twice</p>"),
        # json.dumps escapes non-ASCII: the street and the "@" hide behind \\u escapes.
        Rejection(
            "f.jsonl",
            3,
            '{"body": "Bitte an Hauptstra\\u00dfe 5 oder jane.doe\\u0040example.com", ',
            "malformed JSON: x",
        ),
    ]
    load_messages(connection, items, ["f.jsonl"], settings=TextSettings(policy="redacted"))
    body = connection.execute("select body from raw.messages").fetchone()[0]
    assert "[CARD]" in body and "4111" not in body
    raw = connection.execute("select raw_content from raw.rejected_messages").fetchone()[0]
    assert "[ADDRESS]" in raw and "[EMAIL]" in raw and "Hauptstra" not in raw


def test_none_after_a_redacted_ingest_records_the_dropped_text(connection):
    # Ingested under redacted, scored under none: the body is gone, and the row says so, so a
    # later change of engines leaves the score alone instead of scoring an empty text.
    load_messages(connection, [message("m1", ENGLISH)], [], settings=TextSettings())
    score_pending(connection, RecordingEngine(), settings=TextSettings(policy="none"))
    assert connection.execute("select body, text_policy from raw.messages").fetchone() == (
        None,
        "none",
    )
    stats = score_pending(connection, RecordingEngine(name="other"))
    assert stats.messages == 0
    assert connection.execute("select status from raw.message_scores").fetchone() == ("scored",)


def test_none_enforced_later_keeps_the_text_of_a_version_not_yet_scored(connection):
    full = TextSettings(policy="full")
    load_messages(connection, [message("m1", ENGLISH)], [], settings=full)
    score_pending(connection, RecordingEngine(), settings=full)
    newer = message("m1", GERMAN, updated_at=datetime(2026, 1, 2, 11))
    load_messages(connection, [newer], [], settings=full)
    enforce_on_stored(connection, TextSettings(policy="none"))
    assert connection.execute("select body from raw.messages").fetchone() == (GERMAN,)
    score_pending(connection, RecordingEngine(), settings=TextSettings(policy="none"))
    assert connection.execute(
        "select s.language, s.status, m.body from raw.message_scores s join raw.messages m "
        "using (message_id)"
    ).fetchone() == ("de", "unsupported_language", None)


def test_scores_from_before_languages_were_decided_are_scored_again(connection):
    load_messages(connection, [message("m1", GERMAN)], [])
    score_pending(connection, RecordingEngine())
    connection.execute(
        "update raw.message_scores set status = 'scored', language = null, score = 0"
    )
    stats = score_pending(connection, RecordingEngine())
    assert stats.messages == 1
    assert connection.execute("select language, status from raw.message_scores").fetchone() == (
        "de",
        "unsupported_language",
    )
