"""Index folders: build (atomically, with a manifest) and open (with compatibility checks).

Layout of ``indexes/<name>/`` (the default backend, "lucene")::

    manifest.json     what corpus, which model, passage count, settings, format version
    passages.jsonl    the passages, one JSON object a line, in index order
    bm25/             the Lucene index
    dense/faiss.index the FAISS index
    spans/            every document span embedded (:mod:`re3g.retrieve.span_store`)

With ``backend="milvus"`` the folder holds the manifest and ``spans/`` (and ``milvus.db``,
when the index is a Milvus Lite file inside it); passages, BM25 and dense vectors live in a
Milvus collection (:mod:`re3g.retrieve.milvus_build`, :mod:`re3g.retrieve.milvus`).

A build writes a hidden sibling folder and swaps it in; a crash at any point leaves either the
previous or the new index openable, and the leftovers of dead builds are deleted at the next
build or open (:mod:`re3g.retrieve.swap`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from re3g.config import (
    BACKENDS,
    INDEX_KINDS,
    MODES,
    PASSAGE_MAX_WORDS,
    PASSAGE_MIN_WORDS,
    Config,
)
from re3g.data.passages import split_corpus
from re3g.errors import IndexLoadError, Re3GError
from re3g.memory import release_memory
from re3g.retrieve import swap
from re3g.retrieve.base import Retriever
from re3g.types import Document, Passage

FORMAT_VERSION = 1


def corpus_fingerprint(docs: Iterable[Document]) -> str:
    """A sha256 over document ids and texts, order-independent."""
    h = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.doc_id):
        h.update(doc.doc_id.encode())
        h.update(b"\0")
        h.update(doc.text.encode())
        h.update(b"\1")
    return h.hexdigest()


def _write_passages(passages: Sequence[Passage], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")


def read_passages(path: Path) -> list[Passage]:
    """Read ``passages.jsonl`` written by :func:`build_index`."""
    out = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            try:
                out.append(Passage(**json.loads(line)))
            except (json.JSONDecodeError, TypeError) as exc:
                raise IndexLoadError(f"{path}: line {n} is not a passage record ({exc})") from exc
    return out


def build_index(
    documents: Sequence[Document] | dict[str, Document],
    out_dir: str | Path,
    *,
    name: str | None = None,
    source: str = "",
    model: str | None = None,
    kinds: Sequence[str] = INDEX_KINDS,
    faiss_kind: str | None = None,
    max_words: int = PASSAGE_MAX_WORDS,
    min_words: int = PASSAGE_MIN_WORDS,
    progress: bool = True,
    on_stage: Callable[[str, float], None] | None = None,
    check: Callable[[], None] | None = None,
    meta: Mapping[str, Any] | None = None,
    backend: str = "lucene",
    uri: str | None = None,
    vectors_from: str | Path | None = None,
    encode: Callable[[Sequence[Passage], str | None], np.ndarray] | None = None,
    span_vectors: bool = True,
) -> Path:
    """Split ``documents`` into passages and build the BM25 and/or dense indexes.

    ``backend`` "lucene" (default) writes Lucene and FAISS files; "milvus" loads a Milvus
    collection at ``uri`` (default: a Milvus Lite file ``out_dir/milvus.db``; or
    ``http(s)://host:port``, with a token from ``$RE3G_MILVUS_TOKEN``). ``faiss_kind`` is the
    dense index ("flat", "hnsw", "ivf"; default flat for Lucene, hnsw for Milvus).
    ``vectors_from`` names a built Lucene index over the same passages and encoder whose
    FAISS vectors are reused instead of encoding again. ``encode(passages, model)``, when
    given, computes the passage vectors instead of this process (``re3g index --ray``:
    :func:`re3g.scale.ray_index.ray_encoding`); it must return what
    :func:`re3g.retrieve.dense.passage_vectors` would. ``span_vectors`` also embeds every
    document span for the extractor (:mod:`re3g.retrieve.span_store`), so no turn waits for it.

    Everything is written to a temporary sibling folder and moved into place at the end, so an
    interrupted, cancelled or failed build leaves any previous index at ``out_dir`` untouched
    (a crash too: :mod:`re3g.retrieve.swap`).

    ``check()``, when given, is called between steps (every few hundred passages while
    indexing); it stops the build by raising, e.g. :class:`~re3g.errors.BuildCancelled` for a
    cancel button or a time limit. ``meta`` adds keys to the manifest (it cannot replace the
    ones the build writes). Memory the build used is returned to the OS at the end
    (:func:`re3g.memory.release_memory`).

    >>> from re3g.retrieve import build_index  # doctest: +SKIP
    >>> build_index(docs, "indexes/doc2dial", source="doc2dial_doc.json")  # doctest: +SKIP
    """
    docs = list(documents.values()) if isinstance(documents, dict) else list(documents)
    out = Path(out_dir)
    if not docs:
        raise Re3GError(f"cannot build index {out}: the corpus has no documents")
    if backend not in BACKENDS:
        raise Re3GError(f"unknown index backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if uri is not None and backend != "milvus":
        raise Re3GError("a URI is for --backend milvus only")
    kind = faiss_kind or ("hnsw" if backend == "milvus" else "flat")
    unknown = set(kinds) - set(INDEX_KINDS)
    if unknown or not kinds:
        raise Re3GError(f"index kinds must be among {', '.join(INDEX_KINDS)}; got {list(kinds)}")
    passages = split_corpus(docs, max_words=max_words, min_words=min_words)
    if not passages:
        raise Re3GError(f"cannot build index {out}: the documents contain no text")

    stop = check or (lambda: None)
    stop()
    swap.recover(out)  # leftovers of dead builds; a missing index put back
    manifest: dict[str, Any] = {
        **(meta or {}),
        "format": FORMAT_VERSION,
        "name": name or out.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus": {"source": source, "n_documents": len(docs),
                   "sha256": corpus_fingerprint(docs)},
        "n_passages": len(passages),
        "mean_passage_words": round(sum(len(p.text.split()) for p in passages) / len(passages),
                                    2),
        "passages": {"max_words": max_words, "min_words": min_words},
        "kinds": list(kinds),
    }
    if backend != "lucene":
        manifest["backend"] = backend
    tmp = swap.new_build_dir(out)
    lite: str | None = None
    try:
        if span_vectors:  # first: a server-backed build switches its alias at the end
            from re3g.retrieve.span_store import build_span_vectors

            stop()
            t0 = time.perf_counter()
            manifest["spans"] = build_span_vectors(docs, tmp, progress, check=stop)
            manifest["spans"]["build_s"] = round(time.perf_counter() - t0, 2)
            if on_stage:
                on_stage("spans", time.perf_counter() - t0)
        if backend == "milvus":
            lite = _milvus_parts(passages, tmp, out, manifest, uri=uri, model=model, kind=kind,
                                 vectors_from=vectors_from, progress=progress,
                                 on_stage=on_stage, stop=stop, encode=encode)
        else:
            _lucene_parts(passages, tmp, manifest, model=model, kind=kind, progress=progress,
                          on_stage=on_stage, stop=stop, encode=encode)
        stop()
        # written last: a build folder with a manifest is complete (swap.recover relies on it)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if lite:  # Milvus Lite holds its file open: close it before the folder moves
            _release_lite(tmp / lite)
        swap.swap_into_place(tmp, out)
        if lite:  # this process may still serve the replaced file under the same path
            _release_lite(out / lite)
    finally:
        if lite:
            _release_lite(tmp / lite)
        swap.release(tmp)
        del passages, docs
        release_memory()
    return out


def _lucene_parts(passages: list[Passage], tmp: Path, manifest: dict[str, Any], *,
                  model: str | None, kind: str, progress: bool,
                  on_stage: Callable[[str, float], None] | None, stop: Callable[[], None],
                  encode: Callable[[Sequence[Passage], str | None], np.ndarray] | None = None
                  ) -> None:
    """passages.jsonl, the Lucene index and the FAISS index, into ``tmp``."""
    from re3g.retrieve.bm25 import DEFAULT_B, DEFAULT_K1, build_bm25
    from re3g.retrieve.dense import build_dense

    _write_passages(passages, tmp / "passages.jsonl")
    if "bm25" in manifest["kinds"]:
        stop()
        t0 = time.perf_counter()
        build_bm25(passages, tmp / "bm25", progress=progress, check=stop)
        manifest["bm25"] = {"k1": DEFAULT_K1, "b": DEFAULT_B,
                            "build_s": round(time.perf_counter() - t0, 2)}
        if on_stage:
            on_stage("bm25", time.perf_counter() - t0)
    if "dense" in manifest["kinds"]:
        stop()
        t0 = time.perf_counter()
        vectors = encode(passages, model) if encode is not None else None
        manifest["dense"] = build_dense(passages, tmp / "dense", model, kind, progress,
                                        check=stop, vectors=vectors)
        del vectors
        manifest["dense"]["build_s"] = round(time.perf_counter() - t0, 2)
        if on_stage:
            on_stage("dense", time.perf_counter() - t0)


def _milvus_parts(passages: list[Passage], tmp: Path, out: Path, manifest: dict[str, Any], *,
                  uri: str | None, model: str | None, kind: str,
                  vectors_from: str | Path | None, progress: bool,
                  on_stage: Callable[[str, float], None] | None, stop: Callable[[], None],
                  encode: Callable[[Sequence[Passage], str | None], np.ndarray] | None = None
                  ) -> str | None:
    """Vectors (encoded, or reused from ``vectors_from``) and the Milvus collection; returns
    the Milvus Lite file's name when it lives in the index folder."""
    from re3g.retrieve.bm25 import DEFAULT_B, DEFAULT_K1
    from re3g.retrieve.dense import canonical_model_name, passage_vectors
    from re3g.retrieve.milvus_build import load_collection
    from re3g.retrieve.milvus_conn import MilvusTarget, require_pymilvus
    from re3g.retrieve.milvus_store import ANALYSIS, DENSE_INDEXES, dense_index

    require_pymilvus()
    if kind not in DENSE_INDEXES:
        raise Re3GError(f"unknown dense index kind {kind!r}; choose one of "
                        f"{', '.join(DENSE_INDEXES)}")
    target = MilvusTarget.parse(uri or str(out / "milvus.db"), out)
    vectors = None
    if "bm25" in manifest["kinds"]:
        manifest["bm25"] = {"k1": DEFAULT_K1, "b": DEFAULT_B, "analysis": ANALYSIS}
    if "dense" in manifest["kinds"]:
        stop()
        t0 = time.perf_counter()
        if vectors_from is not None:
            vectors = reuse_vectors(vectors_from, passages, model)
        elif encode is not None:
            vectors = encode(passages, model)
        else:
            vectors = passage_vectors(passages, model, progress, stop)
        index_type, params = dense_index(kind, len(passages))
        manifest["dense"] = {"model": canonical_model_name(model), "dim": int(vectors.shape[1]),
                             "kind": kind, "index_type": index_type, "index_params": params,
                             "vectors_from": str(vectors_from) if vectors_from else None,
                             "encode_s": round(time.perf_counter() - t0, 2)}
        if on_stage:
            on_stage("dense", time.perf_counter() - t0)
    stop()
    t0 = time.perf_counter()
    manifest["milvus"] = load_collection(passages, vectors, manifest, target, str(tmp),
                                         progress=progress, check=stop)
    if on_stage:
        on_stage("milvus", time.perf_counter() - t0)
    return target.uri if target.in_folder else None


def _release_lite(path: Path) -> None:
    from re3g.retrieve.milvus_conn import release_embedded

    release_embedded(path)


def reuse_vectors(source: str | Path, passages: Sequence[Passage], model: str | None
                  ) -> np.ndarray:
    """The passage vectors of the Lucene/FAISS index ``source``, checked to be the vectors of
    exactly ``passages`` by the encoder ``model``; IndexLoadError says what differs."""
    from re3g.retrieve.dense import canonical_model_name, stored_vectors

    src = Path(source)
    m = read_manifest(src)
    if m.get("backend", "lucene") != "lucene" or "dense" not in m["kinds"]:
        raise IndexLoadError(f"--vectors-from {src}: not an index with FAISS vectors")
    if m["dense"]["model"] != canonical_model_name(model):
        raise IndexLoadError(f"--vectors-from {src}: its vectors are from encoder "
                             f"{m['dense']['model']!r}, not {canonical_model_name(model)!r}")
    if read_passages(src / "passages.jsonl") != list(passages):
        raise IndexLoadError(f"--vectors-from {src}: its passages differ from this build's "
                             "(another corpus or passage settings)")
    vectors = stored_vectors(src / "dense")
    if len(vectors) != len(passages):
        raise IndexLoadError(f"--vectors-from {src}: {len(vectors)} vectors for "
                             f"{len(passages)} passages")
    return vectors


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check an index manifest; IndexLoadError names what is wrong. An index a crashed
    build left missing is put back first (:func:`re3g.retrieve.swap.recover`)."""
    root = Path(path)
    if not root.is_dir():
        swap.recover(root)
    if not root.is_dir():
        hint = ""
        if root.parent.is_dir():
            names = sorted(p.name for p in root.parent.iterdir()
                           if (p / "manifest.json").is_file())
            hint = f"; indexes in {root.parent}: {', '.join(names) or 'none'}"
        raise IndexLoadError(f"no index at {root}{hint} (build one with `re3g index`)")
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise IndexLoadError(f"{root} has no manifest.json: not an index, or a partial build; "
                             "rebuild it with `re3g index`")
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as exc:
        raise IndexLoadError(f"{mpath}: malformed JSON at line {exc.lineno}: {exc.msg}") from exc
    fmt = manifest.get("format")
    if fmt != FORMAT_VERSION:
        raise IndexLoadError(f"{mpath}: index format {fmt!r} is from another re3g build "
                             f"(this one reads format {FORMAT_VERSION}); rebuild with `re3g index`")
    for key in ("n_passages", "kinds", "corpus"):
        if key not in manifest:
            raise IndexLoadError(f"{mpath}: missing key {key!r}; rebuild with `re3g index`")
    if manifest.get("backend", "lucene") not in BACKENDS:
        raise IndexLoadError(f"{mpath}: unknown backend {manifest['backend']!r} (this re3g "
                             f"reads {', '.join(BACKENDS)}); rebuild with `re3g index`")
    return manifest


def open_index(
    path: str | Path,
    mode: str = Config.mode,
    *,
    model: str | None = None,
    corpus: Sequence[Document] | dict[str, Document] | None = None,
    fusion: str = "rrf",
    rrf_k: int = 30,
    weights: Sequence[float] = (0.5, 1.0),
    k1: float | None = None,
    b: float | None = None,
) -> Retriever:
    """Open a built index as a retriever: ``mode`` is "bm25", "dense" or "hybrid".

    The backend (Lucene + FAISS files, or a Milvus collection) is read from the manifest.
    ``model``, when given, must match the encoder the index was built with, and ``corpus``,
    when given, must be the corpus it was built from; otherwise IndexLoadError says so.

    >>> retriever = open_index("indexes/sample", mode="hybrid")  # doctest: +SKIP
    >>> hits = retriever.search("how do I start the chat?", k=5)  # doctest: +SKIP
    """
    from re3g.retrieve.dense import canonical_model_name

    if mode not in MODES:
        raise IndexLoadError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
    root = Path(path)
    manifest = read_manifest(root)
    need = list(INDEX_KINDS) if mode == "hybrid" else [mode]
    for kind in need:
        if kind not in manifest["kinds"]:
            raise IndexLoadError(f"index {root} has no {kind} part (built with "
                                 f"{manifest['kinds']}); rebuild it with `re3g index`")
    if "dense" in need and model is not None:
        built = manifest["dense"]["model"]
        if canonical_model_name(model) != built:
            raise IndexLoadError(f"index {root} was built with encoder {built!r}, not "
                                 f"{canonical_model_name(model)!r}; rebuild it with that model")
    if corpus is not None:
        docs = list(corpus.values()) if isinstance(corpus, dict) else list(corpus)
        if corpus_fingerprint(docs) != manifest["corpus"]["sha256"]:
            raise IndexLoadError(f"index {root} was built from another corpus "
                                 f"({manifest['corpus'].get('source') or 'unknown source'}); "
                                 "rebuild it with `re3g index`")
    if manifest.get("backend") == "milvus":
        from re3g.retrieve.milvus import open_milvus

        return open_milvus(root, manifest, mode, fusion, rrf_k, weights, k1, b)
    passages = read_passages(root / "passages.jsonl")
    if len(passages) != manifest["n_passages"]:
        raise IndexLoadError(f"{root}: manifest says {manifest['n_passages']} passages but "
                             f"passages.jsonl has {len(passages)}; rebuild with `re3g index`")
    return _make(root, manifest, mode, passages, fusion, rrf_k, weights, k1, b)


def _make(root: Path, manifest: dict[str, Any], mode: str, passages: list[Passage],
          fusion: str, rrf_k: int, weights: Sequence[float], k1: float | None,
          b: float | None) -> Retriever:
    from re3g.retrieve.bm25 import DEFAULT_B, DEFAULT_K1, BM25Retriever
    from re3g.retrieve.dense import DenseRetriever
    from re3g.retrieve.hybrid import HybridRetriever

    sparse = dense = None
    if mode in ("bm25", "hybrid"):
        bm = manifest.get("bm25", {})
        sparse = BM25Retriever(root / "bm25", passages, k1 if k1 is not None else
                               bm.get("k1", DEFAULT_K1), b if b is not None else
                               bm.get("b", DEFAULT_B))
    if mode in ("dense", "hybrid"):
        dm = manifest["dense"]
        dense = DenseRetriever(root / "dense", passages, dm["model"], dm.get("faiss", "flat"))
    if mode == "bm25":
        return sparse
    if mode == "dense":
        return dense
    return HybridRetriever(sparse, dense, fusion=fusion, rrf_k=rrf_k, weights=weights)
