"""The ranking chain's current-turn mix and document prior on the written choose sets.

    python bench/written_ranking_grid.py [--out FILE] [DOCS DIALOGUES]...

``python -m re3g.train.select_ranking`` chooses the chain's settings on doc2dial train with
synthetic topic shifts. This bench asks the same of the hand-written choose sets
(:data:`re3g.train.common.CHOOSE_SETS` by default), whose users change document in their own
words: every answerable turn with the written agent turns as history, its candidate pool and
every model score computed once (:class:`re3g.train.select_ranking.MemoRanker`), then each
point of :data:`GRID` ranks every turn with the real chain. Per point it reports R@1 (the top
passage holds a reference span) and document@1, apart for turns on the same document as the
turn before and for turns right after a document change
(:func:`re3g.evaluate.answerability.document_changed`), and select_ranking's objective
(``0.8 x same + 0.2 x change``). About 8 minutes on 2 cores, most of it the models' passes.
It chooses nothing: the figures say whether a setting is worth a gated replay
(docs/answerability.md, Session 38).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GRID: dict[str, list[Any]] = {
    "current_weight": [0.3, 0.4, 0.5, 0.6],
    "document_weight": [0.1, 0.15, 0.2, 0.3],
    "document_margin": [None, 0.1, 0.15, 0.2, 0.3, 0.5],
}


def prepared(sets: Sequence[tuple[Path, Path]]) -> list[tuple[str, list[Any], Any, Any, Any]]:
    """Per set: its name, its answerable turns' fixed inputs, the two memo rankers, its config
    (the pipeline as shipped over the set's documents)."""
    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.evaluate.runner import ensure_index
    from re3g.pipeline import Re3G
    from re3g.train import common
    from re3g.train.select_ranking import collect, memo_rankers

    out = []
    for docs_dir, dialogues in sets:
        docs, _, examples = common.load_written(docs_dir, dialogues)
        index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
        pipe = Re3G(Config(index=str(index), docs=str(docs_dir)), documents=docs)
        if pipe.reranker is None:
            raise SystemExit("no trained reranker (models/reranker): nothing to measure")
        turns = collect(pipe, [e for e in examples if e.answerable])
        tower, cross = memo_rankers(pipe, turns)
        out.append((str(docs_dir), turns, tower, cross, pipe))
    return out


def score_point(st: dict[str, Any], data: Sequence[tuple[str, list[Any], Any, Any, Any]]
                ) -> dict[str, Any]:
    """R@1 and document@1 of every turn under setting ``st``, same-document and change
    turns apart, with the counts per set."""
    from re3g.evaluate.answerability import document_changed
    from re3g.evaluate.retrieval import is_relevant
    from re3g.rank import RankingChain, cross_settings
    from re3g.rank.prior import prior_from_scores

    tally = {"same": [0, 0, 0], "change": [0, 0, 0]}  # turns, R@1 hits, document hits
    per_set: dict[str, dict[str, list[int]]] = {}
    for name, turns, tower, cross, pipe in data:
        cfg = pipe.config
        depth, weight = cross_settings(pipe.cross_reranker, cfg.cross_depth, cfg.cross_weight)
        # the memo already holds the blended tower's scores: no second blend (base_weight 0)
        chain = RankingChain(tower, cross, None, current_weight=st["current_weight"],
                             document_weight=st["document_weight"],
                             document_temperature=cfg.document_temperature,
                             document_margin=st["document_margin"], cross_depth=depth,
                             cross_weight=weight, title_weight=cfg.title_weight,
                             base_weight=0.0)
        mine = per_set.setdefault(name, {"same": [0, 0, 0], "change": [0, 0, 0]})
        for t in turns:
            prior = prior_from_scores(t.documents, cfg.document_temperature)
            hits = chain.rank(t.query, t.pool, t.example.history, prior=prior).hits
            kind = "change" if document_changed(t.example) else "same"
            got = (1, int(bool(hits) and is_relevant(hits[0], t.example)),
                   int(bool(hits) and hits[0].passage.doc_id in t.example.gold_doc_ids))
            for counts in (tally[kind], mine[kind]):
                for i, v in enumerate(got):
                    counts[i] += v

    def pct(c: list[int], i: int) -> float:
        return round(100.0 * c[i] / c[0], 2) if c[0] else 0.0

    same, change = tally["same"], tally["change"]
    return {"settings": st, "same_turns": same[0], "change_turns": change[0],
            "R@1_same": pct(same, 1), "R@1_change": pct(change, 1),
            "doc@1_same": pct(same, 2), "doc@1_change": pct(change, 2),
            "R@1_all": round(100.0 * (same[1] + change[1]) / max(1, same[0] + change[0]), 2),
            "objective": round(0.8 * pct(same, 1) + 0.2 * pct(change, 1), 2),
            "per_set": per_set}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", help="DOCS DIALOGUES pairs (default: the choose sets)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/written_ranking_grid.json"))
    args = ap.parse_args(argv)
    if len(args.sets) % 2:
        ap.error("give the sets as DOCS DIALOGUES pairs")

    from re3g.config import Config
    from re3g.evaluate.report import write_atomic
    from re3g.train import common

    pairs = [(Path(a), Path(b)) for a, b in zip(args.sets[::2], args.sets[1::2], strict=True)]
    sets = common.checked_sets(pairs or None, common.CHOOSE_SETS, "measure")
    data = prepared(sets)
    shipped = {k: getattr(Config(), k) for k in GRID}
    points = [dict(zip(GRID, v, strict=True)) for v in itertools.product(*GRID.values())]
    if shipped not in points:
        points.insert(0, shipped)
    results = [score_point(st, data) for st in points]
    best = max(results, key=lambda r: r["objective"])
    report = {"sets": [str(d) for d, _ in sets], "shipped": next(
        r for r in results if r["settings"] == shipped), "best_by_objective": best,
        "grid": GRID, "results": results}
    write_atomic(args.out, json.dumps(report, indent=1) + "\n")
    for r in (report["shipped"], best):
        print(json.dumps({k: v for k, v in r.items() if k != "per_set"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
