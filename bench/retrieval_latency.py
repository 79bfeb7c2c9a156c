"""Warm in-process query latency of BM25, dense and hybrid retrieval on doc2dial validation.

    .venv/bin/python bench/retrieval_latency.py --index indexes/doc2dial --n 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, save  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", default="indexes/doc2dial")
    ap.add_argument("--dialogues", default="../shared/data/doc2dial/doc2dial_dial_validation.json")
    ap.add_argument("--docs", default="../shared/data/doc2dial/doc2dial_doc.json")
    ap.add_argument("--n", type=int, default=200, help="queries per mode")
    ap.add_argument("-k", type=int, default=20)
    args = ap.parse_args()

    from re3g.data import build_query, load_documents, load_examples
    from re3g.retrieve import open_index

    docs = load_documents(args.docs)
    queries = [build_query(e.history) for e in load_examples(args.dialogues, docs)][: args.n]
    result = {"index": args.index, "k": args.k, "queries": len(queries), "modes": {}}
    for mode in ("bm25", "dense", "hybrid"):
        r = open_index(args.index, mode=mode)
        for q in queries[:10]:  # warm-up
            r.search(q, k=args.k)
        samples = []
        for q in queries:
            t0 = time.perf_counter()
            r.search(q, k=args.k)
            samples.append(time.perf_counter() - t0)
        result["modes"][mode] = percentiles(samples)
        print(f"{mode:7s} {result['modes'][mode]}")
    print("wrote", save("retrieval_latency", result))


if __name__ == "__main__":
    main()
