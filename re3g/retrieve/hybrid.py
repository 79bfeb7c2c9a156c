"""Hybrid retrieval: BM25 and dense lists fused by RRF (default) or weighted scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from re3g.retrieve.base import Retriever, check_k
from re3g.retrieve.fusion import Fusion, rrf, weighted
from re3g.types import Hit, Passage


class HybridRetriever:
    """Fuse a sparse and a dense retriever.

    Each side returns ``depth`` candidates (default 100), which are fused and cut to ``k``.
    Defaults (RRF k=30, BM25 weight 0.5, dense weight 1.0) were chosen on doc2dial; see
    docs/retrieval.md.

    Any two :class:`~re3g.retrieve.base.Retriever` objects over the same passages will do
    (here fixed lists; in use, a ``BM25Retriever`` and a ``DenseRetriever``):

    >>> a, b = (Passage(x, "d", "", x, 0, 1, []) for x in "ab")
    >>> class Fixed:
    ...     sparse = encoder = None
    ...     def __init__(self, *ps): self.passages = list(ps)
    ...     def search(self, query, k=10):
    ...         return [Hit(p, 1.0 / r, r) for r, p in enumerate(self.passages[:k], 1)]
    ...     def batch_search(self, queries, k=10): return [self.search(q, k) for q in queries]
    >>> r = HybridRetriever(Fixed(a, b), Fixed(b, a), fusion="rrf", weights=(0.5, 1.0))
    >>> [h.passage.pid for h in r.search("renew registration", k=2)]
    ['b', 'a']
    """

    def __init__(self, sparse: Retriever, dense: Retriever, fusion: Fusion | str = Fusion.RRF,
                 rrf_k: int = 30, weights: Sequence[float] = (0.5, 1.0), depth: int = 100) -> None:
        self.fusion = Fusion(fusion)
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be >= 0, got {rrf_k}")
        if len(weights) != 2 or any(w < 0 for w in weights):
            raise ValueError(f"weights must be two non-negative numbers, got {list(weights)}")
        self.sparse, self.dense = sparse, dense
        self.rrf_k, self.weights, self.depth = rrf_k, tuple(weights), depth

    @property
    def passages(self) -> list[Passage]:
        """The passages of the index (the sparse side's: a Milvus index fetches them only
        when asked)."""
        return self.sparse.passages

    @property
    def encoder(self) -> Any:
        """The dense side's encoder."""
        return self.dense.encoder

    def _fuse(self, a: list[Hit], b: list[Hit], k: int) -> list[Hit]:
        if self.fusion is Fusion.RRF:
            return rrf([a, b], k=self.rrf_k, top=k, weights=self.weights)
        return weighted([a, b], weights=self.weights, top=k)

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` fused passages for ``query``."""
        depth = max(self.depth, check_k(k))
        return self._fuse(self.sparse.search(query, depth), self.dense.search(query, depth), k)

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top-``k`` fused passages for each query."""
        depth = max(self.depth, check_k(k))
        sparse = self.sparse.batch_search(queries, depth)
        dense = self.dense.batch_search(queries, depth)
        return [self._fuse(a, b, k) for a, b in zip(sparse, dense, strict=True)]
