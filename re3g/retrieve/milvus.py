"""Retrieval from a Milvus collection: BM25 and dense retrievers with the usual interface.

``open_index`` calls :func:`open_milvus` for an index whose manifest says ``"backend":
"milvus"``; hybrid retrieval is the project's own :class:`~re3g.retrieve.hybrid.HybridRetriever`
(weighted RRF, ties broken by passage id) over the two Milvus result lists, so a hybrid
ranking is the same function of the two lists on every backend, Lite or server. Milvus's
``RRFRanker`` has no per-list weights (re3g's default gives BM25 half the weight of dense) and
its ``WeightedRanker`` fuses normalised scores, not ranks; neither reproduces it.

BM25 scores are Milvus's divided by ``k1 + 1``: Milvus (and Lite) multiply each term's
saturation by ``k1 + 1``, Lucene 8+ does not, and the document prior turns BM25 scores into
weights with a temperature tuned on Lucene's scale. Lite reports BM25 as a negative distance,
a server as a positive score; both become the positive score.

>>> r = open_index("indexes/doc2dial-milvus", mode="hybrid")  # doctest: +SKIP
>>> r.search("how do I renew my registration", k=3)[0].passage.doc_id  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from re3g.errors import IndexLoadError
from re3g.retrieve.base import Retriever, check_k, check_query
from re3g.retrieve.milvus_conn import MilvusTarget, connect, explain
from re3g.retrieve.milvus_store import PASSAGE_FIELDS, check_collection, row_passage
from re3g.retrieve.terms import milvus_text
from re3g.types import Hit, Passage

SEARCH_CHUNK = 64
"""Queries per search request of a batch."""
FETCH_CHUNK = 1000
"""Passages per query request when all passages are read."""
TIE_MARGIN = 16
"""Extra results fetched so that equal scores at the cut are ordered by index position."""


class MilvusIndex:
    """The open collection of one index, shared by its BM25 and dense retrievers.

    Opening checks that the alias exists and that the collection it names has the manifest's
    fields, encoder, dimension, analysis and passage count (IndexLoadError naming the URI
    and what is wrong otherwise). ``passages()`` fetches every passage once, on first use.

    >>> index = MilvusIndex("indexes/doc2dial-milvus", manifest)  # doctest: +SKIP
    >>> index.search(["renew regist"], "sparse", 3, {"metric_type": "BM25"})  # doctest: +SKIP
    """

    def __init__(self, root: str | Path, manifest: dict[str, Any]) -> None:
        mm = manifest.get("milvus") or {}
        if "uri" not in mm or "alias" not in mm:
            raise IndexLoadError(f"{root}/manifest.json: backend milvus without a milvus.uri "
                                 "and milvus.alias; rebuild it with `re3g index`")
        self.target = MilvusTarget(mm["uri"], mm.get("token_env", ""))
        self.uri = self.target.resolve(root)
        self.alias = mm["alias"]
        self.where = f"Milvus at {self.uri}, collection {self.alias}"
        self.n_passages = int(manifest["n_passages"])
        self.client = connect(self.target, root)
        self._passages: list[Passage] | None = None
        try:
            if not self.client.has_collection(self.alias):
                raise IndexLoadError(f"{self.where} does not exist (dropped, or another "
                                     "server?); rebuild it with `re3g index --backend milvus`")
            check_collection(self.client.describe_collection(self.alias), manifest, self.where)
            self.client.load_collection(self.alias)
        except IndexLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - pymilvus raises several types
            raise IndexLoadError(f"{self.where}: {explain(exc, self.uri, self.target)}"
                                 ) from exc

    def passages(self) -> list[Passage]:
        """Every passage of the collection, in index order (fetched once)."""
        if self._passages is None:
            rows: list[dict[str, Any]] = []
            for lo in range(0, self.n_passages, FETCH_CHUNK):  # pos is 0 .. n-1
                try:
                    rows += self.client.query(self.alias, filter=f"pos >= {lo} and pos < "
                                              f"{lo + FETCH_CHUNK}", output_fields=list(
                                                  PASSAGE_FIELDS))
                except Exception as exc:  # noqa: BLE001 - pymilvus raises several types
                    raise IndexLoadError(f"{self.where}: reading passages failed: "
                                         f"{explain(exc, self.uri, self.target)}") from exc
            rows.sort(key=lambda r: r["pos"])
            if len(rows) != self.n_passages:
                raise IndexLoadError(f"{self.where} holds {len(rows)} passages, the manifest "
                                     f"says {self.n_passages}; rebuild it with `re3g index`")
            self._passages = [row_passage(r) for r in rows]
        return self._passages

    def search(self, data: Sequence[Any], field: str, k: int, params: dict[str, Any]
               ) -> list[list[dict[str, Any]]]:
        """Raw Milvus results (``distance`` and passage fields) for each query in ``data``:
        up to ``k`` + :data:`TIE_MARGIN` of them, in Milvus's order."""
        out: list[list[dict[str, Any]]] = []
        chunks = range(0, len(data), SEARCH_CHUNK)
        for start in tqdm(chunks, desc=f"Milvus {field} search", unit="batch",
                          disable=len(data) <= 4 * SEARCH_CHUNK):
            try:
                res = self.client.search(self.alias, data=list(data[start:start + SEARCH_CHUNK]),
                                         anns_field=field, limit=k + TIE_MARGIN,
                                         search_params=params,
                                         output_fields=list(PASSAGE_FIELDS))
            except Exception as exc:  # noqa: BLE001 - pymilvus raises several types
                raise IndexLoadError(f"{self.where}: search failed: "
                                     f"{explain(exc, self.uri, self.target)}") from exc
            out.extend([list(hits) for hits in res])
        return out


def _hits(rows: list[dict[str, Any]], k: int, source: str,
          score: Callable[[float], float]) -> list[Hit]:
    """The top ``k`` hits by ``score(distance)``, equal scores in index order (as Lucene
    orders ties; Milvus servers and Lite need not agree on it, and duplicate passages of
    different documents tie)."""
    scored = sorted(((score(float(r["distance"])), r.get("entity", r)) for r in rows),
                    key=lambda t: (-t[0], t[1]["pos"]))[:k]
    return [Hit(row_passage(e), s, rank, source) for rank, (s, e) in enumerate(scored, 1)]


class MilvusBM25Retriever:
    """BM25 from Milvus's BM25 Function (SPARSE_INVERTED_INDEX, k1 and b fixed at build).

    >>> r = MilvusBM25Retriever(MilvusIndex(root, manifest), k1=0.9)  # doctest: +SKIP
    >>> r.search("renew registration", k=3)[0].passage.doc_id  # doctest: +SKIP
    """

    encoder = None  # no dense encoder

    def __init__(self, index: MilvusIndex, k1: float) -> None:
        self.index = index
        self.scale = 1.0 / (k1 + 1.0)

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in index order."""
        return self.index.passages()

    @property
    def sparse(self) -> MilvusBM25Retriever:
        """The BM25 searcher: itself."""
        return self

    def _score(self, distance: float) -> float:
        # Lite reports BM25 as a negative distance, a server as the (positive) score
        return abs(distance) * self.scale

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` passages for ``query`` by BM25."""
        return self.batch_search([check_query(query)], k)[0]

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top-``k`` passages for each query (a query of stop words only finds nothing)."""
        terms = [milvus_text(check_query(q, f"query {i}")) for i, q in enumerate(queries)]
        todo = [i for i, t in enumerate(terms) if t]
        rows = self.index.search([terms[i] for i in todo], "sparse", check_k(k),
                                 {"metric_type": "BM25"}) if todo else []
        out: list[list[Hit]] = [[] for _ in queries]
        for i, r in zip(todo, rows, strict=True):
            out[i] = _hits(r, k, "bm25", self._score)
        return out


class MilvusDenseRetriever:
    """Dense retrieval from Milvus (COSINE over the encoder's normalised vectors); queries are
    encoded here with the same int8 query encoder as the FAISS backend.

    >>> r = MilvusDenseRetriever(MilvusIndex(root, manifest), None, "hnsw")  # doctest: +SKIP
    >>> [h.passage.pid for h in r.search("how do I start the chat?", k=3)]  # doctest: +SKIP
    """

    sparse = None  # no BM25 inside

    def __init__(self, index: MilvusIndex, model_name: str | None, kind: str = "hnsw",
                 ef_search: int = 64, nprobe: int = 16, quantize_queries: bool = True) -> None:
        from re3g.retrieve.dense import load_encoder, load_query_encoder

        self.index, self.kind = index, kind
        self.ef_search, self.nprobe = ef_search, nprobe
        self.model = (load_query_encoder(model_name) if quantize_queries
                      else load_encoder(model_name))

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in index order."""
        return self.index.passages()

    @property
    def encoder(self) -> Any:
        """The query encoder (sentence-transformers)."""
        return self.model

    def _params(self, k: int) -> dict[str, Any]:
        if self.kind == "hnsw":
            return {"metric_type": "COSINE",
                    "params": {"ef": max(self.ef_search, k + TIE_MARGIN)}}  # Milvus: ef >= limit
        if self.kind == "ivf":
            return {"metric_type": "COSINE", "params": {"nprobe": self.nprobe}}
        return {"metric_type": "COSINE"}

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` passages by cosine similarity to ``query``."""
        return self.batch_search([check_query(query)], k)[0]

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top-``k`` passages for each query (queries encoded in batches)."""
        from re3g.retrieve.dense import encode

        qs = [check_query(q, f"query {i}") for i, q in enumerate(queries)]
        vecs = encode(self.model, qs, progress=len(qs) > 256)
        rows = self.index.search(vecs.tolist(), "dense", check_k(k), self._params(check_k(k)))
        return [_hits(r, k, "dense", float) for r in rows]  # COSINE: the similarity


def open_milvus(root: Path, manifest: dict[str, Any], mode: str, fusion: str, rrf_k: int,
                weights: Sequence[float], k1: float | None, b: float | None) -> Retriever:
    """The retriever of ``mode`` over a Milvus index (``open_index`` checks mode and model)."""
    from re3g.retrieve.hybrid import HybridRetriever

    bm = manifest.get("bm25", {})
    for name, value in (("k1", k1), ("b", b)):
        if value is not None and bm and value != bm[name]:
            raise IndexLoadError(f"index {root}: BM25 {name} is fixed when a Milvus index is "
                                 f"built ({bm[name]}); rebuild it to use {value}")
    index = MilvusIndex(root, manifest)
    sparse = MilvusBM25Retriever(index, bm["k1"]) if mode in ("bm25", "hybrid") else None
    dense = None
    if mode in ("dense", "hybrid"):
        dm = manifest["dense"]
        dense = MilvusDenseRetriever(index, dm["model"], dm.get("kind", "hnsw"))
    if sparse is None:
        return dense  # type: ignore[return-value]
    if dense is None:
        return sparse
    return HybridRetriever(sparse, dense, fusion=fusion, rrf_k=rrf_k, weights=weights)
