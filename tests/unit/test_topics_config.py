"""topics.yml: its format, its validation errors, and where the resource finds it."""

from pathlib import Path

import pytest

from orchestration.topics.config import (
    MATCHING_VERSION,
    Topic,
    TopicsFileError,
    load_topics,
    parse_topics,
)
from orchestration.topics.resource import DEFAULT_TOPICS_PATH, TOPICS_PATH_ENV, TopicsResource


def test_topics_are_read_in_file_order_with_normalised_keywords():
    topics = parse_topics(
        "refund: [Refund, '  Money   back ', chargeback]\ndelivery:\n  - late\n  - courier\n"
    )
    assert topics == (
        Topic("refund", ("refund", "money back", "chargeback")),
        Topic("delivery", ("late", "courier")),
    )


def test_the_fingerprint_follows_the_keywords_not_their_order_or_the_other_topics():
    a = parse_topics("refund: [refund, money back]\ndelivery: [late]")
    b = parse_topics("delivery: [late, courier]\nrefund: [money back, Refund]")
    assert a[0].fingerprint == b[1].fingerprint
    assert a[1].fingerprint != b[0].fingerprint
    assert MATCHING_VERSION  # part of every fingerprint: new rules re-evaluate every topic


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("- refund\n- delivery\n", "must be a mapping of topic names to lists of keywords"),
        ("just a string\n", "must be a mapping"),
        ("", "the file is empty"),
        ("refund: []\n", "topic 'refund' has an empty keyword list"),
        ("refund:\n", "topic 'refund' must map to a list of keywords"),
        ("refund: money back\n", "topic 'refund' must map to a list of keywords"),
        ("errors: [404, timeout]\n", "keyword 404 is a int, not a string; quote it"),
        ("answers: [yes]\n", "keyword True is a bool, not a string"),
        ("refund: [[nested]]\n", "is a list, not a string"),
        (
            "refund: [refund]\ndelivery: [late]\nrefund: [money back]\n",
            "topic 'refund' is defined twice (lines 1 and 3)",
        ),
        ("{refund: [a], refund: [b]}\n", "topic 'refund' is defined twice"),
        ("Refund: [refund]\n", "topic name 'Refund' must be lower-case letters"),
        ("2fa: [code]\n", "topic name '2fa' must be lower-case"),
        ("refund: ['  ']\n", "topic 'refund': a keyword is empty"),
        ("refund: ['money, back']\n", "contains a comma"),
        ("refund: [refund, REFUND]\n", "keyword 'REFUND' is listed twice"),
        ("refund: [refund\n", "not valid YAML"),
    ],
)
def test_a_bad_topics_file_names_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "my_topics.yml"
    path.write_text(content)
    with pytest.raises(TopicsFileError) as error:
        load_topics(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_a_missing_file_says_how_to_point_at_another(tmp_path):
    with pytest.raises(TopicsFileError, match="topics file not found.*SENTIMENT_TOPICS_PATH"):
        load_topics(tmp_path / "absent.yml")


def test_an_empty_mapping_is_no_topics():
    assert parse_topics("{}\n") == ()


def test_one_keyword_may_serve_several_topics():
    topics = parse_topics("refund: [charge]\nbilling: [charge]")
    assert [t.terms for t in topics] == [("charge",), ("charge",)]


def test_the_shipped_topics_file_is_valid_and_covers_the_issue_examples():
    topics = {t.name: t.terms for t in load_topics(DEFAULT_TOPICS_PATH)}
    assert {"refund", "money back", "chargeback"} <= set(topics["refund"])
    assert {"late", "delivery", "courier", "tracking"} <= set(topics["delivery"])
    assert len(topics) >= 6


def test_the_resource_reads_its_field_then_the_environment_then_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv(TOPICS_PATH_ENV, raising=False)
    assert TopicsResource().topics_path() == DEFAULT_TOPICS_PATH
    custom = tmp_path / "t.yml"
    custom.write_text("refund: [refund]\n")
    monkeypatch.setenv(TOPICS_PATH_ENV, str(custom))
    # Read when used, not when the resource is made.
    assert TopicsResource().topics_path() == custom
    assert TopicsResource().load() == (Topic("refund", ("refund",)),)
    field = tmp_path / "field.yml"
    assert TopicsResource(path=str(field)).topics_path() == field


def test_nothing_is_read_until_the_topics_are_loaded(monkeypatch):
    monkeypatch.setenv(TOPICS_PATH_ENV, "/nonexistent/topics.yml")
    resource = TopicsResource()
    assert resource.topics_path() == Path("/nonexistent/topics.yml")
    with pytest.raises(TopicsFileError, match="/nonexistent/topics.yml: topics file not found"):
        resource.load()
