"""Citations: which sentence of a reply comes from which evidence span.

The extractive reply is made of evidence texts, so each reply sentence is matched to the
evidence that contains it (or that it contains, whitespace aside), else to the evidence
sharing most of its content words (at least :data:`MIN_OVERLAP`). Citations are numbered
[1], [2], ... in the order the reply first uses them. The same data goes to the page (markers
that open the document) and to API clients (:meth:`Citation.to_dict`).

    >>> from re3g.types import Answer, Evidence
    >>> ev = [Evidence("fees", "Fees", "A day pass costs 8 dollars.", 10, 37, ["4"])]
    >>> answer = Answer("A day pass costs 8 dollars. Ask at the desk.", ev)
    >>> parts, cites = cite(answer)
    >>> [(p.text, p.cites) for p in parts]
    [('A day pass costs 8 dollars.', [1]), ('Ask at the desk.', [])]
    >>> cites[0].to_dict()["span_ids"], marked_text(parts)
    (['4'], 'A day pass costs 8 dollars. [1] Ask at the desk.')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from re3g.data.words import stem_overlap
from re3g.types import Answer, Evidence

from .render import escape_markdown

MIN_OVERLAP = 0.6
"""Share of a sentence's content stems an evidence text must hold to be cited for it when
neither contains the other."""
_BREAK = re.compile(r"((?<=[.!?])\s+|\s*\n\s*)")
_SPACE = re.compile(r"\s+")


@dataclass
class Citation:
    """One cited evidence span: its marker number and where it is in which document."""

    n: int
    evidence: int
    """Index of the span in ``Answer.evidence``."""
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    span_ids: list[str]
    passage_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form API clients receive."""
        return {"n": self.n, "marker": f"[{self.n}]", "doc_id": self.doc_id,
                "title": self.title, "section": self.section, "text": self.text,
                "start": self.start, "end": self.end, "span_ids": list(self.span_ids),
                "passage_id": self.passage_id}


@dataclass
class Part:
    """A sentence of the reply (with the whitespace after it) and the citations it carries."""

    text: str
    tail: str = ""
    cites: list[int] = field(default_factory=list)


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def split_sentences(text: str) -> list[Part]:
    r"""The sentences of ``text``, each with the whitespace that follows it.

    >>> [(p.text, p.tail) for p in split_sentences("Yes. It costs 8.50 dollars!\nWhy?")]
    [('Yes.', ' '), ('It costs 8.50 dollars!', '\n'), ('Why?', '')]
    """
    pieces = _BREAK.split(text.strip())
    parts: list[Part] = []
    for i in range(0, len(pieces), 2):
        sentence = pieces[i].strip()
        tail = pieces[i + 1] if i + 1 < len(pieces) else ""
        if sentence:
            parts.append(Part(sentence, tail))
        elif parts:
            parts[-1].tail += tail
    return parts


def _source_of(sentence: str, evidence: list[Evidence]) -> int | None:
    """Index of the evidence the sentence comes from, or None."""
    s = _norm(sentence)
    if len(s) < 3:
        return None
    for i, ev in enumerate(evidence):
        e = _norm(ev.text)
        if e and (s in e or e in s):
            return i
    best, best_score = None, MIN_OVERLAP
    for i, ev in enumerate(evidence):
        score = stem_overlap(sentence, ev.text)
        if score >= best_score:
            best, best_score = i, score
    return best


def cite(answer: Answer) -> tuple[list[Part], list[Citation]]:
    """The reply's sentences with their citation numbers, and the citations in marker order.
    A reply that is not grounded cites nothing."""
    parts = split_sentences(answer.text)
    if not answer.grounded or not answer.evidence:
        return parts, []
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    for part in parts:
        i = _source_of(part.text, answer.evidence)
        if i is None:
            continue
        if i not in numbers:
            ev = answer.evidence[i]
            numbers[i] = len(citations) + 1
            citations.append(Citation(numbers[i], i, ev.doc_id, ev.title, ev.section, ev.text,
                                      ev.start, ev.end, list(ev.span_ids), ev.passage_id))
        if numbers[i] not in part.cites:
            part.cites.append(numbers[i])
    return parts, citations


def _shown(parts: list[Part], i: int) -> list[int]:
    """The markers after sentence ``i``: its citations, unless the next sentence has the same
    ones (a run of sentences from one span carries one marker, at its end)."""
    nxt = parts[i + 1].cites if i + 1 < len(parts) else None
    return [] if nxt == parts[i].cites else parts[i].cites


def _tail(tail: str) -> str:
    """Whitespace between sentences, without indentation (no Markdown code blocks)."""
    newlines = tail.count("\n")
    return "\n\n" if newlines > 1 else "\n" if newlines else (" " if tail else "")


def marked_text(parts: list[Part]) -> str:
    """The reply as plain text with `` [n]`` after each cited sentence (once per run)."""
    return "".join(p.text + "".join(f" [{n}]" for n in _shown(parts, i)) + p.tail
                   for i, p in enumerate(parts)).strip()


def marked_markdown(parts: list[Part], key: int) -> str:
    """The reply for the chat: each sentence escaped (:func:`~re3g_app.render.escape_markdown`),
    each citation a small link ``[n]`` whose fragment names the reply (``key``: its index in
    the chat) and the citation; the page's script opens the cited document on click."""
    out = []
    for i, p in enumerate(parts):
        marks = "".join(
            f' <a class="re3g-cite" href="#re3g-cite-{int(key)}-{int(n)}" '
            f'title="Open source [{int(n)}]">[{int(n)}]</a>' for n in _shown(parts, i))
        out.append(escape_markdown(p.text) + marks + _tail(p.tail))
    return "".join(out).strip()


def citations_dicts(citations: list[Citation]) -> list[dict[str, Any]]:
    """The citations as JSON-ready dicts, in marker order."""
    return [c.to_dict() for c in citations]
