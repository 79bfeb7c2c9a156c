"""The ranking chain: every reranking step one dialogue turn goes through, in one place.

1. the dialogue pool (:func:`dialogue_pool`): the first-stage hits of the dialogue query fused
   with those of the current user turn alone (done by the pipeline before ranking);
2. the reranker with the current-turn mix (:func:`rerank_dialogue`), then the name step
   (:mod:`re3g.rank.names`): a turn that names a document's product ranks that document's
   passages by what else it asks, not by the name;
3. the document prior of the earlier agent turns (:mod:`re3g.rank.prior`), dropped for a turn
   that on its own clearly matches another document (:func:`re3g.rank.prior.bound_prior`);
4. the cross-encoder step over the top passages (:func:`cascade`).

:class:`RankingChain` composes steps 2-4; the pipeline, the evaluation and the benches all
call it, so the three always rank alike.

    >>> from re3g.types import Hit, Passage
    >>> hits = [Hit(Passage("a", "d1", "T", "fees", 0, 4, ["1"]), 1.0, 1),
    ...         Hit(Passage("b", "d2", "T", "renew", 0, 5, ["1"]), 0.5, 2)]
    >>> ranking = RankingChain(None).rank("fees?", hits, [])
    >>> [h.passage.pid for h in ranking.hits], ranking.top_score
    (['a', 'b'], 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from re3g.config import Config
from re3g.rank.base import Ranker
from re3g.rank.names import discount_names
from re3g.rank.prior import agent_text, apply_document_prior, bound_prior, document_priors
from re3g.types import Hit, Turn


def rerank_dialogue(reranker: Ranker, query: str, current: str | None, hits: Sequence[Hit],
                    current_weight: float = Config.current_weight, k: int | None = None
                    ) -> list[Hit]:
    """Rerank with a mix of two scores: the dialogue query and the current user turn alone.

    score = (1 - w) * s(query) + w * s(current). The current turn's own score keeps a change of
    topic from being pulled back to the passage the conversation was on; w is chosen on a train
    dev part with synthetic topic shifts (docs/answerability.md, ``Config.current_weight``).
    """
    return rerank_with_current(reranker, query, current, hits, current_weight, k)[0]


def rerank_with_current(reranker: Ranker, query: str, current: str | None, hits: Sequence[Hit],
                        current_weight: float = Config.current_weight, k: int | None = None,
                        sure: tuple[float, float] | None = None
                        ) -> tuple[list[Hit], dict[str, float]]:
    """:func:`rerank_dialogue`, and the current turn's own score of each passage by id: the
    query's scores when the turn is the same text as the query (they are then its own), empty
    when it is not scored on its own (no current turn, or w = 0 and another text).

    ``sure`` = (score, weight): a turn whose own best passage scores at least ``score`` says on
    its own what it asks about, so its share is ``weight`` instead of ``current_weight``
    (``Config.current_sure``)."""
    if not 0.0 <= current_weight <= 1.0:
        raise ValueError(f"current_weight must be in [0, 1], got {current_weight}")
    first = reranker.rerank(query, list(hits))
    if not current or current_weight == 0.0 or current.strip() == query.strip():
        same = bool(current) and current.strip() == query.strip()
        own = {h.passage.pid: h.score for h in first} if same else {}
        return (first[:k] if k else first), own
    second = {h.passage.pid: h.score for h in reranker.rerank(current, list(hits))}
    w = current_weight
    if sure is not None and second and max(second.values()) >= sure[0]:
        w = sure[1]
    mixed = sorted(first, key=lambda h: -((1 - w) * h.score + w * second.get(h.passage.pid, 0.0)))
    out = [Hit(h.passage, (1 - w) * h.score + w * second.get(h.passage.pid, 0.0), i, "rerank")
           for i, h in enumerate(mixed, start=1)]
    return (out[:k] if k else out), second


def dialogue_pool(query_hits: Sequence[Hit], current_hits: Sequence[Hit], k: int,
                  current_weight: float = 0.5) -> list[Hit]:
    """First-stage candidates for a dialogue turn: RRF of the dialogue query's hits and the
    current turn's hits (weight ``current_weight``), cut to ``k``."""
    from re3g.retrieve.fusion import rrf

    if not current_hits or current_weight == 0.0:
        return list(query_hits)[:k]
    return rrf([list(query_hits), list(current_hits)], k=30, weights=(1.0, current_weight), top=k)


def cascade(cross: Ranker, query: str, hits: Sequence[Hit], depth: int, weight: float
            ) -> list[Hit]:
    """Second reranking step: a cross-encoder rescores the top ``depth`` of ranked ``hits``.

    Each of those passages scores ``hit.score + weight * logit`` and they are reordered by it;
    the hits below ``depth`` keep their order (and scores) after them, so a hit just below
    ``depth`` can show a higher score than one above it: ``rank`` is the order.
    """
    if depth <= 0 or weight == 0.0 or len(hits) < 2:
        return list(hits)
    logits = cross.score(query, [h.passage for h in hits[:depth]])
    return add_logits(hits, [float(x) for x in logits], weight)


def add_logits(hits: Sequence[Hit], logits: Sequence[float], weight: float) -> list[Hit]:
    """The first ``len(logits)`` hits rescored ``score + weight * logit`` and reordered; the
    rest keep their order after them (see :func:`cascade`)."""
    top = list(hits[:len(logits)])
    mixed = [h.score + weight * x for h, x in zip(top, logits, strict=True)]
    order = sorted(range(len(top)), key=lambda i: -mixed[i])
    out = [replace(top[i], score=mixed[i], rank=r, source="cross")
           for r, i in enumerate(order, start=1)]
    return out + [replace(h, rank=len(out) + j)
                  for j, h in enumerate(hits[len(top):], start=1)]


@dataclass
class Ranking:
    """One turn's ranked hits; the reranker's own best and second-best scores (before the
    document prior and the cross-encoder step: what the abstention rule reads); the
    cross-encoder's logit of each passage it read, by passage id."""

    hits: list[Hit]
    top_score: float
    runner_up: float = 0.0
    cross_logits: dict[str, float] = field(default_factory=dict)


@dataclass
class RankingChain:
    """Reranker (with the current-turn mix), name step, document prior, cross-encoder step.

    Without a reranker the chain leaves the hits as they are (the prior, the name step and the
    cross-encoder are calibrated on the reranker's scores). ``sparse`` is the BM25 searcher the
    document prior searches with (none: no prior); ``title_weight`` weighs the name step
    (:mod:`re3g.rank.names`; 0: off); ``base_weight`` blends the packaged encoder's query
    vector into a tower reranker's (:meth:`re3g.rank.Reranker.blended`; 0: the tower alone);
    ``k`` cuts the reranked list (None: keep all).

    >>> chain = RankingChain(None, current_weight=0.3)
    >>> chain.rank("fees?", [], []).hits
    []
    """

    reranker: Ranker | None
    cross: Ranker | None = None
    sparse: Any = None
    current_weight: float = Config.current_weight
    document_weight: float = Config.document_weight
    document_temperature: float = Config.document_temperature
    document_margin: float | None = Config.document_margin
    document_words: int = Config.document_words
    current_sure: float | None = Config.current_sure
    current_sure_weight: float = Config.current_sure_weight
    cross_depth: int = 5
    cross_weight: float = 0.05
    title_weight: float = Config.title_weight
    base_weight: float = Config.base_weight
    k: int | None = None

    @classmethod
    def from_config(cls, config: Config, reranker: Ranker | None, cross: Ranker | None = None,
                    sparse: Any = None, **cascade: Any) -> RankingChain:
        """The chain with ``config``'s ranking settings (``cascade``: the cross-encoder step's
        ``cross_depth`` and ``cross_weight`` as resolved by the caller).

        >>> RankingChain.from_config(Config(title_weight=0.0), None).title_weight
        0.0
        """
        return cls(reranker, cross, sparse, current_weight=config.current_weight,
                   document_weight=config.document_weight,
                   document_temperature=config.document_temperature,
                   document_margin=config.document_margin,
                   document_words=config.document_words, current_sure=config.current_sure,
                   current_sure_weight=config.current_sure_weight,
                   title_weight=config.title_weight,
                   base_weight=config.base_weight, k=config.rerank_k, **cascade)

    def __post_init__(self) -> None:
        if not 0.0 <= self.current_weight <= 1.0:
            raise ValueError(f"current_weight must be in [0, 1], got {self.current_weight}")
        if not 0.0 <= self.current_sure_weight <= 1.0:
            raise ValueError(f"current_sure_weight must be in [0, 1], got "
                             f"{self.current_sure_weight}")
        if self.document_words < 1:
            raise ValueError(f"document_words must be >= 1, got {self.document_words}")
        if not 0.0 <= self.base_weight <= 1.0:
            raise ValueError(f"base_weight must be in [0, 1], got {self.base_weight}")
        if self.document_temperature <= 0:
            raise ValueError(f"document_temperature must be > 0, got "
                             f"{self.document_temperature}")
        if self.reranker is None:
            self.cross = None  # the cross-encoder's weight was chosen on reranked scores

    @property
    def tower(self) -> Ranker:
        """The reranker as the chain asks it: blended by ``base_weight`` when it can be
        (:meth:`re3g.rank.Reranker.blended`), else as it is."""
        blend = getattr(self.reranker, "blended", None)
        return blend(self.base_weight) if blend is not None else self.reranker

    @property
    def uses_prior(self) -> bool:
        """Whether the document prior is part of this chain."""
        return (self.reranker is not None and self.sparse is not None
                and self.document_weight != 0.0)

    def priors(self, histories: Sequence[Sequence[Turn]]) -> list[dict[str, float]]:
        """The document prior of each dialogue history (one batch search)."""
        if not self.uses_prior:
            return [{} for _ in histories]
        return document_priors(self.sparse, [agent_text(h, self.document_words)
                                             for h in histories],
                               self.document_temperature)

    def rank(self, query: str, hits: Sequence[Hit], history: Sequence[Turn] | None,
             prior: dict[str, float] | None = None) -> Ranking:
        """Rank one turn's first-stage ``hits``. ``history`` ends with the current user turn
        (its text is the current-turn query; its agent turns give the document prior, unless
        ``prior`` is given, e.g. from a batch :meth:`priors`)."""
        hits = list(hits)
        if self.reranker is None or not hits:
            return Ranking(hits, hits[0].score if hits else 0.0,
                           hits[1].score if len(hits) > 1 else 0.0)
        current = (history[-1].utterance or "") if history else None
        tower = self.tower
        sure = (None if self.current_sure is None
                else (self.current_sure, self.current_sure_weight))
        ranked, own = rerank_with_current(tower, query, current, hits, self.current_weight,
                                          k=self.k, sure=sure)
        top = ranked[0].score if ranked else 0.0
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if self.title_weight and current:
            ranked = discount_names(tower, current, ranked, own, self.title_weight)
        if prior is None:
            prior = self.priors([history])[0] if history else {}
        prior = bound_prior(prior, own, {h.passage.pid: h.passage.doc_id for h in hits},
                            self.document_margin)
        ranked = apply_document_prior(ranked, prior, self.document_weight)
        logits: dict[str, float] = {}
        if (self.cross is not None and self.cross_depth > 0 and self.cross_weight != 0.0
                and len(ranked) > 1):
            asked = (self.cross.question(history) if history else None) or query
            read = ranked[:self.cross_depth]
            scores = [float(x) for x in self.cross.score(asked, [h.passage for h in read])]
            logits = {h.passage.pid: x for h, x in zip(read, scores, strict=True)}
            ranked = add_logits(ranked, scores, self.cross_weight)
        return Ranking(ranked, top, second, logits)
