"""Router bench: precision/recall of the automatic code-vs-documents decision.

    .venv/bin/python bench/code_router.py

Sets: tests/data/code_router.jsonl (written for re3g: the rule-tuning set, and a held-out set
written after the rules were frozen) and the real doc2dial user turns in
../shared/data/doc2dial (non-code questions; train turns were looked at while writing rules,
validation turns were not). "code" and "both" count as a code prediction.
Writes bench/results/code_router.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from re3g.tools.router import route  # noqa: E402

DATA = ROOT / "tests" / "data" / "code_router.jsonl"
DOC2DIAL = ROOT.parent / "shared" / "data" / "doc2dial"


def doc2dial_turns(split: str) -> list[tuple[str, str]]:
    data = json.loads((DOC2DIAL / f"doc2dial_dial_{split}.json").read_text())["dial_data"]
    return [(t["utterance"], "docs") for dom in data.values() for dials in dom.values()
            for d in dials for t in d["turns"] if t["role"] == "user" and t["utterance"]]


def score(rows: list[tuple[str, str]]) -> dict:
    tp = fp = fn = tn = 0
    for text, label in rows:
        pred, gold = route(text) != "docs", label != "docs"
        tp += pred and gold
        fp += pred and not gold
        fn += gold and not pred
        tn += not pred and not gold
    return {"n": len(rows), "code": tp + fn, "docs": fp + tn, "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "false_positive_rate": round(fp / (fp + tn), 4) if fp + tn else None}


def main() -> int:
    rows = [json.loads(x) for x in DATA.read_text().splitlines() if x.strip()]
    sets = {
        "labelled (rule-tuning)": [(r["text"], r["label"]) for r in rows if "split" not in r],
        "labelled (held-out)": [(r["text"], r["label"]) for r in rows
                                if r.get("split") == "heldout"],
        "doc2dial train user turns": doc2dial_turns("train"),
        "doc2dial validation user turns": doc2dial_turns("validation"),
    }
    result = {name: score(s) for name, s in sets.items()}
    print(f"{'set':34s} {'n':>5s} {'P':>6s} {'R':>6s} {'FPR':>7s}")
    for name, r in result.items():
        print(f"{name:34s} {r['n']:5d} {r['precision'] or '-':>6} {r['recall'] or '-':>6} "
              f"{r['false_positive_rate'] if r['false_positive_rate'] is not None else '-':>7}")
    out = ROOT / "bench" / "results" / "code_router.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
