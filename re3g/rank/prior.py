"""Which document the conversation is about, read from the agent's earlier turns.

A doc2dial conversation stays in one document, and the agent's replies are close paraphrases
of that document's spans, so a BM25 search with the earlier agent turns finds it far more
reliably than the user's questions do (validation: the top BM25 hit of the agent turns is in
the dialogue's document for 378 of the 482 turns that have an earlier agent turn). The
reranked passages of that document get a bonus:

    score' = score + weight * prior(doc),   prior(doc) = exp((bm25(doc) - bm25(best)) / T)

where ``bm25(doc)`` is the best BM25 score of any of the document's passages for the agent
text (so the best document gets the full ``weight`` and the others fade with their score gap).
On doc2dial validation weight 0.2 and T 3 lift reranked R@1 / R@5 from 45.9 / 78.6 to
51.9 / 84.3 (docs/knowledge_selection.md). In the chat app the agent turns are the app's own
earlier replies, which come from the documents, so the same holds there.

    >>> from re3g.types import Turn
    >>> agent_text([Turn(1, "user", "Hi"), Turn(2, "agent", "A day pass costs 8 dollars."),
    ...             Turn(3, "user", "And monthly?")])
    'A day pass costs 8 dollars.'
    >>> {d: round(p, 3) for d, p in prior_from_scores({"fees": 12.0, "plots": 9.0}).items()}
    {'fees': 1.0, 'plots': 0.223}
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from re3g.config import Config
from re3g.retrieve.base import Retriever
from re3g.types import Hit, Turn

DEFAULT_TEMPERATURE = Config.document_temperature
AGENT_MAX_WORDS = Config.document_words


def agent_text(turns: Sequence[Turn], max_words: int = AGENT_MAX_WORDS) -> str:
    """The agent's turns of ``turns``, newest first, cut to ``max_words`` words ("" if none)."""
    words: list[str] = []
    for t in reversed(turns):
        if t.role == "agent" and t.utterance:
            words += t.utterance.split()
            if len(words) >= max_words:
                break
    return " ".join(words[:max_words])


def document_prior(searcher: Retriever, text: str, temperature: float = DEFAULT_TEMPERATURE,
                   depth: int = 50) -> dict[str, float]:
    """Prior in (0, 1] per document from a BM25 search of ``text`` (empty without text).

    ``searcher`` is any retriever with ``search(query, k)`` returning score-ordered hits;
    BM25 scores are what ``temperature`` was chosen for.
    """
    return document_priors(searcher, [text], temperature, depth)[0]


def document_priors(searcher: Retriever, texts: Sequence[str],
                    temperature: float = DEFAULT_TEMPERATURE, depth: int = 50
                    ) -> list[dict[str, float]]:
    """:func:`document_prior` of each text, searched in one batch."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return [prior_from_scores(best, temperature)
            for best in document_scores(searcher, texts, depth)]


def document_scores(searcher: Retriever, texts: Sequence[str], depth: int = 50
                    ) -> list[dict[str, float]]:
    """For each text, the best BM25 score of each document's passages in its top ``depth``
    (empty for an empty text); what :func:`prior_from_scores` turns into a prior."""
    todo = [i for i, t in enumerate(texts) if t.strip()]
    out: list[dict[str, float]] = [{} for _ in texts]
    if not todo:
        return out
    runs = searcher.batch_search([texts[i] for i in todo], depth)
    for i, hits in zip(todo, runs, strict=True):
        best: dict[str, float] = {}
        for h in hits:
            best.setdefault(h.passage.doc_id, float(h.score))
        out[i] = best
    return out


def prior_from_scores(best: dict[str, float], temperature: float = DEFAULT_TEMPERATURE
                      ) -> dict[str, float]:
    """exp((score - top) / temperature) for each document's best passage score."""
    if not best:
        return {}
    top = max(best.values())
    return {d: math.exp((s - top) / temperature) for d, s in best.items()}


def bound_prior(prior: dict[str, float], current: dict[str, float], doc_of: dict[str, str],
                margin: float | None) -> dict[str, float]:
    """``prior``, or no prior when the current user turn alone clearly matches another document.

    ``current`` holds the current turn's own reranker score of each candidate passage (by id),
    ``doc_of`` each passage's document. When the turn's best passage lies outside the prior's
    top document and beats that document's best passage by more than ``margin``, the user has
    moved on and the prior is dropped for this turn (None: never dropped).

    >>> doc_of = {"a": "fees", "b": "plots"}
    >>> bound_prior({"fees": 1.0}, {"a": 0.30, "b": 0.62}, doc_of, 0.1)
    {}
    >>> bound_prior({"fees": 1.0}, {"a": 0.55, "b": 0.62}, doc_of, 0.1)
    {'fees': 1.0}
    """
    if margin is None or not prior or not current:
        return prior
    top_doc = max(prior, key=lambda d: prior[d])
    best = max(current, key=lambda pid: current[pid])
    if doc_of.get(best) == top_doc:
        return prior
    inside = [s for pid, s in current.items() if doc_of.get(pid) == top_doc]
    if inside and current[best] - max(inside) <= margin:
        return prior
    return {}


def apply_document_prior(hits: Sequence[Hit], prior: dict[str, float], weight: float
                         ) -> list[Hit]:
    """``hits`` re-sorted by score + ``weight`` x prior of their document, ranks renumbered."""
    if not prior or weight == 0.0:
        return list(hits)
    scored = sorted(((h.score + weight * prior.get(h.passage.doc_id, 0.0), i, h)
                     for i, h in enumerate(hits)), key=lambda x: (-x[0], x[1]))
    return [Hit(h.passage, s, r, h.source) for r, (s, _, h) in enumerate(scored, start=1)]
