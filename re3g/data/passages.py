"""Split documents into passages that respect their structure.

A passage is a run of whole doc2dial spans inside one section (a heading and what follows it,
up to the next heading). Long sections are cut at span boundaries into pieces of at most
``max_words`` words, balanced in size; very short sections are merged into the next one of
the same document. Every passage keeps its span ids and character offsets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from re3g.config import PASSAGE_MAX_WORDS, PASSAGE_MIN_WORDS
from re3g.types import Document, Passage, Span


def _words(text: str) -> int:
    return len(text.split())


def _sections(doc: Document) -> list[list[Span]]:
    sections: list[list[Span]] = []
    for span in doc.spans:
        if span.is_heading or not sections:
            sections.append([span])
        else:
            sections[-1].append(span)
    return sections


def _chunk(spans: list[Span], max_words: int) -> list[list[Span]]:
    total = sum(_words(s.text) for s in spans)
    if total <= max_words or len(spans) == 1:
        return [spans]
    n = math.ceil(total / max_words)
    target = total / n
    chunks: list[list[Span]] = [[]]
    acc = 0
    for s in spans:
        w = _words(s.text)
        if chunks[-1] and (acc + w > max_words or (acc >= target and len(chunks) < n)):
            chunks.append([])
            acc = 0
        chunks[-1].append(s)
        acc += w
    return chunks


def _heading_text(spans: list[Span]) -> str:
    return spans[0].text.strip() if spans and spans[0].is_heading else ""


def split_document(doc: Document, max_words: int = PASSAGE_MAX_WORDS,
                   min_words: int = PASSAGE_MIN_WORDS) -> list[Passage]:
    """Split one document into passages (see the module docstring).

    >>> from re3g.types import Document, Span
    >>> t = "\\n\\nIntro\\nHello there. Bye now."
    >>> d = Document("d", "T", t, spans=[Span("1", 0, 8, t[0:8], True),
    ...     Span("2", 8, 21, t[8:21]), Span("3", 21, len(t), t[21:])])
    >>> [p.span_ids for p in split_document(d)]
    [['1', '2', '3']]
    """
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")
    groups: list[tuple[str, list[Span]]] = []
    pending: list[Span] = []
    pending_heading = ""
    for section in _sections(doc):
        heading = _heading_text(section)
        merged = pending + section
        if pending and not pending_heading:
            pending_heading = heading
        if sum(_words(s.text) for s in merged) < min_words:
            pending = merged
            pending_heading = pending_heading or heading
            continue
        groups.append((pending_heading or heading, merged))
        pending, pending_heading = [], ""
    if pending:
        if groups:
            groups[-1] = (groups[-1][0], groups[-1][1] + pending)
        else:
            groups.append((pending_heading, pending))

    passages: list[Passage] = []
    for heading, spans in groups:
        for chunk in _chunk(spans, max_words):
            start, end = chunk[0].start, chunk[-1].end
            text = doc.text[start:end].strip()
            if not text:
                continue
            passages.append(
                Passage(
                    pid=f"{doc.doc_id}::p{len(passages)}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    text=text,
                    start=start,
                    end=end,
                    span_ids=[s.id for s in chunk],
                    section=heading,
                    domain=doc.domain,
                )
            )
    return passages


def split_corpus(
    docs: Iterable[Document], max_words: int = PASSAGE_MAX_WORDS,
    min_words: int = PASSAGE_MIN_WORDS,
) -> list[Passage]:
    """Split every document; passage ids are unique across the corpus."""
    out: list[Passage] = []
    for doc in docs:
        out.extend(split_document(doc, max_words=max_words, min_words=min_words))
    return out


def by_document(passages: Iterable[Passage]) -> dict[str, list[Passage]]:
    """``passages`` grouped by their document, in their order.

    >>> ps = [Passage("a::p0", "a", "A", "x", 0, 1, ["1"]), Passage("b::p0", "b", "B", "y", 0, 1,
    ...       ["1"]), Passage("a::p1", "a", "A", "z", 1, 2, ["2"])]
    >>> {d: [p.pid for p in group] for d, group in by_document(ps).items()}
    {'a': ['a::p0', 'a::p1'], 'b': ['b::p0']}
    """
    out: dict[str, list[Passage]] = {}
    for p in passages:
        out.setdefault(p.doc_id, []).append(p)
    return out


def passage_contents(p: Passage) -> str:
    """The text that retrievers index for a passage: title, section and body."""
    head = p.title.split("#")[0].strip()
    if p.section and p.section.lower() not in head.lower():
        head = f"{head}. {p.section}"
    return f"{head}. {p.text}" if head else p.text


def span_text(text: str) -> str:
    """The text a span is embedded as (whitespace-normalised).

    >>> span_text(" A day  pass   costs 8 dollars. ")
    'A day pass costs 8 dollars.'
    """
    return " ".join(text.split())
