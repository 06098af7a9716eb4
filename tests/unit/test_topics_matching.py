"""Matching topics in a text: whole words, case, plurals, phrases, sentences, the pre-screen."""

import random
import re

import duckdb
import pytest

from orchestration.text.clean import text_hash
from orchestration.text.pieces import split_sentences
from orchestration.topics.config import Topic, parse_topics
from orchestration.topics.matching import (
    TopicMatch,
    TopicMatcher,
    match_many,
    prescreen_pattern,
    sentence_spans,
)

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


def reference_matcher(topics):
    """The rules applied as written, sentence by sentence, one topic at a time: one
    alternation of the topic's keywords, longest first, each with its own boundaries."""

    def keyword(term):
        body = r"\s+".join(re.escape(word) for word in term.split(" "))
        before = r"(?<!\w)" if re.match(r"\w", term[0]) else ""
        after = r"(?:e?s)?(?!\w)" if re.match(r"\w", term[-1]) else ""
        return before + body + after

    patterns = []
    for topic in topics:
        terms = sorted(topic.terms, key=lambda t: (-len(t), t))
        pattern = re.compile("|".join(f"({keyword(t)})" for t in terms), re.IGNORECASE)
        patterns.append((topic.name, terms, pattern))

    def match(text):
        sentences = split_sentences(text)
        found = []
        for name, terms, pattern in patterns:
            hits = [{terms[h.lastindex - 1] for h in pattern.finditer(s)} for s in sentences]
            if any(hits):
                found.append(
                    TopicMatch(
                        name,
                        " ".join(s for s, h in zip(sentences, hits, strict=True) if h),
                        sum(1 for h in hits if h),
                        tuple(sorted(set().union(*hits))),
                    )
                )
        return found

    return match


def test_matching_the_whole_text_finds_what_matching_each_sentence_finds():
    texts = sample_texts(3000, seed=3) + [
        "I want my money\nback now. Money\n\nback? money  back!",  # phrases across breaks
        "Where is my money\nback",
        "money.\nBack to the refund.\nrefund\nrefund",
        "My refund iſ LATE",  # IGNORECASE pairs that lower() does not make equal
        "The DELIVERY waſ late",
        "ıNVOICE and İNVOICE",
        "Refunds, REFUNDES! \u212aelvin",
        "Late\u00a0delivery\u2028late\u3000delivery. late\x1cdelivery",
        "  \n refund   \n\n  ",
    ]
    # Keywords whose first letters IGNORECASE folds together ("ſ" and "s"), longest first.
    folding = parse_topics("s: [sabcd, ſabc, sa, ıd]\ni: [id, ide]")
    texts += ["SABC x, ſa", "SABCD. sa ID ıd İD"]
    for topics in (shipped_topics(), TOPICS, OVERLAPPING, folding):
        matcher, reference = TopicMatcher(topics), reference_matcher(topics)
        assert [matcher.match(t) for t in texts] == [reference(t) for t in texts]
    shipped = TopicMatcher(shipped_topics())
    assert sum(bool(shipped.match(t)) for t in texts) > 100


@pytest.mark.parametrize("seed", range(5))
def test_sentence_spans_are_the_sentences_of_split_sentences(seed):
    rng = random.Random(seed)
    alphabet = [*"aBé😡.!?。！ \n\t", "\u00a0", "\u3000", "\x1c"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert [text[a:b] for a, b in sentence_spans(text)] == split_sentences(text)


# --- each topic on its own --------------------------------------------------------------------


def shipped_topics():
    from orchestration.topics.config import load_topics
    from orchestration.topics.resource import DEFAULT_TOPICS_PATH

    return load_topics(DEFAULT_TOPICS_PATH)


def test_a_longer_keyword_of_another_topic_hides_nothing():
    topics = shipped_topics() + parse_topics("fees: [shipping cost]")
    found = matches("The shipping cost is far too high.", topics)
    assert set(found) == {"delivery", "fees"}
    assert found["fees"].terms == ("shipping cost",)
    assert found["delivery"].terms == ("shipping",)
    # The longest at one place still counts within a topic.
    assert matches("The shipping cost.", parse_topics("fees: [shipping, shipping cost]"))[
        "fees"
    ].terms == ("shipping cost",)


OVERLAPPING = parse_topics(
    """
fees: [shipping cost, fee, late fee]
shipment: [late, shipping, delivery, late delivery]
money: [money back, money, refund, back]
labels: [return, return label, label, "[card]"]
moods: ["😡", "so angry", angry]
prices: [€, "€ 5", "$5"]
"""
)


def sample_texts(count=1500, seed=11):
    import json

    from orchestration.sample.generator import iter_sample_lines

    texts = []
    for line in iter_sample_lines(count, seed=seed):
        try:
            texts.append(json.loads(line)["attributes"]["preview"] or "")
        except (ValueError, KeyError, TypeError):
            continue
    return texts + [
        "The shipping cost is far too high. A late fee and a late delivery!",
        "Money back? I want my money back, back then it was a refund.",
        "Return label missing; the returns label is wrong. [CARD] charged €5 and $5.",
        "So angry 😡😡 angry😡 about the €50 fee",
        "late-fees, LATE DELIVERIES, shipping costs",
    ]


@pytest.mark.parametrize("topics", [OVERLAPPING, shipped_topics() + OVERLAPPING])
def test_a_texts_topics_do_not_depend_on_the_other_topics(topics):
    together = TopicMatcher(topics)
    alone = {topic.name: TopicMatcher([topic]) for topic in topics}
    texts = sample_texts()
    found = 0
    for text in texts:
        matched = together.match(text)
        found += len(matched)
        for topic in topics:
            expected = alone[topic.name].match(text)
            assert [m for m in matched if m.topic == topic.name] == expected, (topic, text)
    assert found > 200


# --- keywords with emoji and symbols ------------------------------------------------------------

SYMBOLS = parse_topics(
    """
angry: ["😡", so angry]
price: [€, "£", "$5"]
refund: [refund]
"""
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am 😡", {"angry"}),
        ("so ANGRY!", {"angry"}),
        # A keyword's edge that is a symbol needs no word boundary on that side.
        ("angry😡😡 now", {"angry"}),
        ("It costs €50.", {"price"}),
        ("50€ for a refund?", {"price", "refund"}),
        ("£ signs", {"price"}),
        ("a $5 fee", {"price"}),
        ("a $50 fee", set()),  # "$5" ends with a digit: whole word on that side
        ("no emoji here", set()),
    ],
)
def test_keywords_with_emoji_and_symbols(text, expected):
    assert set(matches(text, SYMBOLS)) == expected


@pytest.mark.parametrize(
    "character",
    [*"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "😡", "€", "£", "§", "°", "“", "’", "–", "…", "ß", "é"],
)
def test_the_prescreen_takes_any_character_literally(character):
    keyword = f"a{character}b"
    topics = (Topic("t", (keyword,)),)
    pattern = prescreen_pattern(topics)
    with duckdb.connect() as connection:
        hits = connection.execute(
            "select list(regexp_matches(t, $p)) from unnest($texts::varchar[]) as u(t)",
            {"texts": [f"x {keyword.title()} y", "x ab y", "x a b y"], "p": pattern},
        ).fetchone()[0]
    assert hits == [True, False, False]


def test_the_prescreen_lets_through_every_text_with_emoji_or_symbol_keywords():
    texts = [
        "I am 😡",
        "angry😡😡 now",
        "It costs €50.",
        "50€ for a refund?",
        "£ signs",
        "a $5 fee",
        "a $50 fee",
        "no emoji here",
        "plain text",
    ]
    matched = {text for text in texts if TopicMatcher(SYMBOLS).match(text)}
    assert prescreened(texts, SYMBOLS) >= matched
    assert "plain text" not in prescreened(texts, SYMBOLS)


def prescreened(texts, topics):
    with duckdb.connect() as connection:
        return {
            text
            for text, hit in connection.execute(
                "select t, regexp_matches(t, $p) from unnest($texts::varchar[]) as u(t)",
                {"texts": texts, "p": prescreen_pattern(topics)},
            ).fetchall()
            if hit
        }
