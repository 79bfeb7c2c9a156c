"""The document view: a whole document with the cited span highlighted and its headings shown.

Opened from a citation marker or a passage card. Document text is untrusted (uploads), so every
piece of it goes through :func:`html.escape`; the only markup is the view's own. The passage is
shaded (``.re3g-doc-passage``), the span is in ``<mark id="re3g-doc-mark">`` (the page scrolls it
into view) and heading spans are ``.re3g-doc-h``.

    >>> from re3g.types import Document, Span
    >>> doc = Document("d", "Fees <b>", "\\n\\nPrices\\nA pass costs <8>. Pay online.",
    ...                spans=[Span("1", 0, 8, "\\n\\nPrices", True),
    ...                       Span("2", 9, 26, "A pass costs <8>."),
    ...                       Span("3", 27, 38, "Pay online.")])
    >>> html = document_html(doc, Highlight(9, 26, 9, 38))
    >>> "<mark id=\\"re3g-doc-mark\\">A pass costs &lt;8&gt;.</mark>" in html
    True
    >>> "<b>Fees &lt;b&gt;</b>" in html and "<b>Fees <b>" not in html
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from re3g.types import Document

MAX_DOC_CHARS = 200_000
"""Longest document text shown whole; longer ones are cut around the highlighted span."""


@dataclass(frozen=True)
class Highlight:
    """What to highlight: the span (``start``..``end``) inside the passage
    (``passage_start``..``passage_end``), as character offsets into the document text."""

    start: int
    end: int
    passage_start: int = -1
    passage_end: int = -1


def _segments(doc: Document, hl: Highlight, lo: int, hi: int) -> list[tuple[int, int, set]]:
    """Cut ``doc.text[lo:hi]`` at every boundary of a heading, the passage and the span;
    each piece with the set of roles it has ("h", "p", "m")."""
    ranges = [(s.start, s.end, "h") for s in doc.spans if s.is_heading]
    if hl.passage_end > hl.passage_start >= 0:
        ranges.append((hl.passage_start, hl.passage_end, "p"))
    if hl.end > hl.start >= 0:
        ranges.append((hl.start, hl.end, "m"))
    cuts = {lo, hi}
    for a, b, _ in ranges:
        cuts.update(x for x in (a, b) if lo < x < hi)
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:], strict=False):
        roles = {r for s, e, r in ranges if s <= a and b <= e}
        out.append((a, b, roles))
    return out


def _heading_starts(doc: Document) -> set[int]:
    return {s.start for s in doc.spans if s.is_heading}


def document_html(doc: Document, hl: Highlight, source: str = "") -> str:
    """The whole of ``doc`` as escaped HTML with ``hl`` highlighted; ``source`` (the uploaded
    file's name, when the viewer may download it) adds a "source file" button."""
    text = doc.text
    lo, hi = 0, len(text)
    cut = ""
    if hi > MAX_DOC_CHARS:  # a huge document: the part around the span
        lo = max(0, min(hl.start, hi) - MAX_DOC_CHARS // 2)
        hi = min(len(text), lo + MAX_DOC_CHARS)
        cut = f'<div class="re3g-scores">Showing characters {lo:,}-{hi:,} of {len(text):,}.</div>'
    body: list[str] = []
    marked = False
    heading_starts = _heading_starts(doc)
    for a, b, roles in _segments(doc, hl, lo, hi):
        raw = text[a:b]
        # a heading is a block of its own: its leading blank lines (doc2dial's) would double
        # the gap before it
        piece = escape(raw.lstrip("\n") if "h" in roles and a in heading_starts else raw)
        if "m" in roles:
            mark_id = "" if marked else ' id="re3g-doc-mark"'
            marked = True
            piece = f"<mark{mark_id}>{piece}</mark>"
        if "p" in roles:
            piece = f'<span class="re3g-doc-passage">{piece}</span>'
        if "h" in roles:
            piece = f'<span class="re3g-doc-h" role="heading" aria-level="4">{piece}</span>'
        body.append(piece)
    link = (f'<button type="button" class="re3g-source" data-re3g-source="{escape(doc.doc_id)}">'
            f"⬇ Source file: {escape(source)}</button>" if source else "")
    return (
        f'<div class="re3g-doc" role="document" aria-label="Document {escape(doc.title)}">'
        f'<div class="re3g-doc-top"><b>{escape(doc.title)}</b> <code>{escape(doc.doc_id)}</code>'
        f'{link}<button type="button" class="re3g-doc-close" aria-label="Close the document">'
        f"✕</button></div>{cut}"
        f'<div class="re3g-doc-text">{"".join(body)}</div></div>'
    )


def missing_html(title: str, passage_text: str) -> str:
    """The view when the corpus's documents cannot be found: the passage alone."""
    return (f'<div class="re3g-doc"><div class="re3g-doc-top"><b>{escape(title)}</b></div>'
            '<div class="re3g-scores">The whole document is not available for this corpus; '
            f'this is the passage.</div><div class="re3g-doc-text"><mark id="re3g-doc-mark">'
            f"{escape(passage_text)}</mark></div></div>")
