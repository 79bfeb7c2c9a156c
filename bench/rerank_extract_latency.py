"""Rerank + extract latency for one dialogue turn (warm process), on the validation split.

    .venv/bin/python bench/rerank_extract_latency.py [--n 100] [--candidates 20]

First-stage hits (hybrid RRF top-K from indexes/doc2dial) are computed beforehand and not timed.
Timed per turn: ``Reranker.rerank`` over the K hits + ``SpanExtractor.extract`` (top 1) over the
reranked hits. Settings compared: int8 dynamic quantisation on/off; target vectors precomputed
(passages: the dense index's own vectors via ``prime_from_index``; spans: the cache file of
``re3g train extractor``) or computed per turn (caches cleared: the cold case of new documents).
Prints a table and writes bench/results/rerank_extract_latency.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="validation turns timed per setting")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--index", type=Path, default=ROOT / "indexes" / "doc2dial")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doc2dial")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spans-cache", type=Path, default=ROOT / ".cache" / "extractor.spans.pt")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from re3g.data import build_query, load_documents, load_examples
    from re3g.extract import SpanExtractor
    from re3g.rerank import Reranker
    from re3g.retrieve import open_index

    docs = load_documents(args.data / "doc2dial_doc.json")
    val = load_examples(args.data / "doc2dial_dial_validation.json", docs)[: args.n]
    queries = [build_query(ex.history) for ex in val]
    retriever = open_index(args.index, mode="hybrid")
    runs = retriever.batch_search(queries, k=args.candidates)

    rows = []
    for quant in (True, False):
        for primed in (True, False):
            rr = Reranker.load(quantize=quant)
            ex = SpanExtractor.load(quantize=quant)
            if primed:
                rr.prime_from_index(args.index, retriever.passages)
                ex.prime_from_cache(args.spans_cache, docs)
            times = []
            for i, (q, hits) in enumerate(zip(queries, runs, strict=True)):
                if not primed:
                    rr.cache = type(rr.cache)()
                    ex.cache = type(ex.cache)()
                t0 = time.perf_counter()
                ranked = rr.rerank(q, hits)
                ex.extract(q, ranked, docs, top_n=1)
                if i >= 3:  # warm-up turns are not counted
                    times.append(1000 * (time.perf_counter() - t0))
            times.sort()
            rows.append({
                "int8": quant,
                "target_vectors": "precomputed" if primed else "computed per turn",
                "p50_ms": round(statistics.median(times), 1),
                "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
                "mean_ms": round(statistics.fmean(times), 1),
                "turns": len(times),
            })
    print(f"rerank(top-{args.candidates}) + extract, {args.threads} threads, {len(val)} turns")
    print(f"{'int8':<6}{'target vectors':<20}{'p50 ms':>9}{'p90 ms':>9}{'mean ms':>9}")
    for r in rows:
        print(f"{r['int8']!s:<6}{r['target_vectors']:<20}{r['p50_ms']:>9}{r['p90_ms']:>9}"
              f"{r['mean_ms']:>9}")
    out = ROOT / "bench" / "results" / "rerank_extract_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"candidates": args.candidates, "threads": args.threads,
                               "machine": platform.processor() or platform.machine(),
                               "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
