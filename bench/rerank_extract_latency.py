"""Rerank + extract latency for one dialogue turn (warm process), on the validation split.

    .venv/bin/python bench/rerank_extract_latency.py [--n 60] [--candidates 20 10]

First-stage hits (the pipeline's dialogue pool over indexes/doc2dial: hybrid hits of the user's
turns fused with the current turn's) are computed beforehand and not timed. Timed per turn:
``rerank_dialogue`` over the top-K hits (the cross-encoder reads K pairs; with a current-turn
weight > 0 it reads them twice), the document prior of the earlier agent turns (one BM25 search,
:mod:`re3g.rank.prior`), the cross-encoder's second step over the top passages when
``models/cross-reranker`` exists (:func:`re3g.rank.cascade`, the pipeline's depth and weight)
+ ``SpanExtractor.extract`` (top 1, with the current turn, as the pipeline calls it) over the
reranked hits.
Compared: int8 dynamic quantisation of each model on/off, the cross-encoder on/off, and K.
Each row also reports the grounding F1 / reranked R@1 of the timed turns, so speed and
accuracy are read side by side.
Prints a table and writes bench/results/rerank_extract_latency.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="validation turns timed per setting")
    ap.add_argument("--candidates", type=int, nargs="+", default=[20, 10])
    ap.add_argument("--current-weight", type=float, default=None,
                    help="default: the pipeline's (re3g.config.Config)")
    ap.add_argument("--index", type=Path, default=ROOT / "indexes" / "doc2dial")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doc2dial")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from re3g.data import build_query, load_documents, load_examples
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.grounding import dialogue_runs
    from re3g.evaluate.metrics import grounding_metrics
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.extract import SpanExtractor
    from re3g.rank import RankingChain, Reranker, cross_settings, load_cross
    from re3g.retrieve import open_index

    docs = load_documents(args.data / "doc2dial_doc.json")
    val = load_examples(args.data / "doc2dial_dial_validation.json", docs)[: args.n]
    queries = [build_query(ex.history, roles="user") for ex in val]
    currents = [ex.history[-1].utterance or "" for ex in val]
    refs = [grounding_text(ex, docs) for ex in val]
    retriever = open_index(args.index, mode="hybrid")
    pools = dialogue_runs(retriever, queries, currents, max(args.candidates))
    from re3g.config import Config

    cfg = Config()
    if args.current_weight is None:
        args.current_weight = cfg.current_weight

    cross = load_cross(cfg.cross, cfg.cross_model)
    depth, weight = cross_settings(cross, cfg.cross_depth, cfg.cross_weight)
    rows = []
    # (reranker int8, extractor int8, cross-encoder on); the first row is the pipeline's default
    settings = [(True, False, True), (True, False, False), (True, True, True), (False, False, True)]
    if cross is None:
        settings = [(True, False, False), (True, True, False), (False, False, False)]
    for rq, eq, use_cross in settings:
        rr, ex = Reranker.load(quantize=rq), SpanExtractor.load(quantize=eq)
        rr.prime_from_index(args.index, retriever.passages)  # as the pipeline does
        second = None
        if use_cross:  # the cross-encoder follows the reranker's int8 setting
            second = cross if rq else Reranker.load(cross.path, quantize=False)
        chain = RankingChain.from_config(replace(cfg, current_weight=args.current_weight), rr,
                                         second, retriever.sparse, cross_depth=depth,
                                         cross_weight=weight)
        for k in args.candidates:
            times, preds, ranked_all = [], [], []
            for i, (q, c, hits) in enumerate(zip(queries, currents, pools, strict=True)):
                t0 = time.perf_counter()
                ranked = chain.rank(q, hits[:k], val[i].history).hits
                ev = ex.extract(q, ranked, docs, top_n=1, current=c,
                                current_weight=args.current_weight,
                                reader_query=ex.question(val[i].history))
                if i >= 3:  # warm-up turns are not counted
                    times.append(1000 * (time.perf_counter() - t0))
                preds.append(ev[0].text if ev else "")
                ranked_all.append(ranked)
            times.sort()
            rows.append({
                "reranker_int8": rq, "extractor_int8": eq, "candidates": k,
                "cross_encoder": second is not None,
                "p50_ms": round(statistics.median(times), 1),
                "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
                "mean_ms": round(statistics.fmean(times), 1),
                "grounding_F1": round(grounding_metrics(preds, refs)["F1"], 2),
                "reranked_R@1": round(retrieval_metrics(val, ranked_all)["R@1"], 2),
                "turns": len(times),
            })
            print(rows[-1], flush=True)
    print(f"rerank + extract, {args.threads} threads, {len(val)} turns, "
          f"current weight {args.current_weight}")
    head = ("rr int8", "ex int8", "cross", "K", "p50 ms", "p90 ms", "F1", "R@1")
    print("".join(f"{h:>9}" for h in head))
    for r in rows:
        vals = (r["reranker_int8"], r["extractor_int8"], r["cross_encoder"], r["candidates"],
                r["p50_ms"],
                r["p90_ms"], r["grounding_F1"], r["reranked_R@1"])
        print("".join(f"{v!s:>9}" for v in vals))
    print("wrote", save("rerank_extract_latency", {
        "threads": args.threads, "turns": args.n, "current_weight": args.current_weight,
        "document_weight": cfg.document_weight, "extractor": ex.path,
        "cross_encoder": cross.path if cross else None, "cross_depth": depth,
        "cross_weight": weight,
        "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
