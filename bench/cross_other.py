"""Top-passage rate of the cross-encoder step on written sets: no step, the doc2dial
cross-encoder at its cascade, the cross-encoder for other documents at its cascade.

    .venv/bin/python bench/cross_other.py                 # the held-out sets (about 3 min)
    .venv/bin/python bench/cross_other.py --sets dev dev2  # any data/<name> sets

A turn counts when the top passage after the step holds a reference span (answerable turns
only); the ranking before the step is the pipeline's own (re3g.train.cross_other.ranked_turns).
The held-out sets (re3g.train.common.HELD_OUT_SETS) neither trained nor chose anything.
Writes bench/results/cross_other.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from re3g.models import model_path, trained
from re3g.rank import OTHER_CROSS, Reranker, cross_settings
from re3g.train.common import HELD_OUT_SETS as SETS
from re3g.train.cross_other import ranked_turns, top_passage_rate, turn_logits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    ap.add_argument("--out", type=Path, default=Path("bench/results/cross_other.json"))
    args = ap.parse_args()
    if not trained(OTHER_CROSS):
        raise SystemExit(f"no {model_path(OTHER_CROSS)}: make it with `re3g train cross-other`")
    models = {"doc2dial": Reranker.load(model_path("cross-reranker")),
              "other": Reranker.load(model_path(OTHER_CROSS))}
    results = {}
    for name in args.sets:
        docs, dials = SETS.get(name, (f"data/{name}/documents", f"data/{name}/dialogues.json"))
        # both models read the same question (the new one keeps the first one's query_roles)
        turns, _ = ranked_turns(Path(docs), Path(dials), models["doc2dial"].question,
                                progress=False)
        row: dict[str, float | int] = {"turns": len(turns)}
        for tag, cross in models.items():
            depth, weight = cross_settings(cross)
            logits = turn_logits(cross, turns)
            row["without"] = round(100 * top_passage_rate(turns, logits, 0, 0.0) / len(turns), 1)
            row[f"{tag} ({depth}, {weight:g})"] = round(
                100 * top_passage_rate(turns, logits, depth, weight) / len(turns), 1)
        results[name] = row
        print(name, row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
