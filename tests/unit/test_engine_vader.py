"""The seed's promises for the local engine, and the score's shape."""

import pytest

from orchestration.engines.base import ScoreFailure, SentimentScore
from orchestration.engines.vader import (
    SENTENCE_SPLIT_CHARS,
    VaderEngine,
    score_texts,
    vader_pieces,
    vader_polarity_scores,
)

ANGRY = (
    "This is the worst service I have ever had. Your agents were rude and useless, the "
    "package arrived broken, and nobody answered my emails for two weeks. I am furious and "
    "disgusted, it is a total disaster and a horrible waste of money. Terrible, awful company!"
)


def one(text: str) -> SentimentScore:
    (result,) = score_texts([text])
    return result


def test_negation_flips_polarity():
    assert one("good").polarity == 1
    assert one("not good").polarity == -1


def test_modifiers_scale_the_score():
    assert one("very bad").score < one("bad").score < 0
    assert one("extremely good").score > one("good").score > 0


def test_long_angry_text_is_confidently_negative():
    result = one(ANGRY)
    assert result.sentiment == "NEGATIVE" and result.polarity == -1
    assert result.confidence > 0.8


def test_short_ambiguous_text_gets_small_confidence():
    result = one("fine I guess")
    assert result.polarity != 0
    assert result.confidence < 0.3


def test_neutral_text_is_neutral():
    result = one("Where is my package?")
    assert (result.sentiment, result.polarity, result.score) == ("NEUTRAL", 0, 0.0)


@pytest.mark.parametrize(
    "text", ["good", "not good", ANGRY, "ok", "great product but awful delivery", "hm"]
)
def test_probabilities_form_a_distribution_and_ranges_hold(text):
    result = one(text)
    total = result.positive + result.negative + result.neutral + result.mixed
    assert total == pytest.approx(1.0)
    assert -1 <= result.score <= 1 and 0 <= result.confidence <= 1
    assert result.polarity in (-1, 0, 1)


def test_long_text_is_judged_whole_not_averaged_away():
    long_angry = " ".join([ANGRY] * 8)
    assert len(long_angry) > SENTENCE_SPLIT_CHARS
    result = one(long_angry)
    assert result.polarity == -1 and result.confidence > 0.9
    # a happy ending does not erase pages of anger
    mixed = long_angry + " Thanks for reading."
    assert one(mixed).score < -0.9


def test_sentence_split_scores_close_to_whole_text_vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    text = " ".join(["The app crashed again and I lost my work."] * 30)
    whole = SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert vader_polarity_scores(text)["compound"] == pytest.approx(whole, abs=0.01)
    assert len(vader_pieces(text)) == 30


def test_engine_refuses_languages_it_cannot_score():
    engine = VaderEngine(workers=1)
    assert engine.supports("en") and engine.supports(None) and not engine.supports("de")
    (result,) = engine.score_batch(["Das ist schlecht"], "de")
    assert isinstance(result, ScoreFailure) and result.status == "unsupported_language"


def test_parallel_scoring_matches_serial(monkeypatch):
    import orchestration.engines.vader as vader

    monkeypatch.setattr(vader, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(vader, "CHUNK_TEXTS", 7)
    texts = [f"message {i} is {'great' if i % 3 else 'awful'}" for i in range(50)]
    assert VaderEngine(workers=2).score_batch(texts, "en") == score_texts(texts)


def test_run_on_text_without_punctuation_is_cut_into_bounded_pieces():
    text = "this is bad and I hate it " * 4000  # 104 KB, no sentence ends
    pieces = vader_pieces(text)
    assert max(len(p) for p in pieces) <= 400
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert one(text).polarity == -1


def test_what_a_long_text_says_after_its_first_5000_bytes_counts():
    # 6 KB of plain facts, then the complaint: a scorer reading only the head would call it
    # neutral.
    facts = "The parcel was sent on Monday from the warehouse in Leeds to my address. " * 80
    assert len(facts.encode()) > 5_000
    complaint = " It arrived smashed, the support was rude and useless, and I am furious."
    assert one(facts).polarity == 0
    assert one(facts + complaint).polarity == -1
