from orchestration.text.clean import clean_text, text_hash


def test_html_email_keeps_paragraphs_and_drops_quote_and_signature():
    body = (
        "<html><body><p>My order never arrived!</p><p>Please help.</p>"
        "<div>-- <br>Jane Doe<br>Sent from my iPhone</div>"
        "<blockquote>On Mon, Jan 5, 2026 at 10:02 AM Acme wrote: We are happy to help</blockquote>"
        "</body></html>"
    )
    assert clean_text(body, "email") == "My order never arrived!\n\nPlease help."


def test_plain_email_gmail_quote_over_two_lines_is_removed():
    body = "Still broken.\n\nOn Mon, Jan 5, 2026 at 10:02 AM Acme Support\n<s@acme.example> wrote:\n> fixed it"
    assert clean_text(body, "email") == "Still broken."


def test_outlook_header_block_is_removed_but_a_from_sentence_is_kept():
    assert clean_text("Hi\nFrom: Acme\nSent: Monday\nTo: me\nSubject: x\nold", "email") == "Hi"
    assert clean_text("From: my side all is fine", "email") == "From: my side all is fine"


def test_social_text_drops_mentions_and_urls_keeps_emoji():
    assert (
        clean_text("@sprintcare this is awful 😡 https://t.co/abc", "twitter") == "this is awful 😡"
    )


def test_empty_and_none():
    assert clean_text(None, "chat") == "" and clean_text("  @brand  ", "twitter") == ""


def test_hash_depends_on_text_language_and_engine():
    base = text_hash("bad", "en", "vader", "3.3.2")
    assert base == text_hash("bad", "en", "vader", "3.3.2")
    assert (
        len(
            {
                base,
                text_hash("bad!", "en", "vader", "3.3.2"),
                text_hash("bad", "de", "vader", "3.3.2"),
                text_hash("bad", "en", "vader", "3.4"),
            }
        )
        == 4
    )


QUOTED_HTML = (
    "<html><head><title>Re: order</title><style>p {color: red}</style></head><body>"
    "<div>The replacement is <b>broken</b> too.</div><p>I want a refund.</p>Thanks<br>Ann"
    '<div class="gmail_quote">On Mon, Support wrote:<blockquote>We are happy to help!'
    "</blockquote></div>"
    '<div id="divRplyFwdMsg">From: Support</div><blockquote>older thread</blockquote>'
    "</body></html>"
)


def test_lxml_and_the_beautifulsoup_fallback_give_the_same_text():
    from orchestration.text.clean import _html_to_text_with_beautifulsoup, html_to_text

    expected = "The replacement is broken too.\n\nI want a refund.\nThanks\n\nAnn"
    assert clean_text(QUOTED_HTML, "email") == expected
    normalise = lambda text: clean_text(text, "chat")  # noqa: E731 (whitespace rules only)
    assert normalise(html_to_text(QUOTED_HTML)) == normalise(
        _html_to_text_with_beautifulsoup(QUOTED_HTML)
    )


def test_html_lxml_refuses_still_gets_cleaned():
    # lxml rejects a str that declares an XML encoding, and a document with no content.
    declared = '<?xml version="1.0" encoding="utf-8"?><html><body><p>So angry!</p></body></html>'
    assert clean_text(declared, "email") == "So angry!"
    assert clean_text("<html><!-- nothing --></html>", "email") == ""
