"""E-mails as clients write them, each checked against what the customer wrote now.

Every ``tests/fixtures/emails/NN_name.txt`` (a plain-text body) or ``NN_name.html`` (an HTML
body) is cleaned as an e-mail and compared with ``NN_name.expected.txt``, written by hand: the
customer's new words, without the quoted thread, forwarded messages, signatures, device
footers and disclaimers. Sign-offs and names the customer typed ("Thanks,\\nJane") are theirs
and stay. The comparison is by non-blank lines: how many blank lines HTML leaves between
paragraphs is not what this corpus checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.text.clean import clean_text

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
EXPECTED = ".expected.txt"

# Cases the cleaning does not get right yet, kept in the corpus so that the gap stays visible
# (strict: a fix makes them pass and must move them out of here).
KNOWN_GAPS = {
    "54_signature_without_separator_en": (
        "a signature block (title, phone) under the name, with no '-- ' above it, is kept"
    ),
}


def _bodies() -> list[Path]:
    return sorted(
        path
        for path in CORPUS.iterdir()
        if path.suffix in (".txt", ".html") and not path.name.endswith(EXPECTED)
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _case(path: Path):
    marks = ()
    if path.stem in KNOWN_GAPS:
        marks = pytest.mark.xfail(reason=KNOWN_GAPS[path.stem], strict=True)
    return pytest.param(path, id=path.stem, marks=marks)


def test_the_corpus_is_complete():
    bodies = _bodies()
    assert len(bodies) - len(KNOWN_GAPS) >= 40
    assert len({path.stem for path in bodies}) == len(bodies)  # one body per case
    for path in bodies:
        assert (CORPUS / f"{path.stem}{EXPECTED}").is_file(), path.name
    expected = {path.name[: -len(EXPECTED)] for path in CORPUS.glob(f"*{EXPECTED}")}
    assert expected == {path.stem for path in bodies}
    assert set(KNOWN_GAPS) <= expected


@pytest.mark.parametrize("path", [_case(path) for path in _bodies()])
def test_email_cleans_to_what_the_customer_wrote(path: Path):
    body = path.read_text(encoding="utf-8")
    expected = (CORPUS / f"{path.stem}{EXPECTED}").read_text(encoding="utf-8")
    assert _lines(clean_text(body, "email")) == _lines(expected)
