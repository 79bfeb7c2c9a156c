"""Learn the "not in the documents" decision from train turns and synthetic unanswerable ones.

    re3g train answerability [--dialogues 160] [--index indexes/doc2dial]

For a sample of train dialogues, every grounded agent turn is run through the pipeline as it
is (answerable) and in the three synthetic unanswerable versions of
:mod:`re3g.evaluate.unanswerable` (gold document removed, another domain's documents only,
gold spans blanked out). The decision's :class:`~re3g.decide.Signals` of each run are the
features of a logistic regression (scikit-learn, standardised, balanced classes). Everything
is chosen on train only:

- five folds by dialogue give out-of-fold probabilities: their AUROC, calibration (Brier
  score) and the answered / refused shares are the model's own report;
- the threshold is the out-of-fold probability that keeps ``--answer-rate`` (default 0.95)
  of the answerable train turns answered.

Since session 12 the turns of a hand-written development set over documents of other styles
(``data/dev``, ``--written DOCS DIALOGUES``) join them: its answerable turns and its real
unanswerable ones (on-topic questions the documents do not answer), run over that corpus.
Together they weigh :data:`WRITTEN_WEIGHT` of the doc2dial rows (``--written-weight``), so the
decision and its threshold also suit documents no model here was tuned on; the threshold
keeps ``--answer-rate`` of the answerable turns of each source on average.

The model (a few numbers) goes to ``models/answerability/manifest.json``; the pipeline uses
it when ``[answer] learned`` is "auto" or true and it was trained with the same reranker,
cross-encoder and extractor. Runs are cached line by line (``--cache``), so an interrupted
run resumes.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.decide import SIGNALS
from re3g.models import model_path
from re3g.train import common

TRAIN_CMD = "re3g train answerability"
CACHE = Path(".cache/answerability-train.jsonl")
TRADEOFF_RATES = (0.95, 0.9, 0.8, 0.7, 0.6)
"""Answer rates whose thresholds the report also gives (the trade-off a user can pick)."""
WRITTEN_WEIGHT = 0.1
"""Total weight of the written rows against the doc2dial rows: of 0 (doc2dial alone), 0.05,
0.1, 0.15, 0.2, 0.3, 0.5 and 1, the best mean of the two sources' out-of-fold AUROC (session 12,
docs/answerability.md). Equal weight (1) drags doc2dial's AUROC to 0.59: answerable turns over
other documents look like doc2dial's other-domain turns to the doc2dial-trained signals."""
AGREE_AUROC = 0.6
"""``--signals agree`` keeps the signals that separate answerable from unanswerable turns on
every source alone, in the same direction: single-signal AUROC at least this (or at most 1
minus it) on doc2dial train and on each written set. Session 16 (docs/answerability.md): it
separated better on the suites but answered plainly off-topic questions ("What is the capital
of France?"), which the signals it drops (relevance, cosine) refuse, so the default stays
``all``."""
SURE_RATE = 0.8
"""An answer stands without a caution from the confidence that this share of the answerable
turns reach (mean over the sources, out of fold: the manifest's ``sure``); below it the answer
is tentative (:attr:`re3g.decide.Decision.tentative`)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json")
    parser.add_argument("--train", type=Path, default=common.DATA_DIR / "doc2dial_dial_train.json")
    parser.add_argument("--index", type=Path, default=Path("indexes/doc2dial"),
                        help="index of --docs (`re3g index --docs ... --name doc2dial`)")
    parser.add_argument("--dialogues", type=int, default=160,
                        help="train dialogues sampled (all their grounded turns are used)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--answer-rate", type=float, default=0.95,
                        help="share of answerable turns (out of fold; the mean over doc2dial "
                             "train and the written sets) the threshold keeps")
    parser.add_argument("--seed", type=int, default=common.TrainConfig.seed)
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="JSON lines of the runs (reused when the same turns come again)")
    common.add_written_arguments(parser)
    parser.add_argument("--written-weight", type=float, default=WRITTEN_WEIGHT,
                        help="total weight of the written rows relative to the doc2dial rows "
                             f"(default {WRITTEN_WEIGHT})")
    parser.add_argument("--signals", default="all",
                        help='which signals the model reads: "all" (default), "agree" (those '
                             'that separate on every source alone, see AGREE_AUROC), or a '
                             f"comma-separated list of {', '.join(SIGNALS)}")
    parser.add_argument("--out", type=Path, default=model_path("answerability"))


def agreeing_signals(rows: list[dict[str, Any]], floor: float = AGREE_AUROC
                     ) -> tuple[list[str], dict[str, dict[str, float]]]:
    """(signals, single-signal AUROC by signal and source): the signals whose AUROC alone is
    at least ``floor`` on every source, or at most ``1 - floor`` on every source (all of them
    when none is).

    >>> rows = [{"answerable": a, "source": s, "signals": {**{n: 0.0 for n in SIGNALS},
    ...          "cross": float(a), "gap": float(a == (s == "written"))}}
    ...         for s in ("doc2dial", "written") for a in (True, False, True, False)]
    >>> agreeing_signals(rows)[0]
    ['cross']
    """
    from sklearn.metrics import roc_auc_score

    sources = sorted({r.get("source", "doc2dial") for r in rows})
    single: dict[str, dict[str, float]] = {}
    for n in SIGNALS:
        for src in sources:
            part = [r for r in rows if r.get("source", "doc2dial") == src]
            ys = [int(r["answerable"]) for r in part]
            if 0 < sum(ys) < len(ys):
                single.setdefault(n, {})[src] = round(float(roc_auc_score(
                    ys, [r["signals"][n] for r in part])), 4)
    keep = [n for n, by in single.items() if len(by) == len(sources)
            and (all(v >= floor for v in by.values()) or all(v <= 1 - floor for v in by.values()))]
    return keep or list(SIGNALS), single


def chosen_signals(spec: str, rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The signals ``--signals`` names (see :func:`agreeing_signals`) and why."""
    from re3g.errors import DataError

    if spec == "agree":
        names, single = agreeing_signals(rows)
        return names, {"rule": f"single-signal AUROC >= {AGREE_AUROC} (or <= "
                               f"{1 - AGREE_AUROC:.1f}) on every source", "single_AUROC": single}
    if spec == "all":
        return list(SIGNALS), {"rule": "all"}
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SIGNALS))
    if unknown or not names:
        raise DataError(f"--signals: unknown signals {unknown or spec!r}; known: "
                        f"{', '.join(SIGNALS)} (or 'agree', 'all')")
    return names, {"rule": "named"}


def collect_written(docs_dir: Path, dialogues: Path, cache: dict[tuple[str, str], Any],
                    fh: Any) -> list[dict[str, Any]]:
    """Signals of every turn of a hand-written set, run over its own corpus with the pipeline's
    defaults: answerable turns (kind "written") and unanswerable ones ("written_unanswerable")."""
    from tqdm.auto import tqdm

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.corpus import load_corpus
    from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
    from re3g.evaluate.runner import ensure_index
    from re3g.evaluate.unanswerable import Variant, variant_signals
    from re3g.pipeline import Re3G

    docs = load_corpus(docs_dir)
    examples = examples_from_dialogues(load_dialogues(dialogues), docs, str(dialogues),
                                       unanswerable=True)
    index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
    bot = Re3G(Config(index=str(index), docs=str(docs_dir), learned=False), documents=docs)
    rows = []
    for ex in tqdm(examples, desc=f"answerability runs ({docs_dir})", unit="turn"):
        kind = "written" if ex.references else "written_unanswerable"
        key = (f"{docs_dir}:{ex.id}", kind)
        if key in cache:
            rows.append(cache[key])
            continue
        _, hits = bot.candidates(ex.history)
        rec = variant_signals(bot, ex, Variant(kind, hits))
        rec.update(id=key[0], dial_id=f"{docs_dir}:{ex.dial_id}", kind=kind,
                   answerable=bool(ex.references), source="written")
        rows.append(rec)
        fh.write(json.dumps(rec) + "\n")
        fh.flush()
    return rows


def collect(args: argparse.Namespace) -> tuple[list[dict[str, Any]], Any]:
    """Signals of the sampled train turns and their synthetic variants (cached), and the
    pipeline that produced them."""
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import load_documents, load_examples
    from re3g.evaluate.unanswerable import turn_variants, variant_signals
    from re3g.pipeline import Re3G

    docs = load_documents(args.docs)
    examples = load_examples(args.train, docs)
    dial_ids = sorted({e.dial_id for e in examples})
    random.Random(args.seed).shuffle(dial_ids)
    chosen = set(dial_ids[: args.dialogues])
    examples = [e for e in examples if e.dial_id in chosen]
    done: dict[tuple[str, str], dict[str, Any]] = {}
    if args.cache.is_file():
        for line in args.cache.read_text().splitlines():
            try:
                rec = json.loads(line)
                if set(rec["signals"]) != set(SIGNALS):
                    continue  # written before the decision's signals changed
                done[(rec["id"], rec["kind"])] = rec
            except (ValueError, KeyError):
                continue  # a torn last line
    bot = Re3G(Config(index=str(args.index), docs=str(args.docs), learned=False),
               documents=docs)
    rows: list[dict[str, Any]] = []
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    with args.cache.open("a", encoding="utf-8") as fh:
        for ex in tqdm(examples, desc="answerability runs", unit="turn"):
            if (ex.id, "answerable") in done:
                rows += [r for (i, _), r in done.items() if i == ex.id]
                continue
            for variant in turn_variants(bot, ex, docs):
                rec = variant_signals(bot, ex, variant)
                rows.append(rec)
                fh.write(json.dumps(rec) + "\n")
            fh.flush()
        for docs_dir, dialogues in common.written_sets(args):
            rows += collect_written(docs_dir, dialogues, done, fh)
    return rows, bot


def fit(rows: list[dict[str, Any]], folds: int, answer_rate: float, seed: int,
        written_weight: float = 1.0, signals: Sequence[str] = SIGNALS
        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model, report): a logistic regression over ``signals``, its threshold and its
    out-of-fold metrics (folds by dialogue). Rows of a hand-written set (``source`` "written")
    weigh ``written_weight`` times the doc2dial rows in all; the threshold is the highest
    probability at which the answerable turns of each source are still answered
    ``answer_rate`` of the time on average."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    x = np.array([[r["signals"][n] for n in signals] for r in rows], dtype=float)
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    if y.all() or not y.any():
        from re3g.errors import DataError

        raise DataError("the decision needs answerable and unanswerable turns; got only "
                        + ("answerable" if y.any() else "unanswerable") + " ones")
    groups = np.array([r["dial_id"] for r in rows])
    source = np.array([r.get("source", "doc2dial") for r in rows])
    weight = np.ones(len(rows))
    written = source == "written"
    if written.any() and (~written).any():
        weight[written] = written_weight * (~written).sum() / written.sum()

    def model() -> Any:
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000,
                                  random_state=seed)

    oof = np.zeros(len(rows))
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        scaler = StandardScaler().fit(x[tr])
        clf = model().fit(scaler.transform(x[tr]), y[tr], sample_weight=weight[tr])
        oof[te] = clf.predict_proba(scaler.transform(x[te]))[:, 1]
    sources = sorted(set(source.tolist()))

    def answered(t: float) -> float:
        return float(np.mean([(oof[(y == 1) & (source == s)] >= t).mean() for s in sources
                              if ((y == 1) & (source == s)).any()]))

    cands = np.unique(oof[y == 1])

    def threshold_for(rate: float) -> float:
        return float(max((t for t in cands if answered(t) >= rate), default=cands[0]))

    threshold = threshold_for(answer_rate)
    kinds = sorted({r["kind"] for r in rows})
    by_kind = {k: [i for i, r in enumerate(rows) if r["kind"] == k] for k in kinds}
    report = {
        "rows": len(rows), "turns": int(y.sum()), "dialogues": len(set(groups.tolist())),
        "folds": folds, "AUROC": round(float(roc_auc_score(y, oof)), 4),
        "brier": round(float(brier_score_loss(y, oof)), 4),
        "answered": round(float((oof[y == 1] >= threshold).mean()), 4),
        "refused_unanswerable": round(float((oof[y == 0] < threshold).mean()), 4),
        "refused_by_kind": {k: round(float((oof[idx] < threshold).mean()), 4)
                            for k, idx in by_kind.items() if k not in ("answerable", "written")},
    }
    # what other operating points would give (``[answer] min_confidence`` sets one)
    report["tradeoff"] = {
        f"answer_rate_{rate}": {
            "min_confidence": round(t, 4),
            **{s: {"answered": round(float((oof[(y == 1) & (source == s)] >= t).mean()), 4),
                   "refused_unanswerable": round(float(
                       (oof[(y == 0) & (source == s)] < t).mean()), 4)}
               for s in sources if ((y == 0) & (source == s)).any()}}
        for rate in TRADEOFF_RATES for t in (threshold_for(rate),)}
    for s in sources:
        pos, neg = (y == 1) & (source == s), (y == 0) & (source == s)
        both = pos.any() and neg.any()
        report[f"by_source_{s}"] = {
            "rows": int((source == s).sum()),
            "answered": round(float((oof[pos] >= threshold).mean()), 4) if pos.any() else None,
            "refused_unanswerable": (round(float((oof[neg] < threshold).mean()), 4)
                                     if neg.any() else None),
            "AUROC": round(float(roc_auc_score(y[source == s], oof[source == s])), 4)
            if both else None}
    scaler = StandardScaler().fit(x)
    clf = model().fit(scaler.transform(x), y, sample_weight=weight)
    fitted = {"signals": list(signals), "mean": scaler.mean_.round(6).tolist(),
              "scale": scaler.scale_.round(6).tolist(),
              "coef": clf.coef_[0].round(6).tolist(),
              "intercept": round(float(clf.intercept_[0]), 6),
              "threshold": round(threshold, 4),
              "sure": round(max(threshold, threshold_for(SURE_RATE)), 4)}
    return fitted, report


def run(args: argparse.Namespace) -> int:
    from re3g.evaluate.report import write_atomic

    if not 0.5 <= args.answer_rate < 1.0:
        from re3g.errors import DataError

        raise DataError(f"--answer-rate must be in [0.5, 1), got {args.answer_rate}")
    t0 = time.time()
    written = common.written_sets(args)  # a bad --written fails now, not after the runs
    rows, bot = collect(args)
    names, why = chosen_signals(args.signals, rows)
    fitted, report = fit(rows, args.folds, args.answer_rate, args.seed, args.written_weight,
                         names)
    report["signals_chosen"] = why
    requires = {"reranker": Path(bot.reranker.path).name if bot.reranker else None,
                "cross": bot.cross_reranker is not None,
                "extractor": Path(bot.extractor.path).name if bot.extractor else None}
    # the ranking the signals came from (the decision is only as good as the match)
    ranking = {name: getattr(bot.config, name) for name in
               ("current_weight", "document_weight", "document_temperature",
                "document_margin")}
    ranking.update(bot.cascade())  # the cross-encoder step's depth and weight, as resolved
    manifest = {
        "kind": "answerability", "format": 1,
        "description": "logistic regression over the decision's signals: P(the documents "
                       "answer the turn); trained on train turns and synthetic unanswerable "
                       "versions of them (re3g.evaluate.unanswerable)",
        "command": f"{TRAIN_CMD} --dialogues {args.dialogues} --answer-rate {args.answer_rate}"
                   + "".join(f" --written {d} {f}" for d, f in written)
                   + (f" --written-weight {args.written_weight}" if written else "")
                   + f" --signals {args.signals}",
        "data": common.data_files([args.docs, args.train, *(f for _, f in written)]),
        **fitted, "requires": requires, "ranking": ranking,
        "metrics": {"train_out_of_fold": report},
        "training": {"seconds": round(time.time() - t0, 1), "seed": args.seed},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), **report, "threshold": fitted["threshold"],
                      "coef": dict(zip(names, fitted["coef"], strict=True))}, indent=2))
    return 0
