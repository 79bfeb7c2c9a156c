"""Choose the ranking chain's settings on a dev part of train with synthetic topic shifts.

    python -m re3g.train.select_ranking [--dialogues 100] [--seed 7] [--out FILE]
    python -m re3g.train.select_ranking --written [--out FILE] [DOCS DIALOGUES]...

(``--written``: the settings for other documents, chosen on the written choose sets,
:mod:`re3g.train.select_ranking_written`.)

The ranking chain (:class:`re3g.rank.RankingChain`: reranker with the current-turn mix, the
document prior with its bound, the cross-encoder step) has settings that were first chosen on
validation. This script chooses them again on train only:

- normal turns: every grounded turn of ``--dialogues`` train dialogues drawn with ``--seed``;
- shift turns: the same dialogues, each joined after a random agent turn of another dialogue
  of its domain over another document (:mod:`re3g.train.splice`, as MultiDoc2Dial was built),
  scored on the first two user turns after the join.

Every turn's candidate pool, reranker scores, BM25 document scores and cross-encoder logits are
computed once; then every point of :data:`GRID` ranks every turn with the real chain and is
scored by R@1 (the top passage holds a reference span). The objective weighs shift turns
:data:`SHIFT_SHARE` of the whole: ``(1 - s) * R@1(normal) + s * R@1(shift)``. A two-fold
check (choose on one half of the dialogues, score the other) says how much the choice overfits.
The reranker and the cross-encoder were trained on all of train, so dev figures flatter them:
they rank settings against each other; validation is scored once afterwards (``re3g evaluate``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.train import common

GRID: dict[str, list[Any]] = {
    "current_weight": [0.2, 0.3, 0.5],
    "document_weight": [0.0, 0.1, 0.2, 0.3],
    "document_temperature": [2.0, 3.0, 5.0],
    "document_margin": [None, 0.02, 0.05, 0.1],
    "cross_weight": [0.0, 0.05, 0.1],
    "cross_depth": [3, 5, 8],
}
SHIFT_SHARE = 0.2  # about one turn in five moves to another document (our conversation suite)
DEPTH_TOLERANCE = 0.5
"""Objective points a shallower cascade may give up against the best: the cross-encoder costs
about 55 ms a passage on 2 cores, so the smallest ``cross_depth`` whose best setting comes
within this of the best overall is taken (fixed before the session-15 run looked)."""


class MemoRanker:
    """A ranker that asks the real one once per (query, candidate list) and remembers."""

    def __init__(self, ranker: Any) -> None:
        self.ranker = ranker
        self.reranked: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
        self.scores: dict[tuple[str, str], float] = {}

    def rerank(self, query: str, hits: Sequence[Any], k: int | None = None) -> list[Any]:
        key = (query, tuple(h.passage.pid for h in hits))
        if key not in self.reranked:
            self.reranked[key] = self.ranker.rerank(query, hits)
        out = self.reranked[key]
        return out[:k] if k else out

    def score(self, query: str, passages: Sequence[Any]) -> list[float]:
        missing = [p for p in passages if (query, p.pid) not in self.scores]
        if missing:
            for p, s in zip(missing, self.ranker.score(query, missing), strict=True):
                self.scores[(query, p.pid)] = float(s)
        return [self.scores[(query, p.pid)] for p in passages]

    def question(self, history: Any) -> str | None:
        return self.ranker.question(history)

    def prefill(self, turns: Sequence[TurnData], cross: bool = False) -> None:
        """Score every turn's whole pool now, one batch per turn: the dialogue query and the
        current turn with a reranker, the cross-encoder's question with a cross-encoder (so
        no setting of the grid calls a model)."""
        from tqdm.auto import tqdm

        for t in tqdm(turns, desc="cross-encoder" if cross else "reranker"):
            if cross:
                asked = self.question(t.example.history) or t.query
                self.score(asked, [h.passage for h in t.pool])
            else:
                self.rerank(t.query, t.pool)
                self.rerank(t.example.history[-1].utterance or t.query, t.pool)


@dataclass
class TurnData:
    """One turn's fixed inputs to the chain."""

    example: Any
    query: str
    pool: list[Any]
    documents: dict[str, float]  # best BM25 score per document of the earlier agent turns
    windows: dict[int, dict[str, float]] = field(default_factory=dict)
    """``documents`` for other ``document_words`` windows, by window (filled on demand)."""


def dev_dialogues(path: Path, dialogues: int, seed: int) -> list[Any]:
    """``dialogues`` train dialogues drawn with ``seed`` (the same draw as select_reader)."""
    from re3g.data import load_dialogues

    every = load_dialogues(path)
    ids = sorted({d.dial_id for d in every})
    random.Random(seed).shuffle(ids)
    keep = set(ids[:dialogues])
    return [d for d in every if d.dial_id in keep]


def turn_sets(dialogues: Sequence[Any], docs: dict[str, Any], seed: int
              ) -> tuple[list[Any], list[Any]]:
    """(normal examples, shift examples) of ``dialogues``."""
    from re3g.data.dialdoc import examples_from_dialogues
    from re3g.train.splice import shift_examples, spliced_dialogues

    normal = examples_from_dialogues(dialogues, docs)
    joined = spliced_dialogues(dialogues, seed=seed)
    joins = {d.dial_id: at for d, at in joined}
    shifted = shift_examples(examples_from_dialogues([d for d, _ in joined], docs), joins)
    return normal, shifted


def collect(pipe: Any, examples: Sequence[Any]) -> list[TurnData]:
    """Pools and document scores of every example (batched searches)."""
    from re3g.data import build_query
    from re3g.evaluate.grounding import dialogue_runs
    from re3g.rank.prior import agent_text, document_scores

    queries = [build_query(e.history, roles=pipe.config.query_roles) for e in examples]
    currents = [e.history[-1].utterance or "" for e in examples]
    pools = dialogue_runs(pipe.retriever, queries, currents, pipe.config.k)
    best = document_scores(pipe.retriever.sparse, [agent_text(e.history) for e in examples])
    return [TurnData(e, q, p, b) for e, q, p, b in zip(examples, queries, pools, best,
                                                       strict=True)]


def memo_rankers(pipe: Any, turns: Sequence[TurnData]) -> tuple[MemoRanker, MemoRanker | None]:
    """The pipeline's tower (blended as the pipeline asks it, ``Config.base_weight``) and
    cross-encoder (None without one) behind memos already holding every score ``turns``
    need."""
    tower = MemoRanker(pipe.reranker.blended(pipe.config.base_weight))
    cross = MemoRanker(pipe.cross_reranker) if pipe.cross_reranker is not None else None
    for memo, is_cross in ((tower, False), (cross, True)):
        if memo is not None:
            memo.prefill(turns, is_cross)
    return tower, cross


def r_at_1(turns: Sequence[TurnData], chain: Any, temperature: float) -> list[int]:
    """1 for each turn whose top ranked passage holds a reference span, else 0."""
    from re3g.evaluate.retrieval import is_relevant
    from re3g.rank.prior import prior_from_scores

    out = []
    for t in turns:
        hits = chain.rank(t.query, t.pool, t.example.history,
                          prior=prior_from_scores(t.documents, temperature)).hits
        out.append(int(bool(hits) and is_relevant(hits[0], t.example)))
    return out


def grid_points() -> list[dict[str, Any]]:
    """Every setting of :data:`GRID` (the margin only where the prior is on, the depth only
    where the cross-encoder is)."""
    keys = list(GRID)
    out = []
    for values in itertools.product(*(GRID[k] for k in keys)):
        st = dict(zip(keys, values, strict=True))
        if st["document_weight"] == 0.0 and st["document_margin"] is not None:
            continue
        if st["cross_weight"] == 0.0 and st["cross_depth"] != GRID["cross_depth"][0]:
            continue
        out.append(st)
    return out


def score_grid(normal: Sequence[TurnData], shifted: Sequence[TurnData], tower: MemoRanker,
               cross: MemoRanker | None) -> list[tuple[dict[str, Any], list[int], list[int]]]:
    """(settings, per-turn R@1 of normal turns, of shift turns) for every grid point."""
    from tqdm.auto import tqdm

    from re3g.rank import RankingChain

    results = []
    for st in tqdm(grid_points(), desc="settings"):
        chain = RankingChain(tower, cross if st["cross_weight"] else None, None,
                             current_weight=st["current_weight"],
                             document_weight=st["document_weight"],
                             document_temperature=st["document_temperature"],
                             document_margin=st["document_margin"],
                             cross_depth=st["cross_depth"], cross_weight=st["cross_weight"])
        t = st["document_temperature"]
        results.append((st, r_at_1(normal, chain, t), r_at_1(shifted, chain, t)))
    return results


def objective(normal: Sequence[int], shifted: Sequence[int]) -> float:
    """``(1 - SHIFT_SHARE) * R@1(normal) + SHIFT_SHARE * R@1(shift)`` in percent."""
    def mean(x: Sequence[int]) -> float:
        return 100.0 * sum(x) / len(x) if x else 0.0
    return (1 - SHIFT_SHARE) * mean(normal) + SHIFT_SHARE * mean(shifted)


def best(results: Sequence[tuple[dict[str, Any], list[int], list[int]]],
         normal_ids: set[int] | None = None, shift_ids: set[int] | None = None
         ) -> tuple[dict[str, Any], float]:
    """The best setting on the chosen turns (all by default) at the shallowest cross-encoder
    depth within :data:`DEPTH_TOLERANCE` of the best; ties keep the grid's order."""
    def pick(x: list[int], ids: set[int] | None) -> list[int]:
        return x if ids is None else [v for i, v in enumerate(x) if i in ids]
    scored = [(objective(pick(n, normal_ids), pick(s, shift_ids)), -i, st)
              for i, (st, n, s) in enumerate(results)]
    top = max(v for v, _, _ in scored)
    # the shallowest cascade within DEPTH_TOLERANCE of the best (the cross-encoder's cost);
    # without the cross-encoder (weight 0) nothing is read: depth 0
    depth = min(cascade_depth(st) for v, _, st in scored if v >= top - DEPTH_TOLERANCE - 1e-9)
    value, _, st = max((x for x in scored if cascade_depth(x[2]) == depth),
                       key=lambda x: (x[0], x[1]))
    return st, value


def cascade_depth(st: dict[str, Any]) -> int:
    """Passages the cross-encoder reads under setting ``st`` (0 when it is off).

    >>> cascade_depth({"cross_weight": 0.0, "cross_depth": 3}), cascade_depth(
    ...     {"cross_weight": 0.1, "cross_depth": 5})
    (0, 5)
    """
    return int(st["cross_depth"]) if st["cross_weight"] else 0


def halves(turns: Sequence[TurnData]) -> tuple[set[int], set[int]]:
    """Turn indices split in two by dialogue (joined dialogues by their second part)."""
    a, b = set(), set()
    for i, t in enumerate(turns):
        dial = t.example.dial_id.split("+")[-1]
        (a if sum(map(ord, dial)) % 2 == 0 else b).add(i)
    return a, b


def summary(results: Sequence[tuple[dict[str, Any], list[int], list[int]]],
            st: dict[str, Any]) -> dict[str, float]:
    """R@1 of normal and shift turns and the objective for setting ``st``."""
    n, s = next((n, s) for x, n, s in results if x == st)
    return {"R@1_normal": round(100.0 * sum(n) / max(1, len(n)), 2),
            "R@1_shift": round(100.0 * sum(s) / max(1, len(s)), 2),
            "objective": round(objective(n, s), 2)}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--written" in argv:
        from re3g.train import select_ranking_written

        return select_ranking_written.main(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json")
    ap.add_argument("--train", type=Path, default=common.DATA_DIR / "doc2dial_dial_train.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--dialogues", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("models/ranking-selection.json"))
    args = ap.parse_args(argv)

    from re3g.config import Config
    from re3g.data import load_documents
    from re3g.evaluate.report import write_atomic
    from re3g.pipeline import Re3G
    from re3g.rank import cross_settings

    t0 = time.time()
    docs = load_documents(args.docs)
    normal_ex, shift_ex = turn_sets(dev_dialogues(args.train, args.dialogues, args.seed), docs,
                                    args.seed)
    pipe = Re3G(Config().with_overrides(index=str(args.index), mode="hybrid"), documents=docs)
    if pipe.reranker is None:
        raise SystemExit("no trained reranker (models/reranker): nothing to choose")
    pipe.reranker.prime_from_index(args.index, pipe.retriever.passages)
    normal, shifted = collect(pipe, normal_ex), collect(pipe, shift_ex)
    tower, cross = memo_rankers(pipe, normal + shifted)
    results = score_grid(normal, shifted, tower, cross)
    chosen, value = best(results)
    cfg = Config()
    today = {k: getattr(cfg, k) for k in GRID if k not in ("cross_weight", "cross_depth")}
    today["cross_depth"], today["cross_weight"] = cross_settings(pipe.cross_reranker)
    if cross is None:
        today["cross_weight"], today["cross_depth"] = 0.0, GRID["cross_depth"][0]
    held_n, held_s = [], []
    (na, nb), (sa, sb) = halves(normal), halves(shifted)
    for (fit_n, fit_s), (test_n, test_s) in (((na, sa), (nb, sb)), ((nb, sb), (na, sa))):
        st, _ = best(results, fit_n, fit_s)
        n, s = next((n, s) for x, n, s in results if x == st)
        held_n += [n[i] for i in test_n]
        held_s += [s[i] for i in test_s]
    report = {
        "where": f"train dev part: {args.dialogues} train dialogues (seed {args.seed}), "
                 f"{len(normal)} normal turns and {len(shifted)} turns right after a synthetic "
                 f"topic shift; never validation",
        "command": f"python -m re3g.train.select_ranking --dialogues {args.dialogues} "
                   f"--seed {args.seed}",
        "objective": f"{1 - SHIFT_SHARE:.1f} x R@1(normal) + {SHIFT_SHARE:.1f} x R@1(shift)",
        "grid": GRID, "chosen": chosen, "chosen_scores": summary(results, chosen),
        "today": today,
        "today_scores": summary(results, today) if today in [r[0] for r in results] else None,
        "best_by_depth": {
            str(d or "off"): round(max(objective(n, s) for st, n, s in results
                                       if cascade_depth(st) == d), 2)
            for d in [0, *GRID["cross_depth"]]} if cross is not None else None,
        "two_fold_objective": round(objective(held_n, held_s), 2),
        "seconds": round(time.time() - t0, 1),
    }
    report["chosen_scores"]["objective"] = round(value, 2)
    write_atomic(args.out, json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out}; put the chain's settings into re3g/config.py (Config defaults) "
          "and cross_depth / cross_weight into the cross-encoder's manifest (settings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
