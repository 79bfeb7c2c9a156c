"""The one retrieval interface: ``search(query, k)`` and ``batch_search(queries, k)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from re3g.errors import QueryError
from re3g.types import Hit, Passage


@runtime_checkable
class Retriever(Protocol):
    """Anything that ranks passages for a query (BM25, dense, hybrid).

    ``sparse`` is the BM25 searcher inside it (what the document prior searches with; None
    for dense-only retrievers) and ``encoder`` its dense encoder (None for BM25). A toy
    keyword retriever satisfies the protocol:

    >>> class Keyword:
    ...     sparse = encoder = None
    ...     def __init__(self, passages): self.passages = passages
    ...     def search(self, query, k=10):
    ...         hits = [p for p in self.passages if query.lower() in p.text.lower()][:k]
    ...         return [Hit(p, 1.0, rank) for rank, p in enumerate(hits, 1)]
    ...     def batch_search(self, queries, k=10): return [self.search(q, k) for q in queries]
    >>> r = Keyword([Passage("p1", "d1", "Fees", "The fee is $25.", 0, 15, [])])
    >>> isinstance(r, Retriever), [h.passage.pid for h in r.search("fee")]
    (True, ['p1'])
    """

    passages: list[Passage]
    sparse: Retriever | None
    encoder: Any

    def search(self, query: str, k: int = 10) -> list[Hit]: ...

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]: ...


def check_query(query: object, where: str = "query") -> str:
    """Return the stripped query or raise QueryError for empty, whitespace or non-text input."""
    if not isinstance(query, str):
        raise QueryError(f"{where} must be text, got {type(query).__name__}")
    q = query.strip()
    if not q:
        raise QueryError(f"{where} is empty or whitespace only")
    return q


def check_k(k: int) -> int:
    """Validate a result count."""
    if not isinstance(k, int) or k < 1:
        raise QueryError(f"k must be a positive integer, got {k!r}")
    return k
