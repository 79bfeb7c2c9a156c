"""Parity of the Milvus backend with Lucene/FAISS on doc2dial validation (580 turns).

Builds (or reuses) a Milvus Lite index over the same corpus with the FAISS index's vectors,
then runs every validation query through BM25, dense and hybrid on both backends (depth 100,
as `re3g evaluate`; hybrid is RRF k 30, weights 0.5/1.0 over those lists) and reports R@k,
how often the top-10 lists agree, and warm single-query latency.

    .venv/bin/python bench/milvus_parity.py --lucene indexes/doc2dial \\
        --milvus indexes/doc2dial-milvus
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, save  # noqa: E402

DEPTH = 100


def agreement(a: list, b: list, k: int = 10) -> dict[str, float]:
    """Share of queries whose top-k pid lists are identical, and mean top-k set overlap."""
    same = overlap = 0.0
    for ha, hb in zip(a, b, strict=True):
        pa, pb = [h.passage.pid for h in ha[:k]], [h.passage.pid for h in hb[:k]]
        same += pa == pb
        overlap += len(set(pa) & set(pb)) / max(1, len(set(pa) | set(pb)))
    n = max(1, len(a))
    return {f"identical_top{k}_pct": round(100 * same / n, 2),
            f"mean_jaccard_top{k}": round(overlap / n, 4)}


def runs_for(index: Path, queries: list[str]) -> tuple[dict[str, list], dict[str, float]]:
    from re3g.retrieve import open_index, rrf

    hybrid = open_index(index, "hybrid")
    runs, seconds = {}, {}
    for name, side in (("bm25", hybrid.sparse), ("dense", hybrid.dense)):
        t0 = time.perf_counter()
        runs[name] = side.batch_search(queries, DEPTH)
        seconds[name] = round(time.perf_counter() - t0, 2)
    runs["hybrid"] = [rrf([a, b], k=hybrid.rrf_k, weights=hybrid.weights)
                      for a, b in zip(runs["bm25"], runs["dense"], strict=True)]
    return runs, seconds


def latency(index: Path, queries: list[str], k: int = 20) -> dict[str, dict[str, float]]:
    from re3g.retrieve import open_index

    out = {}
    for mode in ("bm25", "dense", "hybrid"):
        r = open_index(index, mode)
        for q in queries[:5]:
            r.search(q, k=k)
        samples = []
        for q in queries:
            t0 = time.perf_counter()
            r.search(q, k=k)
            samples.append(time.perf_counter() - t0)
        out[mode] = percentiles(samples)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lucene", default="indexes/doc2dial")
    ap.add_argument("--milvus", default="indexes/doc2dial-milvus")
    ap.add_argument("--docs", default="../shared/data/doc2dial/doc2dial_doc.json")
    ap.add_argument("--dialogues", default="../shared/data/doc2dial/doc2dial_dial_validation.json")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the Milvus index")
    ap.add_argument("--latency-n", type=int, default=100, help="queries timed one by one")
    args = ap.parse_args()

    from re3g.data import build_query, load_documents, load_examples
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.retrieve import build_index, read_manifest

    docs = load_documents(args.docs)
    examples = [e for e in load_examples(args.dialogues, docs) if e.answerable]
    queries = [build_query(e.history) for e in examples]
    lucene, milvus = Path(args.lucene), Path(args.milvus)
    build_s = None
    if args.rebuild or not (milvus / "manifest.json").is_file():
        t0 = time.perf_counter()
        build_index(docs, milvus, source=args.docs, backend="milvus",
                    uri=str(milvus / "milvus.db"), vectors_from=lucene)
        build_s = round(time.perf_counter() - t0, 2)
    manifest = read_manifest(milvus)
    result: dict = {"lucene": str(lucene), "milvus": str(milvus), "n_queries": len(queries),
                    "n_passages": manifest["n_passages"], "depth": DEPTH,
                    "milvus_build_s": build_s, "milvus_manifest": {
                        k: manifest[k] for k in ("bm25", "dense", "milvus")},
                    "backends": {}, "agreement": {}}
    runs = {}
    for name, index in (("lucene-faiss", lucene), ("milvus-lite", milvus)):
        runs[name], seconds = runs_for(index, queries)
        result["backends"][name] = {
            "retrieval": {m: retrieval_metrics(examples, r) for m, r in runs[name].items()},
            "batch_seconds": seconds,
            "latency_k20": latency(index, queries[:args.latency_n]),
        }
    for mode in ("bm25", "dense", "hybrid"):
        result["agreement"][mode] = agreement(runs["lucene-faiss"][mode],
                                              runs["milvus-lite"][mode])
    print(save("milvus_parity", result))
    for mode in ("bm25", "dense", "hybrid"):
        a = result["backends"]["lucene-faiss"]["retrieval"][mode]
        b = result["backends"]["milvus-lite"]["retrieval"][mode]
        print(f"{mode:7s} " + "  ".join(f"{c} {a[c]:.1f}/{b[c]:.1f}"
                                        for c in ("R@1", "R@5", "R@10", "R@20")),
              result["agreement"][mode])


if __name__ == "__main__":
    main()
