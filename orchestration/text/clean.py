"""Cleaning, per channel, so that engines score what the customer wrote now.

Emails lose their HTML, their quoted earlier thread (replies and forwards), their signature,
device footer and legal disclaimer, written in English, French, German or Spanish; chat, SMS
and social texts lose @mentions and URLs (which carry no sentiment and sway lexicon engines);
emoji stay.
"""

from __future__ import annotations

import functools
import hashlib
import re

from mailparser_reply.constants import MAIL_LANGUAGES

EMAIL_CHANNELS = frozenset({"email"})

_HTML_TAG = re.compile(
    r"<\s*(html|body|div|p|br|span|table|blockquote|a|b|i|strong|em|font)\b", re.I
)
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "table")

# --- E-mail history, signatures and disclaimers -------------------------------------------
#
# The new part of an e-mail ends at the first line that starts the earlier thread (a reply
# header, an Outlook header block, a forward marker) or a signature, device footer or legal
# disclaimer. ``>`` lines are dropped wherever they are (the customer may answer between them).
#
# mail-parser-reply (``mailparser_reply``) keeps the per-language patterns for reply headers,
# Outlook header blocks and device footers; they are used below, each line-wise on the few
# lines the candidate screen finds. Its parser itself is not run: it costs ~100 µs per e-mail
# (every pattern over the whole text, each time rebuilt), which would more than double the
# cleaning time of a million messages, and its reply/signature split does not fit here: it
# cuts at hyphen lists ("- the box was wet") and at any line starting with "Thanks," or
# "Best," (sign-offs the customer wrote now are kept here), its disclaimer patterns want the
# word "mail" and catch no "CONFIDENTIALITY NOTICE:", and when the text starts with a header
# its "latest reply" is the quoted one. What it lacks is written by hand below, each piece
# saying which gap it fills.
_LANGUAGES = ("en", "fr", "de", "es")
_LINE_BREAKS_IN_HEADER = 2  # Gmail wraps a long header once; allow one more for long names
_WINDOW_LOOKAHEAD = 8  # lines scanned for the window's next non-blank lines (HTML adds blanks)


def _library_pattern(language: str, key: str) -> str:
    return MAIL_LANGUAGES[language][key]


# Reply headers ("On Mon, Jan 5, 2026 at 10:02 AM Jane <j@example.com> wrote:"), matched on a
# window of the line and its next non-blank lines. The library's English and German patterns
# allow a line break (Gmail's wrapping), its French one does not. Each runs behind a guard: its
# verb and the colon that ends a header, within lines of at most 300 characters. The patterns
# have lazy `.+?` pairs (and French and German a `.*` lookahead) that backtrack quadratically
# on a long line that starts with "On", "Le" or "Am" and is no header (10 ms for a line of
# 1,000 characters); the guard fails such lines in a linear scan, and bounds the rest.
_HEADER_LINE = r"[^\n]{0,300}"
_LIBRARY_REPLY_HEADERS = tuple(
    re.compile(
        rf"(?={guard})(?:{_library_pattern(language, 'wrote_header')})",
        re.I | re.M,
    )
    for language, guard in (
        ("en", rf"(?:{_HEADER_LINE}\n)?{_HEADER_LINE}wrote:$"),
        (
            "de",
            rf"(?:{_HEADER_LINE}\n)?{_HEADER_LINE}schrieb\s(?:{_HEADER_LINE}\n)?{_HEADER_LINE}:$",
        ),
        ("fr", rf"{_HEADER_LINE}a \u00e9crit{_HEADER_LINE}:$"),
    )
)
# Written by hand: the library's Spanish pattern never matches an unquoted header (its
# negative lookahead is the pattern itself, and it wants two spaces before "escribió"); its
# French one fails when a name holds "le " ("Michelle Durand", "Service Clientèle <…>": the
# lookahead `Le.*Le\s…` rejects the header) and on a Gmail header wrapped over two lines. This
# pattern takes all four languages: the opening word, a date (a digit) on the first line, and
# the verb and its colon at the end of that line or of one of the next two.
_REPLY_HEADER = re.compile(
    r"(?:On|Le|Am|El)\s(?=[^\n]*\d)"
    rf"(?:[^\n]*\n){{0,{_LINE_BREAKS_IN_HEADER}}}"
    r"[^\n]*(?:\b(?:wrote|a\s+\u00e9crit|escribi\u00f3)\s*:|\bschrieb\b(?:[^\n]*\n)?[^\n]*:)"
    r"[^\S\n]*$",
    re.I | re.M,
)
# Outlook header blocks (From:/Sent:/To:/Subject:, De :/Envoyé :/À :/Objet :, Von:/Gesendet:/
# An:/Betreff:, De:/Enviado:/Para:/Asunto:): the library wants two header lines in a row. Its
# patterns accept a block that starts with any header; the lookahead keeps blocks that start
# with the sender, as every client writes them (a "Date: …" line alone stays customer text).
_OUTLOOK_BLOCK = re.compile(
    r"(?=[* ]*(?:From|De|Von)\b)(?:"
    + "|".join(_library_pattern(language, "from_header") for language in _LANGUAGES)
    + ")",
    re.I | re.M,
)
# Written by hand: the library's French block wants the space French puts before a colon
# ("De : …"); Outlook in French also writes "De: …" / "Envoyé: …", which no language matches.
_FRENCH_OUTLOOK_BLOCK = re.compile(
    r"[* ]*De[* ]*:[^\n]*\n[* ]*(?:Envoy\u00e9|Date|\u00c0|A|Objet|Cc)[* ]*:", re.I
)
# Checked on the window: the line, stripped, and its next non-blank lines, each stripped, with
# runs of spaces (no-break spaces included: French Outlook writes "De\u00a0:") made one space.
_WINDOW_PATTERNS = (*_LIBRARY_REPLY_HEADERS, _REPLY_HEADER, _OUTLOOK_BLOCK, _FRENCH_OUTLOOK_BLOCK)

# Checked on the line as written. All written by hand: the library has no forward markers (its
# only separator is "-----Original Message-----", which the first pattern covers with the
# localized ones), no "-- " separator (its signature start also takes "- item" list lines),
# and no localized device footers but "Envoyé depuis", "Gesendet von", "Enviado desde mi".
_FORWARD_PHRASES = (
    r"Forwarded message|Original Message|Message transf\u00e9r\u00e9|Message d'origine"
    r"|Message original|Weitergeleitete Nachricht|Urspr\u00fcngliche Nachricht"
    r"|Original-Nachricht|Mensaje reenviado|Mensaje original"
)
_LINE_PATTERNS = (
    # "---------- Forwarded message ---------", "-----Original Message-----", their
    # translations, and a bare "Mensaje reenviado" line.
    re.compile(
        rf"\s*(?:-{{2,}}\s*(?:{_FORWARD_PHRASES})\s*-{{2,}}|(?:{_FORWARD_PHRASES})\s*:?\s*$)",
        re.I,
    ),
    # Apple Mail's forward, in English, French, German and Spanish.
    re.compile(
        r"\s*(?:Begin forwarded message|D\u00e9but du message r\u00e9exp\u00e9di\u00e9"
        r"|Anfang der weitergeleiteten (?:Nachricht|E-Mail)|Inicio del mensaje reenviado)\s*:",
        re.I,
    ),
    re.compile(r"--\s*$"),  # the signature separator "-- " (not indented: a customer's " --")
    # Device and app footers: the library's phrases, and the ones it lacks. A footer is short
    # and has a word after the phrase ("Sent from my iPhone", not "Sent from my" alone).
    re.compile(
        r"(?=[^\n]{0,100}$)\s*(?:(?:"
        + "|".join(_library_pattern(language, "sent_from") for language in _LANGUAGES)
        + r"|Envoy\u00e9 de mon|Sent from (?:Mail|Outlook|Yahoo Mail|Samsung|AOL)\b"
        r"|T\u00e9l\u00e9charger Outlook pour|Obtener Outlook para)[^\S\n]*\w"
        r"|Von meinem [^\n]{1,40}? gesendet\b|Gesendet mit der [^\n]{1,40}? App\b"
        r"|Outlook f\u00fcr [^\n]{1,20}? herunterladen\b)",
        re.I,
    ),
    # Legal disclaimers and printing footers, in the four languages, each cut with all that
    # follows (written by hand: see the library's disclaimers above).
    re.compile(
        r"\s*(?:"
        r"(?:CONFIDENTIALITY|CONFIDENTIAL|PRIVILEGED(?: AND CONFIDENTIAL)?|LEGAL)\s+"
        r"(?:NOTICE|NOTE|STATEMENT|DISCLAIMER|INFORMATION)\b"
        r"|CONFIDENTIALITY\s*:|DISCLAIMER\s*:"
        r"|This (?:e-?mail|message|communication|transmission)\b[^\n]{0,120}?"
        r"\b(?:is|are|may (?:be|contain)|contains?)\s+(?:strictly\s+)?"
        r"(?:confidential|privileged|intended (?:solely|only))"
        r"|The (?:information|contents?) (?:contained )?in this (?:e-?mail|message|communication)"
        r"|If you (?:are not the intended recipient|have received this (?:e-?mail|message) in error"
        r"|received this (?:e-?mail|message) in error)"
        r"|Please consider the environment before printing"
        r"|Cet? (?:message|courriel|e-?mail|mail)\b[^\n]{0,120}?\bconfidentiel"
        r"|(?:AVIS|CLAUSE|AVERTISSEMENT) DE CONFIDENTIALIT\u00c9"
        r"|(?:Merci de )?pens(?:er|ez) \u00e0 l.environnement"
        r"|Diese (?:E-?Mail|Nachricht)\b[^\n]{0,120}?\bvertraulich"
        r"|Vertraulichkeitshinweis|Haftungsausschluss\s*:|Bitte denken Sie an die Umwelt"
        r"|Este (?:mensaje|correo)\b[^\n]{0,120}?\bconfidencial"
        r"|AVISO (?:DE CONFIDENCIALIDAD|LEGAL)|CONFIDENCIALIDAD\s*:|Antes de imprimir"
        r")",
        re.I,
    ),
)
# Every line the patterns above could match (windows start with their line) starts, after
# whitespace and `*` (bold in text made from HTML), with one of these prefixes (same words,
# same flags, so the same case folding). One search over the whole text finds those few
# lines, and only they go through the exact checks: running all the patterns on every line
# was most of the cost of cleaning an e-mail. `[^\S\n]` is `\s` without the line break, so a
# match never runs into the next line. tests/unit/test_clean_speed_equivalence.py checks the
# screen against the patterns on every line.
_CUT_CANDIDATE = re.compile(
    r"^(?:[^\S\n]|\*)*(?:"
    r"On\b|Le\b|Am\b|El\b|From\b|De\b|Von\b|--"
    r"|Forwarded message|Original|Message\b|Weitergeleitete|Urspr\u00fcngliche|Mensaje\b"
    r"|Begin forwarded|D\u00e9but du message|Anfang der weitergeleiteten|Inicio del mensaje"
    r"|Sent from|Get Outlook|Envoy\u00e9 de|Gesendet von|Gesendet mit|Enviado desde"
    r"|T\u00e9l\u00e9charger Outlook|Outlook f\u00fcr|Obtener Outlook"
    r"|CONFIDENTIAL|PRIVILEGED|LEGAL\b|DISCLAIMER|This\b|The (?:information|content)|If you\b"
    r"|Please consider|Cet?\b|AVIS\b|CLAUSE\b|AVERTISSEMENT|Merci de|pens(?:er|ez)\b"
    r"|Diese\b|Vertraulichkeitshinweis|Haftungsausschluss|Bitte denken|Este\b|AVISO\b"
    r"|CONFIDENCIALIDAD|Antes de imprimir"
    r")",
    re.M | re.I,
)
# A rule line ("________________________________" over an Outlook header block, a line of
# dashes or equals signs) left just before the cut belongs to what is cut.
_RULE_LINE = re.compile(r"\s*[_=-]{3,}\s*$")
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_MENTION = re.compile(r"(?<!\w)@\w+")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text))


# Elements whose text is never the customer's new words: code, the head, and quoted history
# (<blockquote>, Gmail's and Yahoo's quote wrappers), each with the strings of which the
# lowercased HTML must hold one for the parsed tree to have such an element. libxml2 adds a
# <head> of its own around a <title>, <meta>, <link>, <base>, <script> or <style> that comes
# before the body, and an attribute value may spell a class or id with character references
# (`gmail&#95;quote`, `gmail&lowbar;quote`).
_REFERENCES = ("&#", "&lowbar", "&underbar")
_QUOTED_PATHS = (
    ("//script", ("<script",)),
    ("//style", ("<style",)),
    ("//head", ("<head", "<title", "<meta", "<link", "<base", "<script", "<style")),
    ("//blockquote", ("<blockquote",)),
    (
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
        ("gmail_quote", *_REFERENCES),
    ),
    (
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
        ("yahoo_quoted", *_REFERENCES),
    ),
)
# Elements from which on everything is history: Outlook marks where the quoted message starts
# (an empty <div id="appendonsend">, then <hr> and the From:/Sent: block in
# <div id="divRplyFwdMsg">) but leaves the quoted body in the <div>s after them, outside any
# wrapper; new Outlook puts the whole quoted message in one container. The first such element
# and everything after it in document order go.
_HISTORY_PATHS = (
    ("//*[@id='appendonsend']", ("appendonsend", *_REFERENCES)),
    ("//*[@id='divRplyFwdMsg']", ("divrplyfwdmsg", *_REFERENCES)),
    (
        "//*[@id='mail-editor-reference-message-container']",
        ("mail-editor-reference-message-container", *_REFERENCES),
    ),
)
_QUOTED_MARKERS = tuple(
    dict.fromkeys(m for _, markers in _QUOTED_PATHS + _HISTORY_PATHS for m in markers)
)
# One scan of the text finds which markers occur (a set comprehension of `in` tests took
# 10% of cleaning an HTML e-mail). No marker contains another or can overlap one, so
# non-overlapping matches find every marker present.
_QUOTED_MARKER_SEARCH = re.compile("|".join(map(re.escape, _QUOTED_MARKERS)))
_QUOTED_CSS = "script, style, head, blockquote, div.gmail_quote, div.yahoo_quoted"
_HISTORY_CSS = "#appendonsend, #divRplyFwdMsg, #mail-editor-reference-message-container"


@functools.cache
def _compiled_xpath(paths: tuple[str, ...]):
    import lxml.etree

    return lxml.etree.XPath("|".join(paths))


def _quoted_xpaths(html: str):
    """The XPaths that find the quoted and the history-start elements of ``html``.

    Each is None if ``html`` can have no such element. Each step of an XPath walks the whole
    tree, which made it 40% of the cost of ``html_to_text``: only the steps whose strings are
    in the HTML are evaluated (most e-mails need none, one or two). A union yields its nodes
    in document order, so the same elements are dropped in the same order as with every step.
    """
    found = set(_QUOTED_MARKER_SEARCH.findall(html.lower()))
    if not found:
        return None, None
    return tuple(
        _compiled_xpath(paths) if paths else None
        for paths in (
            tuple(path for path, markers in table if not found.isdisjoint(markers))
            for table in (_QUOTED_PATHS, _HISTORY_PATHS)
        )
    )


def _drop_from(element) -> None:
    """Remove ``element`` and everything after it in document order (lxml)."""
    node = element
    while (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)  # with its tail
        node.tail = None
        node = parent
    element.getparent().remove(element)


@functools.cache
def _html_parser():
    import lxml.etree

    return lxml.etree.HTMLParser()


@functools.cache
def _string_value():
    import lxml.etree

    # The text of every text node, as lxml.html's text_content() gives it.
    return lxml.etree.XPath("string()")


def _drop_keeping_tail(element) -> None:
    """Remove ``element`` but keep the text that follows it (its tail), as lxml.html's
    ``drop_tree`` does."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def html_to_text(html: str) -> str:
    """HTML to plain text, keeping paragraph breaks; quoted history is removed.

    lxml parses and walks the tree: on the sample's emails it is 18 times faster than
    BeautifulSoup with the same text after cleaning, and HTML parsing was the costliest part
    of scoring. The tree is lxml.etree's, not lxml.html's: the latter looks up a Python class
    for every element touched, a sixth of the cost. Input lxml refuses (an empty document, a
    str with an XML encoding declaration) goes through BeautifulSoup instead, which accepts
    anything.
    """
    import lxml.etree

    try:
        root = lxml.etree.fromstring(html, _html_parser())
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return _html_to_text_with_beautifulsoup(html)
    quoted, history = _quoted_xpaths(html)
    if quoted is not None:
        for element in quoted(root):
            _drop_keeping_tail(element)
    if history is not None:  # evaluated on what is left: one inside a dropped quote is gone
        starts = history(root)
        if starts:
            _drop_from(starts[0])
    for element in root.iter(*_BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    return str(_string_value()(root))


def _html_to_text_with_beautifulsoup(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for element in soup.select(_QUOTED_CSS):
        element.decompose()
    start = soup.select_one(_HISTORY_CSS)
    if start is not None:
        node = start
        while node.parent is not None:
            for sibling in list(node.next_siblings):
                sibling.extract()
            node = node.parent
        start.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


def _window(lines: list[str], index: int) -> str:
    """``lines[index]`` and the next non-blank lines after it, stripped, one space per run.

    Headers are read over line breaks: Gmail wraps long ones, and text made from HTML puts a
    blank line between the lines of an Outlook header block (each ``<br>`` is a break).
    """
    parts = [lines[index].strip()]
    stop = min(len(lines), index + 1 + _WINDOW_LOOKAHEAD)
    for following in range(index + 1, stop):
        line = lines[following].strip()
        if line:
            parts.append(line)
            if len(parts) > _LINE_BREAKS_IN_HEADER:
                break
    return _SPACES.sub(" ", "\n".join(parts))


def _is_cut_line(lines: list[str], index: int) -> bool:
    """Whether the new part of an e-mail ends before ``lines[index]`` (a header or signature)."""
    line = lines[index]
    if line.lstrip().startswith(">"):
        return False
    if any(pattern.match(line) for pattern in _LINE_PATTERNS):
        return True
    window = _window(lines, index)
    return any(pattern.match(window) for pattern in _WINDOW_PATTERNS)


def strip_email_history(text: str) -> str:
    """Cut quoted history (reply headers, header blocks, forwards), signature and disclaimer.

    The text is kept up to the first line that starts quoted history, a signature, a device
    footer or a disclaimer, without its ``>`` lines (and without a rule line just before the
    cut). Only the lines ``_CUT_CANDIDATE`` finds can be that first line.
    """
    lines = text.split("\n")
    cut = len(lines)
    index = position = 0
    for candidate in _CUT_CANDIDATE.finditer(text):
        index += text.count("\n", position, candidate.start())
        position = candidate.start()
        if _is_cut_line(lines, index):
            cut = index
            break
    kept = lines[:cut]
    if ">" in text:  # else no line starts with one, and the filter would keep every line
        kept = [line for line in kept if not line.lstrip().startswith(">")]
    if cut < len(lines):
        last = len(kept) - 1
        while last >= 0 and not kept[last].strip():
            last -= 1
        if last >= 0 and _RULE_LINE.match(kept[last]):
            del kept[last:]
    return "\n".join(kept)


def normalize_short_text(text: str) -> str:
    """Drop URLs and @mentions from chat, SMS and social texts; keep emoji."""
    return _MENTION.sub("", _URL.sub("", text))


def clean_text(body: str | None, channel: str) -> str:
    """The text an engine should score for a message body on a channel."""
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if looks_like_html(text):
        text = html_to_text(text)
    if channel in EMAIL_CHANNELS:
        text = strip_email_history(text)
        text = _URL.sub("", text)
    else:
        text = normalize_short_text(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def text_hash(cleaned_text: str, language: str | None, engine: str, engine_version: str) -> str:
    """The score cache key: the same text, language and engine is scored once."""
    key = "\x1f".join((engine, engine_version, language or "", cleaned_text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
