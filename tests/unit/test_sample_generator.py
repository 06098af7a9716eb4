"""Unit tests of the sample generator: determinism, shape, realism and laziness."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from orchestration.sample import SampleStats, iter_sample_lines, write_sample

N = 10_000
CHANNELS = {"email", "chat", "sms", "twitter", "facebook", "instagram", "whatsapp"}
LANGS = {"en", "es", "de", "fr", "pt"}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DEFAULT_END = datetime(2026, 1, 31, tzinfo=UTC)


def _parse_time(text: str) -> datetime:
    """Parse an ISO-8601 UTC timestamp with a Z, raising on anything else."""
    if not ISO_Z.match(text):
        raise ValueError(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _valid(line: str) -> dict | None:
    """The parsed message when the line honours the contract, else None."""
    try:
        record = json.loads(line)
        attributes = record["attributes"]
        relationships = record["relationships"]
        assert record["type"] == "message"
        assert re.fullmatch(r"msg_\d{9}", record["id"])
        assert re.fullmatch(r"conv_\d{8}", relationships["conversation"]["data"]["id"])
        assert re.fullmatch(r"cust_\d{7}", relationships["customer"]["data"]["id"])
        assert attributes["channel"] in CHANNELS
        assert attributes["direction"] in ("in", "out")
        assert attributes["lang"] in LANGS
        assert isinstance(attributes["preview"], str) and attributes["preview"]
        assert ("body" in attributes) == (attributes["channel"] == "email")
        assert ("meta" in attributes) == (attributes["channel"] == "email")
        created = _parse_time(attributes["createdAt"])
        assert _parse_time(attributes["updatedAt"]) >= created
    except (ValueError, KeyError, TypeError, AssertionError):
        return None
    return record


def _text(record: dict) -> str:
    """The text a reader takes: the body when present, else the preview."""
    attributes = record["attributes"]
    return attributes.get("body") or attributes["preview"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A 10k-line sample: its path, stats, raw lines and the well-formed records."""
    path = tmp_path_factory.mktemp("sample") / "nested" / "messages.jsonl"
    stats = write_sample(path, N, seed=7)
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [r for r in map(_valid, lines) if r is not None]
    return path, stats, lines, records


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path):
    write_sample(tmp_path / "a.jsonl", 3000, seed=11)
    write_sample(tmp_path / "b.jsonl", 3000, seed=11)
    write_sample(tmp_path / "c.jsonl", 3000, seed=12)
    a = (tmp_path / "a.jsonl").read_bytes()
    assert a == (tmp_path / "b.jsonl").read_bytes()
    assert a != (tmp_path / "c.jsonl").read_bytes()


def test_iter_matches_file_and_prefixes_are_stable(sample):
    path, _, lines, _ = sample
    assert list(iter_sample_lines(N, seed=7)) == lines
    assert list(iter_sample_lines(1234, seed=7)) == lines[:1234]
    assert path.read_bytes().endswith(b"}\n") or path.read_bytes().endswith(b"\n")


@pytest.mark.parametrize("n", [0, 1, 2, 999, 1001, 5000])
def test_exact_line_count(tmp_path, n):
    path = tmp_path / "deep" / "dir" / "s.jsonl"
    stats = write_sample(path, n, seed=3)
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") == n
    assert stats.messages + stats.malformed == n
    assert len(list(iter_sample_lines(n, seed=3))) == n


def test_stats_match_the_file(sample):
    _, stats, lines, records = sample
    assert isinstance(stats, SampleStats)
    assert len(lines) == N
    assert stats.malformed > 0
    assert len(lines) - len(records) == stats.malformed
    assert stats.messages == len(records)
    assert 0.0005 <= stats.malformed / N <= 0.002
    conversations = {r["relationships"]["conversation"]["data"]["id"] for r in records}
    customers = {r["relationships"]["customer"]["data"]["id"] for r in records}
    # a conversation or customer seen only on a malformed line is counted but not parsed here
    assert 0 <= stats.conversations - len(conversations) <= stats.malformed
    assert 0 <= stats.customers - len(customers) <= stats.malformed
    assert stats.customers < stats.conversations < stats.messages


def test_malformed_lines_are_of_several_kinds(sample):
    _, _, lines, _ = sample
    bad = [line for line in lines if _valid(line) is None]
    kinds = set()
    for line in bad:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            kinds.add("truncated")
            continue
        if "conversation" not in record["relationships"]:
            kinds.add("no_conversation")
        elif record["attributes"]["direction"] not in ("in", "out"):
            kinds.add("direction")
        else:
            kinds.add("timestamp")
    assert len(kinds) >= 3


def test_channels_directions_and_conversations(sample):
    _, _, _, records = sample
    channels = Counter(r["attributes"]["channel"] for r in records)
    assert set(channels) == CHANNELS
    assert 0.15 <= channels["email"] / len(records) <= 0.35
    directions = Counter(r["attributes"]["direction"] for r in records)
    assert directions["in"] > 0.3 * len(records) and directions["out"] > 0.3 * len(records)

    by_conversation = defaultdict(list)
    for r in records:
        by_conversation[r["relationships"]["conversation"]["data"]["id"]].append(r)
    sizes = [len({r["id"] for r in msgs}) for msgs in by_conversation.values()]
    assert max(sizes) >= 8 and sum(s > 3 for s in sizes) > 0.2 * len(sizes)
    for msgs in by_conversation.values():
        assert len({r["attributes"]["channel"] for r in msgs}) == 1
        assert len({r["relationships"]["customer"]["data"]["id"] for r in msgs}) == 1
        first_versions = {}
        for r in msgs:
            first_versions.setdefault(r["id"], r["attributes"]["createdAt"])
        created = list(first_versions.values())
        assert created == sorted(created)


def test_customers_have_several_conversations(sample):
    _, _, _, records = sample
    per_customer = defaultdict(set)
    for r in records:
        relationships = r["relationships"]
        per_customer[relationships["customer"]["data"]["id"]].add(
            relationships["conversation"]["data"]["id"]
        )
    counts = Counter(len(c) for c in per_customer.values())
    assert counts[1] > 0 and sum(v for k, v in counts.items() if k >= 3) > 0


def test_timestamps_stay_in_the_window_and_vary_by_day(sample):
    _, _, _, records = sample
    start = DEFAULT_END - timedelta(days=90)
    days = Counter()
    for r in records:
        created = _parse_time(r["attributes"]["createdAt"])
        assert start <= created <= _parse_time(r["attributes"]["updatedAt"]) <= DEFAULT_END
        days[created.date()] += 1
    assert len(days) >= 85
    assert max(days.values()) > 1.5 * statistics.median(days.values())


def test_custom_window(tmp_path):
    end = datetime(2025, 6, 30, 12, tzinfo=UTC)
    write_sample(tmp_path / "s.jsonl", 2000, seed=5, end=end, days=10)
    for line in (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines():
        record = _valid(line)
        if record is not None:
            created = _parse_time(record["attributes"]["createdAt"])
            assert end - timedelta(days=10) <= created <= end


def test_text_lengths_look_like_a_support_inbox(sample):
    _, _, _, records = sample
    emails = [len(_text(r)) for r in records if r["attributes"]["channel"] == "email"]
    short = [len(_text(r)) for r in records if r["attributes"]["channel"] != "email"]
    assert 400 <= statistics.median(emails) <= 900
    assert 40 <= statistics.median(short) <= 120
    for r in records:
        if r["attributes"]["channel"] == "twitter":
            assert len(r["attributes"]["preview"]) <= 280


def test_emails_have_html_signatures_and_quoted_history(sample):
    _, _, _, records = sample
    bodies = [r["attributes"]["body"] for r in records if r["attributes"]["channel"] == "email"]
    assert sum(b.startswith("<html><body><p>") for b in bodies) > 0.6 * len(bodies)
    assert any(" wrote:" in b and "<blockquote" in b for b in bodies)
    assert any("\n> " in b for b in bodies)
    assert any("Sent: " in b and "Subject:" in b for b in bodies)
    assert any("Sent from my iPhone" in b for b in bodies)
    for r in records:
        attributes = r["attributes"]
        if attributes["channel"] == "email":
            assert len(attributes["preview"]) <= 200 and "<" not in attributes["preview"][:1]
            assert attributes["meta"]["subject"]


def test_customer_texts_are_varied_and_emotional(sample):
    _, _, _, records = sample
    inbound = [r["attributes"]["preview"] for r in records if r["attributes"]["direction"] == "in"]
    joined = "\n".join(inbound)
    for marker in ("!!!", "?", "😡", "🙏", "👍", "never", "not ", "isn't", "very"):
        assert marker in joined, marker
    assert re.search(r"\b[A-Z]{4,}\b", joined)  # shouting
    assert re.search(r"#?\d{5,6}", joined)  # order numbers
    common = Counter(inbound).most_common(40)
    assert any(text in {"ok", "thanks", "thank you!", "great, thanks"} for text, _ in common)


def test_agent_texts_repeat_templates(sample):
    _, _, _, records = sample
    agent = [r["attributes"]["preview"] for r in records if r["attributes"]["direction"] == "out"]
    customer = [r["attributes"]["preview"] for r in records if r["attributes"]["direction"] == "in"]
    assert len(set(agent)) / len(agent) < 0.5
    assert len(set(agent)) / len(agent) < len(set(customer)) / len(customer)
    chat = [
        _text(r)
        for r in records
        if r["attributes"]["direction"] == "out" and r["attributes"]["channel"] != "email"
    ]
    assert len(set(chat)) / len(chat) < 0.3
    assert Counter(chat).most_common(1)[0][1] > 0.02 * len(chat)


def test_some_messages_are_not_english(sample):
    _, _, _, records = sample
    langs = Counter(r["attributes"]["lang"] for r in records)
    share = 1 - langs["en"] / len(records)
    assert 0.01 <= share <= 0.06
    assert len(set(langs) - {"en"}) >= 3
    spanish = [r["attributes"]["preview"] for r in records if r["attributes"]["lang"] == "es"]
    assert any(re.search(r"\b(pedido|gracias|hola)\b", t, re.I) for t in spanish)


def test_edits_and_newer_versions(sample):
    _, _, _, records = sample
    versions = defaultdict(list)
    for r in records:
        versions[r["id"]].append(r)
    repeated = {k: v for k, v in versions.items() if len(v) > 1}
    assert 0.001 <= len(repeated) / len(versions) <= 0.02
    for msgs in repeated.values():
        updated = [m["attributes"]["updatedAt"] for m in msgs]
        assert updated == sorted(updated) and len(set(updated)) == len(updated)
        assert _text(msgs[-1]) != _text(msgs[0])
        assert len({m["attributes"]["createdAt"] for m in msgs}) == 1
    edited = [
        r
        for k, v in versions.items()
        if len(v) == 1
        for r in v
        if r["attributes"]["updatedAt"] > r["attributes"]["createdAt"]
    ]
    assert 0.002 <= len(edited) / len(versions) <= 0.03


def test_no_real_email_addresses(sample):
    _, _, _, records = sample
    texts = "\n".join(_text(r) for r in records)  # e-mail previews are cut at 200 characters
    domains = set(re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", texts))
    domains = {d.lower() for d in domains}
    assert domains and all(d == "example.com" or d.endswith(".example") for d in domains)


def test_iter_is_lazy():
    started = time.perf_counter()
    first = list(islice(iter_sample_lines(10**7, seed=7), 10))
    assert time.perf_counter() - started < 2.0
    assert len(first) == 10 and all(line.startswith("{") for line in first)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        list(iter_sample_lines(-1))
    with pytest.raises(ValueError):
        write_sample(tmp_path / "s.jsonl", 10, days=0)
    with pytest.raises(TypeError):
        write_sample(tmp_path / "s.jsonl", 10, colour="blue")
