"""Language detection and source language codes (orchestration.text.language).

The bounds on the generated sample and on the real data beside the checkout were measured
with the detector as it is (see the module docstring) and leave room for small changes only:
a change of word lists or thresholds that costs accuracy fails here.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import unicodedata
from collections import Counter

import pytest

from orchestration.sample.generator import iter_sample_lines
from orchestration.text.clean import clean_text
from orchestration.text.language import (
    LANGUAGES,
    MIN_DETECT_CHARS,
    _detectors,
    _looks_english,
    detect_language,
    detect_many,
    normalize_language,
)
from tests.conftest import SHARED_DATA

GERMEVAL = SHARED_DATA / "germeval2017" / "dev.csv"
AIRLINE = SHARED_DATA / "airline" / "Tweets.csv"

# A customer's message in each language Comprehend scores, and in some it does not.
SENTENCES = {
    "en": [
        "My order arrived two days late and the box was damaged. I want a refund.",
        "Thank you so much, the replacement came this morning and it works perfectly!",
    ],
    "es": [
        "Mi pedido llegó roto y nadie me responde. Quiero que me devuelvan el dinero.",
        "Muchas gracias por la ayuda, el problema ya está resuelto.",
    ],
    "fr": [
        "Ma commande n'est toujours pas arrivée et personne ne répond à mes messages.",
        "Merci beaucoup pour votre aide rapide, tout fonctionne maintenant.",
    ],
    "de": [
        "Meine Bestellung ist immer noch nicht angekommen und niemand antwortet mir.",
        "Vielen Dank für die schnelle Hilfe, jetzt funktioniert alles wieder.",
    ],
    "it": [
        "Il mio ordine non è ancora arrivato e nessuno risponde alle mie email.",
        "Grazie mille per l'aiuto, adesso funziona tutto perfettamente.",
    ],
    "pt": [
        "Meu pedido ainda não chegou e ninguém responde às minhas mensagens.",
        "Muito obrigado pela ajuda, agora está tudo funcionando.",
        # lingua alone says Spanish (0.53 against 0.44): settled by Portuguese-only words.
        "Pode nos informar o número do pedido? Thanks.",
    ],
    "ar": ["لم يصل طلبي حتى الآن ولا أحد يرد على رسائلي. أريد استرداد المبلغ."],
    "hi": ["मेरा ऑर्डर अभी तक नहीं आया है और कोई भी मेरे संदेशों का जवाब नहीं दे रहा है।"],
    "ja": ["注文した商品がまだ届いていません。至急確認してください。"],
    "ko": ["주문한 상품이 아직 도착하지 않았습니다. 빨리 확인해 주세요."],
    "zh": [
        "我的订单到现在还没有到，也没有人回复我的消息。",
        # Traditional characters: still "zh" (the source's zh-TW, when known, says more).
        "我的訂單到現在還沒有到，也沒有人回覆我的訊息。",
    ],
    "nl": [
        "Mijn bestelling is nog steeds niet aangekomen en niemand reageert op mijn berichten.",
        "Hartelijk dank voor de snelle hulp, alles werkt nu weer.",
    ],
    "sv": ["Min beställning har fortfarande inte kommit och ingen svarar på mina meddelanden."],
    "da": ["Min ordre er stadig ikke kommet, og ingen svarer på mine beskeder."],
    "pl": ["Moje zamówienie nadal nie dotarło i nikt nie odpowiada na moje wiadomości."],
    "ru": ["Мой заказ до сих пор не пришёл, и никто не отвечает на мои сообщения."],
    "tr": ["Siparişim hâlâ gelmedi ve kimse mesajlarıma cevap vermiyor."],
    "fi": ["Tilaukseni ei ole vieläkään saapunut, eikä kukaan vastaa viesteihini."],
    "el": ["Η παραγγελία μου δεν έχει φτάσει ακόμα και κανείς δεν απαντά στα μηνύματά μου."],
    "he": ["ההזמנה שלי עדיין לא הגיעה ואף אחד לא עונה להודעות שלי."],
    "id": ["Pesanan saya belum juga sampai dan tidak ada yang membalas pesan saya."],
    "vi": ["Đơn hàng của tôi vẫn chưa đến và không ai trả lời tin nhắn của tôi."],
}

# Texts in other languages that borrow English words (order, refund, update, team, support,
# email): the English fast path must leave every one of them to lingua.
BORROWING = {
    "de": [
        "Hallo Team, ich habe noch kein Refund bekommen und der Support antwortet nicht.",
        "Das Update ist super, aber die App stürzt beim Login immer ab. Bitte helfen!",
    ],
    "nl": [
        "Hoi team, mijn order is nog steeds niet binnen en de tracking update niet.",
        "Ik heb een refund aangevraagd maar nog geen email ontvangen. Kunnen jullie helpen?",
    ],
    "fr": ["Bonjour, mon order est bloqué depuis une semaine, le support ne répond pas."],
    "es": ["Hola, mi pedido sigue sin llegar y el support no contesta mis emails."],
    "pt": ["Olá, o meu refund ainda não chegou e o support não responde ao meu email."],
    "it": ["Ciao team, il mio refund non è ancora arrivato e il support non risponde."],
    "sv": ["Hej, min order har inte kommit och supporten svarar inte på min email."],
}

# Texts that mix English into another language, with enough English words to pass for English
# but for the other language's function words: the fast path must leave them to lingua (which
# may well say English or None; the point is that a word list does not decide them).
MIXED = [
    "Ik heb my order nog niet, please help!",
    "Hallo, ich habe my refund still not received, please check.",
    "Merci, but my package est toujours pas arrived, please help.",
    "Gracias, but my order still has not arrived, please check el tracking.",
    "Obrigado, but my refund still has not arrived, please help com isso.",
    "Tack, but my order has still not arrived, please help med det.",
    "Terima kasih, but my order has still not arrived, saya tidak happy.",
]


def ascii_fold(text: str) -> str:
    """The text as typed on a keyboard without accents ("Mijn bestelling", "nao chegou")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in SENTENCES.items() for text in texts]
)
def test_a_customer_message_is_detected_in_its_language(code, text):
    assert detect_language(text) == code


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (code, text)
        for code, texts in (SENTENCES | BORROWING).items()
        if code != "en"
        for text in texts
        if len(ascii_fold(text).strip()) >= MIN_DETECT_CHARS
    ],
)
def test_no_other_language_takes_the_english_fast_path(code, text):
    for variant in (text, ascii_fold(text)):
        assert not _looks_english(variant), variant


@pytest.mark.parametrize("text", MIXED)
def test_a_function_word_of_another_language_keeps_a_text_off_the_fast_path(text):
    words = text.lower().replace(",", " ").replace(".", " ").replace("!", " ").split()
    english = {"my", "order", "refund", "package", "still", "not", "please", "help", "but"}
    assert sum(word in english for word in words) >= 0.3 * len(words)  # English enough
    assert not _looks_english(text)
    assert not _looks_english(ascii_fold(text))


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("ja", "Hi, thank you. 注文した商品がまだ届いていません。確認してください。"),
        ("zh", "Hello, thanks! 我的订单到现在还没有到，请帮我查一下。"),
        ("ko", "Hi, thank you! 주문한 상품이 아직 도착하지 않았습니다."),
    ],
)
def test_words_in_another_script_keep_a_text_off_the_fast_path(code, text):
    # Without spaces between its words, the other script counts as few words, but each is
    # a non-ASCII one.
    assert not _looks_english(text)
    assert detect_language(text) == code


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in BORROWING.items() for text in texts]
)
def test_borrowed_english_words_do_not_make_a_text_english(code, text):
    assert detect_language(text) == code
    assert detect_language(ascii_fold(text)) == code


def test_latin_script_languages_written_without_accents_are_still_detected():
    for code in ("es", "fr", "de", "it", "pt", "nl", "sv", "pl", "tr", "fi", "id"):
        for text in SENTENCES[code]:
            assert detect_language(ascii_fold(text)) == code, ascii_fold(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Danke!",
        "ok thanks 👍",
        "Gracias, muy bien",  # 17 characters
        "   Merci beaucoup !   ",  # short once stripped
        "x" * (MIN_DETECT_CHARS - 1),
    ],
)
def test_short_texts_are_not_detected(text):
    assert len(text.strip()) < MIN_DETECT_CHARS
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Order #123456789 / 987654321 !!!",  # long enough, but no language in it
        "😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡",
        "It's order 646946. 🙂 🙂 🙂",  # lingua says German at 0.17
        "My email is jane.martinez75@example.com.",  # Romanian to low accuracy
    ],
)
def test_texts_with_too_little_language_are_not_detected(text):
    assert len(text.strip()) >= MIN_DETECT_CHARS
    assert detect_language(text) is None


def test_placeholders_leave_a_few_words_to_their_own_language():
    # Three German words once redaction's placeholders are gone: German, or no answer, but
    # never English (the placeholders' words) or another language.
    assert detect_language("Meine E-Mail ist [EMAIL]. Telefon: [PHONE]") in ("de", None)


def test_redaction_placeholders_do_not_make_a_text_english():
    text = "Bitte schicken Sie die Rechnung an [ADDRESS] oder rufen Sie [PHONE] an."
    assert detect_language(text) == "de"
    assert not _looks_english("Telefon [PHONE], Karte [CARD], Adresse [ADDRESS] Berlin")


def test_an_english_sentence_with_a_foreign_address_is_english():
    text = "I tried that and it still isn't working. Please send it to Schillerstraße 30, München."
    assert _looks_english(text)
    assert detect_language(text) == "en"


def test_only_the_head_of_a_long_text_is_read():
    english = "My order arrived late and the box was damaged, I want my money back. " * 5
    german = "Meine Bestellung ist immer noch nicht angekommen und niemand antwortet. " * 20
    assert detect_language(english + german) == "en"
    assert detect_language(german + english) == "de"


def test_detect_many_is_detect_language_over_texts():
    texts = [text for texts in SENTENCES.values() for text in texts] + ["", "ok", "Danke!"]
    assert detect_many(texts) == [detect_language(text) for text in texts]
    assert detect_many([]) == []


def test_every_detected_code_is_a_lowercase_primary_subtag():
    assert len(set(LANGUAGES.values())) == len(LANGUAGES)
    assert all(code.isascii() and code.isalpha() and code.islower() for code in LANGUAGES.values())
    # Comprehend's sentiment languages are all candidates (zh-TW is zh's other script).
    assert {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh"} <= set(
        LANGUAGES.values()
    )


def test_the_detectors_are_built_on_first_use_not_at_import():
    code = (
        "import orchestration.text.language as m\n"
        "assert m._detectors.cache_info().currsize == 0\n"
        "m.normalize_language('en-US'); m.detect_language('ok thanks, all good now 👍')\n"
        "assert m._detectors.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _detectors() is _detectors()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-US", "en"),
        ("EN", "en"),
        ("en_GB", "en"),
        (" de-DE ", "de"),
        ("pt_BR", "pt"),
        ("pt-PT", "pt"),
        ("es-419", "es"),
        ("fr-CA", "fr"),
        ("zh-TW", "zh-TW"),
        ("zh_tw", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"),
        ("zh-Hans-TW", "zh"),
        ("zh-CN", "zh"),
        ("zh-Hans", "zh"),
        ("ZH", "zh"),
        ("zho", "zh"),
        ("deu", "de"),
        ("ger", "de"),
        ("eng", "en"),
        ("fil", "fil"),  # no two-letter code: the three-letter one stays
        ("iw", "he"),
        ("in", "id"),
        ("no", "nb"),  # lingua's Norwegian is Bokmål
        ("German", "de"),
        ("portuguese", "pt"),
        ("", None),
        ("   ", None),
        (None, None),
        ("und", None),
        ("mul", None),
        ("12", None),
        ("x-klingon", None),
        ("not a language", None),
    ],
)
def test_normalize_language(code, expected):
    assert normalize_language(code) == expected


def test_detection_and_normalization_agree_on_codes():
    for language, code in LANGUAGES.items():
        assert normalize_language(code) == code
        assert normalize_language(code.upper() + "-XX") == code
        assert normalize_language(language.iso_code_639_3.name) == code


# --- the generated sample -------------------------------------------------------------------


def sample_texts(messages: int) -> dict[str, str]:
    """Distinct cleaned texts of the generated sample and the language they were written in."""
    planted: dict = {}
    try:
        lines = iter_sample_lines(messages, planted=planted)
    except TypeError:  # a generator that tags every message with attributes.lang
        lines = iter_sample_lines(messages)
    texts: dict[str, str] = {}
    for line in lines:
        try:
            record = json.loads(line)
            attributes = record["attributes"]
            body = attributes.get("body", attributes.get("preview"))
            text = clean_text(body, attributes["channel"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # the sample's malformed lines
        language = attributes.get("lang") or planted.get("language", {}).get(record["id"])
        if language and len(text.strip()) >= MIN_DETECT_CHARS:
            texts.setdefault(text, language)
    return texts


@pytest.fixture(scope="module")
def sample():
    texts = sample_texts(20_000)
    return texts, dict(zip(texts, detect_many(list(texts)), strict=True))


def test_the_generated_sample_is_detected_in_its_languages(sample):
    truth, detected = sample
    outcome = Counter(
        "right" if detected[t] == lang else "none" if detected[t] is None else "wrong"
        for t, lang in truth.items()
    )
    n = len(truth)
    assert n > 8_000 and len(set(truth.values())) >= 5
    # Measured on 20,000 messages (10,500 texts) of seeds 7, 1, 2, 3: 99.1-99.4% right, 0-2
    # wrong; the rest None (too little language: "C'est la commande 653994."). With ten
    # languages in the high-accuracy detector, seed 7: 10,363 of 10,440 right, 0 wrong.
    assert outcome["right"] / n >= 0.985, outcome
    assert outcome["wrong"] / n <= 0.001, outcome
    for language in set(truth.values()):
        texts = [t for t, lang in truth.items() if lang == language]
        right = sum(detected[t] == language for t in texts)
        # Measured 0.90 (French: short texts without an answer, which take their
        # conversation's language) to 1.0; a language confused with another falls far below.
        assert right / len(texts) >= 0.9, (language, right, len(texts))


def test_the_english_fast_path_never_answers_for_another_language_of_the_sample(sample):
    truth, _ = sample
    fast = Counter(lang for t, lang in truth.items() if _looks_english(t))
    assert set(fast) == {"en"}, fast
    # It must answer for most English texts, or it saves no time.
    english = sum(lang == "en" for lang in truth.values())
    assert fast["en"] / english >= 0.9


# --- real data beside the checkout ----------------------------------------------------------


@pytest.mark.skipif(
    not GERMEVAL.exists(),
    reason=f"real data not found at {GERMEVAL} (../shared/data is beside the checkout in CI)",
)
def test_german_customer_feedback_is_detected_as_german():
    with GERMEVAL.open(newline="", encoding="utf-8") as handle:
        texts = {clean_text(row["text"], "twitter") for row in csv.DictReader(handle)}
    texts = [text for text in texts if len(text.strip()) >= MIN_DETECT_CHARS]
    detected = Counter(detect_many(texts))
    # Measured 2,293 of 2,307 (99.4%): 8 None, 6 wrong, of which 5 are English-language
    # texts in the data ("-Article: Deutsche Bahn (DB) will sell a minority ...").
    assert len(texts) > 2_000
    assert detected["de"] / len(texts) >= 0.98, detected
    assert detected["en"] / len(texts) <= 0.005, detected
    assert not any(_looks_english(text) and "Hello" not in text for text in texts)


@pytest.mark.skipif(
    not AIRLINE.exists(),
    reason=f"real data not found at {AIRLINE} (../shared/data is beside the checkout in CI)",
)
def test_english_airline_tweets_are_detected_as_english():
    with AIRLINE.open(newline="", encoding="utf-8") as handle:
        texts = {clean_text(row["text"], "twitter") for row in csv.DictReader(handle)}
    texts = [text for text in texts if len(text.strip()) >= MIN_DETECT_CHARS]
    detected = Counter(detect_many(texts))
    # Measured 13,574 of 13,761 (98.6%): 181 None, 6 wrong ("wjere is our luggage #so slow
    # at lax" as German). Short, hashtag-laden tweets are the hardest English there is.
    assert detected["en"] / len(texts) >= 0.975, detected
    assert (len(texts) - detected["en"] - detected[None]) / len(texts) <= 0.001, detected
