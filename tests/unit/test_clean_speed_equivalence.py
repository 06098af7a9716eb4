"""The fast ``strip_email_history`` and ``html_to_text`` give the same text as the slow ones.

Both are written for speed: e-mail history is cut at lines found by one search over the whole
text (``_CUT_CANDIDATE``) instead of every pattern on every line, and the XPaths that drop
quoted HTML only run the steps whose tags or names occur in the HTML. The references here are
the straightforward versions: every pattern on every line (with the window of following
non-blank lines built by slicing), and the full XPaths (Outlook's history cut with a sentinel
instead of by walking the tree). The output must stay equal to them on the generated sample,
on hand-written edge cases and on random mixes of tricky lines. They use the module's own
patterns (and the union of all its XPath steps), so a pattern added there is checked against
the fast path too: a screen that misses a line some pattern cuts at fails here.
"""

from __future__ import annotations

import json
import random

import pytest

from orchestration.sample.generator import iter_sample_lines
from orchestration.text import clean
from orchestration.text.clean import (
    _BLOCK_TAGS,
    _HISTORY_PATHS,
    _LINE_PATTERNS,
    _QUOTED_PATHS,
    _WINDOW_PATTERNS,
    clean_text,
    html_to_text,
    looks_like_html,
    strip_email_history,
)

# --- the reference: every check everywhere ---------------------------------------------------

_QUOTED_XPATH = "|".join(path for path, _ in _QUOTED_PATHS)
_HISTORY_XPATH = "|".join(path for path, _ in _HISTORY_PATHS)
_SENTINEL = "\ue000history starts here\ue000"


def reference_html_to_text(html: str) -> str:
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return clean._html_to_text_with_beautifulsoup(html)
    for element in root.xpath(_QUOTED_XPATH):
        element.drop_tree()  # keeps the text that follows the element (its tail)
    starts = root.xpath(_HISTORY_XPATH)
    if starts:  # everything from the first one on is history: mark it, cut the text there
        starts[0].clear()
        starts[0].text = _SENTINEL
    for element in root.iter(*_BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    return root.text_content().split(_SENTINEL)[0]


def same_html_text(fast: str, reference: str) -> bool:
    """Equal but for line breaks at the end (the fast cut leaves its ancestors' breaks)."""
    return fast.rstrip("\n") == reference.rstrip("\n")


def _reference_window(lines: list[str], index: int) -> str:
    following = [line.strip() for line in lines[index + 1 : index + 1 + clean._WINDOW_LOOKAHEAD]]
    parts = [lines[index].strip()] + [line for line in following if line]
    return clean._SPACES.sub(" ", "\n".join(parts[: clean._LINE_BREAKS_IN_HEADER + 1]))


def reference_strip_email_history(text: str) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    cut = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        window = _reference_window(lines, index)
        if any(p.match(line) for p in _LINE_PATTERNS) or any(
            p.match(window) for p in _WINDOW_PATTERNS
        ):
            cut = True
            break
        kept.append(line)
    if cut:  # a rule line ("_____") just before the cut goes with it
        nonblank = [i for i, line in enumerate(kept) if line.strip()]
        if nonblank and clean._RULE_LINE.match(kept[nonblank[-1]]):
            kept = kept[: nonblank[-1]]
    return "\n".join(kept)


def reference_clean_text(body: str | None, channel: str) -> str:
    """``clean_text`` with the reference parts (its own code did not change)."""
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if looks_like_html(text):
        text = reference_html_to_text(text)
    text = reference_strip_email_history(text)
    text = clean._URL.sub("", text)
    text = clean._SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return clean._BLANK_LINES.sub("\n\n", text).strip()


# --- inputs ----------------------------------------------------------------------------------


def _sample_email_bodies() -> list[str]:
    bodies = []
    for line in iter_sample_lines(3_000, seed=11):
        try:
            attributes = json.loads(line)["attributes"]
        except (ValueError, KeyError, TypeError):
            continue  # the sample's malformed lines
        if isinstance(attributes, dict) and attributes.get("channel") == "email":
            for key in ("body", "preview"):
                if isinstance(attributes.get(key), str):
                    bodies.append(attributes[key])
    return bodies


TRICKY_TEXTS = [
    "",
    "\n",
    "Just one line",
    # Gmail / Apple Mail headers, on one line and wrapped over two.
    "Still broken.\n\nOn Mon, Jan 5, 2026 at 10:02 AM Acme Support\n<s@acme.example> wrote:\n> fixed it",
    "Still broken.\nOn Mon, Jan 5, 2026 at 10:02 AM Acme <s@acme.example> wrote:\n> old",
    "Hi\nOn Mon, Jan 5 Acme\n> <s@acme.example> wrote:\nmore",  # the next line is a "> " line
    "Hi\nOn Mon, Jan 5 Acme\n\nwrote:\nmore",
    "Hi\non monday it broke\nand you wrote: nothing\nkept",
    "Hi\nOn the other hand it works.\nThanks",
    "Hi\nOnce more it broke\nsomeone wrote:",
    "Hi\nONE wrote:\nkept?",
    "Hi\nON MON, JAN 5 X WROTE:\nold",
    "Hi\nOn " + "x" * 250 + " wrote:\nold",
    "Hi\nOn Mon\n" + "y" * 130 + "wrote:\nold",
    "Hi\nOn",
    "On Mon X wrote:",
    # Outlook blocks, and From: lines that are not one.
    "Hi\nFrom: Acme\nSent: Monday\nTo: me\nSubject: x\nold",
    "Hi\n________________________________\nFrom: Acme <s@acme.example>\nSent: Monday\nTo: me",
    "Hi\nFrom: Acme\nDate: Monday\nold",
    "Hi\nFrom: Acme\nSubject: x\n\n\n\nTo: me",  # To: only in the fifth line after it
    "Hi\nFrom: Acme\nSubject: x\n\n\n\n\nTo: me",  # ... and out of reach
    "From: my side all is fine",
    "From: my side all is fine\nThanks",
    "From:Acme\nSent: x",
    "from: acme\nsent: x",
    "Hi\nFrom: \nSent: x",
    "Hi\nFROM: Acme\nTO: me",
    "> From: Acme\nSent: x\nmine",
    "-----Original Message-----\nFrom: x",
    "Hi\n  -- Original Message --\nold",
    "Hi\n---------- Forwarded message ---------\nFrom: x",
    "Hi\nBegin forwarded message:\n\nFrom: x",
    "Hi\n  begin FORWARDED message: x",
    # Signature separators and device footers.
    "Hi\n--\nJane",
    "Hi\n-- \nJane",
    "Hi\n---\nJane",
    "Hi\n--x\nJane",
    "Hi\n --\nJane",
    "Hi\n--\t\nJane",
    "Hi\n--\u00a0\nJane",
    "Hi\nSent from my iPhone",
    "Hi\n  sent FROM my Galaxy",
    "Hi\nSent from my \nx",
    "Hi\nSent from my phone, sorry for typos",
    "Hi\nGet Outlook for iOS<https://aka.ms/o0ukef>",
    "Hi\nGet Outlook for \nx",
    "Hi\n\u017fent from my iPhone",  # long s: case-insensitive "s"
    "Hi\nGet Outloo\u212a for Android",  # Kelvin sign: case-insensitive "k"
    # Leading whitespace other than spaces.
    "Hi\n\u00a0On Mon, Jan 5 X wrote:\nold",
    "Hi\n\tOn Mon, Jan 5 X wrote:\nold",
    "Hi\n\u2003\u3000From: Acme\nSent: x",
    "Hi\n\x0b\x0cSent from my iPhone",
    "Hi\n\x1c\x1d\x1e\x1f\x85On Mon X wrote:\nold",
    "Hi\n\u2028On Mon X wrote:\nold",
    "Hi\n\u00a0\u00a0-- Original Message --\nold",
    "Hi\n\u00a0--\nJane",
    "Hi\n\u00a0> quoted\nmine",
    "Hi\n\t>On Mon X wrote:\nmine\n--\nsig",
    # Quoted lines, a quoted header among them.
    "Yes\n> On Mon, Jan 5 X wrote:\n> > old\nmine\n>\nmore mine",
    ">only quoted",
    "a > b\n>> c\n  > d\ne",
    # Headers in other languages, one line, wrapped, with no-break spaces, and near misses.
    "Hallo\nAm 5. Jan. 2026 um 10:02 schrieb Acme <s@acme.example>:\n> alt",
    "Hallo\nAm Mo., 5. Jan. 2026 um 10:02 Uhr schrieb Hans M\u00fcller <\nhans@example.com>:\n> alt",
    "Hallo\nAm Montag schrieb ich Ihnen:\nmehr",  # no date: the library's pattern cuts it
    "Hallo\nAm Montag kam nichts an.\nGru\u00df",
    "Bonjour\nLe 5 janv. 2026 \u00e0 10:02, Acme <s@acme.example> a \u00e9crit :\n> ancien",
    "Bonjour\nLe lun. 5 janv. 2026 \u00e0 10:02, Michelle Durand <m@example.com> a \u00e9crit :",
    "Bonjour\nLe lun. 5 janv. 2026 \u00e0 10:02, Marie <\nm@example.com> a\u00a0\u00e9crit\u00a0:",
    "Bonjour\nLe colis a \u00e9crit :\nrien",
    "Bonjour\nLe livreur est venu le 5.\nMerci",
    "Hola\nEl 5 ene 2026, a las 10:02, Acme escribi\u00f3:\n> viejo",
    "Hola\nEl lun, 5 ene 2026 a las 10:02, Ana (<\na@example.com>) escribi\u00f3:\n> viejo",
    "Hola\nEl t\u00e9cnico escribi\u00f3:\nnada",  # no date: kept
    "Hola\nEl 5 de enero\n\n\nlleg\u00f3 roto\n\nescribi\u00f3:",
    "Hi\nOn Mon, Jan 5, 2026 at 10:02 AM Jane\nRoe <\njane@example.com> wrote:\nold",
    "Hi\nOn 5 Jan\n\n\n\n\n\n\n\n\nwrote:",  # the verb is out of the window's reach
    "Hi\nOn Monday I called and I wrote to you " + "again and " * 40 + "wrote:",  # too long
    "Hallo\nVon: Acme\nGesendet: Montag\nAn: mich",
    "Bonjour\nDe : Acme\nEnvoy\u00e9 : lundi\n\u00c0 : moi",
    "Bonjour\nDe\u00a0: Acme\nEnvoy\u00e9\u00a0: lundi",
    "Bonjour\nDe: Acme\nEnvoy\u00e9: lundi\nObjet: x",
    "Hola\nDe: Acme\nEnviado: lunes\nPara: m\u00ed\nAsunto: x",
    "Hola\nDe nada.\nEnviado: ayer",
    "Hi\n*From:* Acme\n\n*Sent:* Monday",
    "Hi\nFrom: Acme\n\n\nSent: Monday",
    "Hi\nSent: Monday\nTo: me",  # a block must start with its sender
    "Hallo\nOn Mon X schrieb:\n-- \nGru\u00df",
    # Forward markers.
    "Voir\n-------- Message transf\u00e9r\u00e9 --------\nDe : x",
    "Siehe\n---------- Weitergeleitete Nachricht ----------\nVon: x",
    "Mira\nMensaje reenviado\nDe: x",
    "Mira\n---------- Mensaje reenviado ---------",
    "Hi\n-----Urspr\u00fcngliche Nachricht-----\nVon: x",
    "Hi\n-----Message d'origine-----",
    "Hi\nD\u00e9but du message r\u00e9exp\u00e9di\u00e9 :\n\nDe: x",
    "Hi\nAnfang der weitergeleiteten Nachricht:\nx",
    "Hi\nInicio del mensaje reenviado:\nx",
    "Hi\nThe original message was lost",
    # Device footers, localized, and lines that only start like one.
    "Salut\nEnvoy\u00e9 de mon iPhone",
    "Hallo\nVon meinem iPhone gesendet",
    "Hallo\nVon meinem Konto wurde zweimal abgebucht, bitte pr\u00fcfen Sie das.",
    "Hallo\nGesendet von meinem iPad",
    "Hallo\nGesendet mit der WEB.DE Mail App",
    "Hola\nEnviado desde mi iPhone",
    "Hola\nEnviado desde mi",
    "Hi\nSent from my iPhone and I am " + "really " * 20 + "angry",  # too long for a footer
    "Hi\nSent from Mail for Windows",
    "Hi\nT\u00e9l\u00e9charger Outlook pour iOS",
    "Hi\nObtener Outlook para Android",
    "Hi\nOutlook f\u00fcr iOS herunterladen",
    # Disclaimers, and customer sentences near them.
    "Hi\nCONFIDENTIALITY NOTICE: This email and any attachments are confidential.",
    "Hi\n\nThis email and any files transmitted with it are confidential and intended solely",
    "Hi\nThis email is my third request.",
    "Hi\nThe information contained in this email is confidential.",
    "Hi\nThe information you gave me was wrong.",
    "Hi\nIf you have received this email in error, please notify the sender.",
    "Hi\nIf you can, call me.",
    "Hi\nDISCLAIMER: x",
    "Hi\nPlease consider the environment before printing this email.",
    "Salut\nCe message et toutes les pi\u00e8ces jointes sont confidentiels.",
    "Salut\nCe colis est arriv\u00e9 cass\u00e9.",
    "Salut\nAVIS DE CONFIDENTIALIT\u00c9 : x",
    "Hallo\nDiese E-Mail enth\u00e4lt vertrauliche Informationen.",
    "Hallo\nDiese Bestellung ist kaputt.",
    "Hola\nEste mensaje y sus adjuntos son confidenciales.",
    "Hola\nEste pedido lleg\u00f3 roto.",
    "Hola\nAVISO LEGAL: x",
    "Hola\nAntes de imprimir este mensaje, piense en el medio ambiente.",
    # Rule lines before a cut go, elsewhere they stay.
    "Hi\n________________________________\nFrom: Acme\nSent: Monday",
    "Hi\n-----\n\n\nSent from my iPhone",
    "Hi\n=====\n> quoted\n\nOn Mon X wrote:",
    "Hi\n-----\nmore\nSent from my iPhone",
    "Hi\n_____\nno cut after",
    # CRLF and lone CR (strip_email_history sees them as written; clean_text converts them).
    "Hi\r\nOn Mon, Jan 5 X wrote:\r\n> old",
    "Hi\r\nOn Mon, Jan 5 X\r\nwrote:\r\n> old",
    "Hi\r\n--\r\nJane",
    "Hi\r\nFrom: Acme\r\nSent: x",
    "Hi\rOn Mon X wrote:\rold",
    "\n\n\nOn Mon X wrote:",
]

TRICKY_HTML = [
    "<html><body><p>My order never arrived!</p>"
    "<blockquote>On Mon X wrote: old</blockquote>tail</body></html>",
    "<html><body><p>Still broken</p><BLOCKQUOTE>old</BLOCKQUOTE><P>Tail</P></body></html>",
    '<html><body><p>Hi</p><div class="gmail_quote"><div dir="ltr">On Mon X wrote:</div>'
    '<blockquote class="gmail_quote">old</blockquote></div></body></html>',
    '<div class=" x  gmail_quote\ty">quoted</div>after',
    '<div class="gmail_quote_x">not a token</div>kept',
    '<span class="gmail_quote">a span is kept</span>',
    '<div class="gmail&#95;quote">quoted</div>after',
    '<div class="gmail&#x5F;quote">quoted</div>after',
    '<div class="gmail&lowbar;quote">quoted</div>after',
    '<div class="gmail&UnderBar;quote">quoted</div>after',
    '<div id="append&#111;nsend">quoted</div>after',
    '<div class="yahoo_quoted">old</div>new',
    '<p>Hi</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: x</div>old',
    '<p>Hi</p><div id="DIVRPLYFWDMSG">case matters in ids</div>',
    # Outlook: everything from the first history element on is cut, at any depth.
    '<div><p>Hi</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Acme'
    "<br><b>Sent:</b> Monday</div><div>quoted<br>body</div></div><p>after</p>tail",
    '<blockquote><div id="divRplyFwdMsg">inside a quote</div></blockquote><p>kept</p>',
    '<p>Hi <span id="divRplyFwdMsg">x</span> tail text</p><p>more</p>',
    '<p>Hi</p><div id="mail-editor-reference-message-container"><div>From: x</div>old</div>z',
    '<p>Hi</p><div id="divRplyFwdMsg">a</div><div id="appendonsend">b</div>c',
    '<table><tr><td>Hi<div id="appendonsend"></div></td><td>old</td></tr></table>end',
    "<html><head><title>Re: order</title></head><body><p>Hi</p></body></html>",
    "<html><HEAD><TITLE>Re: order</TITLE></HEAD><body><p>Hi</p></body></html>",
    "<html><title>An implied head</title><body>Hi</body></html>",
    "<title>t</title>Hi",
    '<meta charset="utf-8"><p>Hi</p>',
    '<link rel="x"><p>Hi</p>',
    '<base href="x"><p>Hi</p>',
    "<p>Hi<title>late title</title> there</p>",
    "<script>var x = 1;</script><p>Hi</p><style>p {}</style>",
    "<p>Hi</p><script>late</script>tail",
    "<html><body><p>No markers at all</p><div>Just <b>text</b><br>Ann</div></body></html>",
    "<html><body><p>Fish &amp; chips &lt;3 &#8212; &#39;ok&#39;</p></body></html>",
    "<div>&lt;blockquote&gt; as text</div>",
    "<p>Hi</p><header>a header, not a head</header>",
    "<html><!-- nothing --></html>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>So angry!</p></body></html>',
    "<p>one</p>\r\n<p>two</p>",
    "",
]


def _random_texts(count: int, seed: int) -> list[str]:
    """Random mixes of the tricky lines, so that headers meet each other in every order."""
    lines = sorted({line for text in TRICKY_TEXTS for line in text.split("\n")})
    prefixes = ["", " ", "\t", "\u00a0", "\u2003", "> ", ">", "\x0c"]
    rng = random.Random(seed)
    return [
        "\n".join(
            rng.choice(prefixes) + rng.choice(lines) if rng.random() < 0.3 else rng.choice(lines)
            for _ in range(rng.randint(1, 12))
        )
        for _ in range(count)
    ]


def _random_html(count: int, seed: int) -> list[str]:
    pieces = sorted(set(TRICKY_HTML)) + ["<p>", "</p>", "<div>", "</div>", "text ", "<br>"]
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(count)]


# --- the checks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_bodies() -> list[str]:
    bodies = _sample_email_bodies()
    assert len(bodies) > 1000 and sum(map(looks_like_html, bodies)) > 500
    return bodies


def test_sample_emails_clean_to_the_same_text(sample_bodies):
    for body in sample_bodies:
        assert clean_text(body, "email") == reference_clean_text(body, "email"), body
        text = body.replace("\r\n", "\n").replace("\r", "\n")
        assert strip_email_history(text) == reference_strip_email_history(text), text
        if looks_like_html(text):
            assert same_html_text(html_to_text(text), reference_html_to_text(text)), text


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_tricky_texts_strip_the_same(text):
    assert strip_email_history(text) == reference_strip_email_history(text)
    assert clean_text(text, "email") == reference_clean_text(text, "email")


def test_random_mixes_of_tricky_lines_strip_the_same():
    for text in _random_texts(3_000, seed=11):
        assert strip_email_history(text) == reference_strip_email_history(text), text


@pytest.mark.parametrize("html", TRICKY_HTML)
def test_tricky_html_gives_the_same_text(html):
    assert same_html_text(html_to_text(html), reference_html_to_text(html))
    assert clean_text(html, "email") == reference_clean_text(html, "email")


def test_random_mixes_of_tricky_html_give_the_same_text():
    for html in _random_html(1_000, seed=11):
        assert same_html_text(html_to_text(html), reference_html_to_text(html)), html


def test_the_tricky_cases_do_cut_and_drop():
    """The edge cases above reach the cuts and drops they are meant to test."""
    assert strip_email_history("Hi\n\u00a0On Mon, Jan 5 X wrote:\nold") == "Hi"
    assert strip_email_history("Hi\nOn Mon, Jan 5 Acme\n> <s@acme.example> wrote:\nmore") == "Hi"
    assert strip_email_history("Hi\n-- \nJane") == "Hi"
    assert strip_email_history("Hi\n --\nJane") == "Hi\n --\nJane"
    assert strip_email_history("Hi\n---\nJane") == "Hi\n---\nJane"
    assert strip_email_history("Hi\nFrom: Acme\nSubject: x\n\n\n\n\nTo: me") == "Hi"
    assert strip_email_history("Hi\nFrom: Acme\n" + "\n" * 9 + "Sent: x").endswith("Sent: x")
    german = "Hallo\nAm 5. Jan. 2026 um 10:02 schrieb Acme <s@acme.example>:\n> alt"
    assert strip_email_history(german) == "Hallo"
    for text in (
        "Bonjour\nLe lun. 5 janv. 2026 \u00e0 10:02, Marie <\nm@example.com> a\u00a0\u00e9crit\u00a0:",
        "Hola\nEl lun, 5 ene 2026 a las 10:02, Ana (<\na@example.com>) escribi\u00f3:\n> viejo",
        "Bonjour\nDe\u00a0: Acme\nEnvoy\u00e9\u00a0: lundi",
        "Hi\n________________________________\nFrom: Acme\nSent: Monday",
        "Hi\n=====\n> quoted\n\nOn Mon X wrote:",
    ):
        assert strip_email_history(text).strip() == text.split("\n")[0], text
    for text in (
        "Hola\nEl t\u00e9cnico escribi\u00f3:\nnada",
        "Hallo\nVon meinem Konto wurde zweimal abgebucht, bitte pr\u00fcfen Sie das.",
        "Hi\nOn Monday I called and I wrote to you "
        + "again and " * 40
        + "wrote:",  # 450 characters: no header
        "Hi\nThe information you gave me was wrong.",
        "Hi\nSent: Monday\nTo: me",
        "Hi\n_____\nno cut after",
    ):
        assert strip_email_history(text) == text
    assert html_to_text("<title>t</title>Hi").strip() == "Hi"
    assert "quoted" not in html_to_text('<div class="gmail&lowbar;quote">quoted</div>after')
    assert html_to_text("<p>Hi<BLOCKQUOTE>old</BLOCKQUOTE></p>").strip() == "Hi"
    outlook = '<p>Hi</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: x</div>old'
    assert html_to_text(outlook).strip() == "Hi"
