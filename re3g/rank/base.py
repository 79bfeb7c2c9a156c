"""The reranking protocol (:class:`Ranker`): the query tower and the cross-encoders both
score passages for a query, rerank hits, say which query they were trained to read, and map
their scores to a relevance in [0, 1] (what the abstention rule reads).

    >>> from re3g.rank import Reranker
    >>> isinstance(Reranker("tower", None), Ranker)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from re3g.types import Hit, Passage, Turn


@runtime_checkable
class Ranker(Protocol):
    """A model that scores passages for a query: the query tower, a cross-encoder."""

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        """Relevance of each passage (higher is better)."""
        ...

    def rerank(self, query: str, hits: Sequence[Hit], k: int | None = None) -> list[Hit]:
        """``hits`` reordered by :meth:`score`, ranks renumbered."""
        ...

    def question(self, history: Sequence[Turn] | None) -> str | None:
        """The query this model was trained to read for ``history``, when it is not the
        pipeline's dialogue query (None)."""
        ...

    def relevance(self, score: float) -> float:
        """A score of this model as a relevance in [0, 1]."""
        ...
