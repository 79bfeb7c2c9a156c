"""re3g: retrieve, rerank, extract and generate grounded answers over documents.

The top level stays import-light: heavy modules (torch, pyserini, faiss) load on first use.

    from re3g import open_index
    retriever = open_index("indexes/sample", mode="hybrid")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from re3g.types import Answer, Dialogue, Document, Evidence, Example, Hit, Passage, Span, Turn

__version__ = "0.1.0"

__all__ = [
    "Answer", "Dialogue", "Document", "Evidence", "Example", "Hit", "Passage", "Span", "Turn",
    "open_index", "build_index", "__version__",
]

if TYPE_CHECKING:
    from re3g.retrieve import build_index, open_index


def __getattr__(name: str) -> Any:
    if name in ("open_index", "build_index"):
        from re3g import retrieve

        return getattr(retrieve, name)
    if name == "Re3G":
        from re3g.pipeline import Re3G

        return Re3G
    raise AttributeError(f"module 're3g' has no attribute {name!r}")
