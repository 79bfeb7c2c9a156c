"""Which signals and which threshold rule should the decision's calibration for other documents
use? Leave one written set out at a time.

    .venv/bin/python bench/other_calibration.py [--cache .cache/answerability-train.jsonl]
        [--signals NAMES ...] [--answer-rate 0.95] [--histories written|own] [--name NAME]

Reads the rows ``re3g train answerability`` cached for its written sets (run it first with
every ``--written`` set to compare; each row holds the turn's signals and, since session 30,
``pick_right``: whether the pipeline's top evidence is on a reference span). For each set of
``--signals`` (comma-separated names, ``agree`` for the shipped model's other calibration's
own signals, or ``shipped`` for that calibration as it is, scored on each set without a refit)
and each written set left out, the trainer's own
:func:`re3g.train.answerability.fit_other` (a standardised logistic regression, scikit-learn,
balanced classes; thresholds out of fold by dialogue) is fitted on the other sets' rows and
scored on the left-out one:

- AUROC, answerable against unanswerable (turns the shipped topic gate stops score 0);
- with the threshold at ``--answer-rate`` of the training sets' answerable turns answered
  (``rate``) and of those with a right pick (``right-rate``), both out of fold by dialogue on
  the training sets: the left-out set's answered, right (answered with a right pick) and
  refused shares.

Writes ``bench/results/NAME.json`` (default ``other_calibration``). No timing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402


def load_rows(cache: Path, histories: str = "written") -> list[dict[str, Any]]:
    """The cached written rows (answerable and unanswerable turns, not off-topic ones) that
    record ``pick_right`` and were read after ``histories`` (``re3g train answerability
    --histories``), one per turn (the last line wins), each with its set's name."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for line in cache.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if rec.get("source") == "written" and rec.get("kind") != "off_topic" \
                and "pick_right" in rec and rec.get("histories", "written") == histories:
            rec["set"] = Path(rec["id"].split(":")[0]).parent.name
            rows[(rec["id"], rec["kind"])] = rec
    return list(rows.values())


def main() -> int:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from re3g.logistic import probability
    from re3g.models import model_path
    from re3g.train.answerability import fit_other, topic_reach

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache/answerability-train.jsonl")
    ap.add_argument("--signals", nargs="+", default=["agree"])
    ap.add_argument("--answer-rate", type=float, default=0.95)
    ap.add_argument("--histories", choices=("written", "own"), default="written",
                    help="score (and fit on) the rows read after the written agent turns or "
                         "after the bot's own replies")
    ap.add_argument("--name", default="other_calibration")
    args = ap.parse_args()

    manifest = json.loads((model_path("answerability") / "manifest.json").read_text())
    gate = manifest["topic"]
    rows = load_rows(args.cache, args.histories)
    sets = sorted({r["set"] for r in rows})
    if len(sets) < 2:
        raise SystemExit(f"{args.cache}: written rows of at least two sets with pick_right "
                         "are needed; run re3g train answerability with several --written")

    def column(rs: list[dict[str, Any]], key: str) -> Any:
        return np.array([bool(r[key]) for r in rs])

    def reach(rs: list[dict[str, Any]]) -> Any:  # the shipped topic gate, as the trainer reads it
        return topic_reach(np.array([probability(gate, r["signals"].__getitem__) for r in rs]),
                           float(gate["floor"]))

    def shares(rs: list[dict[str, Any]], p: Any, t: float) -> dict[str, float]:
        pos = column(rs, "answerable")
        answered = (p >= t) & (reach(rs) >= 1)
        return {"answered": round(100 * float(answered[pos].mean()), 1),
                "right": round(100 * float((answered & column(rs, "pick_right"))[pos].mean()), 1),
                "refused": round(100 * float((~answered)[~pos].mean()), 1)}

    out: dict[str, Any] = {"sets": {s: sum(r["set"] == s for r in rows) for s in sets},
                           "answer_rate": args.answer_rate, "runs": {}}
    for spec in args.signals:
        names = manifest["other"]["signals"] if spec in ("agree", "shipped") else spec.split(",")
        per: dict[str, Any] = {}
        if spec == "shipped":  # the shipped calibration as it is, nothing refitted
            other = manifest["other"]
            for left in sets:
                test = [r for r in rows if r["set"] == left]
                p = np.where(reach(test) < 1, 0.0, [probability(other, r["signals"].__getitem__)
                                                    for r in test])
                at = shares(test, p, float(other["threshold"]))
                per[left] = {"AUROC": round(float(roc_auc_score(column(test, "answerable"), p)),
                                            3), "rate": at, "right-rate": at}
        for left in sets if spec != "shipped" else ():
            train = [r for r in rows if r["set"] != left]
            test = [r for r in rows if r["set"] == left]
            x = np.array([[r["signals"][n] for n in names] for r in train], dtype=float)
            y = column(train, "answerable").astype(int)
            every, none = np.ones(len(train), bool), np.zeros(len(train), bool)
            fits = {rule: fit_other(x, y, np.array([r["dial_id"] for r in train]), every,
                                    reach(train), 5, args.answer_rate, 0, names, none,
                                    column(train, "pick_right") if rule == "right-rate"
                                    else None)[0]
                    for rule in ("rate", "right-rate")}  # the same regression, two thresholds
            p = np.where(reach(test) < 1, 0.0, [probability(fits["rate"], r["signals"].__getitem__)
                                                for r in test])
            per[left] = {"AUROC": round(float(roc_auc_score(column(test, "answerable"), p)), 3),
                         **{rule: shares(test, p, fit["threshold"])
                            for rule, fit in fits.items()}}
        mean = {"AUROC": round(float(np.mean([v["AUROC"] for v in per.values()])), 3)}
        for rule in ("rate", "right-rate"):
            mean[rule] = {k: round(float(np.mean([v[rule][k] for v in per.values()])), 1)
                          for k in ("answered", "right", "refused")}
        out["runs"][("shipped: " if spec == "shipped" else "") + ",".join(names)] = {
            "per_set": per, "mean": mean}
        print(f"{'shipped' if spec == 'shipped' else len(names):>2} signals: AUROC " + " ".join(
            f"{s} {per[s]['AUROC']:.3f}" for s in sets) + f" | mean {mean['AUROC']:.3f} | "
            f"rate {mean['rate']} | right-rate {mean['right-rate']}")
    print("wrote", save(args.name, out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
