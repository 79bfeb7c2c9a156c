"""Choose the ranking chain's settings for other documents on the written choose sets.

    python -m re3g.train.select_ranking --written [--margin | --moves] [--out FILE]
        [DOCS DIALOGUES]...

doc2dial's settings (:mod:`re3g.train.select_ranking`) were chosen where a conversation rarely
leaves its document, and a synthetic shift splices in another dialogue's words. The
hand-written choose sets (:data:`re3g.train.common.CHOOSE_SETS`; never a held-out set) have
users who change document in their own words. Every answerable turn, with the written agent
turns as history, has its candidate pool and every model score computed once
(:func:`re3g.train.select_ranking.memo_rankers`); each point of :data:`GRID` then ranks every
turn with the real chain. R@1 (the top passage holds a reference span) is counted apart for
turns on the same document as the turn before and turns right after a document change
(:func:`re3g.evaluate.answerability.document_changed`); the objective is doc2dial's,
``0.8 x same + 0.2 x change``. A leave-one-set-out check (choose on five sets, score the sixth)
says how much the choice overfits. The chosen values go to ``models/ranking-other.json``
(:mod:`re3g.rank.regime`), with the fingerprint of the corpus that keeps the defaults. About 8
minutes on 2 cores, most of it the models' passes.

``--margin`` chooses only the prior's bound (``document_margin``, :data:`MARGINS`), with the
current-turn share and the prior's weight at their defaults, on the choose sets,
``data/train2`` and ``data/train3`` by default, by the most R@1 turns pooled over every
answerable turn (a tie goes to no bound, then to the larger margin): it keeps a user who has
clearly moved to another document from being held in the old one, without moving the
same-document turns the defaults rank (docs/answerability.md, Sessions 44-45).

``--moves`` chooses how the chain follows a user who moves on (:data:`MOVES`): how many words
of the latest agent turns the document prior reads (``document_words``) and the prior's bound,
on the same sets by the same count (ties: the defaults first). A larger share for a turn that
on its own clearly finds what it asks about (``current_sure``) ranked better with the written
agent turns but cost the system's own conversations, so it is not in the grid (Session 45).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

GRID: dict[str, list[Any]] = {
    "current_weight": [0.3, 0.4, 0.5, 0.6],
    "document_weight": [0.1, 0.15, 0.2, 0.3],
    "document_margin": [None, 0.1, 0.15, 0.2, 0.3, 0.5],
}
MARGINS: list[float | None] = [None, 0.4, 0.3, 0.25, 0.2]
"""``--margin``'s bounds, in tie-break order (no bound first, then the larger margins)."""
MOVES: dict[str, list[Any]] = {
    "document_words": [200, 60, 40, 20],
    "document_margin": [None, 0.25],
}
"""``--moves``' grid: how much of the latest agent turns the prior reads, and the prior's
bound. (Session 45 also tried a larger share for a turn sure on its own, ``current_sure`` None /
0.2 / 0.3 with ``current_sure_weight`` 0.5 / 0.7: it ranked better with the written agent turns
as history but cost the choose sets' own conversations, gate M.)"""
MARGIN_EXTRA = [(f"data/{n}/documents", f"data/{n}/dialogues.json") for n in ("train2", "train3")]
"""The written training sets ``--margin`` counts beside the choose sets by default (``train3``
was written for users who move to another document with a short question)."""
CHANGE_SHARE = 0.2  # as doc2dial's selection (re3g.train.select_ranking.SHIFT_SHARE)
Counts = dict[str, dict[str, list[int]]]  # set -> "same" / "change" -> [turns, R@1, doc@1]


def prepared(sets: Sequence[tuple[Path, Path]]) -> list[tuple[str, list[Any], Any, Any, Any]]:
    """Per set: its name, its answerable turns' fixed inputs, the two memo rankers, and the
    pipeline as shipped over the set's documents."""
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
            raise SystemExit("no trained reranker (models/reranker): nothing to choose")
        turns = collect(pipe, [e for e in examples if e.answerable])
        tower, cross = memo_rankers(pipe, turns)
        out.append((str(docs_dir), turns, tower, cross, pipe))
    return out


def add_windows(data: Sequence[tuple[str, list[Any], Any, Any, Any]], words: Sequence[int]
                ) -> None:
    """Each turn's document scores for every prior window in ``words`` (one batch search of
    each set's BM25 index per window)."""
    from re3g.rank.prior import agent_text, document_scores

    for _, turns, _, _, pipe in data:
        for n in words:
            texts = [agent_text(t.example.history, n) for t in turns]
            for t, best in zip(turns, document_scores(pipe.retriever.sparse, texts),
                               strict=True):
                t.windows[n] = best


def count_point(st: Mapping[str, Any], data: Sequence[tuple[str, list[Any], Any, Any, Any]]
                ) -> Counts:
    """Turns, R@1 hits and document@1 hits under setting ``st``, by set and turn kind."""
    from re3g.config import Config
    from re3g.evaluate.answerability import document_changed
    from re3g.evaluate.retrieval import is_relevant
    from re3g.rank import RankingChain, cross_settings
    from re3g.rank.prior import prior_from_scores

    per_set: Counts = {}
    for name, turns, tower, cross, pipe in data:
        cfg = pipe.config
        depth, weight = cross_settings(pipe.cross_reranker, cfg.cross_depth, cfg.cross_weight)
        # the memo already holds the blended tower's scores: no second blend (base_weight 0)
        st = at_defaults(**st)
        chain = RankingChain(tower, cross, None, current_weight=st["current_weight"],
                             document_weight=st["document_weight"],
                             document_temperature=cfg.document_temperature,
                             document_margin=st["document_margin"],
                             current_sure=st["current_sure"],
                             current_sure_weight=st["current_sure_weight"], cross_depth=depth,
                             cross_weight=weight, title_weight=cfg.title_weight,
                             base_weight=0.0)
        words = st["document_words"]
        mine = per_set.setdefault(name, {"same": [0, 0, 0], "change": [0, 0, 0]})
        for t in turns:
            best = t.documents if words == Config.document_words else t.windows[words]
            prior = prior_from_scores(best, cfg.document_temperature)
            hits = chain.rank(t.query, t.pool, t.example.history, prior=prior).hits
            kind = "change" if document_changed(t.example) else "same"
            got = (1, int(bool(hits) and is_relevant(hits[0], t.example)),
                   int(bool(hits) and hits[0].passage.doc_id in t.example.gold_doc_ids))
            for i, v in enumerate(got):
                mine[kind][i] += v
    return per_set


def scores(counts: Counts, names: Sequence[str] | None = None) -> dict[str, float]:
    """R@1 and document@1 of same-document and change turns, pooled over ``names`` (default
    every set), and the objective.

    >>> c = {"a": {"same": [4, 3, 4], "change": [2, 1, 2]}}
    >>> scores(c)["objective"]
    70.0
    """
    pooled = {"same": [0, 0, 0], "change": [0, 0, 0]}
    for name in names if names is not None else list(counts):
        for kind in pooled:
            pooled[kind] = [a + b for a, b in zip(pooled[kind], counts[name][kind], strict=True)]

    def pct(c: list[int], i: int) -> float:
        return round(100.0 * c[i] / c[0], 2) if c[0] else 0.0

    same, change = pooled["same"], pooled["change"]
    return {"same_turns": same[0], "change_turns": change[0],
            "R@1_same": pct(same, 1), "R@1_change": pct(change, 1),
            "doc@1_same": pct(same, 2), "doc@1_change": pct(change, 2),
            "objective": round((1 - CHANGE_SHARE) * pct(same, 1)
                               + CHANGE_SHARE * pct(change, 1), 2)}


def at_defaults(**changes: Any) -> dict[str, Any]:
    """Every setting the selection may choose (:data:`re3g.rank.regime.OTHER_KEYS`) at its
    default, but ``changes``.

    >>> at_defaults(document_margin=0.25)["document_margin"], at_defaults()["current_weight"]
    (0.25, 0.3)
    """
    from re3g.config import Config
    from re3g.rank.regime import OTHER_KEYS

    return {k: changes.get(k, getattr(Config, k)) for k in OTHER_KEYS}


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every point of ``grid`` (the other keys at their defaults) in the grid's order, the
    defaults first and no point twice, so a tie goes to the defaults, then to the earlier
    point.

    >>> [p["document_margin"] for p in grid_points({"document_margin": [0.4, None]})]
    [None, 0.4]
    """
    out = [at_defaults()]
    for values in itertools.product(*grid.values()):
        st = at_defaults(**dict(zip(grid, values, strict=True)))
        if st not in out:
            out.append(st)
    return out


def margin_points() -> list[dict[str, Any]]:
    """``--margin``'s grid: the defaults with each of :data:`MARGINS`.

    >>> [p["document_margin"] for p in margin_points()][:2]
    [None, 0.4]
    """
    return grid_points({"document_margin": MARGINS})


def moves_points() -> list[dict[str, Any]]:
    """``--moves``' grid (:data:`MOVES`), the defaults first.

    >>> points = moves_points()
    >>> points[0] == at_defaults(), len(points)
    (True, 8)
    """
    return grid_points(MOVES)


def pooled_hits(counts: Counts, names: Sequence[str] | None = None) -> int:
    """R@1 turns pooled over sets ``names`` (default every set), same and change together.

    >>> pooled_hits({"a": {"same": [4, 3, 4], "change": [2, 1, 2]}})
    4
    """
    return sum(counts[n][kind][1] for n in (names if names is not None else list(counts))
               for kind in ("same", "change"))


def weighted(counts: Counts, names: Sequence[str] | None = None) -> float:
    """:func:`scores`' objective: doc2dial's weighted R@1 of same-document and change turns."""
    return scores(counts, names)["objective"]


Objective = Callable[[Counts, Sequence[str] | None], float]
"""How a point's counts on some sets (None: all) are scored; the larger the better."""


def choose(results: Sequence[tuple[dict[str, Any], Counts]], names: Sequence[str] | None = None,
           objective: Objective = weighted) -> dict[str, Any]:
    """The point with the best ``objective`` on sets ``names`` (:func:`weighted`, or
    :func:`pooled_hits` for ``--margin``). Ties: the earlier point, so the grid's order
    decides."""
    return max(results, key=lambda r: objective(r[1], names))[0]


def held_out_check(results: Sequence[tuple[dict[str, Any], Counts]], names: Sequence[str],
                   objective: Objective = weighted) -> dict[str, Any]:
    """Leave one set out: choose on the others, count the left-out set under that choice;
    the left-out sets' pooled scores and each set's choice."""
    pooled: Counts = {}
    picks = {}
    for name in names:
        st = choose(results, [n for n in names if n != name], objective)
        picks[name] = st
        pooled[name] = next(c for s, c in results if s == st)[name]
    return {"scores": scores(pooled), "chosen_per_left_out_set": picks}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--written", action="store_true", help="(this mode)")
    ap.add_argument("sets", nargs="*", help="DOCS DIALOGUES pairs (default: the choose sets)")
    ap.add_argument("--margin", action="store_true",
                    help="choose only the prior's bound (document_margin), by R@1 turns pooled "
                         "over the choose sets, data/train2 and data/train3")
    ap.add_argument("--moves", action="store_true",
                    help="choose how the chain follows a user who moves on (the prior's words "
                         "and bound: MOVES), by R@1 turns pooled over the choose sets, "
                         "data/train2 and data/train3")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write the selection (default models/ranking-other.json)")
    args = ap.parse_args(argv)
    if len(args.sets) % 2:
        ap.error("give the sets as DOCS DIALOGUES pairs")

    from re3g.config import Config
    from re3g.data import load_documents
    from re3g.evaluate.report import write_atomic
    from re3g.models import models_dir
    from re3g.rank.regime import OTHER_RANKING, SELECT_CMD
    from re3g.retrieve.index import corpus_fingerprint
    from re3g.train import common

    t0 = time.time()
    pairs = [(Path(a), Path(b)) for a, b in zip(args.sets[::2], args.sets[1::2], strict=True)]
    if args.margin and args.moves:
        ap.error("--margin and --moves are two modes: give one")
    defaults = at_defaults()
    objective: Objective
    if args.margin or args.moves:  # a few keys, the others at their defaults; turns pooled
        grid: Mapping[str, Sequence[Any]] = {"document_margin": MARGINS} if args.margin else MOVES
        default_sets, objective = [*common.CHOOSE_SETS, *MARGIN_EXTRA], pooled_hits
    else:
        grid, default_sets, objective = GRID, common.CHOOSE_SETS, weighted
    points, keys = grid_points(grid), list(grid)
    data = prepared(common.checked_sets(pairs or None, default_sets, "choose"))
    add_windows(data, sorted({p["document_words"] for p in points} - {Config.document_words}))
    names = [d[0] for d in data]
    results = [(st, count_point(st, data)) for st in points]
    point = choose(results, names, objective)
    chosen = {k: point[k] for k in keys}
    counts = dict(results[points.index(point)][1])
    tuned = corpus_fingerprint(load_documents(common.DATA_DIR / "doc2dial_doc.json").values())
    report = {
        "where": f"the written sets {', '.join(names)}: every answerable turn with the "
                 f"written agent turns as history; never a held-out set or validation",
        "command": SELECT_CMD + (" --margin" if args.margin else "")
        + (" --moves" if args.moves else "")
        + "".join(f" {d} {f}" for d, f in pairs),
        "objective": ("R@1 turns pooled over every answerable turn; ties: no bound, then the "
                      "larger margin" if args.margin else
                      "R@1 turns pooled over every answerable turn; ties: the defaults, then "
                      "the grid's order" if args.moves else
                      f"{1 - CHANGE_SHARE:.1f} x R@1(same document) + {CHANGE_SHARE:.1f} x "
                      f"R@1(right after a document change)"),
        "tuned_corpus": tuned, "grid": grid, "chosen": chosen,
        "pooled_r_at_1": [{"point": {k: v for k, v in st.items() if v != defaults[k]},
                           "turns": pooled_hits(c)} for st, c in results]
        if objective is pooled_hits else None,
        "chosen_scores": scores(counts),
        "chosen_per_set": {n: scores(counts, [n]) for n in names},
        "defaults": defaults,
        "defaults_scores": scores(results[points.index(defaults)][1]),
        "leave_one_set_out": held_out_check(results, names, objective),
        "seconds": round(time.time() - t0, 1),
    }
    out = args.out or models_dir() / OTHER_RANKING
    write_atomic(out, json.dumps(report, indent=2) + "\n")
    for key in ("chosen", "chosen_scores", "defaults_scores"):
        print(key, json.dumps(report[key]))
    print("leave one set out", json.dumps(report["leave_one_set_out"]["scores"]))
    print(f"wrote {out}; the pipeline uses it on every corpus but doc2dial (re3g.rank.regime); "
          "refit the decision on it (`re3g train answerability`, its shipped command)")
    return 0
