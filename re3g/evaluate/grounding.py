"""Evaluation of coarse-to-fine knowledge selection: reranked recall and grounding F1/EM.

    >>> from re3g.evaluate.grounding import evaluate_grounding
    >>> chain = RankingChain(Reranker.load())                           # doctest: +SKIP
    >>> report, preds = evaluate_grounding(examples, docs, runs, chain,
    ...                                    SpanExtractor.load())  # doctest: +SKIP
    >>> report["grounding"]["F1"], preds[0]["id"]  # doctest: +SKIP
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from re3g.config import Config
from re3g.rank import RankingChain
from re3g.types import Document, Example, Hit, Passage


def gold_passage_hits(example: Example, passages: Sequence[Passage]) -> list[Hit]:
    """Hits for the passages that contain the example's reference spans (document order)."""
    gold = example.gold_span_ids
    ps = [p for p in passages if any((p.doc_id, s) in gold for s in p.span_ids)]
    return [Hit(p, 1.0, i + 1, "gold") for i, p in enumerate(ps)]


def dialogue_runs(retriever: Any, queries: Sequence[str], currents: Sequence[str],
                  k: int = Config.k, current_weight: float = 0.5) -> list[list[Hit]]:
    """First-stage candidates of dialogue turns: the dialogue query's and the current turn's
    hybrid hits fused (:func:`re3g.rank.dialogue_pool`), ``k`` per turn."""
    from re3g.rank import dialogue_pool

    pool_q = retriever.batch_search(list(queries), k)
    pool_c = retriever.batch_search(list(currents), k)
    return [dialogue_pool(a, b, k, current_weight) for a, b in zip(pool_q, pool_c, strict=True)]


def default_chain(retriever: Any, reranker: Any, cross: Any = None) -> RankingChain:
    """The pipeline's ranking chain with its default settings (``Config()``) around the given
    models; the cascade's depth and weight from the cross-encoder's manifest."""
    from re3g.rank import cross_settings

    depth, weight = cross_settings(cross) if cross is not None else (0, 0.0)
    return RankingChain.from_config(Config(), reranker, cross, retriever.sparse,
                                    cross_depth=depth, cross_weight=weight)


def pipeline_runs(retriever: Any, reranker: Any, examples: Sequence[Example],
                  queries: Sequence[str], k: int = Config.k, progress: bool = False,
                  cross: Any = None) -> list[list[Hit]]:
    """Each example's candidates as the pipeline ranks them with its default settings: the
    hybrid dialogue pool (:func:`dialogue_runs`), then the pipeline's ranking chain
    (:func:`default_chain`, :class:`re3g.rank.RankingChain`)."""
    from tqdm.auto import tqdm

    chain = default_chain(retriever, reranker, cross)
    currents = [e.history[-1].utterance or "" for e in examples]
    pools = dialogue_runs(retriever, queries, currents, k)
    priors = chain.priors([e.history for e in examples])
    return [chain.rank(q, h, e.history, pr).hits
            for e, q, h, pr in tqdm(list(zip(examples, queries, pools, priors, strict=True)),
                                    desc="rerank", disable=not progress)]


def ground_turn(chain: RankingChain, extractor: Any, docs: dict[str, Document],
                passages: Sequence[Passage], example: Example, query: str,
                hits: Sequence[Hit], prior: dict[str, float] | None) -> dict[str, Any]:
    """One turn of :func:`evaluate_grounding`: rank ``hits`` (already cut to the candidates),
    extract the top span, and extract again from the gold passages. Returns ``{"ranking",
    "evidence", "pred", "gold_pred", "seconds"}`` (seconds: ranking and extraction)."""
    t0 = time.perf_counter()
    ranking = chain.rank(query, list(hits), example.history, prior)
    weight = chain.current_weight
    current = (example.history[-1].utterance or "") if weight > 0 else None
    asked = extractor.question(example.history, docs)
    ev = extractor.extract(query, ranking.hits, docs, top_n=1, current=current,
                           current_weight=weight, reader_query=asked)
    seconds = time.perf_counter() - t0
    gev = extractor.extract(query, gold_passage_hits(example, passages), docs, top_n=1,
                            reader_query=asked)
    return {"ranking": ranking, "evidence": ev, "pred": ev[0].text if ev else "",
            "gold_pred": gev[0].text if gev else "", "seconds": seconds}


def evaluate_grounding(
    examples: Sequence[Example],
    docs: dict[str, Document],
    runs: Sequence[Sequence[Hit]],
    chain: RankingChain,
    extractor: Any,
    *,
    candidates: int = 20,
    passages: Sequence[Passage] | None = None,
    queries: Sequence[str] | None = None,
    progress: bool = False,
    priors: Sequence[dict[str, float]] | None = None,
    turns: Any = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Rank each example's first-stage ``runs`` (top ``candidates``) with ``chain``, extract
    the grounding span and score it.

    Returns ``({"reranked": recall metrics, "grounding": {"EM", "F1"},
    "grounding_gold_passage": {"EM", "F1"}, "latency_ms": {...}}, [{"id", "grounding"}])``.
    ``grounding_gold_passage`` gives the extractor the passages holding the reference spans
    (an upper bound separating retrieval errors from extraction errors); ``passages`` is the
    passage list to take them from (default: a fresh split). ``priors`` (one per example,
    :meth:`RankingChain.priors`) are the document priors, computed in one batch by the caller.
    ``turns`` (:mod:`re3g.evaluate.turns`), when given, runs each turn's ranking and
    extraction (:func:`ground_turn`) on its own models instead of ``chain`` and ``extractor``.
    """
    from tqdm.auto import tqdm

    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.metrics import grounding_metrics
    from re3g.evaluate.retrieval import retrieval_metrics

    if len(examples) != len(runs):
        raise ValueError(f"{len(examples)} examples but {len(runs)} result lists")
    qs = list(queries) if queries is not None else [build_query(ex.history) for ex in examples]
    if passages is None:
        from re3g.data.passages import split_corpus

        passages = split_corpus(docs.values())
    refs = [grounding_text(ex, docs) for ex in examples]
    pri = list(priors) if priors is not None else [None] * len(examples)
    payloads = [(ex, q, list(hits)[:candidates], prior)
                for ex, q, hits, prior in zip(examples, qs, runs, pri, strict=True)]
    if turns is not None:
        from re3g.evaluate.turns import dialogue_keys

        outs = turns.map("ground", payloads, dialogue_keys(examples),
                         desc="rerank+extract" if progress else "")
    else:
        outs = [ground_turn(chain, extractor, docs, passages, *p)
                for p in tqdm(payloads, desc="rerank+extract", disable=not progress)]
    rankings = [o["ranking"] for o in outs]  # what the pipeline's decision reads
    reranked = [r.hits for r in rankings]
    evidence = [o["evidence"] for o in outs]
    preds = [o["pred"] for o in outs]
    gold_preds = [o["gold_pred"] for o in outs]
    times = [o["seconds"] for o in outs]

    def rounded(m: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 2) for k, v in m.items()}

    report = {
        "n": len(examples),
        "candidates": candidates,
        "reranked": retrieval_metrics(examples, reranked),
        "grounding": rounded(grounding_metrics(preds, refs)),
        "grounding_gold_passage": rounded(grounding_metrics(gold_preds, refs)),
        "latency_ms": {
            "p50": round(1000 * statistics.median(times), 1) if times else 0.0,
            "mean": round(1000 * statistics.fmean(times), 1) if times else 0.0,
        },
    }
    predictions = [{"id": ex.id, "grounding": p} for ex, p in zip(examples, preds, strict=True)]
    # per-example outputs for later stages (not part of the JSON report)
    report["outputs"] = {ex.id: {"evidence": ev, "ranking": ranking}
                         for ex, ev, ranking in zip(examples, evidence, rankings,
                                                    strict=True)}
    return report, predictions


@dataclass
class GroundingSetup:
    """The grounding stage's models and settings, built once per process
    (:func:`grounding_setup`): the ranking chain, the extractor and what the report names.

    >>> GroundingSetup(RankingChain(None), None, None, None, 0, 0.0, 0.0, 20, None).candidates
    20
    """

    chain: RankingChain
    extractor: Any
    reranker: Any
    cross: Any
    depth: int
    cross_weight: float
    document_weight: float
    candidates: int
    passages: Sequence[Passage] | None


def grounding_setup(ctx: Any, index: str | None) -> GroundingSetup:
    """Load the stage's reranker, extractor and cross-encoder and build its ranking chain from
    ``ctx.options`` (see :func:`run_stage`) and the retriever ``ctx.retriever`` over
    ``index``."""
    import contextlib
    from pathlib import Path

    from re3g.extract import SpanExtractor
    from re3g.rank import Reranker, cross_settings, load_cross
    from re3g.rank.regime import ranking_for

    opts = ctx.options or {}
    # a --config file's [rerank] / [extract] settings apply here as in the response stage
    cfg = Config.load(opts["config"]) if opts.get("config") else Config()
    reranker = Reranker.load(opts.get("reranker") or cfg.reranker)
    extractor = SpanExtractor.load(opts.get("extractor") or cfg.extractor)
    from re3g.retrieve.index import corpus_fingerprint

    corpus = corpus_fingerprint(ctx.docs.values()) if ctx.docs else None
    if extractor.other:  # as the pipeline does (Re3G.extractor)
        extractor.for_corpus(corpus, cfg.calibration)
    # the corpus's cross-encoder, as the pipeline picks it (Re3G.cross_reranker)
    cross = load_cross(cfg.cross, cfg.cross_model, corpus, cfg.calibration)
    depth, cross_weight = cross_settings(cross, cfg.cross_depth, cfg.cross_weight)
    hybrid = ctx.retriever
    passages = hybrid.passages if hybrid is not None else None
    idx = opts.get("index") or index
    if idx and passages is not None:
        with contextlib.suppress(Exception):  # priming is an optimisation only
            reranker.prime_from_index(idx, passages)
    extractor.prime_from_cache(Path(opts.get("spans_cache") or ".cache/extractor.spans.pt"),
                               ctx.docs)
    cfg = ranking_for(cfg, corpus)  # the corpus's ranking settings (Re3G.ranking_config)
    cfg = replace(cfg, current_weight=float(opts.get("current_weight", cfg.current_weight)),
                  document_weight=float(opts.get("document_weight", cfg.document_weight)))
    doc_weight = cfg.document_weight
    chain = RankingChain.from_config(cfg, reranker, cross,
                                     hybrid.sparse if hybrid is not None else None,
                                     cross_depth=depth, cross_weight=cross_weight)
    return GroundingSetup(chain, extractor, reranker, cross, depth, cross_weight, doc_weight,
                          int(opts.get("candidates") or 20), passages)


def run_stage(ctx: Any, report: dict[str, Any]) -> None:
    """The ``grounding`` stage of ``re3g evaluate``: adds ``retrieval.reranked``, ``grounding``,
    ``grounding_gold_passage`` and writes ``OUT/grounding_predictions.json`` (shared-task format).

    Options read from ``ctx.options``: ``reranker``, ``extractor`` (paths or names; default the
    project's models), ``candidates`` (first-stage depth reranked, default 20), ``index`` (dense
    index whose vectors seed the reranker's cache). Each turn's ranking and extraction run
    where ``ctx.turns`` says (:mod:`re3g.evaluate.turns`; here by default).
    """
    import json

    from re3g.data import build_query
    from re3g.evaluate.report import write_atomic

    setup = ctx.local_worker().grounding()
    chain, extractor = setup.chain, setup.extractor
    runs = ctx.runs["hybrid"]
    hybrid = ctx.retriever
    # The pipeline's dialogue queries: the user's turns (newest first) for the query, the last
    # user turn alone for the score mix and the candidate pool (re3g.rank.rerank_dialogue).
    queries = [build_query(ex.history, roles="user") for ex in ctx.examples]
    currents = [ex.history[-1].utterance or "" for ex in ctx.examples]
    if hybrid is not None:
        runs = dialogue_runs(hybrid, queries, currents, 20)
    priors = chain.priors([ex.history for ex in ctx.examples])
    res, preds = evaluate_grounding(ctx.examples, ctx.docs, runs, chain, extractor,
                                    candidates=setup.candidates, passages=setup.passages,
                                    queries=queries, progress=True, priors=priors,
                                    turns=ctx.turns)
    ctx.options["grounding_outputs"] = res.pop("outputs")
    report.setdefault("retrieval", {})["reranked"] = res["reranked"]
    report["grounding"] = res["grounding"]
    report["grounding_gold_passage"] = res["grounding_gold_passage"]
    cross = setup.cross
    report["knowledge_selection"] = {"candidates": res["candidates"],
                                     "document_weight": setup.document_weight
                                     if chain.uses_prior else 0.0,
                                     "latency_ms": res["latency_ms"],
                                     "reranker": setup.reranker.path,
                                     "extractor": extractor.path,
                                     "cross_encoder": cross.path if cross else None,
                                     "cross_depth": setup.depth if cross else 0,
                                     "cross_weight": setup.cross_weight if cross else 0.0}
    write_atomic(ctx.out / "grounding_predictions.json", json.dumps(preds, indent=1) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m re3g.evaluate.grounding``: the knowledge-selection numbers of the docs."""
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description="rerank + extract evaluation on a DialDoc split")
    data = Path("../shared/data/doc2dial")
    ap.add_argument("--docs", type=Path, default=data / "doc2dial_doc.json")
    ap.add_argument("--dialogues", type=Path, default=data / "doc2dial_dial_validation.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--reranker", default=None)
    ap.add_argument("--extractor", default=None)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--no-quantize", action="store_true")
    ap.add_argument("--spans-cache", type=Path, default=Path(".cache/extractor.spans.pt"),
                    help="span vectors written by `re3g train extractor` (computed if absent)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("runs/knowledge_selection"))
    args = ap.parse_args(argv)

    from re3g.data import build_query, load_documents, load_examples
    from re3g.evaluate.report import write_atomic
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.extract import SpanExtractor
    from re3g.rank import Reranker
    from re3g.retrieve import open_index

    docs = load_documents(args.docs)
    examples = load_examples(args.dialogues, docs)[: args.limit]
    queries = [build_query(ex.history) for ex in examples]
    retriever = open_index(args.index, mode="hybrid")
    runs = retriever.batch_search(queries, k=args.candidates)
    q = False if args.no_quantize else None
    reranker = Reranker.load(args.reranker, quantize=q)
    extractor = SpanExtractor.load(args.extractor, quantize=q)
    reranker.prime_from_index(args.index, retriever.passages)
    extractor.prime_from_cache(args.spans_cache, docs)
    chain = RankingChain(reranker, current_weight=0.0, document_weight=0.0)
    res, preds = evaluate_grounding(examples, docs, runs, chain, extractor,
                                    candidates=args.candidates, passages=retriever.passages,
                                    queries=queries, progress=True)
    res.pop("outputs")
    res["hybrid"] = retrieval_metrics(examples, runs)
    res["int8"] = not args.no_quantize
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "report.json", json.dumps(res, indent=2) + "\n")
    write_atomic(args.out / "grounding_predictions.json", json.dumps(preds, indent=1) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
