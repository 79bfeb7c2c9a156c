"""Candidate spans inside passages and the snapping of character ranges to document spans.

Every extractor answers with whole document spans (doc2dial's own, or the sentences the
ingest cut), so evidence always carries exact span ids and character offsets.

    >>> from re3g.types import Passage
    >>> p = Passage("d#0", "d", "Fees", "A day pass costs 8 dollars. Refunds take a week.", 0, 49,
    ...             [])
    >>> [s.text.strip() for s in passage_spans(p, None)]
    ['A day pass costs 8 dollars.', 'Refunds take a week.']
    >>> [s.text.strip() for s in snap(p, None, 30, 45)]
    ['Refunds take a week.']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from re3g.data.passages import span_text
from re3g.types import Document, Hit, Passage, Span

__all__ = ["Candidate", "candidates_for", "passage_spans", "snap", "span_text"]

_SENT = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


@dataclass
class Candidate:
    """One candidate span: where it is and which passage (hit) it came from."""

    doc_id: str
    span_id: str
    start: int
    end: int
    text: str
    passage: Passage
    hit_index: int
    order: int  # position inside its passage
    is_heading: bool = False


def passage_spans(passage: Passage, documents: dict[str, Document] | None) -> list[Span]:
    """The document spans of ``passage``; without the document, its sentences (offsets kept)."""
    doc = documents.get(passage.doc_id) if documents else None
    if doc is not None:
        spans = []
        for sid in passage.span_ids:
            try:
                spans.append(doc.span(sid))
            except KeyError:
                continue
        if spans:
            return spans
    lead = len(passage.text) - len(passage.text.lstrip())
    out = []
    for i, m in enumerate(_SENT.finditer(passage.text)):
        if m.group().strip():
            s = passage.start + lead + m.start()
            out.append(Span(f"s{i}", s, s + len(m.group()), m.group()))
    return out or [Span("s0", passage.start, passage.end, passage.text)]


def candidates_for(hits: Sequence[Hit], documents: dict[str, Document] | None,
                   n_passages: int) -> list[Candidate]:
    out: list[Candidate] = []
    for hi, hit in enumerate(hits[:n_passages]):
        spans = passage_spans(hit.passage, documents)
        body = [s for s in spans if not s.is_heading] or spans
        for j, s in enumerate(body):
            if s.text.strip():
                out.append(Candidate(hit.passage.doc_id, s.id, s.start, s.end, s.text,
                                     hit.passage, hi, j, s.is_heading))
    return out


def snap(p: Passage, documents: dict[str, Document] | None, a: int, b: int,
         ratio: float = 0.5) -> list[Span]:
    """The document spans a character range [a, b) stands for: every span of passage ``p``
    that the range covers for at least ``ratio`` of its length (else the most-covered one),
    then every span between the first and last of those, so the result is contiguous."""
    spans = [s for s in passage_spans(p, documents) if s.text.strip()]
    if not spans:
        return []

    def cover(s: Span) -> float:
        return max(0, min(b, s.end) - max(a, s.start)) / max(1, s.end - s.start)

    body = [s for s in spans if not s.is_heading] or spans
    keep = [i for i, s in enumerate(body) if cover(s) >= ratio]
    if not keep:
        best = max(range(len(body)), key=lambda i: cover(body[i]))
        if cover(body[best]) == 0:
            return []
        keep = [best]
    return body[min(keep):max(keep) + 1]
