"""One reader range term, swept under the settings for other documents, on the training side.

    .venv/bin/python bench/reader_sweep.py number_weight=0,1,2,4,6,8 [--name NAME]
    .venv/bin/python bench/reader_sweep.py judge_weight=0,0.5,1,2 --judge DIR --choose-only

Reads every grounded turn of the written training-side sets (the choose sets,
``re3g.train.common.CHOOSE_SETS``, then ``data/train2``, ``data/train3`` and ``data/train4``, or
the choose sets alone with ``--choose-only``, for a model trained on those two; never a held-out
or fresh set) with its written history: the pipeline's candidates, the reader's readings and the
sentence judge's logits (``re3g.train.select_reader.read_part`` and ``judge_part``, cached under
``.cache/select-reader``; ``--judge``: another judge than the one the reader's manifest names).
The reader's ``other`` settings are put in place
(:meth:`re3g.extract.SpanExtractor.for_corpus`), the term is set to each value in both of its
regimes (regular and ``unsure``; ``--regime``: one of them), and each turn's top pick is counted
right when it holds a reference sentence (:func:`re3g.evaluate.answerability.pick_right`, what
the chat's gates count).
Prints, per value, the right picks pooled, per set and per two-fold half (by dialogue,
``hash_fold``), and the picks that the best value changes against the first. Session 48 chose
``number_weight`` = 4 with it (``bench/results/gates-s48.md``). Writes
``bench/results/NAME.json`` (default ``reader_sweep-TERM``). No timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

TRAIN_SIDE = ("data/train2", "data/train3", "data/train4")
"""Written training-side sets beside the choose sets."""


def main(argv: list[str] | None = None) -> int:
    from re3g.evaluate.answerability import pick_right
    from re3g.extract import SpanExtractor
    from re3g.models import model_path
    from re3g.train.common import CHOOSE_SETS
    from re3g.train.select_reader import (
        hash_fold,
        judge_part,
        read_part,
        sweep_spec,
        top_picks,
        written_part,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", metavar="TERM=V1,V2,...")
    ap.add_argument("--name", default=None)
    ap.add_argument("--judge", type=Path, default=None)
    ap.add_argument("--choose-only", action="store_true")
    ap.add_argument("--regime", choices=["both", "regular", "unsure"], default="both",
                    help="which of the reader's two regimes the term is set in (default both)")
    args = ap.parse_args(argv)
    term, values = sweep_spec(args.spec)
    sets = [*CHOOSE_SETS, *(() if args.choose_only else
                            ((f"{d}/documents", f"{d}/dialogues.json") for d in TRAIN_SIDE))]
    ex = SpanExtractor.load()
    ex.for_corpus(None, "other")
    unsure = dict(ex.unsure)
    judge = ex.settings.get("judge") if ex.judge is not None else None
    judge_dir = (args.judge if args.judge is not None else
                 model_path("extractor-qa").parent / judge if judge else None)
    right = {v: 0 for v in values}
    folds = {v: [0, 0] for v in values}
    per_set: dict[str, dict[str, int]] = {}
    first: dict[tuple[str, str], bool] = {}
    changed: dict[str, list[dict[str, Any]]] = {f"{v:g}": [] for v in values[1:]}
    turns = 0
    for docs_dir, dialogues in sets:
        part = written_part(ROOT / docs_dir, ROOT / dialogues)
        got = read_part(part, ex, 3)
        judged = (judge_part(part, got, ex, judge_dir) if judge_dir is not None
                  else [None] * len(part.examples))
        turns += len(part.examples)
        for v in values:
            if args.regime != "unsure":
                setattr(ex, term, v)
            if unsure and args.regime != "regular":
                ex.unsure = {**unsure, term: v}
            picks = top_picks(ex, part, got, judged)
            for e, cur, p in zip(part.examples, got["currents"], picks, strict=True):
                ok = bool(p) and pick_right(e, p[:1])
                right[v] += ok
                folds[v][hash_fold(e.dial_id)] += ok
                per_set.setdefault(docs_dir, {}).setdefault(f"{v:g}", 0)
                per_set[docs_dir][f"{v:g}"] += ok
                key = (docs_dir, e.id)
                if v == values[0]:
                    first[key] = ok
                elif first[key] != ok:
                    changed[f"{v:g}"].append({"set": docs_dir, "id": e.id, "turn": cur,
                                              "right": ok,
                                              "pick": p[0].text[:120] if p else ""})
        print(docs_dir, per_set[docs_dir], flush=True)
    best = max(values, key=lambda v: (right[v], -values.index(v)))
    report = {"term": term, "regime": args.regime, "turns": turns,
              "right": {f"{v:g}": right[v] for v in values},
              "two_fold": {f"{v:g}": folds[v] for v in values},
              "per_set": per_set, "best": best,
              "changed_by_best": changed.get(f"{best:g}", []),
              "judge": str(judge_dir) if judge_dir else None,
              "where": ("choose sets" if args.choose_only else
                        "choose sets + data/train2 + data/train3 + data/train4")
              + ", written histories, the reader's settings for other documents; never "
                "held-out or fresh sets"}
    print({k: report[k] for k in ("term", "turns", "right", "two_fold", "best")})
    save(args.name or f"reader_sweep-{term}", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
