"""The one retrieval interface: ``search(query, k)`` and ``batch_search(queries, k)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from re3g.errors import QueryError
from re3g.types import Hit, Passage


@runtime_checkable
class Retriever(Protocol):
    """Anything that ranks passages for a query (BM25, dense, hybrid)."""

    passages: list[Passage]

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
