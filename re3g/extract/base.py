"""The extraction protocol (:class:`Extractor`): evidence spans from ranked hits.

    >>> from re3g.extract import SpanExtractor
    >>> isinstance(SpanExtractor("qa", None), Extractor)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from re3g.config import Config
from re3g.types import Document, Evidence, Hit, Turn


@runtime_checkable
class Extractor(Protocol):
    """Evidence spans (whole document spans with offsets) from a query and ranked hits."""

    kind: str

    def extract(self, query: str, hits: Sequence[Hit],
                documents: dict[str, Document] | None = None, top_n: int = Config.top_n,
                current: str | None = None, current_weight: float = 0.0,
                reader_query: str | None = None) -> list[Evidence]:
        """Up to ``top_n`` evidence spans, best first, scores in [0, 1]."""
        ...

    def question(self, history: Sequence[Turn]) -> str | None:
        """The question this extractor was trained to read for ``history``, when it is not
        the pipeline's dialogue query (None)."""
        ...
