"""Validation of a trained start/end extractor: selection settings and grounding F1/EM.

The reader runs once per validation turn over the top reranked passages (the same candidates
``re3g evaluate`` uses); the selection settings (how many passages, how much the reranker's
score, the passage rank and the null score count, how a range snaps to spans) are then chosen
by a grid over the cached readings. Because they are chosen on the validation split, the report
also gives the two-fold figure (settings chosen on one half, scored on the other).

This module is imported only after training, so a long training run picks up the evaluation
code as it is when training ends.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GRID: dict[str, list[float]] = {
    "n_passages": [1, 2, 3],
    "rerank_weight": [0.0, 5.0, 20.0],
    "null_weight": [0.0, 1.0],
    "rank_penalty": [0.0, 1.0, 2.0],
    "snap_ratio": [0.3, 0.5],
    "helper_weight": [0.0, 0.5, 1.0, 2.0, 4.0],
}
# With one passage, the passage-level terms change nothing: those points are skipped.
PASSAGE_TERMS = ("rerank_weight", "null_weight", "rank_penalty")
HELPER = "extractor"  # the span scorer beside the reader (models/extractor)


def _f1s(preds: Sequence[str], refs: Sequence[str]) -> list[float]:
    from re3g.evaluate.metrics import f1_score

    return [f1_score(p, r) for p, r in zip(preds, refs, strict=True)]


def grid_search(extractor: Any, readings: Sequence[Sequence[Any]], runs: Sequence[Sequence[Any]],
                docs: dict[str, Any], refs: Sequence[str], grid: dict[str, list[float]],
                helper: Sequence[dict[Any, float] | None] | None = None,
                currents: Sequence[str] | None = None,
                cosines: Sequence[dict[Any, float] | None] | None = None,
                judged: Sequence[dict[Any, float] | None] | None = None
                ) -> list[tuple[dict[str, float], list[float]]]:
    """Per-example F1 of every setting in ``grid`` (a list of (settings, f1s)); ``helper``
    holds each example's span log-probabilities (:meth:`SpanExtractor.helper_scores`),
    ``currents`` each example's last user turn (what ``overlap_weight`` compares with),
    ``cosines`` its span cosines (:meth:`SpanExtractor.span_cosines`, for ``cosine_weight``),
    ``judged`` its sentence judge logits (:meth:`SpanExtractor.judged`, for ``judge_weight``)."""
    from tqdm.auto import tqdm

    out = []
    keys = list(grid)
    extractor.unsure = {}  # the grid scores the regular settings on every turn
    helper = list(helper) if helper is not None else [None] * len(readings)
    currents = list(currents) if currents is not None else [None] * len(readings)
    cosines = list(cosines) if cosines is not None else [{}] * len(readings)
    judged = list(judged) if judged is not None else [None] * len(readings)
    points = [dict(zip(keys, values, strict=True))
              for values in itertools.product(*(grid[k] for k in keys))]
    points = [st for st in points if int(st.get("n_passages", 1)) > 1
              or all(st.get(k, 0.0) == grid.get(k, [0.0])[0] for k in PASSAGE_TERMS)]
    for st in tqdm(points, desc="selection grid"):
        for k, v in st.items():
            setattr(extractor, k, v)
        n = int(st["n_passages"])
        preds = []
        for rd, hits, lp, cur, cos, jd in zip(readings, runs, helper, currents, cosines,
                                              judged, strict=True):
            ev = extractor.select_ranges(rd[:n], hits, docs, 1, lp, cur, cos, jd)
            preds.append(ev[0].text if ev else "")
        out.append((st, _f1s(preds, refs)))
    return out


def best_setting(results: list[tuple[dict[str, float], list[float]]], idx: Sequence[int]
          ) -> tuple[dict[str, float], float]:
    def mean(f: list[float]) -> float:
        return sum(f[i] for i in idx) / max(1, len(idx))

    st, f = max(results, key=lambda r: mean(r[1]))
    return st, mean(f)


def evaluate_and_select(model_dir: Path, val: list[Any], docs: dict[str, Any],
                        index: Path | None, reranker: Path | None, candidates: int
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grounding metrics of the extractor in ``model_dir`` on ``val`` and the chosen settings.

    The candidates are the pipeline's: the hybrid dialogue pool reranked with the current-turn
    mix and the document prior of the earlier agent turns (:mod:`re3g.rank.prior`), then the
    cross-encoder's second step when the project has one. When the span
    scorer ``models/extractor`` sits beside the reader, its weight is part of the grid.
    """
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.data.passages import split_corpus
    from re3g.evaluate.grounding import gold_passage_hits
    from re3g.evaluate.metrics import grounding_metrics
    from re3g.extract import SpanExtractor

    if not val:
        return {}, {}
    ex = SpanExtractor.load(model_dir)
    helper_dir = Path(model_dir).parent / HELPER
    helper = None
    if (helper_dir / "manifest.json").is_file():
        helper = SpanExtractor.load(helper_dir)
        if helper.kind != "tower":
            helper = None
    ex.helper = helper
    queries = [build_query(e.history, roles="user") for e in val]
    # the reader's question may hold the agent's turns too (its manifest's query_roles)
    rqueries = [build_query(e.history, roles=ex.query_roles) for e in val]
    currents = [e.history[-1].utterance or "" for e in val]
    refs = [grounding_text(e, docs) for e in val]
    metrics: dict[str, Any] = {"n_validation": len(val), "int8": ex.quantized}
    cfg = Config()  # the pipeline's defaults
    grid = dict(GRID)
    if helper is None:
        grid["helper_weight"] = [0.0]

    def helper_scores(q: str, c: str, hits: list[Any]) -> dict[Any, float] | None:
        return ex.helper_scores(q, hits, docs, c, cfg.current_weight)

    passages = split_corpus(docs.values())
    gold_runs = [gold_passage_hits(e, passages) for e in val]
    gold_reads = [ex.model.read(q, [h.passage for h in hits], docs, keep=10) for q, hits in
                  tqdm(list(zip(rqueries, gold_runs, strict=True)), desc="read gold passages")]
    gold_lp = [helper_scores(q, c, hits)
               for q, c, hits in zip(queries, currents, gold_runs, strict=True)]
    chosen: dict[str, Any] = {"n_passages": 1, "rerank_weight": 0.0, "null_weight": 0.0,
                              "rank_penalty": 0.0, "snap_ratio": 0.3, "helper_weight": 0.0}

    def gold_metric(st: dict[str, Any]) -> dict[str, float]:
        for k, v in st.items():
            setattr(ex, k, v)
        ex.rerank_weight = ex.rank_penalty = ex.null_weight = 0.0
        ex.unsure = {}
        preds = []
        for rd, hits, lp in zip(gold_reads, gold_runs, gold_lp, strict=True):
            ex.n_passages = max(1, len(rd))  # every gold passage
            ev = ex.select_ranges(rd, hits, docs, 1, lp)
            preds.append(ev[0].text if ev else "")
        return {k: round(v, 2) for k, v in grounding_metrics(preds, refs).items()}

    if index is None or reranker is None or not Path(reranker).exists():
        metrics["grounding_gold_passage"] = gold_metric(chosen)
        return metrics, chosen

    from re3g.evaluate.grounding import pipeline_runs
    from re3g.rank import Reranker, load_cross
    from re3g.retrieve import open_index

    retriever = open_index(index, mode="hybrid")
    rr = Reranker.load(reranker)
    rr.prime_from_index(index, retriever.passages)
    runs = pipeline_runs(retriever, rr, val, queries, candidates, progress=True,
                         cross=load_cross(cfg.cross, cfg.cross_model))
    depth = int(max(GRID["n_passages"]))
    readings = [ex.model.read(q, [h.passage for h in hits[:depth]], docs, keep=10)
                for q, hits in tqdm(list(zip(rqueries, runs, strict=True)), desc="read passages")]
    lps = [helper_scores(q, c, hits[:depth])
           for q, c, hits in zip(queries, currents, runs, strict=True)]
    results = grid_search(ex, readings, runs, docs, refs, grid, lps)
    every = range(len(val))
    chosen, _ = best_setting(results, every)
    for k, v in chosen.items():
        setattr(ex, k, v)
    preds = []
    for rd, hits, lp in zip(readings, runs, lps, strict=True):
        ev = ex.select_ranges(rd[:int(chosen["n_passages"])], hits, docs, 1, lp)
        preds.append(ev[0].text if ev else "")
    metrics["grounding"] = {k: round(v, 2) for k, v in grounding_metrics(preds, refs).items()}
    metrics["grounding_gold_passage"] = gold_metric(chosen)
    half_a, half_b = list(every)[0::2], list(every)[1::2]
    cross = []
    for fit, held in ((half_a, half_b), (half_b, half_a)):
        st, _ = best_setting(results, fit)
        f = next(r[1] for r in results if r[0] == st)
        cross += [f[i] for i in held]
    metrics["grounding_F1_two_fold"] = round(sum(cross) / len(cross), 2)
    metrics["grounding_selection"] = ("settings chosen on this validation split (grid, "
                                      "pipeline candidates: document prior and cross-encoder "
                                      "step); "
                                      "grounding_F1_two_fold: chosen on one half, scored on "
                                      "the other")
    chosen["n_passages"] = int(chosen["n_passages"])
    if helper is not None and chosen["helper_weight"] > 0:
        chosen["helper"] = HELPER
    return metrics, chosen
