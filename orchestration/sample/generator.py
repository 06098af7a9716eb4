"""Deterministic sample data: Kustomer JSON:API message objects, one JSON object per line.

The sample is the product's demo and benchmark input, so it is built to look like a support
inbox rather than random text: customers with one or more conversations over a time window,
each on one channel, customer and agent taking turns, moods that change within a conversation
(angry, then calmer once the agent helps; neutral, then frustrated when the fix fails), daily
sentiment that is not flat (a few "incident" days), HTML e-mails with signatures and quoted
history, short repeated acknowledgements, templated agent replies, a few percent of messages in
Spanish, German, French and Portuguese, edits, re-sent versions of a message, and about 0.1%
malformed lines that a reader must quarantine. Only some conversations carry ``attributes.lang``
(real exports often lack it), so the reader has to detect the language of the others.

It also plants cases that tests count (see :func:`planted_cases`): e-mails whose quoted history
or signature carries the opposite sentiment of the new text, customer messages with fictional
personal data (e-mail addresses, phone numbers, card numbers, IBANs, addresses), customers
whose last two conversations have opposite moods, conversations that turn sour or recover
once an agent replies, one day per channel whose negative share is far above normal (an
outage: every conversation of that channel angry, and more of them), and the days kept calm.

Everything is drawn from one ``random.Random(seed)`` and generated conversation by conversation,
so the output is identical for a seed, any prefix of a long sample equals the shorter sample,
and millions of lines stream out without being held in memory.
"""

from __future__ import annotations

import json
import os
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from itertools import accumulate, islice
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from orchestration.sample import phrases as P

__all__ = [
    "PLANTED_KINDS",
    "PersonalData",
    "SampleStats",
    "iter_sample_lines",
    "planted_cases",
    "write_sample",
]

DEFAULT_END = datetime(2026, 1, 31, tzinfo=UTC)

# Channel mix per conversation; e-mail threads are shorter, so a third of conversations give
# about a quarter of the messages.
CHANNELS = ("email", "chat", "sms", "whatsapp", "facebook", "instagram", "twitter")
CHANNEL_WEIGHTS = (38, 25, 8, 9, 7, 5, 8)
CHATTY = frozenset({"chat", "whatsapp", "facebook", "instagram"})
# Seconds between two messages of a conversation: (shortest, longest) per channel.
REPLY_GAPS = {
    "email": (900, 20 * 3600),
    "chat": (15, 600),
    "sms": (30, 3600),
    "whatsapp": (30, 3600),
    "facebook": (120, 4 * 3600),
    "instagram": (120, 4 * 3600),
    "twitter": (120, 4 * 3600),
}
# Messages per conversation (index 0 = 1 message).
LENGTH_WEIGHTS = {
    "email": (18, 24, 20, 14, 10, 6, 4, 2, 1, 1),
    "chat": (5, 9, 11, 12, 12, 11, 10, 9, 7, 6, 5, 3),
    "short": (9, 14, 15, 14, 12, 10, 8, 6, 5, 3, 2, 2),
}
CONVERSATIONS_PER_CUSTOMER = (50, 25, 12, 7, 4, 2)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 10, 10, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2)
# Mood arcs of a conversation; the negative ones grow on bad days.
ARCS = ("happy", "neutral", "mixed", "recovered", "soured", "angry")
ARC_WEIGHTS = (14, 22, 10, 28, 14, 12)
NEGATIVE_ARCS = frozenset({"recovered", "soured", "angry"})
EMOJI_RATE = {"email": 0.04, "sms": 0.12}
NON_ENGLISH_RATE = 0.03
EDIT_RATE = 0.01
DUPLICATE_RATE = 0.005
MALFORMED_EVERY = 1000  # one malformed line at a random position in every block of 1000
BAD_TIMESTAMPS = ("2026-13-45T99:00:00Z", "yesterday", "31/01/2026 10:00", "")
EDIT_SUFFIXES = (" (edited)", " Thanks.", " 🙏", " Please reply ASAP.", " Sorry for the typo.")
QUOTE_LINE_LIMIT = 12
# Share of conversations whose messages carry attributes.lang; the rest leave it out.
LANG_TAG_RATE = 0.3
# Share of customer messages that carry fictional personal data (one item, sometimes two).
PERSONAL_DATA_RATE = 0.02
# Share of English inbound e-mails with quoted history, of a clearly positive or negative
# customer, whose quoted history or signature is planted with the opposite sentiment (about a
# third of such e-mails are neutral or mixed, so this plants about a quarter of them all).
OPPOSITE_HISTORY_RATE = 0.31
POLAR_MOODS = frozenset({"positive", "angry", "frustrated"})
OPPOSITE_HISTORY = "email_opposite_history"
# Planted sentiment events. Each is planted on English customers (VADER reads English) in
# conversations that are kept intact: no malformed line, no re-sent edit, no opposite history
# or personal data, not cut by the window end; every angry or positive customer message of
# one carries a clearly polar sentence (P.PLANTED_ANGRY / P.PLANTED_POSITIVE).
# Share of English customers with two or more conversations whose last two are planted with
# opposite moods (happy then angry, or angry then happy).
TURN_RATE = 0.03
# Shares of English conversations planted to drop (a happy first message, an angry last one,
# the agent replying between) and to recover (angry before the first agent reply, happy after).
DROP_RATE = 0.01
RECOVERY_RATE = 0.01
# The day-to-day negativity factor is lognormal, bounded so that no ordinary day is an outlier;
# about half the days are kept at exactly the normal level ("calm", not Monday's backlog either).
BAD_DAY_BOUNDS = (0.7, 1.45)
CALM_SHARE = 0.5
# Days after an incident or an anomalous day that its late conversations still reach.
SPILL_DAYS = 2
# The anomalous day of a channel comes at least this many days into the window, with no
# incident in the trailing window before it (the warehouse's band: 28 days, 7 of them judged).
ANOMALY_LEAD_DAYS = 35
ANOMALY_WINDOW_DAYS = 28
# Extra conversations of the channel starting on its anomalous day, as a multiple of the
# channel's normal number that day (all of them angry, as are the normal ones that day).
BURST_FACTOR = 1.5
GOLDEN_STEP = 0.6180339887498949  # the low-discrepancy step of calm days' mood arcs

# What a sample plants on purpose, by kind: ``planted_cases`` maps each kind to
# ``{key: detail}``. Message-level kinds are keyed by message id, "customer_turn" by customer
# id, the conversation kinds by conversation id and the day kinds by channel.
PLANTED_KINDS = {
    "email_opposite_history": (
        "message id -> polarity of the new text (+1 or -1) of an English inbound e-mail whose "
        "quoted history (or, for -1, possibly the signature) carries the opposite polarity"
    ),
    "personal_data": (
        "message id -> list of PersonalData strings (exact text, with .kind and .region) "
        "seeded into that customer message; later e-mails of the thread may quote them"
    ),
    "language": "message id -> true language of a message written without attributes.lang",
    "customer_turn": (
        "customer id -> {'direction': 'negative' | 'positive', 'previous_conversation_id', "
        "'conversation_id'}: an English customer whose last two conversations have opposite "
        "moods (happy then angry: negative; angry then happy: positive)"
    ),
    "conversation_drop": (
        "conversation id -> -1: the customer's first message is happy and the last angry, with "
        "agent replies between (messages in, out, in[, out, in])"
    ),
    "conversation_recovery": (
        "conversation id -> +1: the customer is angry before the first agent reply and happy "
        "in every message after it (messages in, out, in[, out, in])"
    ),
    "anomalous_day": (
        "channel -> 'YYYY-MM-DD': the channel's outage day: every conversation of the channel "
        "starting that day is angry and BURST_FACTOR times more start than usual; it comes at "
        "least ANOMALY_LEAD_DAYS into the window, after ANOMALY_WINDOW_DAYS without incident "
        "where the window allows (planted with the calendar, whatever the sample's size)"
    ),
    "calm_day": (
        "channel -> sorted list of 'YYYY-MM-DD': days kept at the normal negativity and mood "
        "mix, none an incident day, the channel's anomalous day or within SPILL_DAYS after "
        "either (planted with the calendar, whatever the sample's size)"
    ),
}
PlantedCases = MutableMapping[str, dict[str, Any]]


class PersonalData(str):
    """A piece of fictional personal data as written in a message.

    It is the exact string (compare, hash and search it as a ``str``) and tells its ``kind``
    ("email", "phone", "card", "iban" or "address") and ``region`` (ISO country code of a
    phone number, IBAN or address; empty for e-mail addresses and cards).
    """

    kind: str
    region: str

    def __new__(cls, text: str, kind: str = "", region: str = "") -> PersonalData:
        self = super().__new__(cls, text)
        self.kind, self.region = kind, region
        return self


@dataclass
class SampleStats:
    """Counts of what a sample holds; ``messages + malformed`` is the number of lines."""

    messages: int = 0  # well-formed message lines written (duplicated ids count as lines)
    malformed: int = 0  # malformed lines written
    conversations: int = 0
    customers: int = 0


# --- phrase banks per language ----------------------------------------------------------


@dataclass
class _Bank:
    """The phrases of one language, in one shape whatever the language."""

    lang: str
    topics: tuple[str, ...]
    openers_negative: dict[str, tuple[str, ...]]
    openers_neutral: dict[str, tuple[str, ...]]
    openers_positive: tuple[str, ...]
    emotions: dict[str, tuple[str, ...]]
    followups: dict[str, tuple[str, ...]]
    acks: tuple[str, ...]
    agent: dict[str, tuple[str, ...]]
    resolutions: dict[str, tuple[str, ...]]
    subjects: dict[str, tuple[str, ...]]
    greetings: tuple[str, ...]
    signoffs: tuple[str, ...]
    signatures: tuple[str, ...]
    agent_signature: str
    quote_header: str | None  # None: English Gmail / Outlook headers
    months: tuple[str, ...]
    details: dict[str, tuple[str, ...]] = field(default_factory=dict)
    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    email_extra: tuple[str, ...] = ()
    agent_greeting: str = "Hi {first},"
    mixed_joins: tuple[str, ...] = P.MIXED_JOINS
    greetings_in_text: tuple[str, ...] = ("Hi", "Hello")  # openers that already greet


def _english_bank() -> _Bank:
    """The full English bank, with topic-specific details, questions and resolutions."""
    return _Bank(
        lang="en",
        topics=P.TOPICS,
        openers_negative=P.OPENERS_NEGATIVE,
        openers_neutral=P.OPENERS_NEUTRAL,
        openers_positive=P.OPENERS_POSITIVE,
        emotions=P.EMOTIONS,
        followups=P.FOLLOWUPS,
        acks=P.ACKS,
        agent=P.AGENT,
        resolutions=P.RESOLUTIONS,
        subjects=P.SUBJECTS,
        greetings=P.EMAIL_GREETINGS,
        signoffs=P.EMAIL_SIGNOFFS,
        signatures=P.SIGNATURES,
        agent_signature=P.AGENT_SIGNATURE,
        quote_header=None,
        months=tuple(m[:3] for m in P.MONTHS_EN),
        details=P.DETAILS,
        questions=P.QUESTIONS,
        email_extra=P.EMAIL_EXTRA,
    )


def _foreign_bank(lang: str) -> _Bank:
    """A smaller bank for a non-English language; agent kinds it lacks fall back to greeting."""
    src = P.LANGUAGES[lang]
    topics = tuple(src["openers_negative"])
    agent = {kind: src["agent"].get(kind, src["agent"]["greeting"]) for kind in P.AGENT}
    agent["troubleshoot"] = agent["update"] = src["agent"]["ask_info"]
    agent["bot"] = agent["dm"] = agent["proactive"] = src["agent"]["greeting"]
    first_name = "{first}\n" + src["device"]
    return _Bank(
        lang=lang,
        topics=topics,
        openers_negative=src["openers_negative"],
        openers_neutral=src["openers_neutral"],
        openers_positive=src["positive"],
        emotions=src["emotions"],
        followups=src["followups"],
        acks=src["acks"],
        agent=agent,
        resolutions=dict.fromkeys(topics, src["agent"]["resolution"]),
        subjects=dict.fromkeys(topics, src["subjects"]),
        greetings=src["greeting"],
        signoffs=src["signoff"],
        signatures=(src["device"], first_name, "{first} {last}"),
        agent_signature=src["agent_signature"],
        quote_header=src["quote"],
        months=src["months"],
        agent_greeting=src["greeting"][0][:-1] + " {first},",
        greetings_in_text=tuple(g[:-1] for g in src["greeting"]) + ("¡Hola", "Bonjour !"),
        mixed_joins=src["but"],
    )


BANKS = {"en": _english_bank(), **{lang: _foreign_bank(lang) for lang in P.LANGUAGES}}
ENGLISH = BANKS["en"]


# --- time ---------------------------------------------------------------------------------


class _Calendar:
    """Seconds since the first calendar day of the window, their ISO text, and day weights.

    Each day gets a volume weight (weekends quieter) and a negativity factor; a few incident
    days get more messages, more negative moods and one dominant topic. About half the days
    are calm (the normal negativity), and each channel gets an anomalous day (``anomalous``:
    channel -> day index), on which the stream makes that channel's conversations angry and
    more numerous.
    """

    def __init__(self, rng: random.Random, end: datetime, days: int) -> None:
        end = end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
        start = end - timedelta(days=days)
        first = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.lo = int((start - first).total_seconds())
        self.hi = int((end - first).total_seconds())
        n_days = self.hi // 86400 + 1
        self.dates = [first + timedelta(days=d) for d in range(n_days)]
        # days a conversation may start on: those overlapping [lo, hi)
        self.start_days = range(self.lo // 86400, max(self.lo, self.hi - 1) // 86400 + 1)
        self.day_text = [d.strftime("%Y-%m-%d") for d in self.dates]
        self.incidents: dict[int, str] = {}
        for _ in range(max(1, days // 25)):
            day, topic = rng.choice(self.start_days), rng.choice(P.INCIDENT_TOPICS)
            for d in range(day, min(n_days, day + rng.randint(1, 2))):
                self.incidents[d] = topic
        self.volume, self.arc_cum, calm = [], [], []
        low, high = BAD_DAY_BOUNDS
        for d, date in enumerate(self.dates):
            incident = d in self.incidents
            weight = (0.65 if date.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15)
            self.volume.append(weight * (2.5 if incident else 1.0) if d in self.start_days else 0.0)
            bad = min(max(rng.lognormvariate(0.0, 0.35), low), high)
            if rng.random() < CALM_SHARE and not incident:
                bad = 1.0
                calm.append(d)
            elif date.weekday() == 0:
                bad *= 1.25
            bad *= 4.0 if incident else 1.0
            arc_weights = [
                w * bad if arc in NEGATIVE_ARCS else w
                for arc, w in zip(ARCS, ARC_WEIGHTS, strict=True)
            ]
            self.arc_cum.append(list(accumulate(arc_weights)))
        self.day_cum = list(accumulate(self.volume[d] for d in self.start_days))
        self.hour_cum = list(accumulate(HOUR_WEIGHTS))
        self.anomalous = self._anomalous_days(rng)
        self.calm_days = frozenset(calm)  # kept at the normal negativity and mood mix
        # calm for a channel: a calm day out of reach of an incident and of its anomalous day
        spilled = {d + k for d in self.incidents for k in range(SPILL_DAYS + 1)}
        self.calm = {
            channel: [
                d
                for d in calm
                if d in self.start_days
                and d not in spilled
                and not 0 <= d - self.anomalous.get(channel, -99) <= SPILL_DAYS
            ]
            for channel in CHANNELS
        }

    def _anomalous_days(self, rng: random.Random) -> dict[str, int]:
        """One day per channel (different days where there are enough): a full day at least
        ANOMALY_LEAD_DAYS into the window, not an incident, with as few incident days as
        possible (none where the window allows) in the ANOMALY_WINDOW_DAYS before it."""
        first, last = self.start_days[0], self.start_days[-1]
        candidates = [d for d in range(first + ANOMALY_LEAD_DAYS, last) if d not in self.incidents]
        if not candidates:
            return {}

        def incidents_before(d: int) -> int:
            return sum(d - ANOMALY_WINDOW_DAYS <= i < d for i in self.incidents)

        fewest = min(map(incidents_before, candidates))
        pool = [d for d in candidates if incidents_before(d) == fewest]
        if len(pool) >= len(CHANNELS):
            days = rng.sample(pool, len(CHANNELS))
        else:
            days = [rng.choice(pool) for _ in CHANNELS]
        return dict(zip(CHANNELS, days, strict=True))

    def day_start(self, day: int, rng: random.Random) -> int:
        """A conversation start on a given day, at a weighted hour, clamped to the window."""
        hour = rng.choices(range(24), cum_weights=self.hour_cum)[0]
        t = day * 86400 + hour * 3600 + rng.randrange(3600)
        return min(max(t, self.lo), self.hi)

    def start_time(self, rng: random.Random) -> int:
        """A conversation start: a weighted day, a weighted hour, clamped to the window."""
        day = rng.choices(self.start_days, cum_weights=self.day_cum)[0]
        hour = rng.choices(range(24), cum_weights=self.hour_cum)[0]
        t = day * 86400 + hour * 3600 + rng.randrange(3600)
        return min(max(t, self.lo), self.hi)

    def iso(self, t: int) -> str:
        """ISO-8601 UTC text of second ``t`` with milliseconds and a Z, as Kustomer writes."""
        day, sec = divmod(t, 86400)
        hour, sec = divmod(sec, 3600)
        minute, sec = divmod(sec, 60)
        return f"{self.day_text[day]}T{hour:02d}:{minute:02d}:{sec:02d}.000Z"

    def parts(self, t: int) -> tuple[datetime, int, int]:
        """The date, hour and minute of second ``t``, for e-mail quote headers."""
        day, sec = divmod(t, 86400)
        return self.dates[day], sec // 3600, sec % 3600 // 60


# --- the people and their conversations ---------------------------------------------------


@dataclass
class _Customer:
    """A customer: id, name, fictional e-mail, language and preferred channel."""

    id: str
    first: str
    last: str
    email: str
    bank: _Bank
    channel: str
    new: bool = True  # no line of theirs written yet
    turn_before: str | None = None  # the planted first conversation of a turn, once written
    intact: bool = False  # a turn's customer: no line of theirs is malformed or re-sent


@dataclass
class _Conversation:
    """One conversation's fixed facts and the placeholder values its texts share."""

    id: str
    customer: _Customer
    channel: str
    topic: str
    arc: str
    start: int
    subject: str | None
    ctx: dict[str, str]
    relationships: dict
    relationships_json: str
    lang_json: str = ""  # ',"lang":"xx"' when the conversation's messages carry a lang tag
    new: bool = True
    last_email: tuple[str, str, int] | None = None  # (sender, plain text, time) to quote
    # a planted event ("turn", "drop" or "recovery")
    plant: str | None = None
    # no line malformed (the next line breaks instead) nor re-sent: a planted event's, and
    # every conversation of a turn's customer (a malformed first line would move the start of
    # an earlier conversation after the turn's)
    intact: bool = False
    # a clearly polar sentence in each angry or positive customer message (planted events and
    # the anomalous day)
    loud: bool = False
    # (kind, key, detail) registered with the conversation's last line
    event: tuple[str, str, Any] | None = None


@dataclass(slots=True)
class _Message:
    """One version of a message; ``to_json`` writes it as a Kustomer resource object."""

    id: str
    conversation: _Conversation
    direction: str
    preview: str
    body: str | None
    subject: str | None
    created: str
    updated: str
    t_updated: int  # seconds, to make a later version
    planted: tuple[tuple[str, Any], ...] | None = None  # (kind, detail) planted in it
    event: tuple[str, str, Any] | None = None  # (kind, key, detail) completed by this line

    def to_dict(self) -> dict:
        """The resource object as plain data."""
        conv = self.conversation
        attributes = {"channel": conv.channel, "direction": self.direction, "preview": self.preview}
        if self.body is not None:
            attributes["body"] = self.body
        if conv.lang_json:
            attributes["lang"] = conv.customer.bank.lang
        attributes.update(createdAt=self.created, updatedAt=self.updated)
        if self.subject is not None:
            attributes["meta"] = {"subject": self.subject}
        return {
            "type": "message",
            "id": self.id,
            "attributes": attributes,
            "relationships": conv.relationships,
        }

    def to_json(self) -> str:
        """Compact JSON of ``to_dict()``, written directly because it is the hot path."""
        conv = self.conversation
        body = "" if self.body is None else ',"body":' + encode_basestring(self.body)
        meta = (
            ""
            if self.subject is None
            else (',"meta":{"subject":' + encode_basestring(self.subject) + "}")
        )
        return (
            f'{{"type":"message","id":"{self.id}","attributes":{{"channel":"{conv.channel}",'
            f'"direction":"{self.direction}","preview":{encode_basestring(self.preview)}{body}'
            f'{conv.lang_json},"createdAt":"{self.created}",'
            f'"updatedAt":"{self.updated}"{meta}}},"relationships":{conv.relationships_json}}}'
        )


class _Random(random.Random):
    """``random.Random`` with a faster ``choice`` and ``randrange`` (hence ``randint``).

    Each takes one ``random()`` call; the ranges here are small, so the bias is nil.
    """

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None):
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))


def _moods(arc: str, k: int, rng: random.Random) -> list[str]:
    """The customer's mood in each of their ``k`` messages for a conversation arc."""
    if arc == "happy":
        return ["positive"] * k
    if arc == "angry":
        return ["angry"] * k
    if k == 1:
        return [{"neutral": "neutral", "mixed": "mixed", "soured": "frustrated"}.get(arc, "angry")]
    if arc == "neutral":
        return ["neutral"] * (k - 1) + ["positive"]
    if arc == "mixed":
        return ["mixed"] + ["neutral"] * (k - 2) + ["positive"]
    if arc == "soured":
        return ["neutral"] + ["frustrated"] * (k - 2) + ["angry"]
    first = "angry" if rng.random() < 0.6 else "frustrated"  # recovered
    middle = [rng.choice(("frustrated", "neutral", "neutral")) for _ in range(k - 2)]
    return [first, *middle, "positive"]


def _longest_span(channel: str) -> int:
    """Seconds from the first to the last message of the longest conversation of a channel."""
    return (len(LENGTH_WEIGHTS[_length_kind(channel)]) - 1) * REPLY_GAPS[channel][1]


def _length_kind(channel: str) -> str:
    """The LENGTH_WEIGHTS of a channel."""
    return "email" if channel == "email" else "chat" if channel in CHATTY else "short"


def _planted_moods(event: str, k: int) -> list[str]:
    """The customer's moods in the ``k`` messages of a planted drop or recovery: a drop goes
    from happy to angry (frustrated between), a recovery from angry to happy once the agent
    has replied (after the first message)."""
    if event == "drop":
        return ["positive"] + ["frustrated"] * (k - 2) + ["angry"]
    return ["angry"] + ["positive"] * (k - 1)


def _directions(length: int, rng: random.Random) -> list[str]:
    """Who writes each message: mostly alternating, customers sometimes double-text."""
    out = ["in" if rng.random() < 0.94 else "out"]
    for _ in range(length - 1):
        same = rng.random() < 0.2
        out.append(out[-1] if same else ("out" if out[-1] == "in" else "in"))
    return out


class _SampleStream:
    """Generates the sample line by line and counts what it wrote in ``stats``."""

    def __init__(
        self, seed: int, end: datetime, days: int, planted: PlantedCases | None = None
    ) -> None:
        if days < 1:
            raise ValueError("days must be at least 1")
        self.planted = planted
        self.rng = _Random(seed)
        self.cal = cal = _Calendar(self.rng, end, days)
        if planted is not None:
            for kind in PLANTED_KINDS:
                planted.setdefault(kind, {})
            for channel, day in cal.anomalous.items():
                planted["anomalous_day"][channel] = cal.day_text[day]
            for channel, calm in cal.calm.items():
                planted["calm_day"][channel] = [cal.day_text[d] for d in calm]
        # Burst customers: per regular customer, the chance of one more with a conversation of
        # a channel on its anomalous day, BURST_FACTOR times the channel's normal number.
        per_customer = sum(k * w for k, w in enumerate(CONVERSATIONS_PER_CUSTOMER, 1)) / sum(
            CONVERSATIONS_PER_CUSTOMER
        )
        share = dict(zip(CHANNELS, CHANNEL_WEIGHTS, strict=True))
        rates = {
            channel: BURST_FACTOR
            * per_customer
            * share[channel]
            / sum(CHANNEL_WEIGHTS)
            * cal.volume[day]
            / cal.day_cum[-1]
            for channel, day in cal.anomalous.items()
        }
        self.burst_rate = sum(rates.values())
        self.burst_channels = tuple(rates)
        self.burst_cum = list(accumulate(rates.values()))
        # Latest starts of planted conversations that the window's end cannot cut: a turn's
        # conversations have any length on any channel, a drop or recovery five messages.
        self.turn_deadline = cal.hi - max(map(_longest_span, CHANNELS))
        self.plant_deadline = {channel: cal.hi - 4 * REPLY_GAPS[channel][1] for channel in CHANNELS}
        self.stats = SampleStats()
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.counters = {"msg": 0, "conv": 0, "cust": 0}
        self.arc_steps: dict[tuple[int, str], float] = {}  # calm (day, channel) -> last step
        self.recent: deque[_Message] = deque(maxlen=256)
        self.slot = 0
        self.malformed_slot = self.rng.randrange(MALFORMED_EVERY) + 1
        self.channel_cum = list(accumulate(CHANNEL_WEIGHTS))
        self.lang_cum = list(accumulate(P.LANGUAGE_WEIGHTS.values()))
        self.per_customer_cum = list(accumulate(CONVERSATIONS_PER_CUSTOMER))
        self.length_cum = {k: list(accumulate(w)) for k, w in LENGTH_WEIGHTS.items()}
        self.personal_cum = {
            lang: (tuple(kinds), list(accumulate(kinds.values())))
            for lang, kinds in P.PERSONAL_KINDS.items()
        }

    def _next_id(self, kind: str, width: int) -> str:
        self.counters[kind] += 1
        return f"{kind}_{self.counters[kind]:0{width}d}"

    # -- the stream --

    def lines(self) -> Iterator[str]:
        """Endless JSON Lines text; callers take as many lines as they want.

        Each message is written after, sometimes, a newer version of an earlier message (one
        loop without a generator per message: this is the hot path).
        """
        rng, stats, recent = self.rng, self.stats, self.recent
        while True:
            burst = turn = None
            if rng.random() < self.burst_rate:  # one more angry customer on an anomalous day
                burst = rng.choices(self.burst_channels, cum_weights=self.burst_cum)[0]
                customer = self._customer(english=True)
                starts = [self.cal.day_start(self.cal.anomalous[burst], rng)]
            else:
                customer = self._customer()
                count = rng.choices(range(1, 7), cum_weights=self.per_customer_cum)[0]
                starts = sorted(self.cal.start_time(rng) for _ in range(count))
                if (
                    count > 1
                    and customer.bank is ENGLISH
                    and starts[-1] <= self.turn_deadline
                    and rng.random() < TURN_RATE
                ):
                    turn = count - 2, "negative" if rng.random() < 0.5 else "positive"
                    customer.intact = True
            for k, start in enumerate(starts):
                role = None if turn is None or k < turn[0] else (turn[1], k > turn[0])
                conversation = self._conversation(customer, start, burst, role)
                for message in self._messages(conversation):
                    if rng.random() < DUPLICATE_RATE and recent:
                        duplicate = self._duplicate()
                        if duplicate is not None:
                            yield self._line(duplicate)[0]
                    if conversation.new:
                        conversation.new = False
                        stats.conversations += 1
                        if customer.new:
                            customer.new = False
                            stats.customers += 1
                    line, well_formed = self._line(message)
                    # a planted opposite-history e-mail is never re-sent with an edit suffix
                    # ("Thanks."), which could tip its new text's polarity
                    # and neither is a message of a conversation kept intact
                    planted = message.planted
                    if (
                        well_formed
                        and not conversation.intact
                        and (planted is None or planted[0][0] != OPPOSITE_HISTORY)
                    ):
                        recent.append(message)
                    yield line

    def _line(self, message: _Message) -> tuple[str, bool]:
        """Encode a record, or corrupt it when this line is its block's malformed one.

        Returns the line and whether it is well formed.
        """
        self.slot += 1
        if self.planted is not None:
            self._register(message)
        if self.slot != self.malformed_slot:
            self.stats.messages += 1
            return message.to_json(), True
        if message.conversation.intact:  # the next line breaks instead
            self.malformed_slot += 1
            self.stats.messages += 1
            return message.to_json(), True
        next_block = self.slot - (self.slot - 1) % MALFORMED_EVERY + MALFORMED_EVERY
        self.malformed_slot = next_block + self.rng.randrange(MALFORMED_EVERY)
        self.stats.malformed += 1
        return self._malformed(message.to_dict()), False

    def _register(self, message: _Message) -> None:
        """Record what a written line planted (malformed lines too: their text was written)."""
        planted, conv = self.planted, message.conversation
        if not conv.lang_json:
            planted["language"][message.id] = conv.customer.bank.lang
        if message.planted:
            for kind, detail in message.planted:
                planted[kind][message.id] = detail
        if message.event:
            kind, key, detail = message.event
            planted[kind][key] = detail

    def _malformed(self, record: dict) -> str:
        """One of four kinds of broken line a reader must reject."""
        kind = self.rng.randrange(4)
        attributes = dict(record["attributes"])
        if kind == 0:  # truncated JSON
            line = self.encode(record)
            return line[: self.rng.randrange(len(line) // 4, len(line) - 2)]
        if kind == 1:  # missing relationships.conversation
            relationships = {"customer": record["relationships"]["customer"]}
            return self.encode({**record, "relationships": relationships})
        if kind == 2:
            attributes["createdAt"] = self.rng.choice(BAD_TIMESTAMPS)
        else:
            attributes["direction"] = "sideways"
        return self.encode({**record, "attributes": attributes})

    def _duplicate(self) -> _Message | None:
        """A newer version of a recent message: same id, later updatedAt, slightly new text."""
        index = self.rng.randrange(len(self.recent))
        old = self.recent[index]
        if old.t_updated + 60 >= self.cal.hi:
            return None
        t_new = min(self.cal.hi, old.t_updated + self.rng.randint(60, 5 * 3600))
        suffix = self.rng.choice(EDIT_SUFFIXES)
        body = old.body
        if body is None:
            preview = old.preview + suffix
        else:
            preview = _append_to_paragraph(old.preview, suffix, "\n\n")[:200]
            if body.startswith("<html>"):
                body = _append_to_paragraph(body, escape(suffix, quote=False), "</p>")
            else:
                body = _append_to_paragraph(body, suffix, "\n\n")
        newer = replace(
            old, preview=preview, body=body, updated=self.cal.iso(t_new), t_updated=t_new
        )
        self.recent[index] = newer
        return newer

    # -- customers and conversations --

    def _customer(self, english: bool = False) -> _Customer:
        """A new customer with a name, a fictional e-mail, a language and a favourite channel."""
        rng = self.rng
        first, last = rng.choice(P.FIRST_NAMES), rng.choice(P.LAST_NAMES)
        lang = "en"
        if not english and rng.random() < NON_ENGLISH_RATE:
            lang = rng.choices(tuple(P.LANGUAGE_WEIGHTS), cum_weights=self.lang_cum)[0]
        email = f"{first}.{last}{rng.randrange(100)}@example.com".lower()
        channel = rng.choices(CHANNELS, cum_weights=self.channel_cum)[0]
        return _Customer(self._next_id("cust", 7), first, last, email, BANKS[lang], channel)

    def _conversation(
        self,
        customer: _Customer,
        start: int,
        channel: str | None = None,
        turn: tuple[str, bool] | None = None,
    ) -> _Conversation:
        """Channel, topic, mood arc and placeholder values of a new conversation.

        ``channel`` forces the channel (a burst customer's); ``turn`` = (direction, latest)
        plants one of a customer's last two conversations with opposite moods. On its
        channel's anomalous day a conversation is angry, and plants nothing else; otherwise an
        English one may be planted to drop or recover.
        """
        rng, bank = self.rng, customer.bank
        if channel is None:
            channel = customer.channel
            if rng.random() < 0.3:
                channel = rng.choices(CHANNELS, cum_weights=self.channel_cum)[0]
        day = start // 86400
        topic = self.cal.incidents.get(day)
        if topic is None or topic not in bank.topics or rng.random() < 0.4:
            topic = rng.choice(bank.topics)
        arc = plant = event = None
        loud = False
        if self.cal.anomalous.get(channel) == day:
            arc, loud = "angry", bank is ENGLISH
        elif turn is not None:
            direction, latest = turn
            arc = "angry" if (direction == "negative") == latest else "happy"
            plant, loud = "turn", True
        elif bank is ENGLISH and start <= self.plant_deadline[channel]:
            roll = rng.random()
            if roll < DROP_RATE:
                arc, plant, loud = "soured", "drop", True
            elif roll < DROP_RATE + RECOVERY_RATE:
                arc, plant, loud = "recovered", "recovery", True
        if arc is None:
            arc = self._arc(day, channel)
        ctx = {
            "order": str(rng.randrange(10000, 999999)),
            "n": str(rng.randint(2, 6)),
            "amount": f"{rng.randint(9, 400)}.{rng.randrange(100):02d}",
            "card": f"{rng.randrange(10000):04d}",
            "weekday": rng.choice(P.WEEKDAYS_EN),
            "email": customer.email,
            "code": f"SAVE{rng.randint(5, 50)}",
            "years": str(rng.randint(2, 12)),
            "nn": f"{rng.randrange(100):02d}",
            "agent": rng.choice(P.AGENT_NAMES),
            "name": customer.first,
            "very": "very",
            "first": customer.first,
            "last": customer.last,
        }
        subject = None
        if channel == "email":
            subject = self._fill(rng.choice(bank.subjects[topic]), ctx)
        conv_id = self._next_id("conv", 8)
        relationships = {
            "conversation": {"data": {"type": "conversation", "id": conv_id}},
            "customer": {"data": {"type": "customer", "id": customer.id}},
        }
        tagged = rng.random() < LANG_TAG_RATE
        if plant == "drop":
            event = ("conversation_drop", conv_id, -1)
        elif plant == "recovery":
            event = ("conversation_recovery", conv_id, 1)
        elif plant == "turn" and not turn[1]:
            customer.turn_before = conv_id
        elif plant == "turn" and customer.turn_before is not None:
            detail = {
                "direction": turn[0],
                "previous_conversation_id": customer.turn_before,
                "conversation_id": conv_id,
            }
            event = ("customer_turn", customer.id, detail)
        return _Conversation(
            conv_id,
            customer,
            channel,
            topic,
            arc,
            start,
            subject,
            ctx,
            relationships,
            json.dumps(relationships, separators=(",", ":")),
            f',"lang":"{bank.lang}"' if tagged else "",
            plant=plant,
            intact=plant is not None or customer.intact,
            loud=loud,
            event=event,
        )

    def _arc(self, day: int, channel: str) -> str:
        """A conversation's mood arc, drawn with the day's weights.

        On a calm day each channel's arcs follow a low-discrepancy sequence instead (golden
        ratio steps from a random offset), so the day's mix of moods stays at its normal
        proportions: no chance cluster of angry conversations makes a calm day look like an
        incident.
        """
        cum = self.cal.arc_cum[day]
        if day not in self.cal.calm_days:
            return self.rng.choices(ARCS, cum_weights=cum)[0]
        key = day, channel
        step = self.arc_steps.get(key)
        if step is None:
            step = self.rng.random()
        step = self.arc_steps[key] = (step + GOLDEN_STEP) % 1.0
        return ARCS[bisect_right(cum, step * cum[-1])]

    def _messages(self, conv: _Conversation) -> Iterator[_Message]:
        """The conversation's messages in time order."""
        rng, channel, event = self.rng, conv.channel, conv.plant
        if event == "drop" or event == "recovery":  # in, out, in[, out, in]
            length = 3 if rng.random() < 0.5 else 5
            directions = ["in", "out"] * (length // 2) + ["in"]
            moods = iter(_planted_moods(event, length // 2 + 1))
        else:
            cum = self.length_cum[_length_kind(channel)]
            length = rng.choices(range(1, len(cum) + 1), cum_weights=cum)[0]
            directions = _directions(length, rng)
            if event is not None:  # a turn: the customer writes first
                directions[0] = "in"
            moods = iter(_moods(conv.arc, directions.count("in"), rng))
        n_out = directions.count("out")
        gap_lo, gap_hi = REPLY_GAPS[channel]
        t, j, mood = conv.start, 0, "neutral"
        # only English e-mails get opposite history: VADER, which defines it, reads English;
        # and none in a conversation planted as an event
        can_plant = channel == "email" and conv.customer.bank.lang == "en" and event is None
        last_event = -1 if conv.event is None else length - 1  # its last line completes it
        for i, direction in enumerate(directions):
            if i:
                t += gap_lo + int(rng.random() ** 2 * (gap_hi - gap_lo))
            if t > self.cal.hi:
                return
            plant = planted = None
            if direction == "out":
                text = self._agent_text(conv, i, j, n_out, mood)
                j += 1
            elif (
                (mood := next(moods)) in POLAR_MOODS
                and can_plant
                and conv.last_email is not None
                and rng.random() < OPPOSITE_HISTORY_RATE
            ):
                text, plant = self._opposite_text(conv, mood)
                planted = ((OPPOSITE_HISTORY, 1 if plant == "rant" else -1),)
            else:
                text, personal = self._customer_text(conv, mood, i == 0, i == length - 1)
                if personal:
                    planted = (("personal_data", personal),)
            message = self._message(conv, direction, t, text, plant)
            if planted:
                message.planted = planted
            if i == last_event:
                message.event = conv.event
            yield message

    def _message(
        self, conv: _Conversation, direction: str, t: int, text: list[str], plant: str | None
    ) -> _Message:
        """A message from its paragraphs; e-mails get an HTML or plain-text body.

        ``plant`` (e-mails only) puts opposite sentiment in the quoted history or signature.
        """
        created = updated = self.cal.iso(t)
        t_updated = t
        if self.rng.random() < EDIT_RATE:
            t_updated = min(self.cal.hi, t + self.rng.randint(5, 900))
            updated = self.cal.iso(t_updated)
        subject = conv.subject
        if subject is not None and conv.last_email is not None:
            subject = "Re: " + subject
        if conv.channel == "email":
            preview, body = self._email(conv, direction, t, text, plant)
        else:
            preview, body = text[0], None
        return _Message(
            self._next_id("msg", 9),
            conv,
            direction,
            preview,
            body,
            subject,
            created,
            updated,
            t_updated,
        )

    # -- texts --

    def _fill(self, template: str, ctx: dict[str, str]) -> str:
        """Fill placeholders, with a fresh intensifier each time."""
        if "{" not in template:
            return template
        ctx["very"] = self.rng.choice(P.INTENSIFIERS)
        return template.format_map(ctx)

    def _customer_text(
        self, conv: _Conversation, mood: str, first: bool, last: bool
    ) -> tuple[list[str], list[PersonalData] | None]:
        """A customer's message as paragraphs: an opener, a follow-up or an acknowledgement.

        Also returns the personal data seeded into it, if any.
        """
        rng, bank = self.rng, conv.customer.bank
        email = conv.channel == "email"
        if first:
            sentences = self._opener(bank, conv.topic, mood, email)
        elif mood == "positive" and last and rng.random() < 0.65:
            sentences = [rng.choice(bank.acks)]
        elif mood in ("neutral", "mixed") and not email and rng.random() < 0.25:
            sentences = [rng.choice(P.NEUTRAL_ACKS if bank.lang == "en" else bank.acks)]
        elif mood in ("neutral", "mixed") and conv.topic in bank.details and rng.random() < 0.4:
            sentences = [rng.choice(bank.details[conv.topic])]
        else:
            sentences = [rng.choice(bank.followups["neutral" if mood == "mixed" else mood])]
            if email or rng.random() < 0.3:
                sentences.append(rng.choice(bank.emotions["neutral" if mood == "mixed" else mood]))
        angry = False  # a planted angry message: no warm greeting or sign-off around it
        if conv.loud:
            if mood == "angry":
                opening, closing = rng.sample(P.PLANTED_ANGRY, 2)
                sentences = [opening, *sentences, closing]
                angry = True
            elif mood == "positive":
                sentences.append(rng.choice(P.PLANTED_POSITIVE))
        text = self._decorate(
            self._fill(" ".join(s for s in sentences if s), conv.ctx), mood, conv.channel
        )
        if conv.channel == "twitter" and first:
            text = "@AcmeSupport " + text
        personal = None
        # after decorating: shouting must not change it; never in a planted event
        if rng.random() < PERSONAL_DATA_RATE and conv.plant is None:
            sentence, personal = self._personal_data(conv)
            text = text if email else _cut_words(text, 278 - len(sentence))
            text = f"{text}{'. ' if text[-1].isalnum() else ' '}{sentence}"
        if not email:
            return [text if len(text) <= 280 else _cut_words(text, 280)], personal
        greetings = P.EMAIL_GREETINGS[:4] if angry else bank.greetings
        paragraphs = (
            [text] if text.startswith(bank.greetings_in_text) else [rng.choice(greetings), text]
        )
        # no extra paragraph in a planted message: it may hold a "but", which halves the rest
        if first and bank.email_extra and not conv.loud and rng.random() < 0.8:
            paragraphs.append(rng.choice(bank.email_extra))
        signoff = rng.choice(P.COMPLAINT_SIGNOFFS if angry else bank.signoffs)
        paragraphs.append(f"{signoff}\n{conv.customer.first}" if signoff else conv.customer.first)
        return paragraphs, personal

    def _opposite_text(self, conv: _Conversation, mood: str) -> tuple[list[str], str]:
        """A short, clearly polar English e-mail whose history will carry the other polarity.

        Returns its paragraphs and what to plant: "rant" (positive text quoting the customer's
        own earlier angry e-mail), "praise" (negative text quoting an effusive agent reply) or
        "signature" (negative text above a cheerful signature block).
        """
        rng, customer = self.rng, conv.customer
        greeting = rng.choice(P.EMAIL_GREETINGS[:4])
        if mood == "positive":
            text, signoff, plant = rng.choice(P.RELIEVED), rng.choice(P.EMAIL_SIGNOFFS), "rant"
        else:
            text, signoff = rng.choice(P.COMPLAINTS), rng.choice(P.COMPLAINT_SIGNOFFS)
            # a cheerful signature outweighs an agent's reply below it, not the customer's own
            # earlier angry e-mail (when they write twice in a row): that one is replaced
            own = conv.last_email[0] != P.SUPPORT_ADDRESS
            plant = "praise" if rng.random() < 0.6 or own else "signature"
        closing = f"{signoff}\n{customer.first}" if signoff else customer.first
        return [greeting, self._fill(text, conv.ctx), closing], plant

    def _personal_data(self, conv: _Conversation) -> tuple[str, list[PersonalData]]:
        """One or two sentences with fictional personal data, in the customer's language."""
        rng, lang = self.rng, conv.customer.bank.lang
        kinds, cum = self.personal_cum[lang]
        sentences, items = [], []
        for _ in range(2 if rng.random() < 0.2 else 1):
            kind = rng.choices(kinds, cum_weights=cum)[0]
            if any(item.kind == kind for item in items):
                continue
            region = P.LANGUAGE_REGION.get(lang) or rng.choice(P.PERSONAL_REGIONS.get(kind, ("",)))
            item, last4 = self._personal_value(conv.customer, kind, region)
            place = rng.choice(P.PLACES[region]) if kind == "address" else ""
            template = rng.choice(P.PERSONAL_SENTENCES[lang][kind])
            sentences.append(template.format(value=item, last4=last4, place=place))
            items.append(item)
        return " ".join(sentences), items

    def _personal_value(
        self, customer: _Customer, kind: str, region: str
    ) -> tuple[PersonalData, str]:
        """A fictional value of a kind of personal data, and a card's last four digits."""
        rng = self.rng
        if kind == "email":
            first, last = customer.first.lower(), customer.last.lower()
            local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}"))
            digits = str(rng.randrange(10, 100)) if rng.random() < 0.5 else ""
            return PersonalData(f"{local}{digits}@{rng.choice(P.EMAIL_DOMAINS)}", kind), ""
        if kind == "phone":
            return PersonalData(_phone(rng, region), kind, region), ""
        if kind == "card":
            number = rng.choice(P.TEST_CARDS)
            roll = rng.random()
            if roll < 0.5:  # as printed on the card
                groups = (4, 6, 5) if len(number) == 15 else (4, 4, 4, 4)
                text = " ".join(_groups(number, groups))
            elif roll < 0.7:
                text = "-".join(_groups(number, (4, 4, 4, 4)))
            else:
                text = number
            return PersonalData(text, kind), number[-4:]
        if kind == "iban":
            region = region if region in P.IBAN_BANKS else rng.choice(P.PERSONAL_REGIONS["iban"])
            iban = _iban(rng, region)
            text = " ".join(_groups(iban, (4,) * 8)) if rng.random() < 0.7 else iban
            return PersonalData(text, kind, region), ""
        number, street = str(rng.randint(1, 120)), rng.choice(P.STREETS[region])
        text = f"{street} {number}" if region in ("DE", "ES", "PT") else f"{number} {street}"
        return PersonalData(text, kind, region), ""

    def _opener(self, bank: _Bank, topic: str, mood: str, email: bool) -> list[str]:
        """The first message's sentences: the issue, details, feelings and a question."""
        rng = self.rng
        more = 0.8 if email else 0.45
        if mood in ("angry", "frustrated"):
            parts = [rng.choice(bank.openers_negative[topic])]
        elif mood == "mixed":
            issue = rng.choice(bank.openers_negative[topic])
            issue = issue if issue.startswith("I ") else issue[0].lower() + issue[1:]
            parts = [rng.choice(bank.openers_positive) + rng.choice(bank.mixed_joins) + issue]
        elif mood == "positive":
            parts = [rng.choice(bank.openers_positive), rng.choice(bank.openers_neutral[topic])]
        else:
            parts = [rng.choice(bank.openers_neutral[topic])]
        troubled = mood in ("angry", "frustrated", "mixed")
        if topic in bank.details and mood != "positive" and rng.random() < more:
            parts.append(rng.choice(bank.details[topic]))
        if rng.random() < more + 0.2:
            parts.append(rng.choice(bank.emotions["neutral" if mood == "mixed" else mood]))
        if topic in bank.questions and troubled and rng.random() < more:
            parts.append(rng.choice(bank.questions[topic]))
        return parts

    def _decorate(self, text: str, mood: str, channel: str) -> str:
        """Shouting, '!!!', ALL CAPS words and emoji, as moods and channels make likely."""
        rng = self.rng
        if mood == "angry":
            roll = rng.random()
            if roll < 0.05:
                text = text.upper()
            elif roll < 0.3:
                words = text.split(" ")
                k = rng.randrange(len(words))
                words[k] = words[k].upper()
                text = " ".join(words)
            if text[-1] in ".!" and rng.random() < 0.4:
                text = text.rstrip(".!") + "!!!"
        elif mood == "frustrated" and text[-1] == "?" and rng.random() < 0.3:
            text += "??"
        if rng.random() < EMOJI_RATE.get(channel, 0.3):
            text += " " + rng.choice(P.EMOJI["neutral" if mood == "mixed" else mood])
        return text

    def _agent_text(self, conv: _Conversation, i: int, j: int, n_out: int, mood: str) -> list[str]:
        """An agent's reply from templates, chosen by its place in the conversation."""
        rng, bank = self.rng, conv.customer.bank
        agent = bank.agent
        if i == 0:
            kinds = ["proactive"]
        elif j == 0 and conv.channel in CHATTY and rng.random() < 0.35:
            kinds = ["bot"]
        elif j == 0:
            greeting = "email_greeting" if conv.channel == "email" else "greeting"
            kinds = ["apology" if mood in ("angry", "frustrated") else greeting]
            if conv.channel == "twitter" and rng.random() < 0.5:
                kinds = ["dm"]
            elif rng.random() < 0.5:
                kinds.append("ask_info")
        elif mood == "positive" and j == n_out - 1:
            kinds = ["closing"]
        elif conv.arc in ("soured", "angry") and j < n_out - 1:
            kinds = ["troubleshoot"]
        elif mood in ("angry", "frustrated") and conv.arc != "recovered":
            kinds = ["escalation"]
        elif j < n_out - 1 and rng.random() < 0.5:
            kinds = [rng.choice(("update", "ask_info"))]
        else:
            kinds = ["resolution"]
        sentences = [
            rng.choice(bank.resolutions[conv.topic] if kind == "resolution" else agent[kind])
            for kind in kinds
        ]
        text = self._fill(" ".join(sentences), conv.ctx)
        if conv.channel == "twitter":
            text = f"{text} ^{conv.ctx['agent']}"[:280]
        if conv.channel != "email":
            return [text]
        return [
            self._fill(bank.agent_greeting, conv.ctx),
            text,
            self._fill(bank.agent_signature, conv.ctx),
        ]

    # -- e-mail bodies --

    def _email(
        self,
        conv: _Conversation,
        direction: str,
        t: int,
        paragraphs: list[str],
        plant: str | None = None,
    ) -> tuple[str, str]:
        """The preview (plain start) and full body of an e-mail, quoting the last one.

        ``plant`` replaces what the e-mail quotes or its signature: "rant" quotes the customer's
        own furious first e-mail, "praise" an effusive agent reply, "signature" signs off with
        a cheerful block.
        """
        rng, customer = self.rng, conv.customer
        address = f"{customer.first} {customer.last} <{customer.email}>"
        if direction == "in":
            signatures = P.POSITIVE_SIGNATURES if plant == "signature" else customer.bank.signatures
            signature = self._fill(rng.choice(signatures), conv.ctx)
            sender = address
        else:
            signature, paragraphs = paragraphs[-1], paragraphs[:-1]
            sender = P.SUPPORT_ADDRESS
        plain = "\n\n".join(paragraphs)
        quote = conv.last_email
        if plant == "rant":
            quote = (address, self._rant(conv), conv.start)
        elif plant == "praise":
            quote = (P.SUPPORT_ADDRESS, self._praise(conv), quote[2])
        history = f"{plain}\n\n{signature}"
        html = rng.random() < 0.85
        style = "gmail"
        if customer.bank.quote_header is None:
            roll = rng.random()
            style = "outlook" if roll < 0.35 else "apple" if roll < 0.5 else "gmail"
        parts = [_html_paragraphs(paragraphs, signature) if html else history]
        if quote is not None:
            to = address if quote[0] == P.SUPPORT_ADDRESS else P.SUPPORT_ADDRESS
            header = self._quote_header(conv, quote, style, to)
            parts.append(_quote(header, quote[1], html, style))
            history += "\n\n" + _quote(header, quote[1], False, style)
        conv.last_email = (sender, history, t)
        body = "".join(parts) if html else "\n\n".join(parts)
        if html:
            body = f"<html><body>{body}</body></html>"
        return plain[:200], body

    def _rant(self, conv: _Conversation) -> str:
        """The customer's earlier furious e-mail about the conversation's topic, as plain text."""
        rng, bank = self.rng, conv.customer.bank
        opener = self._fill(rng.choice(bank.openers_negative[conv.topic]), conv.ctx)
        rant = rng.sample(P.RANTS, 6)
        return (
            f"{rng.choice(P.EMAIL_GREETINGS[:4])}\n\n{opener} {' '.join(rant[:3])}\n\n"
            f"{' '.join(rant[3:])}\n\n{conv.customer.first}"
        )

    def _praise(self, conv: _Conversation) -> str:
        """An agent's effusive reply, as plain text with the agent's signature."""
        rng, ctx = self.rng, conv.ctx
        first, second, third = rng.sample(P.PRAISE, 3)
        return (
            f"{self._fill(conv.customer.bank.agent_greeting, ctx)}\n\n{first} {second}\n\n"
            f"{third} {rng.choice(P.PRAISE_CLOSINGS)}\n\n"
            f"{self._fill(conv.customer.bank.agent_signature, ctx)}"
        )

    def _quote_header(
        self, conv: _Conversation, quote: tuple[str, str, int], style: str, to: str
    ) -> str:
        """The line or block above quoted history, in the style of a mail client.

        Gmail: 'On Mon, Jan 5, 2026 at 10:02 AM X wrote:' (or the language's own words);
        Apple Mail: 'On Jan 5, 2026, at 10:02 AM, X wrote:'; Outlook: From/Sent/To/Subject.
        """
        sender, _, t = quote
        bank = conv.customer.bank
        date, hour, minute = self.cal.parts(t)
        if bank.quote_header is not None:
            return bank.quote_header.format(
                dd=date.day,
                mon=bank.months[date.month - 1],
                yyyy=date.year,
                hh=f"{hour:02d}",
                mm=f"{minute:02d}",
                sender=sender,
            )
        h12, ampm = (hour % 12 or 12), ("AM" if hour < 12 else "PM")
        month = bank.months[date.month - 1]
        if style == "gmail":
            return (
                f"On {P.WEEKDAYS_EN[date.weekday()][:3]}, {month} "
                f"{date.day}, {date.year} at {h12}:{minute:02d} {ampm} {sender} wrote:"
            )
        if style == "apple":
            return (
                f"On {month} {date.day}, {date.year}, at {h12}:{minute:02d} {ampm}, {sender} wrote:"
            )
        sent = (
            f"{P.WEEKDAYS_EN[date.weekday()]}, {P.MONTHS_EN[date.month - 1]} {date.day}, "
            f"{date.year} {h12}:{minute:02d} {ampm}"
        )
        return f"From: {sender}\nSent: {sent}\nTo: {to}\nSubject: {conv.subject}"


def _groups(text: str, sizes: tuple[int, ...]) -> list[str]:
    """``text`` cut into groups of the given sizes (the last group takes what is left)."""
    out, start = [], 0
    for size in sizes:
        if start >= len(text):
            break
        out.append(text[start : start + size])
        start += size
    if start < len(text):
        out[-1] += text[start:]
    return out


def _phone(rng: random.Random, region: str) -> str:
    """A fictional phone number of a region, in a national or international format."""
    roll = rng.random()
    if region == "US":
        area, line = rng.choice(P.US_AREA_CODES), f"01{rng.randrange(100):02d}"
        if roll < 0.6:
            return f"({area}) 555-{line}"
        return f"{area}-555-{line}" if roll < 0.8 else f"+1 {area} 555 {line}"
    prefix, width = rng.choice(P.FICTION_PHONES[region])
    digits = f"{rng.randrange(10**width):0{width}d}"
    if region == "FR":
        national = f"{prefix} {digits[:2]} {digits[2:]}"
        return national if roll < 0.7 else "+33 " + national[1:]
    national = prefix + digits
    if roll < 0.7:
        return national
    code = "+44 " if region == "GB" else "+49 "
    return code + national[1:]


def _iban_check(country: str, bban: str) -> str:
    """The two check digits of an IBAN (ISO 13616, mod 97)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def _ccc_digit(digits: str) -> str:
    """A Spanish account (CCC) control digit."""
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    return "0" if value == 11 else "1" if value == 10 else str(value)


def _iban(rng: random.Random, country: str) -> str:
    """A compact IBAN with valid check digits (and national checks) for a fictional account."""
    bank = rng.choice(P.IBAN_BANKS[country])

    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if country == "GB":
        bban = bank + digits(14)
    elif country in ("DE", "NL"):
        bban = bank + digits(10)
    elif country == "ES":
        branch, account = digits(4), digits(10)
        check = _ccc_digit("00" + bank + branch) + _ccc_digit(account)
        bban = bank + branch + check + account
    else:  # FR: bank, branch, account and the RIB key
        branch, account = digits(5), digits(11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        bban = f"{bank}{branch}{account}{key:02d}"
    return country + _iban_check(country, bban) + bban


def _cut_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when it must be cut (a cut
    through an e-mail address would leave a real-looking domain)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    return text[:cut] if cut > 0 else text[:limit]


def _append_to_paragraph(text: str, suffix: str, end: str) -> str:
    """Add ``suffix`` to the first paragraph ending in ``end`` that is not a short greeting."""
    start = len("<html><body><p>") if end == "</p>" else 0
    cut = text.find(end)
    if 0 <= cut - start < 25:
        cut = text.find(end, cut + len(end))
    cut = len(text) if cut < 0 else cut
    return text[:cut] + suffix + text[cut:]


def _html_paragraphs(paragraphs: list[str], signature: str) -> str:
    """Paragraphs and a signature block as e-mail HTML."""
    body = "".join(f"<p>{_html_lines(p)}</p>" for p in paragraphs)
    return f'{body}<div class="signature">{_html_lines(signature)}</div>'


def _html_lines(text: str) -> str:
    """Escape text for HTML and turn its line breaks into <br>."""
    return escape(text, quote=False).replace("\n", "<br>")


def _quote(header: str, quoted: str, html: bool, style: str) -> str:
    """Earlier history: Gmail's or Apple Mail's blockquote / '>' lines, or Outlook's block."""
    lines = quoted.split("\n")[:QUOTE_LINE_LIMIT]
    outlook = style == "outlook"
    if html and outlook:
        head = "<br>".join(
            f"<b>{escape(k)}:</b>{escape(v)}"
            for k, v in (line.split(":", 1) for line in header.split("\n"))
        )
        return (
            f'<hr><div id="divRplyFwdMsg">{head}</div><div>{_html_lines(chr(10).join(lines))}</div>'
        )
    if html and style == "apple":
        return (
            f'<div><br><blockquote type="cite">{escape(header, quote=False)}<br><br></blockquote>'
            f'</div><blockquote type="cite"><div>{_html_lines(chr(10).join(lines))}</div>'
            "</blockquote>"
        )
    if html:
        return (
            f'<div class="gmail_quote"><div dir="ltr">{escape(header, quote=False)}</div>'
            f'<blockquote class="gmail_quote">{_html_lines(chr(10).join(lines))}'
            "</blockquote></div>"
        )
    if outlook:
        return "________________________________\n" + header + "\n\n" + "\n".join(lines)
    if style == "apple":
        return header + "\n\n" + "\n".join(f"> {line}" if line else ">" for line in lines)
    return header + "\n" + "\n".join(f"> {line}" if line else ">" for line in lines)


# --- public API ---------------------------------------------------------------------------


def _stream(
    messages: int, seed: int, end: datetime, days: int, planted: PlantedCases | None = None
) -> tuple[Iterator[str], _SampleStream]:
    """The first ``messages`` lines of the sample and the stream that counts them."""
    if messages < 0:
        raise ValueError("messages must not be negative")
    stream = _SampleStream(seed, end, days, planted)
    return islice(stream.lines(), messages), stream


def iter_sample_lines(
    messages: int,
    seed: int = 7,
    end: datetime = DEFAULT_END,
    days: int = 90,
    planted: PlantedCases | None = None,
) -> Iterator[str]:
    """Yield JSON Lines text (without trailing newline) for about `messages` lines in total.

    Exactly ``messages`` lines are yielded, malformed ones included. Lines are produced lazily,
    conversation by conversation, so any number can be streamed in constant memory; the first
    ``k`` lines of a sample are the same whatever ``messages`` is.

    ``planted``, a dict, is filled as lines are yielded with what they plant (see
    :func:`planted_cases`); without it nothing is kept. It does not change the lines.
    """
    lines, _ = _stream(messages, seed, end, days, planted)
    return lines


def planted_cases(
    messages: int, seed: int = 7, end: datetime = DEFAULT_END, days: int = 90
) -> dict[str, dict[str, Any]]:
    """What the sample of these arguments plants on purpose, by kind (see ``PLANTED_KINDS``).

    Returns ``{kind: {key: detail}}`` with every kind of ``PLANTED_KINDS`` (perhaps empty);
    message-level kinds are keyed by message id and cover every line written, malformed ones
    included (their text was written too):

    - ``"email_opposite_history"``: +1 or -1, the VADER polarity of the new text of an English
      inbound e-mail whose raw body (quoted history, signature) scores the other way;
    - ``"personal_data"``: the list of :class:`PersonalData` strings seeded into a customer
      message (later e-mails of its thread may quote them again);
    - ``"language"``: the true language of each message written without ``attributes.lang``
      (the others carry it);
    - ``"customer_turn"`` (by customer id): ``{"direction", "previous_conversation_id",
      "conversation_id"}`` of an English customer whose last two conversations have opposite
      moods: happy then angry ("negative") or angry then happy ("positive");
    - ``"conversation_drop"`` / ``"conversation_recovery"`` (by conversation id): -1 / +1, a
      conversation whose customer goes from happy to angry while the agent replies, or is
      angry before the first agent reply and happy after it.

    These events are whole English conversations: none of their lines is malformed or re-sent,
    they carry no opposite history or personal data, the window's end does not cut them, and
    an event is recorded with its last line (a shorter sample leaves it out). The day kinds
    come with the calendar, whatever the sample's size (a sample must be large enough for a
    day to pass an anomaly detector's minimum volume):

    - ``"anomalous_day"`` (by channel): the channel's outage day ("YYYY-MM-DD"), on which all
      its conversations are angry and BURST_FACTOR times more of them start;
    - ``"calm_day"`` (by channel): the sorted days kept at the normal negativity and mood mix,
      away from incidents and from the channel's anomalous day.

    It generates the sample again, so it takes as long; to get the lines and the cases in one
    pass, give ``planted={}`` to :func:`iter_sample_lines` or :func:`write_sample`.
    """
    planted: dict[str, dict[str, Any]] = {}
    for _ in iter_sample_lines(messages, seed, end, days, planted):
        pass
    return planted


def write_sample(path: str | os.PathLike, messages: int, seed: int = 7, **kw) -> SampleStats:
    """Write the sample to `path` (JSON Lines, UTF-8), creating parent dirs. Returns counts.

    ``kw`` takes ``end``, ``days`` and ``planted`` as in :func:`iter_sample_lines`.
    """
    lines, stream = _stream(
        messages,
        seed,
        kw.pop("end", DEFAULT_END),
        kw.pop("days", 90),
        kw.pop("planted", None),
    )
    if kw:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(kw))}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as out:
        while chunk := list(islice(lines, 4096)):
            out.write("\n".join(chunk))
            out.write("\n")
    return stream.stats
