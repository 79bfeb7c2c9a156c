"""Synthetic unanswerable turns built from answerable ones, and the decision's signals on them.

A doc2dial turn is answerable: its reference spans say where the answer is. Three changes to
the world around it make it unanswerable while it stays on topic:

- ``no_gold_document``: the turn's gold document is removed from the corpus (its passages are
  dropped from the candidates, which are drawn three times deeper to make up for them);
- ``other_domain``: the turn is asked of the other domains' documents only (e.g. a DMV
  question against the student-aid, VA and SSA documents);
- ``gold_removed``: the reference spans are blanked out of their document (same length, so
  every offset holds): the passage is still about the topic but no longer holds the answer.

:func:`turn_variants` yields the answerable turn and these variants as first-stage candidates
(and, for ``gold_removed``, the changed documents); :func:`variant_signals` runs the pipeline's
ranking, extraction and decision on each. ``re3g train answerability`` learns from them on the
train split; ``re3g evaluate --unanswerable synthetic`` reports on them.

    >>> blank_spans(Document("d", "T", "Fees. A pass costs 8 dollars.",
    ...                      spans=[Span("1", 0, 6, "Fees. "),
    ...                             Span("2", 6, 29, "A pass costs 8 dollars.")]), {"2"}).text
    'Fees.                        '
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from re3g.types import Document, Example, Hit, Passage, Span

KINDS = ("no_gold_document", "other_domain", "gold_removed")
MIN_CANDIDATES = 5  # a variant with fewer candidates left is not built


@dataclass
class Variant:
    """One version of a turn: ``kind`` ("answerable" or one of :data:`KINDS`), its
    first-stage candidates, and the documents to read them in (None: the index's): the corpus
    without the removed documents, or with the blanked ones."""

    kind: str
    hits: list[Hit]
    documents: dict[str, Document] | None = None

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def blank_spans(doc: Document, span_ids: set[str]) -> Document:
    """``doc`` with the text of the given spans replaced by spaces (offsets unchanged)."""
    text = list(doc.text)
    spans = []
    for s in doc.spans:
        if s.id in span_ids:
            text[s.start:s.end] = " " * (s.end - s.start)
            spans.append(Span(s.id, s.start, s.end, " " * (s.end - s.start), s.is_heading))
        else:
            spans.append(s)
    return replace(doc, text="".join(text), spans=spans)


def renumber(hits: Sequence[Hit], k: int) -> list[Hit]:
    """The first ``k`` hits, ranks 1..k."""
    return [replace(h, rank=r) for r, h in enumerate(hits[:k], start=1)]


def _blanked_passage(p: Passage, doc: Document) -> Passage | None:
    text = doc.text[p.start:p.end].strip()
    return replace(p, text=text) if text else None


def turn_variants(bot: Any, example: Example, documents: dict[str, Document],
                  kinds: Sequence[str] = KINDS, answerable: bool = True) -> Iterator[Variant]:
    """The answerable turn as the pipeline sees it (unless ``answerable`` is False), then
    each synthetic variant that can be built (see the module doc). ``bot`` is a
    :class:`re3g.pipeline.Re3G`."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kinds of unanswerable turn {unknown}; known: {KINDS}")
    turns = example.history
    k = bot.config.k
    _, hits = bot.candidates(turns)
    if answerable:
        yield Variant("answerable", hits)
    gold_docs = example.gold_doc_ids
    if "no_gold_document" in kinds:
        _, deep = bot.candidates(turns, 3 * k)
        kept = [h for h in deep if h.passage.doc_id not in gold_docs]
        if len(kept) >= MIN_CANDIDATES:
            yield Variant("no_gold_document", renumber(kept, k),
                          {d: doc for d, doc in documents.items() if d not in gold_docs})
    if "other_domain" in kinds:
        domains = {documents[d].domain for d in gold_docs if d in documents}
        _, wide = bot.candidates(turns, 20 * k)
        kept = [h for h in wide if h.passage.domain not in domains]
        if len(kept) >= MIN_CANDIDATES:
            yield Variant("other_domain", renumber(kept, k),
                          {d: doc for d, doc in documents.items() if doc.domain not in domains})
    if "gold_removed" in kinds:
        changed = {d: blank_spans(documents[d], {s for dd, s in example.gold_span_ids
                                                 if dd == d})
                   for d in gold_docs if d in documents}
        kept = []
        for h in hits:
            doc = changed.get(h.passage.doc_id)
            if doc is None:
                kept.append(h)
                continue
            p = _blanked_passage(h.passage, doc)
            if p is not None:
                kept.append(replace(h, passage=p))
        if len(kept) >= MIN_CANDIDATES:
            yield Variant("gold_removed", renumber(kept, k), {**documents, **changed})


def variant_signals(bot: Any, example: Example, variant: Variant, reply: bool = False,
                    every: bool = False) -> dict[str, Any]:
    """Rank, extract and decide one variant as the pipeline would; returns a record with the
    decision's signals (``bot.signals``), its confidence, whether it answered, and, for a
    turn that keeps its references (not one of :data:`KINDS`), whether its top evidence is on
    one of them (``pick_right``, answered or not; None otherwise). With ``reply`` it also
    keeps the reply a conversation would hold after it (``kept_reply``, as
    :attr:`re3g.types.Answer.kept_reply`: the generated reply when answered, "" when refused),
    so one pass gives both what the decision reads and what the next turn reads. With
    ``every`` the record holds every signal, also those ``bot``'s decision leaves out
    (:data:`re3g.decide.LAZY_SIGNALS`; then they are read once more)."""
    from re3g.evaluate.answerability import pick_right

    turns = example.history
    query = bot.build_query(turns)
    ranking, evidence, decision, read = bot.assess(turns, query, variant.hits, variant.documents)
    signals = (read if read is not None and not (every and read.skipped)
               else bot.signals(turns, ranking, evidence, variant.documents, every=every))
    top = ranking.hits[0].passage.doc_id if ranking.hits else ""
    kept = ({"kept_reply": bot.generate(list(turns), evidence, ranking.hits).strip()
             if decision.grounded else ""} if reply else {})
    return {**kept, "id": example.id, "dial_id": example.dial_id, "kind": variant.kind,
            "answerable": variant.answerable, "signals": signals.as_dict(),
            "confidence": round(decision.confidence, 4), "grounded": decision.grounded,
            "tentative": decision.tentative,
            "top_doc": top,
            "pick_right": (pick_right(example, evidence)
                      if example.references and variant.kind not in KINDS else None)}
