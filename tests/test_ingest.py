"""Ingest of user files: formats, spans, and every kind of bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from re3g.data.ingest import (
    document_from_blocks,
    limits,
    load_bytes,
    load_directory,
    load_files,
    make_doc_id,
    parse_bytes,
    safe_name,
    split_sentences,
)
from re3g.data.passages import split_document
from re3g.errors import DataError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

MARKDOWN = b"""# Moon base handbook

Welcome to the base. Read this first.

## Oxygen
Every resident gets 40 litres of oxygen per day. Extra oxygen costs 3 credits a litre.

- Refill tanks at the **north** airlock.
- Report leaks on [the board](http://example.invalid).

## Meals
Meals are served at 7, 12 and 19 hours. Late meals are not available!
"""


def _check_spans(doc):
    """Spans tile the text exactly, ids run 1..n, headings start with a blank line."""
    assert doc.spans, "no spans"
    assert "".join(s.text for s in doc.spans) == doc.text
    pos = 0
    for n, s in enumerate(doc.spans, start=1):
        assert s.id == str(n)
        assert s.start == pos and doc.text[s.start:s.end] == s.text
        assert s.is_heading == s.text.startswith("\n\n")
        pos = s.end


def _texts(doc, headings: bool) -> list[str]:
    """The stripped texts of the document's heading spans, or of its other spans."""
    return [s.text.strip() for s in doc.spans if s.is_heading == headings]


def test_markdown_sentences_and_headings():
    doc = parse_bytes("moon/handbook.md", MARKDOWN)
    _check_spans(doc)
    assert doc.doc_id == "moon__handbook"
    assert doc.title == "Moon base handbook"
    headings = _texts(doc, headings=True)
    assert headings == ["Moon base handbook", "Oxygen", "Meals"]
    texts = _texts(doc, headings=False)
    assert "Every resident gets 40 litres of oxygen per day." in texts
    assert "Refill tanks at the north airlock." in texts  # emphasis removed
    assert "Report leaks on the board." in texts  # link text kept, URL dropped


def test_passages_respect_sections():
    body = "Residents must follow this rule at all times. " * 4
    text = f"# Handbook\n\n{body}\n\n## Oxygen\n{body}\n\n## Meals\n{body}\n"
    doc = parse_bytes("handbook.md", text.encode())
    passages = split_document(doc, max_words=40)
    assert [p.section for p in passages] == ["Handbook", "Oxygen", "Meals"]
    heading_starts = {s.start for s in doc.spans if s.is_heading}
    assert {p.start for p in passages} == heading_starts


def test_html_skips_scripts_and_keeps_headings():
    page = (b"<html><head><title>Pool rules</title><style>p{}</style></head><body>"
            b"<nav>Home | About</nav><h1>Pool rules</h1><p>Shower before you swim. "
            b"No running.</p><h2>Hours</h2><ul><li>Open 6 to 22.</li></ul>"
            b"<script>alert('x')</script></body></html>")
    doc = parse_bytes("pool.html", page)
    _check_spans(doc)
    assert doc.title == "Pool rules"
    assert "alert" not in doc.text and "Home | About" not in doc.text
    assert _texts(doc, headings=True) == ["Pool rules", "Hours"]
    assert "Shower before you swim." in [s.text.strip() for s in doc.spans]


def test_plain_text_with_underlined_heading():
    doc = parse_bytes("notes.txt", b"Notes\n=====\n\nFirst point. Second point.\n\nLast one.\n")
    _check_spans(doc)
    assert doc.title == "Notes"
    assert [s.text.strip() for s in doc.spans] == ["Notes", "First point.", "Second point.",
                                                   "Last one."]


def test_pdf_text_layer():
    pytest.importorskip("pypdf")
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 150 Td (Library cards are free. Renew every year.) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    doc = parse_bytes("library.pdf", buf.getvalue())
    _check_spans(doc)
    assert "Library cards are free." in doc.text


def test_sentence_splitter_keeps_numbers_and_quotes():
    assert split_sentences("It costs $2.50 a day. Call 555-0142!") == [
        "It costs $2.50 a day.", "Call 555-0142!"]
    assert split_sentences('He said "stop." Then left.') == ['He said "stop."', "Then left."]


@pytest.mark.parametrize("name", ["../../x", "../x.md", "/etc/passwd", "a/../../b.md",
                                  "C:\\x.md", "..\\..\\x.md", "a\x00b.md", "", "  "])
def test_unsafe_names_are_refused(name):
    with pytest.raises(DataError):
        safe_name(name)


def test_unsafe_name_refused_before_reading(tmp_path):
    f = tmp_path / "x.md"
    f.write_text("# Hi\n\nSome text here.")
    with pytest.raises(DataError, match="parent-directory"):
        load_files([f], names=["../../x.md"])


def test_safe_names_and_doc_ids():
    assert safe_name("./a//b.md") == "a/b.md"
    assert make_doc_id("My Notes/Bike share FAQ.md") == "My_Notes__Bike_share_FAQ"


@pytest.mark.parametrize("name,data,match", [
    ("empty.md", b"", "empty"),
    ("blank.txt", b"   \n\n  ", "empty"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    ("prog.md", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "binary"),
    ("latin.txt", bytes(range(1, 32)) * 50, "binary|not a text"),
    ("only-heading.md", b"# Title only\n", "no text"),
    ("page.html", b"<html><script>x()</script></html>", "no text"),
    ("fake.pdf", b"hello, not a pdf", "not a PDF"),
    ("data.exe", b"MZ....", "unsupported file type"),
    ("noext", b"hello", "unsupported file type"),
])
def test_bad_content_is_refused_with_the_file_name(name, data, match):
    with pytest.raises(DataError, match=match) as err:
        load_bytes([(name, data)])
    assert name in str(err.value)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    f = tmp_path / "big.md"
    f.write_text("word " * 400)
    with pytest.raises(DataError, match="larger than"):
        load_files([f])


def test_total_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 1500)
    files = []
    for i in range(3):
        f = tmp_path / f"f{i}.md"
        f.write_text("Some words here. " * 40)
        files.append(f)
    with pytest.raises(DataError, match="add up"):
        load_files(files)


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_of_documents():
    data = _zip({"docs/a.md": MARKDOWN, "docs/b.txt": b"Plain note. Two sentences.",
                 "docs/logo.png": b"\x89PNG", "docs/": b""})
    docs = load_bytes([("bundle.zip", data)])
    assert sorted(d.doc_id for d in docs) == ["docs__a", "docs__b"]


def test_zip_bomb_ratio_is_refused():
    bomb = _zip({"bomb.txt": b"a" * (4 * 1024 * 1024)})
    assert len(bomb) < 10_000
    with pytest.raises(DataError, match="zip bomb"):
        load_bytes([("bomb.zip", bomb)])


def test_zip_declared_size_over_limit_is_refused():
    data = _zip({f"f{i}.txt": b"x" * (1024 * 1024) for i in range(25)})
    assert len(data) < 200_000
    with pytest.raises(DataError, match="unpacks to"):
        load_bytes([("big.zip", data)])


def test_zip_member_lying_about_its_size_is_refused():
    data = bytearray(_zip({"a.txt": b"Plain text sentence. " * 20}, zipfile.ZIP_STORED))
    # Patch the declared uncompressed size (central directory) down to 10 bytes.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    with pytest.raises(DataError, match="zip bomb|cannot unpack|not a valid"):
        load_bytes([("liar.zip", bytes(data))])


@pytest.mark.parametrize("member", ["../../evil.md", "/abs.md"])
def test_zip_slip_names_are_refused(member):
    with pytest.raises(DataError, match="unsafe"):
        load_bytes([("slip.zip", _zip({member: b"Hello there. Bye."}))])


def test_nested_and_empty_and_corrupt_zips():
    with pytest.raises(DataError, match="nested"):
        load_bytes([("n.zip", _zip({"inner.zip": _zip({"a.md": b"Hi there."})}))])
    with pytest.raises(DataError, match="no supported files"):
        load_bytes([("e.zip", _zip({"pic.png": b"\x89PNG"}))])
    with pytest.raises(DataError, match="not a valid zip"):
        load_bytes([("c.zip", b"PK\x03\x04garbage")])


def test_duplicate_names_get_unique_ids():
    docs = load_bytes([("a.md", b"First doc. Text."), ("a.txt", b"Second doc. Text.")])
    assert [d.doc_id for d in docs] == ["a", "a-2"]


def test_nothing_given():
    with pytest.raises(DataError, match="no files"):
        load_bytes([])


def test_sample_corpus_reads_cleanly():
    docs = load_directory(SAMPLE)
    assert 8 <= len(docs) <= 15
    for doc in docs:
        _check_spans(doc)
        words = len(doc.text.split())
        assert 200 <= words <= 600, (doc.doc_id, words)
        assert sum(s.is_heading for s in doc.spans) >= 3


def test_doc2dial_round_trip(tmp_path):
    from re3g.data.dialdoc import load_documents
    from re3g.data.ingest import write_doc2dial

    docs = load_bytes([("handbook.md", MARKDOWN), ("notes.txt", b"One note. Two notes.")])
    back = load_documents(write_doc2dial(docs, tmp_path / "documents.json"))
    for doc in docs:
        again = back[doc.doc_id]
        assert (again.title, again.text) == (doc.title, doc.text)
        assert again.spans == doc.spans


def test_markdown_table_rows_carry_their_column_labels() -> None:
    from re3g.data.ingest.markdown import markdown_blocks

    text = ("## Timetable\n\n| Day | Morning | Evening |\n|---|:--:|---|\n"
            "| Monday | 07:00 Spin | 18:30 Circuits |\n| Friday | 09:30 Pilates | |\n\n"
            "| no | header |\n| just | rows |\n\nAfter the table.")
    texts = [b.text for b in markdown_blocks(text)]
    assert texts == ["Timetable", "Day: Monday; Morning: 07:00 Spin; Evening: 18:30 Circuits",
                     "Day: Friday; Morning: 09:30 Pilates", "no; header", "just; rows",
                     "After the table."]
    doc = document_from_blocks("t", "T", markdown_blocks(text))
    # the header row is not a span of its own: its labels live on in every row
    assert not any(s.text.startswith("Day; Morning") for s in doc.spans)


def test_html_table_rows_carry_their_column_labels() -> None:
    from re3g.data.ingest.html import html_blocks

    page = ("<h2>Fares</h2><table><caption>Fares in 2026</caption><thead><tr><th>Ticket</th>"
            "<th>Single</th><th>Return</th></tr></thead><tbody>"
            "<tr><td>Adult<td>6 dollars<td><p>10 dollars</p><p>(9 online)</p></tr>"
            "<tr><td>Child</td><td>3 dollars</td><td></td></tr></tbody></table>"
            "<table><tr><td>a</td><td>b</td></tr></table><p>Last.</p>")
    _, blocks = html_blocks(page)
    assert [(b.text, b.heading) for b in blocks] == [
        ("Fares", True), ("Fares in 2026", True),
        ("Ticket: Adult; Single: 6 dollars; Return: 10 dollars (9 online)", False),
        ("Ticket: Child; Single: 3 dollars", False), ("a; b", False), ("Last.", False)]
    # a table nested in a cell and a table left open at the end keep their text
    _, blocks = html_blocks("<table><tr><td>outer<table><tr><th>X</th></tr><tr><td>in</td>"
                            "</tr></table> tail</td></tr></table><table><tr><td>open")
    assert [b.text for b in blocks] == ["outer X: in tail", "open"]


def test_html_table_spans_header_rows_and_layout_tables() -> None:
    from re3g.data.ingest.html import html_blocks

    def texts(page: str) -> list[str]:
        return [b.text for b in html_blocks(page)[1]]

    # colspan and rowspan line cells up with their headers; two header rows join
    # (title and section rows, like a caption, are headings: never taken as an answer)
    assert texts("<table><tr><th colspan=3>Timetable 2026</th></tr>"
                 "<tr><th>Day</th><th colspan=2>Class</th></tr>"
                 "<tr><td rowspan=2>Monday</td><td>07:00</td><td>Spin</td></tr>"
                 "<tr><td>18:30</td><td>Yoga</td></tr>"
                 "<tr><th colspan=3>Weekend</th></tr>"
                 "<tr><td>Sunday</td><td colspan=2>closed</td></tr>"
                 "<p>Footnote.</p></table>") == [
        "Timetable 2026", "Day: Monday; Class: 07:00; Class: Spin",
        "Day: Monday; Class: 18:30; Class: Yoga", "Weekend", "Day: Sunday; Class: closed",
        "Footnote."]
    heads = [b.text for b in html_blocks("<table><caption>Sessions</caption><tr><th colspan=2>"
                                         "Weekdays</th></tr><tr><th>Day</th><th>Open</th></tr>"
                                         "<tr><td>Mon</td><td>9</td></tr></table>")[1]
             if b.heading]
    assert heads == ["Sessions", "Weekdays"]
    assert texts("<table><thead><tr><th></th><th>Member</th><th>Guest</th></tr>"
                 "<tr><th>Price</th><th>pounds</th><th>pounds</th></tr></thead>"
                 "<tr><td>Spin</td><td>4</td><td>7</td></tr></table>") == [
        "Price: Spin; Member / pounds: 4; Guest / pounds: 7"]
    # a hostile span is capped, not blown up
    assert len(texts("<table><tr><th>A</th></tr><tr><td colspan=999999 rowspan=999999>x"
                     "</td></tr></table>")[0]) < 400
    # a table that lays out a page keeps its headings and sentences, as without the table
    page = ("<table><tr><td><h2>Hours</h2><p>Open 6 to 10. Closed on Sunday.</p></td>"
            "<td><h2>Fees</h2><p>Adults pay 5.</p></td></tr></table>")
    assert [(b.text, b.heading) for b in html_blocks(page)[1]] == [
        ("Hours", True), ("Open 6 to 10. Closed on Sunday.", False), ("Fees", True),
        ("Adults pay 5.", False)]


def test_bold_faq_questions_are_headings_not_answers() -> None:
    """An FAQ page that sets each question in bold on its own line: the questions become
    headings (sections of their answers), so no extractor can quote a question back as the
    answer; bold inside a sentence, or a bold lead-in, stays text."""
    from re3g.extract.spans import passage_spans

    text = (b"# Notes app FAQ\n\n**Can I use the app without an internet connection?**\n"
            b"Yes. Every note is stored on the device and syncs later.\n\n"
            b"**What happens to deleted notes?**\nThey stay in the Bin for 30 days.\n\n"
            b"**Tip:** press **Ctrl+K** to search.\n")
    doc = parse_bytes("faq.md", text)
    _check_spans(doc)
    headings = _texts(doc, headings=True)
    assert headings == ["Notes app FAQ", "Can I use the app without an internet connection?",
                        "What happens to deleted notes?"]
    assert "Tip: press Ctrl+K to search." in [s.text.strip() for s in doc.spans]
    passages = split_document(doc, min_words=1)
    offline = next(p for p in passages if p.section.startswith("Can I use"))
    body = [s.text.strip() for s in passage_spans(offline, {doc.doc_id: doc})
            if not s.is_heading]
    assert body[0] == "Yes." and all("?" not in t for t in body)


def test_html_faq_questions_in_accordions_and_lists_are_headings() -> None:
    page = (b"<html><head><title>Pool FAQ</title></head><body><h1>Pool FAQ</h1>"
            b"<details><summary>Can I bring a towel?</summary><p>Yes, towels cannot be "
            b"rented.</p></details><dl><dt>Is there parking?</dt><dd>No, use the bus.</dd>"
            b"</dl><p>Call <strong>555-0101</strong> with questions.</p></body></html>")
    doc = parse_bytes("faq.html", page)
    _check_spans(doc)
    assert _texts(doc, headings=True) == [
        "Pool FAQ", "Can I bring a towel?", "Is there parking?"]
    body = _texts(doc, headings=False)
    assert body == ["Yes, towels cannot be rented.", "No, use the bus.",
                    "Call 555-0101 with questions."]


def test_bold_lines_and_terms_that_are_not_questions_stay_text() -> None:
    """Only a bold line that starts a block and reads as a label is a heading: a bold
    statement, a bold line inside a paragraph and a bold Setext title are not cut apart; a
    ``<dt>`` left unclosed (as HTML allows) ends at the next block, not at the end of the page."""
    from re3g.data.ingest.html import html_blocks
    from re3g.data.ingest.markdown import markdown_blocks

    def md(text: str) -> list[tuple[str, bool]]:
        return [(b.text, b.heading) for b in markdown_blocks(text)]

    assert md("**No, we do not take cards.**\nSee below.") == [
        ("No, we do not take cards. See below.", False)]
    assert md("Intro line\n**Do you deliver?**\nNo.") == [("Intro line Do you deliver? No.",
                                                         False)]
    assert md("**Prices**\n======\nA day pass costs 8 dollars.") == [
        ("Prices", True), ("A day pass costs 8 dollars.", False)]
    assert md("- Item one.\n  **still the item**") == [("Item one.", False),
                                                       ("still the item", False)]
    blocks = html_blocks("<dl><dt>Parking?<dd>No, use the bus.<dt>Towels?<dd>Bring one.</dl>"
                         "<p>Call us.</p>")[1]
    assert [(b.text, b.heading) for b in blocks] == [
        ("Parking?", True), ("No, use the bus.", False), ("Towels?", True),
        ("Bring one.", False), ("Call us.", False)]
