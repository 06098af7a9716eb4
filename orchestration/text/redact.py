"""Redaction of personal data in message texts, before they are stored or sent to any engine.

Support messages carry the customer's e-mail address, phone number, sometimes a card number or
an IBAN ("please refund to ..."), and a postal address. None of it bears sentiment, and none of
it may leave the warehouse or reach a third-party engine, so each is replaced by a typed,
stable placeholder: ``[EMAIL]``, ``[IBAN]``, ``[CARD]``, ``[PHONE]``, ``[ADDRESS]``. The
placeholders are plain bracketed words, so the redacted text still reads as a sentence and an
engine scores it as it would the original; they hold no digit, ``@`` nor street word, so
redacting twice gives the same text as redacting once.

Raw bodies are redacted as strings, HTML included: an address in a ``mailto:`` href goes as well
as the one shown, a value may sit between tags, and a phone number may be spaced with
``&nbsp;``.

Detectors run in this order, each on the output of the one before:

1. e-mail: it holds digits and words that the other detectors could take a piece of, leaving
   a half-redacted address no longer recognisable as one;
2. IBAN: its long digit runs may pass the card checksum or parse as a phone number;
3. card: 13-19 digits that a phone matcher could partly parse as a long number;
4. phone: after the long numbers above are gone, so it only sees what is left;
5. street address: last, since its house numbers are short and everything longer that shares
   its digits is already gone.

False positives cost as much as misses: a redacted order number or price destroys what the
customer was talking about. Every detector therefore validates what it finds (Luhn for cards,
the mod-97 check and the national format for IBANs, the numbering plan of a region for phones)
or, for addresses, requires a house number next to a street word and a capitalised name.

Speed matters as much: this runs over every message at ingest and most texts hold no personal
data, so each detector runs only behind a cheap pre-screen (an ``@`` for e-mails, a run of
seven digits for IBANs, cards and phones, a street word for addresses). The phone library,
by far the slowest part (tens of µs a call), only reads those digit runs, only for the regions
whose numbers could start as the run does, and its verdicts are cached, since signatures
repeat from one message to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from stdnum import iban as _iban
from stdnum import luhn as _luhn

__all__ = [
    "ADDRESS",
    "CARD",
    "DEFAULT_PHONE_REGIONS",
    "EMAIL",
    "IBAN",
    "PHONE",
    "PLACEHOLDERS",
    "redact_many",
    "redact_text",
]

EMAIL = "[EMAIL]"
IBAN = "[IBAN]"
CARD = "[CARD]"
PHONE = "[PHONE]"
ADDRESS = "[ADDRESS]"
PLACEHOLDERS = (EMAIL, IBAN, CARD, PHONE, ADDRESS)

# Regions whose national formats ("020 7946 0958", "06 12 34 56 78") are recognised; numbers
# written with "+" or "00" and a country code are found whatever the list. The inbox is
# English with some Spanish, German, French and Portuguese customers.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "ES", "PT")

# --- e-mail --------------------------------------------------------------------------------

# Written forms of "@": plain, in a URL ("mailto:jane%40example.com") and as HTML entities.
_AT_SIGNS = ("@", "%40", "&#64;", "&#x40;", "&#X40;")
# The local part, read backwards from the "@" on the reversed text, so that only the few
# characters next to each "@" are looked at (a pattern for whole addresses tries every word
# of a long HTML body). It leaves out the rarer RFC 5322 characters (&, ', /, =...): in HTML
# they would swallow the "&lt;" before an address.
_LOCAL_REVERSED = re.compile(r"[\w+-]+(?:\.[\w+-]+)*")
_LOCAL_MAX = 64
_DOMAIN = re.compile(r"(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}(?![\w-])")

# --- digit runs: IBAN, card, phone -----------------------------------------------------------

# Seven digits with at most short separators between them: the shortest phone number worth
# looking for; every IBAN and card number has such a run too. Most texts have none, and then
# none of the three costly detectors runs.
_DIGIT_RUN = re.compile(r"\d(?:[ \-./()\u00a0]{0,2}\d){6,}")
# The same with "&nbsp;" as a separator too (HTML signatures: "+44&nbsp;20&nbsp;7946..."),
# only for texts that hold one: the alternation slows the search down by a third.
_ENTITY_SPACES = ("&nbsp;", "&#160;")
_DIGIT_RUN_HTML = re.compile(r"\d(?:(?:[ \-./()\u00a0]|&nbsp;|&#160;){0,2}\d){6,}")
_HAS_DIGIT = re.compile(r"\d")

# A country code and check digits, then 11-30 letters or digits, compact or in groups. Case is
# ignored (people type ibans in lower case in chats); the validation below rejects anything
# that is not an IBAN of that country's length and format with a correct checksum.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_IBAN_LENGTH = 34 + 8  # 34 characters at most, and a space every four

# 13-19 digits, compact or grouped by single spaces or dashes, not inside a longer run: a
# 22-digit tracking number grouped in fours must not lose its first sixteen, nor a decimal
# number its integer part.
_CARD = re.compile(
    r"(?<![\w+/])(?<!\d[ .,\u00a0-])\d(?:[ \u00a0-]?\d){12,18}(?![\w/]|[.,]\d|[ \u00a0-]?\d)"
)
# Major industry identifiers of payment cards: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB),
# 4 (Visa), 5 (Mastercard, Maestro), 6 (Discover, UnionPay, Maestro). Luhn alone lets one
# random number in ten through; order numbers like Amazon's 112-... start with 1.
_CARD_FIRST_DIGITS = frozenset("23456")
_CARD_GROUP_SEP = re.compile(r"[ \u00a0-]")

# The phone library is slow (tens of µs per call), so it only reads each digit run with the
# "+" or "(" before it, not the text around: that is also what makes the cache below work.
_PHONE_PREFIX = "+( \u00a0"
_PHONE_PREFIX_LENGTH = 3
# What the library refuses next to a number (at the VALID level and above): a number glued to
# letters or to a currency or percent sign is an identifier, a price or a rate.
_GLUED_SYMBOLS = frozenset("$€£¥%")
# A run that is a date is not worth a library call.
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
# Words that announce a phone number, so that a local number with no area code ("call me on
# 555-0170") or one written as a single block with no trunk prefix ("llámame al 612345678")
# is taken too; numbers with a trunk 0 or a "+" need none. "number" is left out on purpose:
# "order number 2501941" is no phone.
# "(?<!\[)" keeps the placeholder "[PHONE]" from announcing the next number: redacting
# twice must give what redacting once gives.
_PHONE_CUE = re.compile(
    r"(?<!\[)\b(?:call|phone|tel|mobile|cell|ring|text|sms|whats ?app|fax|reach|contact|ll[aá]m"
    r"|m[oó]vil|lig(?:a|ue))",
    re.IGNORECASE,
)
_CUE_DISTANCE = 40
# ... and words that announce an identifier: "order 0612345678", "Ref: 912345678" or
# "#2015550123" are no phone numbers, however valid as one.
_ID_CUE = re.compile(
    r"(?:#|\b(?:order|ref|reference|invoice|tracking|account|acct|id|sku|ticket|pedido"
    r"|referencia|factura|commande|facture|bestellung|rechnung|auftrag"
    r"|(?:bestell|kunden|rechnungs|auftrags|sendungs)nummer)\b[^\w\n]{0,3}"
    r"(?:(?:n[oº°r]|num(?:ber)?|número|numéro|nummer)\b\.?[^\w\n]{0,3})?)[ \u00a0]*\Z",
    re.IGNORECASE,
)
_ID_CUE_DISTANCE = 30
_ENTITY_SPACE = re.compile(r"&nbsp;|&#160;")
# Separators the library may keep in front of a number it found.
_PHONE_STRIP = " \u00a0/.-"
# Spaces between the groups of a run, where a number may end and a number-like word begin.
_GAP = re.compile(r"[ \u00a0]+")
# The library tries sub-strings of a candidate until one parses, up to 65535 times by
# default; a long run of digits that is no number then costs milliseconds. A phone number
# is found in the first few tries.
_MAX_TRIES = 12
# The most digits of a number with an international call prefix ("0044 20 7946 0958", at
# most 15 after the prefix) and the most characters it takes as written.
_MOST_DIGITS = 17
_LONGEST_PHONE = 40
# Signatures repeat: in every message of a customer and again in each quoted reply. The
# verdict on a window is cached so the library reads each one once per process.
_PHONE_CACHE_SIZE = 8192

# --- street addresses -------------------------------------------------------------------------

# Written by hand: no maintained library covers French, German and Spanish addresses (pyap2
# knows US, Canadian and UK ones; Presidio and libpostal download models or need a C library
# and a 2 GB data set), and a handful of patterns per language catches the usual forms. Each
# needs a house number, a street word and a capitalised name in the order the language writes
# them, which keeps "2 weeks on the road" or "auf Platz 1" out. A name never runs over a line
# break, so a greeting on the next line stays.
_S = r"[ \t\u00a0]"  # a space within a line
_UP = "A-ZÀ-ÖØ-Þ"  # upper-case Latin letters, accented ones included
# A capitalised word, an abbreviation ("St.", "Dr.": only a short word takes the full stop,
# else "rue Victor Hugo." takes the sentence's) or an ordinal ("5th"), but not "AM" or "PM",
# which follow times in quote headers ("at 10:25 AM Thomas Hill wrote").
_NAME = rf"(?!(?:AM|PM)\b)(?:[{_UP}][a-z]{{0,2}}\.|[{_UP}][\w'’-]*|\d{{1,3}}(?:st|nd|rd|th)\b)"
# A house number is no part of a time, date or decimal ("10:25", "5/17", "3.17").
_NOT_AFTER = r"(?<![:./-])"
_HOUSE = r"\d{1,5}[A-Za-z]?(?:[-–/]\d{1,5}[A-Za-z]?)?"
_EN_WORDS = (
    "street st avenue ave road rd boulevard blvd lane ln drive dr court ct place pl square sq"
    " terrace way close crescent parkway pkwy highway hwy circle trail row mews gardens grove"
    " hill walk parade"
)
# In English the street word is capitalised like the name ("Baker Street", "High St"): "way",
# "close" or "drive" in lower case after a capitalised word is a sentence ("5 Stars way
# better"), not an address.
_EN_TYPES = "|".join(f"{w.title()}|{w.upper()}" for w in _EN_WORDS.split())
_FR_WORDS = (
    "rue avenue av boulevard bd bld place pl allée allee impasse chemin quai cours route square"
    " passage cité villa faubourg fbg rond-point voie sentier esplanade promenade parvis"
    " hameau résidence residence chaussée chaussee"
)
_FR_TYPES = "|".join(re.escape(w) for w in _FR_WORDS.split())
_FR_LINK = (
    rf"(?:de{_S}+la{_S}+|de{_S}+l['’]{_S}*|des{_S}+|du{_S}+|de{_S}+|d['’]{_S}*"
    rf"|la{_S}+|le{_S}+|les{_S}+|l['’]{_S}*)"
)
# Compounds ("Hauptstraße"); "-ring" is left out, it would take "Earring 2".
_DE_SUFFIXES = "straße strasse str. gasse allee weg platz damm ufer chaussee steig pfad"
# Separate words ("Berliner Straße"); "Ring" and "Kai" are left out, they would take
# "Wedding Ring 2" or "Thanks Kai 5".
_DE_WORDS = "straße strasse str gasse allee weg platz damm ufer chaussee markt graben"
_DE_TYPES = "|".join(
    re.escape(w.title()) + ("\\." if w == "str" else "") for w in _DE_WORDS.split()
)
_ES_WORDS = (
    "calle c/ avenida avda av paseo pº p° plaza pza camino carretera ctra ronda travesía"
    " travesia glorieta rambla callejón callejon rua travessa largo praça praca alameda"
)
_ES_TYPES = "|".join(
    re.escape(w)
    + ("\\.?" if w in ("avda", "pº", "p°", "pza", "ctra") else "\\." if w == "av" else "")
    for w in _ES_WORDS.split()
)
_ES_LINK = rf"(?:(?:de{_S}+la|de{_S}+las|de{_S}+los|del|de|da|das|do|dos){_S}+)"
_ADDRESS = re.compile(
    "|".join(
        (
            # English: "221B Baker Street", "1600 Pennsylvania Ave NW", "12 High St".
            rf"\b{_NOT_AFTER}{_HOUSE}{_S}+(?:{_NAME}{_S}+){{1,3}}?(?:{_EN_TYPES})\b"
            rf"(?:\.?{_S}+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
            # French: "12 rue de la Paix", "5 bis avenue Victor Hugo", "8, place de l'Étoile".
            rf"\b{_NOT_AFTER}\d{{1,4}}[A-Da-d]?(?:{_S}?(?:bis|ter|quater)\b)?,?{_S}+(?i:{_FR_TYPES})\.?(?!\w)"
            rf"{_S}*{_FR_LINK}?{_NAME}(?:(?:{_S}|-)+{_FR_LINK}?{_NAME}){{0,3}}",
            # German, one word: "Hauptstraße 5", "Lindenweg 12a", "Hauptstr. 5".
            rf"\b[{_UP}][a-zäöüß]+(?:{'|'.join(map(re.escape, _DE_SUFFIXES.split()))}){_S}*{_HOUSE}\b",
            # German, two words: "Berliner Str. 12a", "Am Markt 3", "Alte Allee 7".
            rf"\b(?:{_NAME}{_S}+){{1,3}}(?:{_DE_TYPES}){_S}*{_HOUSE}\b",
            # Spanish and Portuguese: "Calle Mayor 10", "C/ Alcalá, 45", "Rua das Flores 12".
            rf"(?<!\w)(?i:{_ES_TYPES}){_S}*{_ES_LINK}?{_NAME}(?:{_S}+{_ES_LINK}?{_NAME}){{0,3}}"
            rf",?{_S}*(?:n[º°o]\.?{_S}*)?{_HOUSE}\b",
        )
    )
)


def _trie(words: Iterable[str]) -> str:
    """An alternation of ``words`` factored by common prefix ("s(?:t(?:reet)?|quare)").

    The regex engine tries the branches of an alternation one by one at every position; a
    prefix tree rejects most positions on the first letter, three times faster here."""
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(root)


# Pre-screens for the address patterns. A street word after a space or a tag, looked up in
# the lower-cased text:
_STREET_WORD = re.compile(
    r"[\s>](?:"
    + _trie({*_EN_WORDS.split(), *_FR_WORDS.split(), *_ES_WORDS.split(), *_DE_WORDS.split()})
    # A word ends at a non-letter; "c/" needs none ("C/Alcalá").
    + r")(?:(?<=/)|(?![a-zà-ÿß]))"
)
# and a house number right after a German compound ("...straße 5"). The search starts from
# the digits, which the engine finds fast and which are few, rather than from every letter;
# one look back at the last letter before the digit spares most digits the full list.
_DE_LAST_LETTERS = re.escape("".join(sorted({w[-1] for w in _DE_SUFFIXES.split()})))
_DE_SUFFIX_BEFORE_DIGIT = re.compile(
    rf"\d(?:(?<=[{_DE_LAST_LETTERS}]\d)|(?<=[{_DE_LAST_LETTERS}][ \t]\d))(?:"
    + "|".join(
        rf"(?<={re.escape(word)}{space}\d)"
        for word in _DE_SUFFIXES.split()
        for space in ("", " ", "\t")
    )
    + ")"
)
# How far an address can reach before and after its street word (three or four name words).
_ADDRESS_BEFORE = 80
_ADDRESS_AFTER = 100
_HOUSE_LENGTH = 16


# --- detectors -----------------------------------------------------------------------------


def _merge(windows: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The union of ``windows``, clipped to ``[0, length]``, as sorted disjoint spans."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(windows):
        lo, hi = max(lo, 0), min(hi, length)
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        elif lo < hi:
            merged.append((lo, hi))
    return merged


def _runs(text: str) -> list[tuple[int, int]]:
    html = _ENTITY_SPACES[0] in text or _ENTITY_SPACES[1] in text
    return [match.span() for match in (_DIGIT_RUN_HTML if html else _DIGIT_RUN).finditer(text)]


def _replace(text: str, spans: Iterable[tuple[int, int]], placeholder: str) -> str:
    """``text`` with the given spans replaced; spans that overlap an earlier one are dropped."""
    pieces: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        pieces += (text[last:start], placeholder)
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _redact_emails(text: str) -> str:
    spans = []
    for sign in _AT_SIGNS:
        at = text.find(sign)
        while at != -1:
            domain = _DOMAIN.match(text, at + len(sign))
            if domain:
                local = _LOCAL_REVERSED.match(text[max(0, at - _LOCAL_MAX) : at][::-1])
                if local:
                    spans.append((at - local.end(), domain.end()))
            at = text.find(sign, at + 1)
    return _replace(text, spans, EMAIL) if spans else text


def _iban_end(match: re.Match[str]) -> int | None:
    """End of the longest valid IBAN at the start of the match, or None.

    The pattern is greedy and may run on into a following word or number ("... 0130 00 AND"),
    so shorter prefixes are tried too, each ending at the end of a group."""
    candidate = match.group()
    for end in range(len(candidate), 14, -1):
        if end < len(candidate) and candidate[end] not in " \u00a0":
            continue
        if _iban.is_valid(candidate[:end]):
            return match.start() + end
    return None


def _redact_ibans(text: str, runs: list[tuple[int, int]]) -> str:
    # Only near the digit runs: the pattern starts with two letters, which a long body is
    # full of, and every IBAN holds such a run within its length.
    spans = []
    windows = _merge(((s - _IBAN_LENGTH, e + _IBAN_LENGTH) for s, e in runs), len(text))
    for lo, hi in windows:
        match = _IBAN.search(text, lo, hi)
        while match:
            end = _iban_end(match)
            if end is None:
                # The greedy match may run over the start of the next IBAN ("... AND GB82").
                match = _IBAN.search(text, match.start() + 1, hi)
            else:
                spans.append((match.start(), end))
                match = _IBAN.search(text, end, hi)
    return _replace(text, spans, IBAN) if spans else text


def _is_card(number: str) -> bool:
    groups = _CARD_GROUP_SEP.split(number)
    digits = "".join(groups)
    if digits[0] not in _CARD_FIRST_DIGITS or not _luhn.is_valid(digits):
        return False
    # Written in groups, a card is grouped as printed on it: fours (Visa, Mastercard...) or
    # 4-6-5 / 4-6-4 (Amex, Diners). Other groupings are order or reference numbers.
    return len(groups) == 1 or (
        len(groups[0]) == 4
        and all(len(g) in (4, 6) for g in groups[1:-1])
        and 1 <= len(groups[-1]) <= 6
    )


def _redact_cards(text: str, runs: list[tuple[int, int]]) -> str:
    spans = [
        match.span()
        for start, end in runs
        if end - start >= 13
        for match in _CARD.finditer(text, start, end)
        if _is_card(match.group())
    ]
    return _replace(text, spans, CARD) if spans else text


def _unescape_spaces(window: str) -> tuple[str, list[int]]:
    """``window`` with ``&nbsp;`` as a no-break space, and each new index's original index."""
    out: list[str] = []
    index: list[int] = []
    last = 0
    for match in _ENTITY_SPACE.finditer(window):
        out.append(window[last : match.start()])
        index.extend(range(last, match.start()))
        out.append("\u00a0")
        index.append(match.start())
        last = match.end()
    out.append(window[last:])
    index.extend(range(last, len(window) + 1))
    return "".join(out), index


def _international(match: phonenumbers.PhoneNumberMatch) -> bool:
    return match.raw_string.lstrip(_PHONE_STRIP)[:1] == "+"


def _starts_with_zero(match: phonenumbers.PhoneNumberMatch) -> bool:
    return match.raw_string.lstrip(_PHONE_STRIP + "(")[:1] == "0"


def _seven_digits(match: phonenumbers.PhoneNumberMatch) -> bool:
    return sum(c.isdigit() for c in match.raw_string) >= 7


def _any(match: phonenumbers.PhoneNumberMatch) -> bool:
    return True


class _Plan(NamedTuple):
    """What the library's metadata says of a region's numbers, for the checks below."""

    trunk_zero: bool  # written with a trunk prefix 0 in national format (GB, FR, DE...)
    zero_first: bool  # may start with 0 in national format (trunk prefix, or Italy's 06...)
    fewest: int  # fewest digits of a number
    fewest_local: int  # the same, counting numbers dialled without their area code
    idd: re.Pattern[str] | None  # international call prefix ("00", "011")


@cache
def _plan(region: str) -> _Plan:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return _Plan(False, True, 1, 1, None)
    trunk_zero = metadata.national_prefix == "0"
    examples = (
        phonenumbers.example_number_for_type(region, kind)
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    )
    zero_first = trunk_zero or any(
        phonenumbers.national_significant_number(n).startswith("0") for n in examples if n
    )
    lengths = metadata.general_desc.possible_length or (1,)
    local = metadata.general_desc.possible_length_local_only or ()
    idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
    return _Plan(trunk_zero, zero_first, min(lengths), min((*lengths, *local)), idd)


def _national_regions(candidate: str, first: int, regions: Sequence[str], local: bool):
    """The regions in which ``candidate`` could hold a number written in national format.

    Each region costs a library call of tens of µs, and most digit runs are no phone number;
    two cheap necessary conditions spare most of those calls. A candidate cannot hold a number
    with more digits than it has. And where the trunk prefix is 0 (GB, FR, DE...) a number is
    written with it (only short codes are not), while elsewhere (US, ES, PT...) numbers start
    with 0 only in a few regions (IT), so the first digit tells which regions to try."""
    digits = sum(c.isdigit() for c in candidate)
    zero = candidate[first] == "0"
    plans = ((region, _plan(region)) for region in regions)
    return [
        region
        for region, plan in plans
        if (plan.zero_first if zero else not plan.trunk_zero)
        and digits >= (plan.fewest_local if local else plan.fewest)
    ]


def _dialled_abroad(candidate: str, first: int, regions: Sequence[str]) -> str | None:
    """A region from which ``candidate`` is dialled with an international call prefix
    ("0044 20...", "011 44 20..."), if any: then its country code follows and any such
    region reads it the same."""
    digits = "".join(c for c in candidate[first:] if c.isdigit())
    for region in regions:
        idd = _plan(region).idd
        if idd is not None and idd.match(digits):
            return region
    return None


def _matches(
    candidate: str, first: int, regions: Sequence[str], leniency: Leniency, accept
) -> tuple[list[tuple[int, int]], bool]:
    """Spans of the numbers in ``candidate``, and whether one covers it from its first digit
    ``first`` to its end. Of the regions, the one whose numbers cover most of it wins: "0612
    345 678" is a German number and "678", or one French number."""
    best: list[tuple[int, int]] = []
    best_cover = 0
    for region in regions:
        spans = []
        matcher = PhoneNumberMatcher(candidate, region, leniency=leniency, max_tries=_MAX_TRIES)
        for match in matcher:
            if accept(match):
                # The library may keep a separator before the number ("/ 06...").
                raw = match.raw_string
                spans.append((match.start + len(raw) - len(raw.lstrip(_PHONE_STRIP)), match.end))
        cover = sum(e - s for s, e in spans)
        if cover > best_cover:
            best, best_cover = spans, cover
            if any(s <= first and e == len(candidate) for s, e in spans):
                return best, True
    return best, False


def _read(
    candidate: str, cue: bool, regions: tuple[str, ...]
) -> tuple[list[tuple[int, int]], bool]:
    """Phone numbers in ``candidate`` (a digit run after a "+" or "(", if any) and whether one
    covers it all."""
    first = next((i for i, c in enumerate(candidate) if c.isdigit()), None)
    if first is None:
        return [], False
    if "+" in candidate[:first]:
        # "+" and a country code: the region does not matter, and the writer says it is a
        # phone number, so a number that is only possible (no area code) is taken too.
        return _matches(candidate, first, regions[:1] or ("ZZ",), Leniency.POSSIBLE, _international)
    abroad = _dialled_abroad(candidate, first, regions)
    if abroad is not None and candidate.startswith("00", first):
        # No national number starts with 00, but one may start like another prefix ("0113"
        # in Leeds, "011" from the US), so those are read both ways, below.
        return _matches(candidate, first, (abroad,), Leniency.VALID, _any)
    if candidate[first] != "0" and not cue and candidate[first:].isdigit():
        # Nine or ten digits in one block with no trunk prefix are as often an order or
        # account number as a phone number: taken only when announced ("call me on ...").
        return [], False
    # Numbers grouped as the numbering plan groups them ("2025-000123" is a valid US number,
    # but no US number is written so): the safest level.
    national = _national_regions(candidate, first, regions, local=False)
    spans, full = _matches(candidate, first, national, Leniency.STRICT_GROUPING, _any)
    if not full and candidate[first] == "0":
        # A trunk or international prefix ("0612 345 678", "0044 ...") marks a phone number
        # however it is grouped, and order numbers rarely start with 0.
        valid, full = _matches(candidate, first, national, Leniency.VALID, _starts_with_zero)
        spans = valid or spans
    if not spans and abroad is not None:
        spans, full = _matches(candidate, first, (abroad,), Leniency.VALID, _any)
    if not spans and cue:
        local = _national_regions(candidate, first, regions, local=True)
        spans, full = _matches(candidate, first, local, Leniency.POSSIBLE, _seven_digits)
    return spans, full


@lru_cache(maxsize=_PHONE_CACHE_SIZE)
def _window_phones(window: str, cue: bool, regions: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Phone numbers in ``window``, a digit run after a "+" or "(", if any."""
    index = None
    if "&" in window:
        window, index = _unescape_spaces(window)
    spans, full = _read(window, cue, regions)
    gaps = [m.span() for m in _GAP.finditer(window)]
    if not full and gaps:
        # The library reads a run of groups as one number or group by group, so a number next
        # to a number-like word ("+44 20 7946 0958 2 times", "75002 01 99 00 12 34")
        # is only found without that word.
        head, full = _read(window[: gaps[-1][0]], cue, regions)
        if full:
            spans = head
        elif "+" not in window[: gaps[0][0]]:
            cut = gaps[0][1]
            tail, full = _read(window[cut:], cue, regions)
            if full:
                spans = [(s + cut, e + cut) for s, e in tail]
    if index is not None:
        spans = [(index[s], index[e]) for s, e in spans]
    return tuple(spans)


def _first_number_end(text: str, start: int, end: int) -> int:
    """Where the first groups of the run ``text[start:end]`` that a number could fill end.

    A number has at most 15 digits, 17 with an international call prefix; reading one number
    at a time keeps the library from trying every split of a run of several."""
    stop, digits, at = start, 0, start
    while at < end:
        gap = text.find(" ", at, end)
        group_end = end if gap == -1 else gap
        digits += sum(c.isdigit() for c in text[at:group_end])
        if digits > _MOST_DIGITS and stop > start:
            break
        stop = group_end
        if gap == -1:
            break
        at = gap + 1
    stop = min(stop, start + _LONGEST_PHONE)
    while not text[stop - 1].isdigit():
        stop -= 1
    return stop


def _redact_phones(text: str, runs: list[tuple[int, int]], regions: tuple[str, ...]) -> str:
    spans: list[tuple[int, int]] = []
    # A cue word announces the number after it, not every number after that.
    cue_from = 0
    for start, end in runs:
        while start < end and not _DATE.fullmatch(text, start, end):
            stop = _first_number_end(text, start, end)
            found = _run_phones(text, start, stop, max(cue_from, start - _CUE_DISTANCE), regions)
            if not found:
                break
            # Two numbers in one run ("0612345678 0698765432"): read on after the first.
            spans += found
            start = max(found[-1][1], start + 1)
            while start < end and not text[start].isdigit():
                start += 1
        cue_from = end
    return _replace(text, spans, PHONE) if spans else text


def _run_phones(
    text: str, start: int, end: int, cue_from: int, regions: tuple[str, ...]
) -> list[tuple[int, int]]:
    """Phone numbers in the digit run ``text[start:end]``; a cue word counts from ``cue_from``."""
    w_start = start
    while w_start > 0 and start - w_start < _PHONE_PREFIX_LENGTH:
        if text[w_start - 1] not in _PHONE_PREFIX:
            break
        w_start -= 1
    while text[w_start] in " \u00a0":
        w_start += 1
    # As the library does, a number that starts with "+" or "(" may follow anything.
    before = text[w_start - 1] if w_start and text[w_start] not in "+(" else " "
    after = text[end] if end < len(text) else " "
    if before.isalpha() or after.isalpha() or {before, after} & _GLUED_SYMBOLS:
        return []
    if text[w_start] != "+" and _ID_CUE.search(text, max(0, w_start - _ID_CUE_DISTANCE), w_start):
        return []
    # A number redacted earlier used the cue before it, as the run it was did.
    placeholder = text.rfind(PHONE, cue_from, start)
    if placeholder != -1:
        cue_from = placeholder + len(PHONE)
    cue = bool(_PHONE_CUE.search(text, cue_from, start))
    found = _window_phones(text[w_start:end], cue, regions)
    return sorted((w_start + s, w_start + e) for s, e in found)


def _redact_addresses(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # a few letters lower-case to two characters ("İ")
        windows = [(0, len(text))]
    else:
        # Street words are looked up in " " + low, so a hit's index is its word's index. A
        # street word with no digit near it ("on my way") is no address.
        windows = [
            (hit.start() - _ADDRESS_BEFORE, hit.start() + _ADDRESS_AFTER)
            for hit in _STREET_WORD.finditer(" " + low)
            if _HAS_DIGIT.search(text, hit.start() - _ADDRESS_BEFORE, hit.start() + _ADDRESS_AFTER)
        ]
        # The hit is the house number's first digit; the number and its letter follow.
        windows += [
            (hit.start() - _ADDRESS_BEFORE, hit.start() + _HOUSE_LENGTH)
            for hit in _DE_SUFFIX_BEFORE_DIGIT.finditer(text)
        ]
    if not windows:
        return text
    spans = []
    for lo, hi in _merge(windows, len(text)):
        for match in _ADDRESS.finditer(text, lo, hi):
            if match.end() == hi < len(text):
                # Cut by the end of the window: read it again on the whole text.
                match = _ADDRESS.match(text, match.start()) or match
            spans.append(match.span())
    return _replace(text, spans, ADDRESS) if spans else text


# --- public API ----------------------------------------------------------------------------


# What a text must contain for ``redact_text`` to change it: an e-mail needs "@" (or its
# escapes), and every other detector a digit (a house number, for addresses). Written for
# DuckDB's RE2 as well, so that ingest sends only such texts here (most have none).
MAY_CHANGE_SQL_PATTERN = r"\p{Nd}|@|%40|&#"


def redact_text(
    text: str | None, *, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS
) -> str | None:
    """``text`` with personal data replaced by the placeholders of :data:`PLACEHOLDERS`.

    ``None`` and ``""`` come back as they are. ``phone_regions`` are the regions (ISO 3166
    codes) whose national phone formats are looked for, the first ones first.
    """
    if not text:
        return text
    if "@" in text or "%40" in text or "&#" in text:
        text = _redact_emails(text)
    if not _HAS_DIGIT.search(text):
        return text  # every detector below needs a digit
    if "&nbsp;" in text or "&#160;" in text:
        # The same character, written as itself: the card and IBAN patterns then see an
        # HTML body's "4111&nbsp;1111..." as the no-break spaces it stands for.
        text = _ENTITY_SPACE.sub("\u00a0", text)
    runs = _runs(text)
    if runs:
        redacted = _redact_ibans(text, runs)
        if redacted is not text:
            text, runs = redacted, _runs(redacted)
        redacted = _redact_cards(text, runs)
        if redacted is not text:
            text, runs = redacted, _runs(redacted)
        text = _redact_phones(text, runs, tuple(phone_regions))
    return _redact_addresses(text)


def redact_many(
    texts: Sequence[str | None], *, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS
) -> list[str | None]:
    """:func:`redact_text` of each text, in order: the unit of work sent to worker processes."""
    return [redact_text(t, phone_regions=phone_regions) for t in texts]
