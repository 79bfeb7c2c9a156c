"""The answer-or-abstain decision: how sure the pipeline is that the documents answer the
turn (``Answer.confidence``), and whether it answers (``Answer.grounded``).

This is the one place that decides; the chat displays ``Answer.grounded``, it does not
re-decide.

- With the project's reranker, confidence is the reranker's relevance of the best passage
  (its own top score, before the document prior and the cross-encoder step), capped by the
  top evidence score for span scorers; a start/end reader's score says where the answer is
  among the passages it was shown, not whether they answer, so for readers the relevance
  alone decides (bench/abstention.py).
- Without a reranker, a trained extractor's score is capped by the dense cosine of the query
  and the best passage; the dense fallback's own score is that cosine already.

Below the threshold (``min_confidence``, default per extractor kind:
:data:`DEFAULT_MIN_CONFIDENCE`) the pipeline abstains.

    >>> rule = AbstainRule(None, "dense-fallback", reader=False)
    >>> rule.threshold
    0.3
    >>> rule.decide([], [], 0.0, lambda: 0.0)
    Decision(confidence=0.0, grounded=False, threshold=0.3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from re3g.rank.base import Ranker
from re3g.types import Evidence, Hit

DEFAULT_MIN_CONFIDENCE = {"dense-fallback": 0.30, "extractor": 0.20, "passage": 0.30}
# With the project's (tower) reranker, confidence is also capped by the best passage's reranked
# score (a cosine). Measured against the 0.20 threshold: doc2dial validation turns have top
# scores 0.226 / 0.304 / 0.553 at the 1st / 5th / 50th percentile; ten off-topic questions
# scored 0.04-0.18 (one, about car tyres on the DMV corpus, 0.27) on doc2dial and the sample.


@dataclass(frozen=True)
class Decision:
    """The confidence in [0, 1], whether the pipeline answers, and the threshold used."""

    confidence: float
    grounded: bool
    threshold: float


class AbstainRule:
    """Confidence and the answer/abstain decision of one pipeline's components.

    ``extractor_kind``: "extractor" (trained), "dense-fallback", "passage" (no documents) or
    "off"; ``reader``: the extractor is a start/end reader.

    >>> AbstainRule(None, "extractor", reader=True, min_confidence=0.5).threshold
    0.5
    """

    def __init__(self, reranker: Ranker | None, extractor_kind: str, reader: bool,
                 min_confidence: float | None = None) -> None:
        self.reranker = reranker
        self.extractor_kind = extractor_kind
        self.reader = reader
        self.threshold = (min_confidence if min_confidence is not None
                          else DEFAULT_MIN_CONFIDENCE.get(extractor_kind, 0.0))

    def confidence(self, hits: Sequence[Hit], evidence: Sequence[Evidence], top_score: float,
                   passage_cosine: Callable[[], float]) -> float:
        """How sure the pipeline is that the documents answer the turn, in [0, 1].
        ``top_score`` is the reranker's best score before the document bonus and the
        cross-encoder step; ``passage_cosine()`` the dense cosine of query and top passage."""
        confidence = evidence[0].score if evidence else passage_cosine()
        reader = self.reader and bool(evidence)
        if hits and self.reranker is not None:
            rel = self.reranker.relevance(top_score)
            return rel if reader else min(confidence, rel)
        if hits and evidence and self.extractor_kind == "extractor":
            cos = passage_cosine()
            return cos if reader else min(confidence, cos)
        return confidence

    def decide(self, hits: Sequence[Hit], evidence: Sequence[Evidence], top_score: float,
               passage_cosine: Callable[[], float]) -> Decision:
        """The :class:`Decision` for one turn."""
        conf = self.confidence(hits, evidence, top_score, passage_cosine)
        return Decision(conf, bool(hits) and conf >= self.threshold, self.threshold)
