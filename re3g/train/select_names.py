"""Choose the ranking terms for documents unlike doc2dial on train, never on validation: the
name step's weight (``Config.title_weight``) and the base blend (``Config.base_weight``).

    python -m re3g.train.select_names [--weights 0,1,2,4] [--base-weights 0,0.25]
        [--dialogues 80] [--seed 7] [--written data/dev/documents data/dev/dialogues.json]
        [--out FILE]

The name step (:mod:`re3g.rank.names`) takes the share of a document's name off each passage's
score when the user names the document, so a question naming a product is not drawn to the
introduction that repeats the name. doc2dial's titles name almost no products, so its turns
only say the step does no harm there; the hand-written development set over product pages,
policies and guides (``data/dev``, never the test suite) says whether it helps. The base blend
(:meth:`re3g.rank.Reranker.blended`, since session 22) mixes the packaged encoder's own query
vector into the tower's: the tower was fine-tuned on doc2dial, the packaged encoder ranks other
documents' opening questions better; doc2dial's turns say what the mix costs there. The two
are chosen together (every pair of the two grids).

Each part's turns are ranked by the pipeline's chain (:func:`re3g.evaluate.grounding.default_chain`,
the reranker and cross-encoder scores asked once and remembered) at every weight, and scored by
R@1 (the top passage holds a reference span). The objective is the mean of the parts' R@1, the
same weighing as :mod:`re3g.train.select_reader`; a two-fold check (choose on one half of the
dialogues, score the other) says how much the choice overfits. Ties keep the smaller weights.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from re3g.train import common
from re3g.train.select_reader import Part, dev_examples, hash_fold, written_part

WEIGHTS = (0.0, 1.0, 2.0, 4.0)
BASE_WEIGHTS = (0.0, 0.15, 0.25, 0.35, 0.5)
Point = tuple[float, float]  # (title_weight, base_weight)


def part_hits(part: Part, weights: Sequence[float], base_weights: Sequence[float] = (0.0,)
              ) -> dict[Point, list[tuple[int, int]]]:
    """For each (title weight, base weight), (fold, 1 if the top passage holds a reference span
    else 0) per turn."""
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import build_query
    from re3g.evaluate.grounding import default_chain, dialogue_runs
    from re3g.evaluate.retrieval import is_relevant
    from re3g.rank import Reranker, load_cross
    from re3g.retrieve import open_index
    from re3g.retrieve.index import corpus_fingerprint
    from re3g.train.select_ranking import MemoRanker

    cfg = Config()
    retriever = open_index(part.index, mode="hybrid")
    tower = Reranker.load()
    tower.prime_from_index(part.index, retriever.passages)
    # the cross-encoder the pipeline gives the part's corpus (Re3G.cross_reranker)
    cross = load_cross(cfg.cross, cfg.cross_model, corpus_fingerprint(part.docs.values()),
                       cfg.calibration)
    base = default_chain(retriever, tower, cross)
    memo_cross = MemoRanker(cross) if cross is not None else None
    queries = [build_query(e.history, roles=cfg.query_roles) for e in part.examples]
    currents = [e.history[-1].utterance or "" for e in part.examples]
    pools = dialogue_runs(retriever, queries, currents, cfg.k)
    priors = base.priors([e.history for e in part.examples])
    out: dict[Point, list[tuple[int, int]]] = {}
    for b in base_weights:
        memo_tower = MemoRanker(tower.blended(b))  # the memo holds the blend's scores
        for w in weights:
            chain = replace(base, reranker=memo_tower, cross=memo_cross, title_weight=w,
                            base_weight=b)
            rows = []
            for e, q, pool, prior in tqdm(list(zip(part.examples, queries, pools, priors,
                                                   strict=True)),
                                          desc=f"{part.name} w={w} b={b}"):
                hits = chain.rank(q, pool, e.history, prior).hits
                rows.append((hash_fold(e.dial_id), int(bool(hits) and is_relevant(hits[0], e))))
            out[(w, b)] = rows
    return out


def r_at_1(rows: Sequence[tuple[int, int]], fold: int | None = None) -> float:
    """R@1 in percent of the rows (of one fold when given).

    >>> r_at_1([(0, 1), (1, 0), (1, 1)]), r_at_1([(0, 1), (1, 0), (1, 1)], fold=1)
    (66.67, 50.0)
    """
    got = [ok for f, ok in rows if fold is None or f == fold]
    return round(100.0 * sum(got) / len(got), 2) if got else 0.0


def choose(scored: dict[str, dict[Point, list[tuple[int, int]]]], fold: int | None = None
           ) -> tuple[Point, float]:
    """((title weight, base weight), objective): the point with the best mean R@1 over the
    parts (on one fold when given); ties keep the smaller base weight, then the smaller title
    weight.

    >>> choose({"a": {(0.0, 0.0): [(0, 1), (1, 0)], (1.0, 0.0): [(0, 1), (1, 1)],
    ...               (0.0, 0.5): [(0, 1), (1, 1)]}})
    ((1.0, 0.0), 100.0)
    """
    points = sorted(next(iter(scored.values())))
    value = {pt: sum(r_at_1(p[pt], fold) for p in scored.values()) / len(scored)
             for pt in points}
    best = max(points, key=lambda pt: (value[pt], -pt[1], -pt[0]))
    return best, round(value[best], 2)


def parse_weights(flag: str, text: str, top: float | None = None) -> list[float]:
    """The sorted distinct numbers of a comma-separated ``text`` (DataError naming ``flag``).

    >>> parse_weights("--weights", "2,0,2")
    [0.0, 2.0]
    """
    from re3g.errors import DataError

    try:
        weights = sorted({float(x) for x in text.split(",")})
    except ValueError:
        raise DataError(f"{flag} {text!r}: expected numbers, e.g. 0,1,2,4") from None
    if any(w < 0 or (top is not None and w > top) for w in weights):
        raise DataError(f"{flag} {text!r}: weights must be >= 0"
                        + (f" and <= {top:g}" if top is not None else ""))
    return weights


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json")
    ap.add_argument("--train", type=Path, default=common.DATA_DIR / "doc2dial_dial_train.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--dialogues", type=int, default=common.DEV_DIALOGUES)
    ap.add_argument("--seed", type=int, default=common.DEV_SEED)
    ap.add_argument("--weights", default=",".join(str(w) for w in WEIGHTS),
                    help="title_weight values")
    ap.add_argument("--base-weights", default=",".join(str(w) for w in BASE_WEIGHTS),
                    help="base_weight values (each in [0, 1])")
    ap.add_argument("--out", type=Path, default=Path("models/names-selection.json"))
    common.add_written_arguments(ap)
    args = ap.parse_args(argv)
    weights = parse_weights("--weights", args.weights)
    base_weights = parse_weights("--base-weights", args.base_weights, top=1.0)

    from re3g.data import load_documents
    from re3g.evaluate.report import write_atomic

    t0 = time.time()
    written = common.written_sets(args)
    docs = load_documents(args.docs)
    parts = [Part("doc2dial-train-dev", dev_examples(args.train, docs, args.dialogues, args.seed),
                  docs, args.index)]
    parts += [written_part(Path(d), Path(f)) for d, f in written]
    scored = {p.name: part_hits(p, weights, base_weights) for p in parts}
    chosen, value = choose(scored)
    held = []
    for fit, test in ((0, 1), (1, 0)):
        w, _ = choose(scored, fit)
        held.append(sum(r_at_1(s[w], test) for s in scored.values()) / len(scored))
    report: dict[str, Any] = {
        "where": f"train dev part: {args.dialogues} train dialogues (seed {args.seed})"
                 + "".join(f" + written set {d}" for d, _ in written)
                 + "; never validation, never the test suite",
        "command": " ".join(["python -m re3g.train.select_names", "--weights", args.weights,
                             "--base-weights", args.base_weights]
                            + [a for d, f in written for a in ("--written", str(d), str(f))]),
        "objective": "mean over the parts of R@1 (the top ranked passage holds a reference span)",
        "R@1": {p: {f"title_weight={w:g} base_weight={b:g}": r_at_1(rows)
                    for (w, b), rows in s.items()} for p, s in scored.items()},
        "turns": {p.name: len(p.examples) for p in parts},
        "chosen": {"title_weight": chosen[0], "base_weight": chosen[1]},
        "objective_chosen": value,
        "objective_off": choose({p: {(0.0, 0.0): s[(0.0, 0.0)]} for p, s in scored.items()})[1]
        if 0.0 in weights and 0.0 in base_weights else None,
        "two_fold_objective": round(sum(held) / 2, 2),
        "seconds": round(time.time() - t0, 1),
    }
    write_atomic(args.out, json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out}; put title_weight and base_weight into re3g/config.py (Config "
          f"defaults)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
