"""Matching topics in a text: whole words, case, plurals, phrases, sentences, the pre-screen."""

import duckdb
import pytest

from orchestration.text.clean import text_hash
from orchestration.topics.config import parse_topics
from orchestration.topics.matching import TopicMatch, TopicMatcher, match_many, prescreen_pattern

TOPICS = parse_topics(
    """
refund: [refund, money back, chargeback, money]
delivery: [late, delivery, courier, tracking]
billing: [charge, "[card]"]
returns: [return, return label]
"""
)


def matches(text, topics=TOPICS):
    return {m.topic: m for m in TopicMatcher(topics).match(text)}


def test_snippet_is_the_sentences_that_mention_the_topic_in_text_order():
    text = (
        "Hello team. My refund is late!\nThe courier was lovely though. "
        "I still want my money back? Thanks."
    )
    found = matches(text)
    assert found["refund"] == TopicMatch(
        "refund", "My refund is late! I still want my money back?", 2, ("money back", "refund")
    )
    assert found["delivery"] == TopicMatch(
        "delivery", "My refund is late! The courier was lovely though.", 2, ("courier", "late")
    )
    assert set(found) == {"refund", "delivery"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("REFUND now", {"refund"}),  # case-insensitive
        ("Refunds please", {"refund"}),  # plural s
        ("two chargebacks", {"refund"}),
        ("charges and charge", {"billing"}),  # plural es: charge -> charges
        ("returns", {"returns"}),
        ("a refunded order", set()),  # no stemming beyond s / es
        ("the latest chocolate", set()),  # whole words: not inside other words
        ("delivery_note", set()),  # an underscore is part of a word, a hyphen is not
        ("late-night", {"delivery"}),
        ("money\u00a0 back", {"refund"}),  # any whitespace between a phrase's words
        (
            "money.\nBack",
            {"refund"},
        ),  # "money" alone still counts; the phrase does not cross sentences
        ("paid with [CARD] yesterday", {"billing"}),  # placeholders of redaction are words too
        ("Rückerstattung", set()),
    ],
)
def test_whole_word_case_insensitive_matching(text, expected):
    assert set(matches(text)) == expected


def test_a_phrase_does_not_cross_a_sentence_break():
    topics = parse_topics("refund: [money back]")
    assert matches("I want my money.\nBack to you.", topics) == {}
    assert matches("I want my money back.", topics)["refund"].terms == ("money back",)


def test_overlapping_keywords_report_the_longest_at_one_place():
    found = matches("Please send the return label. Another return too.")
    assert found["returns"].terms == ("return", "return label")
    assert found["returns"].sentence_count == 2
    assert matches("money back")["refund"].terms == ("money back",)


def test_a_keyword_shared_by_topics_counts_for_each():
    topics = parse_topics("refund: [charge]\nbilling: [charge, invoice]")
    found = matches("The charge is wrong.", topics)
    assert found["refund"].terms == found["billing"].terms == ("charge",)


def test_a_sentence_mentioning_a_topic_twice_is_counted_once():
    found = matches("Late, late, always late. Fine otherwise.")
    assert found["delivery"] == TopicMatch("delivery", "Late, late, always late.", 1, ("late",))


def test_no_text_or_no_topics_match_nothing():
    assert TopicMatcher(TOPICS).match(None) == []
    assert TopicMatcher(TOPICS).match("") == []
    assert TopicMatcher(()).match("refund") == []
    assert prescreen_pattern(()) is None


def test_match_many_keeps_the_order():
    assert [len(found) for found in match_many(["refund", "nothing", "late refund"], TOPICS)] == [
        1,
        0,
        2,
    ]


TEXTS = [
    "My REFUNDS are late.",
    "money\u00a0back",
    "I was charged twice",  # the pre-screen lets it through ("charge"), the matcher does not
    "paid with [CARD]",
    "nothing to see here",
    "latest chocolate",
    "Straße",
    "it's a return-label",
]


def test_the_duckdb_prescreen_lets_every_matching_text_through():
    pattern = prescreen_pattern(TOPICS)
    with duckdb.connect() as connection:
        passed = {
            text
            for text, hit in connection.execute(
                "select t, regexp_matches(t, $p) from unnest($texts::varchar[]) as u(t)",
                {"texts": TEXTS, "p": pattern},
            ).fetchall()
            if hit
        }
    matched = {text for text in TEXTS if TopicMatcher(TOPICS).match(text)}
    assert matched <= passed
    assert "nothing to see here" not in passed


def test_the_snippet_cache_key_in_sql_is_the_score_cache_key():
    # A snippet that is a whole message's text must find the message's score in the cache.
    snippet, language, engine, version = "My refund is late! ünïcode", "en", "vader", "3.3.2"
    with duckdb.connect() as connection:
        in_sql = connection.execute(
            "select substr(sha256(concat_ws(chr(31), $e, $v, coalesce($l, ''), $s)), 1, 32)",
            {"e": engine, "v": version, "l": language, "s": snippet},
        ).fetchone()[0]
    assert in_sql == text_hash(snippet, language, engine, version)


def test_the_word_precheck_never_changes_what_matches():
    import json

    from orchestration.sample.generator import iter_sample_lines
    from orchestration.topics.config import load_topics
    from orchestration.topics.resource import DEFAULT_TOPICS_PATH

    texts = []
    for line in iter_sample_lines(3000, seed=3):
        try:
            texts.append(json.loads(line)["attributes"]["preview"] or "")
        except (ValueError, KeyError, TypeError):
            continue
    # IGNORECASE pairs that lower() does not make equal: such sentences skip the pre-check.
    texts += ["My refund iſ LATE", "The DELIVERY waſ late", "ıNVOICE", "Refunds, REFUNDES!"]
    for topics in (load_topics(DEFAULT_TOPICS_PATH), TOPICS):
        fast = TopicMatcher(topics)
        slow = TopicMatcher(topics)
        slow.first_words = None  # every sentence through the pattern
        assert fast.first_words
        assert [fast.match(t) for t in texts] == [slow.match(t) for t in texts]
    assert sum(bool(fast.match(t)) for t in texts) > 100
