"""BM25 retrieval through pyserini's Lucene (Anserini) indexer and searcher."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from re3g.data.passages import passage_contents
from re3g.retrieve.base import check_k, check_query
from re3g.retrieve.jvm import start_jvm
from re3g.types import Hit, Passage

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4


def build_bm25(passages: Sequence[Passage], out_dir: Path, threads: int = 2,
               progress: bool = True, check: Callable[[], None] | None = None) -> None:
    """Write a Lucene index of ``passages`` (docid = position in the list) into ``out_dir``;
    ``check()`` is called before every batch of 1,000 passages and stops the build by raising."""
    start_jvm()
    from pyserini.index.lucene import LuceneIndexer

    out_dir.mkdir(parents=True, exist_ok=True)
    indexer = LuceneIndexer(str(out_dir), args=["-index", str(out_dir), "-threads", str(threads)],
                            threads=threads)
    try:
        batch: list[dict[str, str]] = []
        for i, p in enumerate(tqdm(passages, desc="BM25 index", unit="passage",
                                   disable=not progress)):
            batch.append({"id": str(i), "contents": passage_contents(p)})
            if len(batch) >= 1000:
                if check:
                    check()
                indexer.add_batch_dict(batch)
                batch = []
        if batch:
            indexer.add_batch_dict(batch)
    finally:
        indexer.close()


class BM25Retriever:
    """BM25 over a Lucene index built by :func:`build_bm25`.

    >>> r = BM25Retriever("indexes/sample/bm25", passages)  # doctest: +SKIP
    >>> r.search("renew registration", k=3)[0].passage.doc_id  # doctest: +SKIP
    """

    def __init__(self, index_dir: str | Path, passages: list[Passage],
                 k1: float = DEFAULT_K1, b: float = DEFAULT_B, threads: int = 2) -> None:
        start_jvm()
        from pyserini.search.lucene import LuceneSearcher

        self.passages = passages
        self.threads = threads
        self._searcher = LuceneSearcher(str(index_dir))
        self._searcher.set_bm25(k1, b)

    encoder = None  # no dense encoder

    @property
    def sparse(self) -> BM25Retriever:
        """The BM25 searcher: itself."""
        return self

    def _hits(self, docs: list) -> list[Hit]:
        return [Hit(self.passages[int(d.docid)], float(d.score), rank, "bm25")
                for rank, d in enumerate(docs, start=1)]

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` passages for ``query`` by BM25."""
        q = check_query(query)
        return self._hits(self._searcher.search(_escape(q), k=check_k(k)))

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top-``k`` passages for each query (multi-threaded in Lucene)."""
        qs = [_escape(check_query(q, f"query {i}")) for i, q in enumerate(queries)]
        ids = [str(i) for i in range(len(qs))]
        out = self._searcher.batch_search(qs, ids, k=check_k(k), threads=self.threads)
        return [self._hits(out[i]) for i in ids]


def _escape(q: str) -> str:
    # Lucene's query parser treats these as syntax; a user's question should stay plain text.
    for ch in '\\+-!():^[]"{}~*?|&/':
        q = q.replace(ch, " ")
    return " ".join(q.split()) or "_"
