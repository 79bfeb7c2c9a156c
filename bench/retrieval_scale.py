"""Cost growth of BM25 (Lucene) and FAISS (flat vs HNSW vs IVF) with corpus size.

Synthetic passages: 80 words drawn from a Zipf distribution over a 50k-word vocabulary (BM25);
random unit vectors of dimension 384 (FAISS). Reports build time, index size and query p50.

    .venv/bin/python bench/retrieval_scale.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, save  # noqa: E402


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def synthetic_texts(n: int, rng: np.random.Generator, words: int = 80) -> list[str]:
    vocab = np.array([f"w{i}" for i in range(50_000)])
    ids = np.minimum(rng.zipf(1.2, size=(n, words)) - 1, len(vocab) - 1)
    return [" ".join(vocab[row]) for row in ids]


def bench_bm25(n: int, rng: np.random.Generator, tmp: Path) -> dict:
    from re3g.retrieve.bm25 import BM25Retriever, build_bm25
    from re3g.types import Passage

    texts = synthetic_texts(n, rng)
    passages = [Passage(str(i), f"d{i}", "", t, 0, len(t), ["1"]) for i, t in enumerate(texts)]
    out = tmp / f"bm25-{n}"
    t0 = time.perf_counter()
    build_bm25(passages, out, progress=False)
    build_s = time.perf_counter() - t0
    r = BM25Retriever(out, passages)
    queries = [" ".join(t.split()[:8]) for t in texts[:200]]
    for q in queries[:10]:
        r.search(q, 10)
    samples = []
    for q in queries:
        t1 = time.perf_counter()
        r.search(q, 10)
        samples.append(time.perf_counter() - t1)
    size = dir_size(out)
    shutil.rmtree(out, ignore_errors=True)
    return {"build_s": round(build_s, 2), "size_mb": round(size / 2**20, 1), **percentiles(samples)}


def bench_faiss(n: int, kind: str, rng: np.random.Generator, tmp: Path) -> dict:
    import faiss

    from re3g.retrieve.dense import make_faiss_index

    x = rng.standard_normal((n, 384), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t0 = time.perf_counter()
    index = make_faiss_index(x, kind)
    build_s = time.perf_counter() - t0
    if kind == "hnsw":
        index.hnsw.efSearch = 64
    elif kind == "ivf":
        index.nprobe = 16
    path = tmp / f"faiss-{kind}-{n}.index"
    faiss.write_index(index, str(path))
    q = x[:200] + 0.05 * rng.standard_normal((200, 384), dtype=np.float32)
    samples = []
    found = 0
    for i in range(len(q)):
        t1 = time.perf_counter()
        _, ids = index.search(q[i : i + 1], 10)
        samples.append(time.perf_counter() - t1)
        found += int(i in ids[0])
    size = path.stat().st_size
    path.unlink()
    return {"build_s": round(build_s, 2), "size_mb": round(size / 2**20, 1),
            "recall@10_of_planted": round(found / len(q), 3), **percentiles(samples)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--skip-bm25", action="store_true")
    ap.add_argument("--faiss", nargs="+", default=["flat", "hnsw", "ivf"])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    results: dict = {"sizes": args.sizes, "bm25": {}, "faiss": {k: {} for k in args.faiss}}
    prior = Path(__file__).resolve().parent / "results" / "retrieval_scale.json"
    if prior.is_file():  # keep sizes measured by earlier runs
        import json

        old = json.loads(prior.read_text())
        results["bm25"].update(old.get("bm25", {}))
        for k, sizes in old.get("faiss", {}).items():
            results["faiss"].setdefault(k, {}).update(sizes)
    with tempfile.TemporaryDirectory(dir=".") as d:
        tmp = Path(d)
        for n in args.sizes:
            if not args.skip_bm25:
                results["bm25"][str(n)] = bench_bm25(n, rng, tmp)
                print(f"bm25  n={n:>8}: {results['bm25'][str(n)]}", flush=True)
            for kind in args.faiss:
                results["faiss"][kind][str(n)] = bench_faiss(n, kind, rng, tmp)
                print(f"{kind:5s} n={n:>8}: {results['faiss'][kind][str(n)]}", flush=True)
            save("retrieval_scale", results)
    print("wrote bench/results/retrieval_scale.json")


if __name__ == "__main__":
    main()
