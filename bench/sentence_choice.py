"""Would the checker pick the right sentence of the top passage more often than the reader?

    .venv/bin/python bench/sentence_choice.py --run DOCS DIALOGUES OUT [--run ...]
        [--checker DIR] [--choose-on N] [--name NAME]

Each ``--run`` names a written set (its documents folder and dialogue file) and the folder a
``re3g evaluate --docs DOCS --dialogues DIALOGUES --out OUT`` run wrote (its
``answerability.jsonl`` holds each turn's top evidence). For every answerable turn the checker
(default ``models/checker``, the decision's second reader, which already reads the top
evidence's passage for the decision) reads that passage with its own question, as
:class:`re3g.extract.judge.ReaderJudge` does, and gives each body sentence a logit. The rule
measured: take the checker's best sentence of the passage instead of the reader's when its
logit beats the best logit of the reader's own sentences by more than ``d``
(``d`` = inf: the reader as shipped). For each ``d`` of :data:`MARGINS` and each run: the
share of answerable turns whose top evidence holds a reference sentence ("right pick",
answered or not), and the share of those in the right passage that the rule moves off or onto
the reference. ``d`` is chosen on the first ``--choose-on`` runs (most right picks, ties to
the larger ``d``); the others are reported with it. Writes ``bench/results/NAME.json``
(default ``sentence_choice``). No timing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

MARGINS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, math.inf)


def readings(docs_dir: Path, dialogues: Path, out: Path, checker: Any) -> list[dict[str, Any]]:
    """Per answerable turn with a top evidence: the reader's sentences, the checker's logit
    of every body sentence of their passage, and the reference sentences."""
    from tqdm.auto import tqdm

    from re3g.data.passages import split_corpus
    from re3g.extract.judge import ReaderJudge
    from re3g.train.common import load_written

    docs, _, found = load_written(docs_dir, dialogues)
    examples = {e.id: e for e in found}
    where = {}
    for p in split_corpus(docs.values()):
        for s in p.span_ids:
            where.setdefault((p.doc_id, s), p)
    judge = ReaderJudge(checker, float(checker.settings.get("snap_ratio", 0.3)))
    rows = []
    lines = (out / "answerability.jsonl").read_text().splitlines()
    for line in tqdm(lines, desc=f"checker reads ({out.name})"):
        r = json.loads(line)
        ex = examples.get(r["id"])
        if ex is None or not r.get("answerable") or not r.get("evidence"):
            continue
        doc_id, spans = r["evidence"]
        passage = where[(doc_id, spans[0])]
        logits = judge.judge_passages(checker.question(ex.history), [passage], docs)
        gold = {s for d, s in ex.gold_span_ids if d == doc_id}
        rows.append({"id": r["id"], "reader": list(spans),
                     "logits": {s: v for (_, s), v in logits.items()},
                     "gold": sorted(gold), "in_passage": bool(gold & set(passage.span_ids))})
    return rows


def pick(row: dict[str, Any], d: float) -> list[str]:
    """The sentence(s) the rule keeps at margin ``d``."""
    logits = row["logits"]
    if not logits or math.isinf(d):
        return row["reader"]
    best = max(logits, key=logits.get)
    own = max((logits[s] for s in row["reader"] if s in logits), default=-math.inf)
    return [best] if logits[best] - own > d else row["reader"]


def scores(rows: list[dict[str, Any]], d: float) -> dict[str, Any]:
    right = [bool(set(pick(r, d)) & set(r["gold"])) for r in rows]
    before = [bool(set(r["reader"]) & set(r["gold"])) for r in rows]
    return {"right_pick": round(100 * sum(right) / max(1, len(rows)), 1),
            "fixed": sum(a and not b for a, b in zip(right, before, strict=True)),
            "broken": sum(b and not a for a, b in zip(right, before, strict=True)),
            "moved": sum(pick(r, d) != r["reader"] for r in rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=3, action="append", type=Path, required=True,
                    metavar=("DOCS", "DIALOGUES", "OUT"))
    ap.add_argument("--checker", default=None)
    ap.add_argument("--choose-on", type=int, default=1, metavar="N")
    ap.add_argument("--name", default="sentence_choice")
    args = ap.parse_args()
    from re3g.extract import load_checker

    checker = load_checker(args.checker)
    if checker is None:
        sys.exit("no checker: train one (docs/answerability.md) or name it with --checker")
    runs = {}
    for docs_dir, dialogues, out in args.run:
        if not (out / "answerability.jsonl").is_file():
            sys.exit(f"{out}: no answerability.jsonl (run `re3g evaluate --docs {docs_dir} "
                     f"--dialogues {dialogues} --out {out}` first)")
        runs[str(out)] = readings(docs_dir, dialogues, out, checker)
    table = {name: {str(d): scores(rows, d) for d in MARGINS} for name, rows in runs.items()}
    chosen_on = list(runs)[:args.choose_on]

    def objective(d: float) -> float:
        return sum(table[n][str(d)]["right_pick"] for n in chosen_on) / len(chosen_on)

    best = max(sorted(MARGINS, reverse=True), key=objective)
    result = {"checker": Path(checker.path).name,
              "checker_command": checker.manifest.get("command", ""), "chosen_on": chosen_on,
              "chosen_margin": str(best),
              "turns": {n: len(rows) for n, rows in runs.items()}, "by_margin": table}
    for name in runs:
        print(f"{name}: reader {table[name]['inf']['right_pick']}%  ->  d={best}: "
              f"{table[name][str(best)]}")
    print("wrote", save(args.name, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
