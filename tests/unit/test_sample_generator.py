"""Unit tests of the sample generator: determinism, shape, realism, laziness and the cases it
plants on purpose (opposite-sentiment e-mail history, personal data, missing language tags,
customers who turn, conversations that drop or recover, anomalous and calm days)."""

from __future__ import annotations

import html
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import islice

import phonenumbers
import pytest
from stdnum import iban, luhn

from orchestration.sample import SampleStats, iter_sample_lines, write_sample
from orchestration.sample import phrases as P
from orchestration.sample.generator import PLANTED_KINDS, PersonalData, planted_cases

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
        assert attributes.get("lang", "en") in LANGS  # often absent, as in real exports
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


def _latest(records: list[dict]) -> dict[str, dict]:
    """The last version of each message, by id (what a reader keeps)."""
    return {r["id"]: r for r in records}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A 10k-line sample written once, with what it planted."""
    path = tmp_path_factory.mktemp("sample") / "nested" / "messages.jsonl"
    planted: dict[str, dict] = {}
    stats = write_sample(path, N, seed=7, planted=planted)
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [r for r in map(_valid, lines) if r is not None]
    return path, stats, lines, records, planted


@pytest.fixture(scope="module")
def sample(generated):
    """The 10k-line sample: its path, stats, raw lines and the well-formed records."""
    return generated[:4]


@pytest.fixture(scope="module")
def planted(generated):
    """What the 10k-line sample planted: kind -> {message id: detail}."""
    return generated[4]


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


def test_some_messages_are_not_english(sample, planted):
    _, _, _, records = sample
    true = planted["language"]
    lang = {r["id"]: r["attributes"].get("lang") or true[r["id"]] for r in records}
    langs = Counter(lang[r["id"]] for r in records)
    share = 1 - langs["en"] / len(records)
    assert 0.01 <= share <= 0.06
    assert len(set(langs) - {"en"}) >= 3
    spanish = [r["attributes"]["preview"] for r in records if lang[r["id"]] == "es"]
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
    allowed = {"example.com", "example.org"}
    assert domains and all(d in allowed or d.endswith(".example") for d in domains)


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


# --- planted cases ---------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
# A quoted earlier message: Gmail / Apple Mail "... wrote:", Outlook's header block, or HTML.
_HAS_HISTORY = re.compile(r" wrote:|^Sent: |divRplyFwdMsg|<blockquote", re.M)


def _true_language(record: dict, planted: dict) -> str:
    return record["attributes"].get("lang") or planted["language"][record["id"]]


def test_planted_cases_are_keyed_by_kind_and_do_not_change_the_lines(sample, planted):
    _, _, lines, records = sample
    assert set(planted) == set(PLANTED_KINDS)
    assert planted == planted_cases(N, seed=7)
    collector: dict = {}
    assert list(iter_sample_lines(N, seed=7, planted=collector)) == lines
    assert collector == planted
    ids = {r["id"] for r in records}
    conversations = {r["relationships"]["conversation"]["data"]["id"] for r in records}
    customers = {r["relationships"]["customer"]["data"]["id"] for r in records}
    # events are never on malformed lines; day kinds are keyed by channel
    keys = {
        "customer_turn": customers,
        "conversation_drop": conversations,
        "conversation_recovery": conversations,
        "anomalous_day": CHANNELS,
        "calm_day": CHANNELS,
    }
    for kind, cases in planted.items():
        assert cases, kind
        if kind in keys:
            assert set(cases) <= keys[kind], kind
        else:  # every case is a message of the sample (a few may be on malformed lines)
            assert len(set(cases) - ids) <= 0.01 * len(cases) + 2, kind


def test_planted_cases_are_deterministic_and_prefix_stable():
    a, b, c = planted_cases(3000, seed=11), planted_cases(3000, seed=11), planted_cases(3000, 12)
    assert a == b and a != c
    shorter = planted_cases(1234, seed=11)
    ids = {json.loads(line)["id"] for line in iter_sample_lines(1234, seed=11) if _valid(line)}
    for kind, cases in shorter.items():
        assert set(cases) <= set(a[kind])
        assert {k: v for k, v in a[kind].items() if k in ids} == {
            k: v for k, v in cases.items() if k in ids
        }
        assert all(a[kind][k] == v for k, v in cases.items()), kind
    # the day kinds come with the calendar; events only once all their lines are written
    assert shorter["anomalous_day"] == a["anomalous_day"] and shorter["calm_day"] == a["calm_day"]
    assert len(shorter["conversation_drop"]) < len(a["conversation_drop"])


def test_language_tag_only_on_some_conversations(sample, planted):
    _, _, _, records = sample
    untagged = planted["language"]
    share = sum("lang" not in r["attributes"] for r in records) / len(records)
    assert 0.6 <= share <= 0.8
    tagged_by_conversation = defaultdict(set)
    for r in records:
        tagged = "lang" in r["attributes"]
        assert tagged == (r["id"] not in untagged)
        tagged_by_conversation[r["relationships"]["conversation"]["data"]["id"]].add(tagged)
    assert all(len(v) == 1 for v in tagged_by_conversation.values())
    assert set(untagged.values()) == LANGS
    # the true language of an untagged message is its customer's, as on tagged ones
    by_customer = defaultdict(set)
    for r in records:
        by_customer[r["relationships"]["customer"]["data"]["id"]].add(_true_language(r, planted))
    assert all(len(v) == 1 for v in by_customer.values())


def test_opposite_history_emails_are_a_quarter_of_english_replies(sample, planted):
    _, _, _, records = sample
    opposite = planted["email_opposite_history"]
    latest = _latest(records)
    for message_id, polarity in opposite.items():
        attributes = latest[message_id]["attributes"]
        assert polarity in (1, -1)
        assert attributes["channel"] == "email" and attributes["direction"] == "in"
        assert _true_language(latest[message_id], planted) == "en"
        assert _HAS_HISTORY.search(attributes["body"])
    eligible = [
        r
        for r in latest.values()
        if r["attributes"]["channel"] == "email"
        and r["attributes"]["direction"] == "in"
        and _true_language(r, planted) == "en"
        and _HAS_HISTORY.search(r["attributes"]["body"])
    ]
    share = sum(r["id"] in opposite for r in eligible) / len(eligible)
    assert 0.18 <= share <= 0.32  # measured 0.24-0.25 on 100k-line samples
    polarities = Counter(opposite.values())
    assert polarities[1] > 0.2 * len(opposite) and polarities[-1] > 0.2 * len(opposite)
    bodies = [latest[i]["attributes"]["body"] for i in opposite]
    assert any('class="gmail_quote"' in b for b in bodies)  # Gmail HTML
    assert any('blockquote type="cite"' in b for b in bodies)  # Apple Mail HTML
    assert any("divRplyFwdMsg" in b for b in bodies)  # Outlook HTML
    assert any(re.search(r"wrote:\n> ", b) for b in bodies)  # Gmail plain text
    assert any(re.search(r", at .* wrote:\n\n> ", b) for b in bodies)  # Apple Mail plain text
    assert any(not b.startswith("<") and "\nSent: " in b for b in bodies)  # Outlook plain text
    cheerful = [signature.split("\n")[-1] for signature in P.POSITIVE_SIGNATURES]
    assert any(line in b for b in bodies for line in cheerful)  # a cheerful signature block


def test_opposite_history_emails_flip_vader_polarity(sample, planted):
    from orchestration.engines.vader import score_texts

    _, _, _, records = sample
    latest = _latest(records)
    cases = planted["email_opposite_history"]
    ids = sorted(cases)
    news = [latest[i]["attributes"]["preview"] for i in ids]
    assert all(len(text) < 200 for text in news)  # the preview holds the whole new text
    raws = [html.unescape(_TAG.sub(" ", latest[i]["attributes"]["body"])) for i in ids]
    new_scores, raw_scores = score_texts(news), score_texts(raws)
    assert all(s.polarity == cases[i] for i, s in zip(ids, new_scores, strict=True))
    flipped = sum(s.polarity == -cases[i] for i, s in zip(ids, raw_scores, strict=True))
    # measured: every one of ~13,000 planted e-mails in seven 100k-line samples flips
    assert flipped >= 0.99 * len(ids)


def _check_personal_data(item: PersonalData) -> None:
    assert isinstance(item, PersonalData) and isinstance(item, str)
    if item.kind == "phone":
        number = phonenumbers.parse(item, item.region)
        assert phonenumbers.is_valid_number(number), item
        assert phonenumbers.region_code_for_number(number) == item.region, item
    elif item.kind == "card":
        digits = re.sub(r"[ -]", "", item)
        assert digits.isdigit() and len(digits) in (15, 16) and luhn.is_valid(digits), item
    elif item.kind == "iban":
        assert iban.is_valid(item) and item.startswith(item.region), item
    elif item.kind == "email":
        assert re.fullmatch(r"[a-z0-9._]+@example\.(com|org)", item), item
    else:
        assert item.kind == "address", item
        assert re.search(r"\d", item) and re.search(r"[A-Za-z]{3}", item), item


def test_personal_data_in_two_percent_of_customer_messages(sample, planted):
    _, _, _, records = sample
    personal = planted["personal_data"]
    latest = _latest(records)
    inbound = [r for r in latest.values() if r["attributes"]["direction"] == "in"]
    share = sum(r["id"] in personal for r in inbound) / len(inbound)
    assert 0.012 <= share <= 0.03
    for message_id, items in personal.items():
        assert 1 <= len(items) <= 2
        if message_id in latest:
            assert latest[message_id]["attributes"]["direction"] == "in"


def test_personal_data_is_valid_and_verbatim():
    planted: dict = {}
    versions = defaultdict(list)
    for line in iter_sample_lines(50_000, seed=5, planted=planted):
        record = _valid(line)
        if record is not None:
            versions[record["id"]].append(record)
    kinds, regions = Counter(), set()
    for message_id, items in planted["personal_data"].items():
        for item in items:
            _check_personal_data(item)
            kinds[item.kind] += 1
            regions.add((item.kind, item.region))
            for record in versions.get(message_id, ()):  # every written version holds it
                assert item in _text(record), (message_id, item)
    assert set(kinds) == {"email", "phone", "card", "iban", "address"}
    assert {("phone", r) for r in ("US", "GB", "FR", "DE")} <= regions
    assert {("address", r) for r in ("US", "GB", "FR", "DE", "ES")} <= regions
    assert {("iban", r) for r in ("GB", "DE", "FR", "ES", "NL")} <= regions
    texts = [str(item) for items in planted["personal_data"].values() for item in items]
    assert any(re.fullmatch(r"\(\d{3}\) 555-01\d\d", t) for t in texts)  # (212) 555-0142
    assert any(re.fullmatch(r"0\d( \d\d){4}", t) for t in texts)  # 01 99 00 12 34
    assert any(re.fullmatch(r"\d{4}( \d{4}){3}", t) for t in texts)  # spaced card
    assert any(re.fullmatch(r"\d{15,16}", t) for t in texts)  # card without spaces
    assert any(re.fullmatch(r"\d+ rue .+", t) for t in texts)
    assert any(re.fullmatch(r"\w+straße \d+", t) for t in texts)
    assert any(re.fullmatch(r"Calle .+ \d+", t) for t in texts)


# --- planted sentiment events ----------------------------------------------------------------
# The integration test test_planted_events.py finds them in a built warehouse; here the sample
# itself is checked: the events are whole English conversations that VADER reads as planted.

EVENTS_N, EVENTS_DAYS, EVENTS_SEED = 30_000, 60, 5
EVENT_KINDS = ("customer_turn", "conversation_drop", "conversation_recovery")
SHIFT_THRESHOLD = 0.5  # the warehouse's default var shift_threshold
NEUTRAL_BAND = 0.05


@pytest.fixture(scope="module")
def events():
    """A 30k-line sample over 60 days: its lines, the well-formed records of each conversation
    (every version, in order), the malformed lines and what it planted."""
    planted: dict = {}
    lines = list(iter_sample_lines(EVENTS_N, EVENTS_SEED, days=EVENTS_DAYS, planted=planted))
    by_conversation: dict[str, list[dict]] = defaultdict(list)
    malformed = []
    for line in lines:
        record = _valid(line)
        if record is None:
            malformed.append(line)
        else:
            by_conversation[record["relationships"]["conversation"]["data"]["id"]].append(record)
    return lines, by_conversation, malformed, planted


def _event_conversations(planted: dict) -> dict[str, str]:
    """Conversation id -> kind, for every conversation that is (part of) a planted event."""
    out = dict.fromkeys(planted["conversation_drop"], "conversation_drop")
    out.update(dict.fromkeys(planted["conversation_recovery"], "conversation_recovery"))
    for turn in planted["customer_turn"].values():
        out[turn["previous_conversation_id"]] = out[turn["conversation_id"]] = "customer_turn"
    return out


def test_planted_events_are_whole_english_conversations(events):
    _, by_conversation, malformed, planted = events
    counts = {kind: len(planted[kind]) for kind in EVENT_KINDS}
    assert min(counts.values()) >= 20, counts
    seeded = set(planted["personal_data"]) | set(planted["email_opposite_history"])
    for conversation_id, kind in _event_conversations(planted).items():
        records = by_conversation[conversation_id]
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)), (conversation_id, "re-sent")
        assert not any(f'"{conversation_id}"' in line for line in malformed), conversation_id
        assert all(_true_language(r, planted) == "en" for r in records), conversation_id
        assert not seeded & set(ids), conversation_id
        directions = [r["attributes"]["direction"] for r in records]
        assert directions[0] == "in", conversation_id
        if kind != "customer_turn":  # all of in, out, in[, out, in]: not cut by the window end
            assert directions in (["in", "out", "in"], ["in", "out"] * 2 + ["in"]), conversation_id
    # a turn is its customer's last two conversations
    started = defaultdict(list)
    for conversation_id, records in by_conversation.items():
        customer = records[0]["relationships"]["customer"]["data"]["id"]
        first = min(r["attributes"]["createdAt"] for r in records)
        started[customer].append((first, conversation_id))
    for customer, turn in planted["customer_turn"].items():
        assert turn["direction"] in ("negative", "positive")
        last_two = [c for _, c in sorted(started[customer])[-2:]]
        assert last_two == [turn["previous_conversation_id"], turn["conversation_id"]], customer


def _weighted(scores: list) -> float:
    return sum(s.score * s.confidence for s in scores) / sum(s.confidence for s in scores)


def _polarity(score: float) -> int:
    return 0 if abs(score) < NEUTRAL_BAND else 1 if score > 0 else -1


def test_planted_events_read_as_planted_with_the_warehouse_definitions(events):
    """The cleaned customer messages, scored by VADER, meet the warehouse's definitions of a
    customer flip, a conversation drop and a recovery across the first agent reply."""
    from orchestration.engines.vader import score_texts
    from orchestration.text.clean import clean_text

    _, by_conversation, _, planted = events
    conversations = sorted(_event_conversations(planted))
    records = [r for c in conversations for r in by_conversation[c]]
    inbound = [r for r in records if r["attributes"]["direction"] == "in"]
    scores = score_texts([clean_text(_text(r), r["attributes"]["channel"]) for r in inbound])
    scored = defaultdict(list)  # conversation id -> [(createdAt, score)] of inbound messages
    for r, score in zip(inbound, scores, strict=True):
        conversation_id = r["relationships"]["conversation"]["data"]["id"]
        scored[conversation_id].append((r["attributes"]["createdAt"], score))
    failed = []
    for conversation_id in planted["conversation_drop"]:
        first, last = scored[conversation_id][0][1], scored[conversation_id][-1][1]
        if last.score - first.score > -SHIFT_THRESHOLD:
            failed.append(("drop", conversation_id, first.score, last.score))
    for conversation_id in planted["conversation_recovery"]:
        replied = min(
            r["attributes"]["createdAt"]
            for r in by_conversation[conversation_id]
            if r["attributes"]["direction"] == "out"
        )
        before = _weighted([s for t, s in scored[conversation_id] if t < replied])
        after = _weighted([s for t, s in scored[conversation_id] if t > replied])
        if after - before < SHIFT_THRESHOLD:
            failed.append(("recovery", conversation_id, before, after))
    for customer, turn in planted["customer_turn"].items():
        polarities = tuple(
            _polarity(_weighted([s for _, s in scored[turn[key]]]))
            for key in ("previous_conversation_id", "conversation_id")
        )
        if polarities != ((1, -1) if turn["direction"] == "negative" else (-1, 1)):
            failed.append(("turn", customer, turn, polarities))
    assert not failed, failed


def test_an_event_is_planted_once_all_its_lines_are_written(events):
    lines, _, _, planted = events

    def last_line(conversation_id: str) -> int:
        return max(i for i, line in enumerate(lines) if f'"{conversation_id}"' in line)

    drops = {last_line(c): c for c in planted["conversation_drop"]}
    turns = {last_line(t["conversation_id"]): c for c, t in planted["customer_turn"].items()}
    for kind, ends in (("conversation_drop", drops), ("customer_turn", turns)):
        end = min(ends)  # the earliest, to generate little
        before = planted_cases(end, EVENTS_SEED, days=EVENTS_DAYS)[kind]
        assert ends[end] not in before and before.items() <= planted[kind].items(), kind
        after = planted_cases(end + 1, EVENTS_SEED, days=EVENTS_DAYS)[kind]
        assert after[ends[end]] == planted[kind][ends[end]], kind


def test_the_anomalous_and_calm_days_of_each_channel(events):
    from datetime import date

    from orchestration.engines.vader import score_texts
    from orchestration.text.clean import clean_text

    _, by_conversation, _, planted = events
    first_day, end_day = (DEFAULT_END - timedelta(days=EVENTS_DAYS)).date(), DEFAULT_END.date()
    anomalous, calm = planted["anomalous_day"], planted["calm_day"]
    assert set(anomalous) == set(calm) == CHANNELS
    assert len(set(anomalous.values())) > 1  # a 60-day window has room for different days
    for channel, text in anomalous.items():
        day = date.fromisoformat(text)
        assert (day - first_day).days >= 35 and day < end_day, channel
        days = calm[channel]
        assert days == sorted(set(days)) and len(days) >= 15, channel
        assert all(first_day <= date.fromisoformat(d) < end_day for d in days), channel
        spill = {(day + timedelta(days=k)).isoformat() for k in range(3)}
        assert not spill & set(days), channel
    # the anomalous day: several times the channel's usual volume, and angry; calm days not
    texts = defaultdict(list)  # (channel, day) -> cleaned English customer messages
    latest = {r["id"]: r for records in by_conversation.values() for r in records}
    for r in latest.values():
        attributes = r["attributes"]
        if attributes["direction"] == "in" and _true_language(r, planted) == "en":
            key = attributes["channel"], attributes["createdAt"][:10]
            texts[key].append(clean_text(_text(r), attributes["channel"]))

    def negative_share(items: list[str]) -> float:
        return sum(s.sentiment == "NEGATIVE" for s in score_texts(items)) / len(items)

    for channel, day in anomalous.items():
        usual = statistics.median(len(v) for (c, _), v in texts.items() if c == channel)
        assert len(texts[channel, day]) >= 2 * usual, channel
        assert negative_share(texts[channel, day]) >= 0.7, channel
        calm_texts = [t for d in calm[channel] for t in texts[channel, d]]
        assert negative_share(calm_texts) <= 0.3, channel


@pytest.mark.parametrize(("seed", "days"), [(7, 90), (EVENTS_SEED, EVENTS_DAYS), (7, 60)])
def test_anomalous_days_follow_a_window_without_incident_and_calm_days_avoid_incidents(seed, days):
    from orchestration.sample.generator import (
        ANOMALY_WINDOW_DAYS,
        SPILL_DAYS,
        _Calendar,
        _Random,
    )

    calendar = _Calendar(_Random(seed), DEFAULT_END, days)  # the stream's first draws
    assert calendar.incidents and set(calendar.anomalous) == CHANNELS
    for day in calendar.anomalous.values():
        assert not any(day - ANOMALY_WINDOW_DAYS <= i <= day for i in calendar.incidents)
    for calm in calendar.calm.values():
        assert not any(0 <= d - i <= SPILL_DAYS for d in calm for i in calendar.incidents)
