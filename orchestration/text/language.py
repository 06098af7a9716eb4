"""The language of a cleaned message text, detected locally, and source language codes.

Detection uses lingua (``lingua-language-detector``): its n-gram models ship inside the wheel,
so nothing is downloaded at run time, and it is the most accurate detector on short texts,
which most messages are. But lingua takes about 300 µs per message in its high-accuracy mode
(80 µs in its low-accuracy one, which is often wrong on short texts), for a million messages
of which about half are distinct texts. So:

- **A restricted language set** (``LANGUAGES``): the twelve languages Amazon Comprehend scores
  (en es fr de it pt ar hi ja ko zh; zh-TW is zh in another script) and languages customers
  commonly write in that no engine here may support, so that a Dutch or Swedish text is
  detected as ``nl`` or ``sv`` (and stored as unsupported) instead of being forced into German
  or Danish. lingua compares every candidate of a text's script, so fewer candidates mean
  fewer confusions, less memory and less time. Languages of another script are cheap (they
  compete only for texts in that script, and their models load only when such a text comes),
  so Persian and Urdu (Arabic script), Bulgarian (Cyrillic) and Marathi (Devanagari) are in to
  keep them out of ``ar``, ``ru`` and ``hi``. Every Latin-script candidate costs every
  Latin-script text time and about 25 MB of models, so only common ones are in; Catalan,
  Galician, Slovak, Croatian, Malay and Tagalog are out (they come out as es, pt, cs, ..., id,
  or None).
- **An English fast path** (``_looks_english``): most messages are English. A text with at
  least two unmistakably English words, at least 30% English words (the rest are names,
  signatures, product words, typos), at most 20% words with a non-ASCII letter (a street or a
  name) and not one common function word of another Latin-script candidate is English without
  asking lingua. A wrong "yes" needs a text with English words and none of the small words
  nearly every German, French, Spanish, Portuguese, Italian, Dutch, Scandinavian, ... sentence
  has; a wrong "no" only costs time. It answers for about 95% of the sample's texts of 20
  characters or more, never for one of its other languages or for the German customer
  feedback, and where it disagrees with lingua on real English tweets lingua is wrong
  ("Netflix and chill, thanks to our #motomods" is not Danish); see
  tests/unit/test_language.py.
- **At most ``MAX_DETECT_CHARS`` characters**, cut on a word boundary: lingua's time grows
  with the text, its accuracy does not beyond a couple of hundred characters, and the start of
  a message is what the customer wrote (a long e-mail's tail is signature or pasted text).
  E-mail addresses are removed first: they are names, not language ("My email is
  jane.martinez75@example.com." is Romanian to the low-accuracy detector); so are redaction's
  placeholders ("[PHONE]", "[ADDRESS]"), English words in texts of any language.
- **Low accuracy first, high accuracy when in doubt**: the rest goes to lingua's low-accuracy
  detector (trigrams), whose answer stands when its confidence is at least
  ``SURE_LOW_ACCURACY``; otherwise the high-accuracy detector (1- to 5-grams) answers. That was
  one text in four of the sample's texts that reach lingua, one in fifty of the German
  feedback (long texts), and it was about as accurate as high accuracy for all of them. (Above
  about 120 characters lingua uses trigrams in both modes anyway.) A threshold alone does not
  make low accuracy safe on short texts: it gave "45 minutes on hold no help" as Norwegian at
  0.97.
- **High accuracy among the languages that matter most** (``HIGH_ACCURACY``): the Latin-script
  languages the engines score, and Dutch and the Scandinavian ones, which they are most
  confused with. Its models are most of the memory: 570 MB per worker process with all 18
  Latin-script languages, 340 MB with these 10 (the million-message run had gone over its
  2 GiB). When the low-accuracy detector's doubtful best guess is another language (Polish,
  Turkish, ...) the answer is None. Against high accuracy over every language, on the
  sample's 44,507 texts of 20 characters or more: 44,102 right against 44,090, 16 wrong
  against 4 (all texts made of an e-mail address or a foreign street, which redaction
  removes before detection), 389 without an answer against 413; on the German feedback 2,339
  German against 2,330 (19 wrong against 18); on the airline tweets 13,788 English against
  13,754 (7 wrong against 6).

An answer needs lingua's confidence in its best language (its probabilities over the
candidates, summing to 1) to be at least ``MIN_CONFIDENCE``; otherwise, and for texts under
``MIN_DETECT_CHARS`` characters, the answer is None and the caller falls back to the
conversation's or customer's known language. Such texts ("C'est la commande 653994.", "Meine
E-Mail ist x@example.com.") hold too little language for any detector, and their conversation
tells their language better. Spanish and Portuguese, which lingua confuses on short texts and
which Comprehend both scores, are settled by their own function words
(``_spanish_or_portuguese``).

The detectors are built once per process, on first use (never at import, so a worker that
never detects pays nothing), and load a language's models the first time a text needs them:
about 2 s of CPU and 340 MB per process once Latin-script texts have come (the high-accuracy
models are most of it; low accuracy alone would take 70 MB).
``detect_many`` detects one text after another: the caller runs one worker process per core,
and lingua's parallel calls (a thread per core in each process) measured no faster there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from lingua import IsoCode639_3, Language, LanguageDetector, LanguageDetectorBuilder

MIN_DETECT_CHARS = 20
# Enough for lingua's accuracy to saturate: cut here, the German feedback (2,307 texts, many
# of them long) is detected as German 2,288 times against 2,290 whole, in 70% of the time.
MAX_DETECT_CHARS = 200
# lingua's confidence in its best language below which the answer is None. On the texts that
# reach lingua, 0.35 is where wrong answers stop falling faster than right ones (airline
# tweets: 0.25 gives 12 wrong, 0.35 gives 3, 0.5 gives 1 but twice as many None).
MIN_CONFIDENCE = 0.35
# The low-accuracy detector's confidence from which its answer is taken without asking the
# high-accuracy one: at 0.95, 16 airline tweets came out wrong, at 0.99 five.
SURE_LOW_ACCURACY = 0.99

# Comprehend's sentiment languages first, then the others (see the module docstring).
LANGUAGES: dict[Language, str] = {
    Language.ENGLISH: "en",
    Language.SPANISH: "es",
    Language.FRENCH: "fr",
    Language.GERMAN: "de",
    Language.ITALIAN: "it",
    Language.PORTUGUESE: "pt",
    Language.ARABIC: "ar",
    Language.HINDI: "hi",
    Language.JAPANESE: "ja",
    Language.KOREAN: "ko",
    Language.CHINESE: "zh",
    # Latin script: each costs every Latin-script text that reaches lingua some time.
    Language.DUTCH: "nl",
    Language.SWEDISH: "sv",
    Language.DANISH: "da",
    Language.BOKMAL: "nb",
    Language.FINNISH: "fi",
    Language.POLISH: "pl",
    Language.TURKISH: "tr",
    Language.CZECH: "cs",
    Language.ROMANIAN: "ro",
    Language.HUNGARIAN: "hu",
    Language.INDONESIAN: "id",
    Language.VIETNAMESE: "vi",
    # Other scripts: they compete only with their own script.
    Language.RUSSIAN: "ru",
    Language.UKRAINIAN: "uk",
    Language.BULGARIAN: "bg",
    Language.GREEK: "el",
    Language.HEBREW: "he",
    Language.THAI: "th",
    Language.PERSIAN: "fa",
    Language.URDU: "ur",
    Language.MARATHI: "mr",
}

# The languages the high-accuracy detector compares (see the module docstring).
HIGH_ACCURACY = frozenset(
    {
        Language.ENGLISH,
        Language.SPANISH,
        Language.FRENCH,
        Language.GERMAN,
        Language.ITALIAN,
        Language.PORTUGUESE,
        Language.DUTCH,
        Language.SWEDISH,
        Language.DANISH,
        Language.BOKMAL,
    }
)

# --- the English fast path ------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English words that are not common words of another candidate language.
_ENGLISH = _words(
    """
    the and you your yours you're you've you'll i'm i've i'll i'd it it's its this that these
    those with have has had having been were are not but what when where why who how would
    could should just from they their there them than then please thanks thank thx my our
    ours she his him they're we're we've we'll they'll he's she's that's what's let's there's
    here's who's isn't wasn't aren't weren't don't doesn't didn't can't couldn't won't
    wouldn't shouldn't haven't hasn't dont cant didnt doesnt isnt wont thats whats ive can
    did does any some only because which about after again already being get got getting
    need needed want wanted know like back help if yes hi hello hey though through while
    every never ever always something anything nothing someone anyone dear regards cheers
    sorry welcome happy tried trying said says tell told since before received charged
    charges refund account customer number wrong twice using calling month late nobody
    arrived payment address shipping delivery package money today tomorrow yesterday week
    really very much well good great bad worst love appreciate disappointed unacceptable
    ridiculous absolutely both ends answer unbelievable leaving everywhere review two
    return confirmed missing items contacting sure available request issue phone free full
    give better same other look make lost next wait waiting way right first more off into
    here day time hour hours people going flight flights cancelled delayed airport night
    monday tuesday wednesday thursday friday saturday sunday
    """
)
# English words that are also common words of another candidate language ("is" and "of" are
# Dutch, "in" German and Dutch, "a" and "me" Romance, "for" and "at" Scandinavian, "on"
# French, "do" Portuguese and Polish, "will", "so" and "am" German, "come" Italian, and the
# nouns German and Dutch borrowed): they count towards the share of English words but not
# towards the two unmistakable ones.
_ENGLISH_SHARED = _words(
    """
    is in to a i me do so of for at on no was will an as all or we us one out now new last
    still also over best team kind order email service update days be he up by go per man
    am u problem moment long come check name information message details
    """
)
# Common function words of the other Latin-script candidates that are not English words. One
# of them sends the text to lingua: a false alarm costs only time, but words English texts
# often hold are left out all the same ("um", "af", "ai", "os", "eu", "mon", "van", "dan"
# and "com" as in acme.com are Portuguese, Danish, French, Dutch or Indonesian too).
_FOREIGN = _words(
    """
    der die das den dem des und ich nicht ist sind sie wir ihr ein eine einen einem einer mit
    auf auch noch nur bitte danke habe hat haben wurde werden kann keine kein mein meine meinen
    dass wie aber oder sehr schon bei zu zum zur von vom nach hallo ja nein wo warum wann für
    über können möchte grüße schön
    le la les et je est pas vous nous une des du au aux avec mais pour sur dans ce cette ces
    qui ma mes votre vos merci bonjour il elle ne que suis sont par à où très déjà ça être
    el los las y es por para con mi mis su sus del una pero muy gracias hola esta este estoy
    tengo lo se más qué también sí
    uma ao na nas nos da das meu minha obrigado obrigada voce seu sua foi pedido não você é
    está olá também já até
    di che sono ho mio gli della grazie ciao questo
    het een ik niet en dat zijn maar voor mijn heb bedankt graag wel ook nog jij naar bij uw
    geen de
    och jag att inte ett som har med det hej tack för på är så även också
    og ikke jeg er mig være får
    yang saya tidak ini itu untuk dengan ada sudah
    si nu sunt pentru cu este și în că să
    nie jest tak ale czy się że już też
    ve bir bu ile icin için çok değil
    ei olen kiitos minun että myös
    jsem nem egy és hogy
    tôi không được của và là có
    """
)
# Words: runs of letters of any script, with an inner apostrophe ("don't").
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# The share of a text's words that must be English (unmistakable or shared): the rest are
# names, signatures, product words and typos.
_ENGLISH_SHARE = 0.3
# The share of a text's words that may have a non-ASCII letter: a street or a name
# ("Schillerstraße", "José") in an English sentence.
_NON_ASCII_SHARE = 0.2


def _looks_english(text: str) -> bool:
    """True when ``text`` is English beyond doubt (see the module docstring); False is "ask
    lingua", not "not English"."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    strong = shared = non_ascii = 0
    for word in words:
        if word in _ENGLISH:
            strong += 1
        elif word in _ENGLISH_SHARED:
            shared += 1
        elif word in _FOREIGN:
            return False
        elif not word.isascii():
            non_ascii += 1
    n = len(words)
    return (
        strong >= 2 and strong + shared >= _ENGLISH_SHARE * n and non_ascii <= _NON_ASCII_SHARE * n
    )


# --- detection ------------------------------------------------------------------------------

# E-mail addresses, and the typed placeholders redaction leaves ("[EMAIL]", "[PHONE]",
# "[ADDRESS]"): English words that would pull a redacted French text towards English.
_NOT_LANGUAGE = re.compile(r"\S+@\S+|\[[A-Z_]+\]")


@functools.cache
def _detectors() -> tuple[LanguageDetector, LanguageDetector]:
    """The process's two detectors, low-accuracy (trigrams, every language) and
    high-accuracy (1- to 5-grams, ``HIGH_ACCURACY``): built on first use, their models loaded
    as texts need them."""
    return (
        LanguageDetectorBuilder.from_languages(*LANGUAGES).with_low_accuracy_mode().build(),
        LanguageDetectorBuilder.from_languages(*HIGH_ACCURACY).build(),
    )


def _head(text: str) -> str:
    """At most ``MAX_DETECT_CHARS`` characters of ``text``, cut before a word, not inside."""
    if len(text) <= MAX_DETECT_CHARS:
        return text
    head = text[: MAX_DETECT_CHARS + 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    return head[:space] if space > MAX_DETECT_CHARS // 2 else head[:MAX_DETECT_CHARS]


def detect_language(text: str) -> str | None:
    """The language of a cleaned text as a lowercase primary code (``en``, ``de``, ``zh``, ...),
    or None when the text is too short or the detector is not confident."""
    text = text.strip()
    if len(text) < MIN_DETECT_CHARS:
        return None
    if "@" in text or "[" in text:
        text = _NOT_LANGUAGE.sub(" ", text)
    text = _head(text)
    if _looks_english(text):
        return "en"
    low, high = _detectors()
    best = low.compute_language_confidence_values(text)[0]
    if best.value < SURE_LOW_ACCURACY:
        if best.language not in HIGH_ACCURACY:
            return None
        best = high.compute_language_confidence_values(text)[0]
        if best.value < MIN_CONFIDENCE:
            return None
    code = LANGUAGES[best.language]
    return _spanish_or_portuguese(text, code) if code in ("es", "pt") else code


# Function words of one of Spanish and Portuguese and not the other. lingua confuses the two
# on short texts ("Pode nos informar o número do pedido? Thanks." is Spanish to both of its
# detectors: at 0.91 in low accuracy, 0.53 against 0.44 in high accuracy), and both are scored by
# Comprehend, so a Portuguese text scored as Spanish would be scored badly, not stored as
# unsupported. ("o" and "da" are Spanish words too, "pelo" is Spanish hair.)
_PORTUGUESE_ONLY = _words(
    """
    um uma não você voce obrigado obrigada olá bom muito também meu minha ao seu sua com isso
    ainda já até atenciosamente fico pode do em agora onde quando
    """
)
_SPANISH_ONLY = _words(
    """
    el los las la y muy gracias hola usted ustedes pero también ya mi del con estoy tengo
    puede es hay ahora donde cuando mucho todavía saludos atentamente buenos
    """
)


def _spanish_or_portuguese(text: str, code: str) -> str:
    """lingua's ``es`` or ``pt``, turned into the other when the text has more of the other's
    own function words."""
    words = _WORD.findall(text.lower())
    portuguese = sum(word in _PORTUGUESE_ONLY for word in words)
    spanish = sum(word in _SPANISH_ONLY for word in words)
    if code == "es" and portuguese > spanish:
        return "pt"
    if code == "pt" and spanish > portuguese:
        return "es"
    return code


def detect_many(texts: Sequence[str]) -> list[str | None]:
    """``detect_language`` over texts; the unit of work sent to a worker process.

    One text at a time: the caller runs one process per core, and lingua's own parallel calls
    (a thread per core in every process) measured no faster there.
    """
    return [detect_language(text) for text in texts]


# --- source language codes ------------------------------------------------------------------

# Codes that say "no language known".
_NO_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})
# Deprecated ISO 639-1 codes still sent by old systems, and Norwegian, which lingua (and so
# detection) reports as Bokmål.
_RENAMED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "no": "nb"}
# ISO 639-2/B codes, the ones that differ from the 639-3 codes lingua knows.
_BIBLIOGRAPHIC = {
    "alb": "sq",
    "arm": "hy",
    "baq": "eu",
    "chi": "zh",
    "cze": "cs",
    "dut": "nl",
    "fre": "fr",
    "geo": "ka",
    "ger": "de",
    "gre": "el",
    "ice": "is",
    "mac": "mk",
    "mao": "mi",
    "may": "ms",
    "per": "fa",
    "rum": "ro",
    "slo": "sk",
    "wel": "cy",
}
# Regions that write Chinese in Traditional characters, which Comprehend scores as zh-TW
# (unless the tag says Hans: a script subtag wins over the region).
_TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})
_SUBTAGS = re.compile(r"[-_]")


@functools.lru_cache(maxsize=1024)
def normalize_language(code: str | None) -> str | None:
    """A source-supplied language code (``en-US``, ``EN``, ``pt_BR``, ``zh-TW``, ``German``) in
    the form detection and the engines use: the primary subtag in lowercase, except Chinese in
    Traditional characters, which stays ``zh-TW`` (Comprehend scores it apart). Three-letter
    codes become two-letter ones where one exists. Empty, "undetermined" (``und``) and
    unreadable codes give None."""
    if not code:
        return None
    subtags = [s for s in _SUBTAGS.split(code.strip().lower()) if s]
    if not subtags:
        return None
    primary = subtags[0]
    if primary in ("zh", "zho", "chi"):
        rest = subtags[1:]
        traditional = "hant" in rest or (
            "hans" not in rest and not _TRADITIONAL_REGIONS.isdisjoint(rest)
        )
        return "zh-TW" if traditional else "zh"
    if primary in _NO_LANGUAGE:
        return None
    if primary in _RENAMED:
        return _RENAMED[primary]
    if len(primary) == 2 and primary.isascii() and primary.isalpha():
        return primary
    if len(primary) == 3 and primary.isascii() and primary.isalpha():
        if primary in _BIBLIOGRAPHIC:
            return _BIBLIOGRAPHIC[primary]
        language = _from_iso_639_3(primary)
        return language.iso_code_639_1.name.lower() if language is not None else primary
    # A language's English name, as some exports write it ("German", "portuguese").
    language = _from_name(code.strip())
    return language.iso_code_639_1.name.lower() if language is not None else None


def _from_iso_639_3(code: str) -> Language | None:
    iso = getattr(IsoCode639_3, code.upper(), None)
    return Language.from_iso_code_639_3(iso) if iso is not None else None


def _from_name(name: str) -> Language | None:
    try:
        return Language.from_str(name)
    except ValueError:
        return None
