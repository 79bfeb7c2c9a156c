"""Retrieval as a library: BM25 (pyserini/Lucene), dense (sentence-transformers + FAISS), hybrid.

    from re3g.retrieve import open_index
    retriever = open_index("indexes/doc2dial", mode="hybrid")   # "bm25" | "dense" | "hybrid"
    for hit in retriever.search("renew registration online", k=5):
        print(hit.score, hit.passage.doc_id, hit.passage.text[:80])
"""

from re3g.retrieve.base import Retriever
from re3g.retrieve.fusion import Fusion, rrf, weighted
from re3g.retrieve.index import MODES, build_index, open_index, read_manifest

__all__ = ["MODES", "Fusion", "Retriever", "build_index", "open_index", "read_manifest", "rrf",
           "weighted"]
