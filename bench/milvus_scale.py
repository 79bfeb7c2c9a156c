"""Cost growth of the Milvus backend (Milvus Lite, embedded) with corpus size.

The same synthetic corpus as bench/retrieval_scale.py (80-word Zipf passages; random unit
384-d vectors), loaded through re3g's own loader (:func:`re3g.retrieve.milvus_build.
load_collection`: analysis, BM25 Function, dense index, alias). Reports load time, size on
disk, and warm query p50 of BM25, dense (vector given, no encoder) and the two searches a
hybrid query makes.

    .venv/bin/python bench/milvus_scale.py --sizes 10000 100000 --dense-index hnsw
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, save  # noqa: E402
from retrieval_scale import dir_size, synthetic_texts  # noqa: E402


def timed(fn: Callable[[Any], Any], queries: Sequence[Any]) -> dict:
    for q in queries[:10]:
        fn(q)
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def bench(n: int, kind: str, rng: np.random.Generator, tmp: Path) -> dict:
    from re3g.retrieve.milvus import MilvusBM25Retriever, MilvusIndex
    from re3g.retrieve.milvus_build import load_collection
    from re3g.retrieve.milvus_conn import MilvusTarget, release_embedded
    from re3g.retrieve.milvus_store import ANALYSIS, dense_index
    from re3g.types import Passage

    texts = synthetic_texts(n, rng)
    passages = [Passage(str(i), f"d{i}", "", t, 0, len(t), ["1"]) for i, t in enumerate(texts)]
    vecs = rng.standard_normal((n, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index_type, params = dense_index(kind, n)
    folder = tmp / f"m{n}"
    folder.mkdir()
    manifest = {"name": f"scale{n}", "kinds": ["bm25", "dense"], "n_passages": n,
                "corpus": {"sha256": "synthetic"},
                "bm25": {"k1": 0.9, "b": 0.4, "analysis": ANALYSIS},
                "dense": {"model": "random", "dim": 384, "kind": kind,
                          "index_type": index_type, "index_params": params}}
    target = MilvusTarget("milvus.db")
    t0 = time.perf_counter()
    manifest["milvus"] = load_collection(passages, vecs, manifest, target, str(folder))
    load_s = time.perf_counter() - t0
    release_embedded(folder / "milvus.db")  # measure a reopened index, as a new process sees it
    size = dir_size(folder)
    t0 = time.perf_counter()
    index = MilvusIndex(folder, manifest)
    bm25 = MilvusBM25Retriever(index, 0.9)
    bm25.search("w1", 10)
    reopen_s = time.perf_counter() - t0
    queries = [" ".join(t.split()[:8]) for t in texts[:200]]
    noisy = vecs[:200] + 0.05 * rng.standard_normal((200, 384)).astype(np.float32)
    dparams = ({"metric_type": "COSINE", "params": {"ef": 64}} if kind == "hnsw" else
               {"metric_type": "COSINE", "params": {"nprobe": 16}} if kind == "ivf" else
               {"metric_type": "COSINE"})
    dense = list(range(200))

    def dense_search(i: int) -> list:
        return index.search([noisy[i].tolist()], "dense", 10, dparams)

    found = sum(r[0]["pos"] == i for i in dense for r in [dense_search(i)[0]] if r) / 200
    out = {"load_s": round(load_s, 2), "reopen_s": round(reopen_s, 2),
           "size_mb": round(size / 2**20, 1), "dense_index": index_type,
           "bm25": timed(lambda q: bm25.search(q, 10), queries),
           "dense": timed(dense_search, dense), "dense_recall_at1": found}
    out["hybrid_two_searches_p50_ms"] = round(out["bm25"]["p50_ms"] + out["dense"]["p50_ms"], 2)
    release_embedded(folder / "milvus.db")
    shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--dense-index", default="hnsw", choices=("flat", "hnsw", "ivf"))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    result: dict = {"sizes": args.sizes, "backend": "milvus-lite", "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            result["runs"][str(n)] = bench(n, args.dense_index, rng, Path(tmp))
            print(n, result["runs"][str(n)], flush=True)
    sizes = "-".join(str(n) for n in args.sizes)
    print(save(f"milvus_scale_{args.dense_index}_{sizes}", result))


if __name__ == "__main__":
    main()
