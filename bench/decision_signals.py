"""How well do the decision's signals tell answerable from unanswerable turns, per corpus?

    .venv/bin/python bench/decision_signals.py --run DOCS DIALOGUES OUT [--run ...]
        [--checker DIR] [--fit-on N] [--name NAME]

Each ``--run`` names a written set (its documents folder and dialogue file) and the folder a
``re3g evaluate --docs DOCS --dialogues DIALOGUES --out OUT`` run wrote (its
``answerability.jsonl`` holds every turn's top evidence and, with the learned decision, its
signals). For every run the script reports:

- the AUROC of the shipped confidence and of each recorded signal, each read in the direction
  that separates (``higher_on``: the "no answer" logits are higher on unanswerable turns);
- with ``--checker DIR``: a start/end reader (such as a retrained checker) reads the passage of
  each turn's top evidence with its own question, as the pipeline's checker does, and its
  "no answer" score and margin (best range minus "no answer") are scored the same way and
  replace ``check_null`` below;
- the share of unanswerable turns refused when 95% of the answerable ones are answered.

Then a decision for other documents is fitted (scikit-learn: standardised logistic regression
over ``--signals``, default cross, overlap, null, sure and check_null) on the first ``--fit-on``
runs, out of fold (``--folds``, default five, by dialogue) with one threshold at 95% of their
answerable turns answered, and applied unchanged to the remaining runs. Writes
``bench/results/NAME.json`` (default ``decision_signals``). No timing; the readings need the
models of the run (same checkout).
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

FIT_SIGNALS = ["cross", "overlap", "null", "sure", "check_null"]
ANSWER_RATE = 0.95


def records(docs_dir: Path, dialogues: Path, out: Path) -> tuple[list[dict[str, Any]], Any]:
    """The run's turn records with their examples attached (``example``), and the documents
    (read as the trainers read a written set, :func:`re3g.train.common.load_written`)."""
    from re3g.train.common import load_written

    docs, _, found = load_written(docs_dir, dialogues)
    examples = {e.id: e for e in found}
    rows = []
    for line in (out / "answerability.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("kind", "written") in ("answerable", "written") and r["id"] in examples:
            rows.append({**r, "example": examples[r["id"]]})
    return rows, docs


def reread(rows: list[dict[str, Any]], docs: dict[str, Any], checker: Path) -> None:
    """Replace each row's ``check_null`` by ``checker``'s reading of its top evidence's passage
    and add ``check_margin``."""
    from tqdm.auto import tqdm

    from re3g.data.passages import split_corpus
    from re3g.extract import load_checker

    where = {}
    for p in split_corpus(docs.values()):
        for s in p.span_ids:
            where.setdefault((p.doc_id, s), p)
    reader = load_checker(str(checker))
    for r in tqdm(rows, desc=f"read with {checker.name}"):
        if not r["evidence"] or r.get("signals") is None:
            continue
        doc_id, spans = r["evidence"]
        reading = reader.model.read(reader.question(r["example"].history),
                                    [where[(doc_id, spans[0])]], docs,
                                    keep=reader.ranges_kept)[0]
        r["signals"] = {**r["signals"], "check_null": reading.null,
                        "check_margin": reading.margin}


def separation(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """AUROC of the confidence and of every signal; refused at 95% answered by each."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    y = np.array([int(r["answerable"]) for r in rows])
    scored = {"confidence": [r["confidence"] for r in rows]}
    if all(r.get("signals") for r in rows):
        # a run records only the signals its decision read (re3g.decide.Signals.skipped)
        for name in set.intersection(*(set(r["signals"]) for r in rows)):
            scored[name] = [r["signals"][name] for r in rows]
    out: dict[str, Any] = {"answerable": int(y.sum()), "unanswerable": int((1 - y).sum())}
    for name, values in scored.items():
        v = np.array(values, dtype=float)
        auc = float(roc_auc_score(y, v))
        flipped = auc < 0.5  # read the other way round ("no answer" logits)
        if flipped:
            v, auc = -v, 1.0 - auc
        cut = np.quantile(v[y == 1], 1 - ANSWER_RATE)
        out[name] = {"AUROC": round(auc, 4),
                     "higher_on": "unanswerable" if flipped else "answerable",
                     "refused_at_95": round(100 * float((v[y == 0] < cut).mean()), 1)}
    return out


def other_documents_decision(fit: list[list[dict[str, Any]]],
                             rest: list[list[dict[str, Any]]], signals: list[str],
                             folds: int = 5) -> dict[str, Any]:
    """Fit on the runs of ``fit`` out of fold (``folds`` by dialogue, one threshold), then
    score every run of ``rest`` with the model fitted on all of ``fit``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def arrays(rows: list[dict[str, Any]]) -> tuple[Any, Any]:
        return (np.array([[r["signals"][n] for n in signals] for r in rows], dtype=float),
                np.array([int(r["answerable"]) for r in rows]))

    def model() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))

    def scores(y: Any, p: Any, cut: float) -> dict[str, float]:
        return {"AUROC": round(float(roc_auc_score(y, p)), 4),
                "answered": round(100 * float((p[y == 1] >= cut).mean()), 1),
                "refused": round(100 * float((p[y == 0] < cut).mean()), 1)}

    rows = [r for run in fit for r in run]
    lacking = sorted({n for run in (*fit, *rest) for r in run for n in signals
                      if n not in r["signals"]})
    if lacking:
        sys.exit(f"the runs did not record {lacking} (their decision does not read them): pick "
                 "other --signals, or run them with a decision that reads these")
    run_of = np.array([i for i, run in enumerate(fit) for _ in run])
    x, y = arrays(rows)
    groups = np.array([r["id"].rsplit("_", 1)[0] for r in rows])
    oof = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        oof[te] = model().fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    cut = float(np.quantile(oof[y == 1], 1 - ANSWER_RATE))
    out: dict[str, Any] = {"signals": signals, "folds": folds,
                           "fit_out_of_fold": scores(y, oof, cut)}
    if len(fit) > 1:
        out["fit_out_of_fold_by_run"] = [scores(y[run_of == i], oof[run_of == i], cut)
                                         for i in range(len(fit))]
    whole = model().fit(x, y)
    for i, held in enumerate(rest):
        xr, yr = arrays(held)
        out[f"held_out_{i + 1}"] = scores(yr, whole.predict_proba(xr)[:, 1], cut)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=3, action="append", type=Path, required=True,
                    metavar=("DOCS", "DIALOGUES", "OUT"))
    ap.add_argument("--checker", type=Path, default=None)
    ap.add_argument("--fit-on", type=int, default=1, metavar="N",
                    help="fit the decision on the first N runs, apply it to the others")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--signals", default=",".join(FIT_SIGNALS),
                    help="comma-separated signals of the fitted decision")
    ap.add_argument("--name", default="decision_signals")
    args = ap.parse_args()
    runs = []
    for docs_dir, dialogues, out in args.run:
        if not (out / "answerability.jsonl").is_file():
            sys.exit(f"{out}: no answerability.jsonl (run `re3g evaluate --docs {docs_dir} "
                     f"--dialogues {dialogues} --out {out}` first)")
        rows, docs = records(docs_dir, dialogues, out)
        if args.checker is not None:
            reread(rows, docs, args.checker)
        runs.append(rows)
    result: dict[str, Any] = {"checker": str(args.checker) if args.checker else "as run",
                              "runs": {}}
    for (_, _, out), rows in zip(args.run, runs, strict=True):
        result["runs"][str(out)] = separation(rows)
        sep = result["runs"][str(out)]
        print(f"{out}: {sep['answerable']} answerable, {sep['unanswerable']} unanswerable")
        for name in ("confidence", "check_null", "check_margin"):
            if name in sep:
                print(f"  {name:13s} AUROC {sep[name]['AUROC']:.3f}  refused at 95% answered "
                      f"{sep[name]['refused_at_95']:.1f}%")
    if all(r.get("signals") for rows in runs for r in rows) and 0 < args.fit_on <= len(runs):
        result["other_documents_decision"] = decision = other_documents_decision(
            runs[:args.fit_on], runs[args.fit_on:], args.signals.split(","), args.folds)
        print("other-documents decision:", json.dumps(decision))
    print("wrote", save(args.name, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
