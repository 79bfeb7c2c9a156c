"""Learn the "not in the documents" decision from train turns and synthetic unanswerable ones.

    re3g train answerability [--dialogues 160] [--index indexes/doc2dial]
        [--signals all|agree|NAMES] [--off-topic data/dev/off_topic.json]

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

Since session 17 off-topic questions (``--off-topic FILE``, e.g. ``data/dev/off_topic.json``:
questions about nothing any corpus covers) are asked over doc2dial and every written corpus,
and a topic gate learnt from them (:func:`fit`, :data:`TOPIC_MISS`) refuses such turns whatever
the first regression says.

Since session 27 the written rows also give the model a second calibration, ``other``
(:func:`fit_other`): a regression and threshold fitted on them alone, which the pipeline uses
on every corpus but the one the models were trained on (the manifest's ``tuned_corpus``,
:meth:`re3g.decide.LearnedRule.for_corpus`). Session 26 measured why (docs/answerability.md):
the doc2dial-trained signals read differently over other documents, and one regression over
both sources fits neither well.

The model (a few numbers) goes to ``models/answerability/manifest.json``; the pipeline uses
it when ``[answer] learned`` is "auto" or true and it was trained with the same reranker,
cross-encoder and extractor. Runs are cached line by line (``--cache``), so an interrupted
run resumes; each line carries a stamp of the models and index it was read with
(:func:`pipeline_stamp`), and lines of other models are not reused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.decide import SIGNALS, reader_settings
from re3g.logistic import block
from re3g.models import model_path
from re3g.rank.regime import OTHER_RANKING, other_ranking
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
TOPIC_MISS = (0.01, 0.02, 0.03, 0.05, 0.07)
"""The topic gate (``--off-topic``) stops a turn whose P(on topic) is below the value that a
share ``miss`` of the answerable train turns of every source fall under; ``miss`` is chosen
from these, out of fold on train: the one that refuses the most unanswerable turns (mean over
their kinds) while the threshold still answers ``--answer-rate`` of the answerable ones.
Session 17: the regression over the signals that separate on every source answered all 60
questions of bench/abstention.py's off-topic list over doc2dial, the sample and the development
corpus ("What is the capital of France?" 0.45 against a threshold of 0.32), and the shipped
one 29 of them."""
DEFAULT_CALIBRATIONS = 2
"""``--calibrations``: with written sets, two calibrations (doc2dial's turns, and turns over
other documents, :func:`fit_other`) rather than one regression over both. Session 27, train
out of fold, both development sets written, the checker trained with ``--blanked-nulls 1``:
doc2dial's on-topic turns AUROC 0.723 -> 0.728 and refused 17.3 -> 28.2% at 98.6 -> 95.0%
answered (one threshold had averaged the two sources), the written turns 0.715 -> 0.758 and
17.1 -> 17.8% at 91.6 -> 95.0% (docs/answerability.md, Session 27)."""
OFF_TOPIC = "off_topic"
"""The kind of the rows made from ``--off-topic`` questions."""
OTHER_THRESHOLDS = ("rate", "right-rate")
"""``--other-threshold``: how the other-documents calibration (:func:`fit_other`) sets its
threshold. ``rate``: the probability that keeps ``--answer-rate`` of the written sets'
answerable turns answered (out of fold), as for doc2dial; ``right-rate``: the one that keeps
``--answer-rate`` of the answerable turns whose pick is right answered (the pick's top
evidence on a reference span, recorded with each row): an answerable turn whose pick is wrong
gains nothing from being answered."""
DEFAULT_OTHER_THRESHOLD = "rate"
DEFAULT_OTHER_SIGNALS = "same"
"""``--other-signals``: the signals the other-documents calibration reads: ``same`` (those
``--signals`` chose for both), ``all``, or a comma-separated list."""
HISTORIES = ("written", "own")
"""``--histories``: what a written turn's row is read after. ``written``: the dialogue's
written agent turns (as ``re3g evaluate`` reads them). ``own``: the dialogue's earlier
questions and the bot's own replies to them, a refused turn's with an empty reply, as the chat
holds them (:mod:`re3g.evaluate.replay`); the replies come from the pipeline with the project's
current decision, so such rows are stamped with that decision too."""
DEFAULT_HISTORIES = "written"
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
    parser.add_argument("--calibrations", type=int, choices=(1, 2), default=DEFAULT_CALIBRATIONS,
                        help="2 (default): the written sets' turns train a calibration of "
                             "their own for documents no model here was trained on, the "
                             "doc2dial turns the other; 1: one regression for both, the "
                             "written rows weighing --written-weight")
    parser.add_argument("--other-threshold", choices=OTHER_THRESHOLDS,
                        default=DEFAULT_OTHER_THRESHOLD,
                        help="with --calibrations 2: the other calibration's threshold keeps "
                             "--answer-rate of the written answerable turns answered (rate), or "
                             "of those whose pick is right (right-rate); default "
                             f"{DEFAULT_OTHER_THRESHOLD}")
    parser.add_argument("--other-signals", default=DEFAULT_OTHER_SIGNALS,
                        help="with --calibrations 2: the signals the other calibration reads: "
                             '"same" (those --signals chose), "all", or a comma-separated list '
                             f"(default {DEFAULT_OTHER_SIGNALS})")
    parser.add_argument("--signals", default="all",
                        help='which signals the model reads: "all" (default), "agree" (those '
                             'that separate on every source alone, see AGREE_AUROC), or a '
                             f"comma-separated list of {', '.join(SIGNALS)}")
    parser.add_argument("--histories", choices=HISTORIES, default=DEFAULT_HISTORIES,
                        help="the history each written turn's row is read after: the "
                             "dialogue's written agent turns (written, default) or the bot's "
                             "own earlier replies as the chat holds them (own; the replies "
                             "come from the project's current decision)")
    parser.add_argument("--off-topic", type=Path, default=None,
                        help="JSON file {\"questions\": [...]} of questions no corpus covers; "
                             "each is run over doc2dial and every written corpus, and a topic "
                             "gate learnt from them refuses such turns (e.g. "
                             "data/dev/off_topic.json)")
    parser.add_argument("--checker", default=None,
                        help="the second reader whose null the decision reads (signal "
                             "check_null; default models/checker when it exists, \"off\": none)")
    parser.add_argument("--extractor", type=Path, default=None,
                        help="the reader whose signals the decision is fitted on (default the "
                             "project's, models/extractor-qa): a candidate's reader folder, so "
                             "the decision is refitted under the settings it would ship with")
    parser.add_argument("--out", type=Path, default=model_path("answerability"))


def load_off_topic(path: Path) -> list[str]:
    """The questions of an ``--off-topic`` file (DataError naming the file and key when it is
    not ``{"questions": ["...", ...]}`` with at least one question)."""
    from re3g.errors import DataError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable JSON file ({exc})") from exc
    qs = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(qs, list) or not qs:
        raise DataError(f'{path}: key "questions" must be a non-empty list of strings')
    for i, q in enumerate(qs):
        if not isinstance(q, str) or not q.strip():
            raise DataError(f'{path}: "questions"[{i}] must be a non-empty string, got {q!r}')
    return [q.strip() for q in qs]


def topic_floor(prob: Any, rows: Sequence[dict[str, Any]], miss: float) -> float:
    """The lowest of the per-source ``miss`` quantiles of ``prob`` (P(on topic) per row) over
    the answerable ``rows``: no source loses more than ``miss`` of its answerable turns.

    >>> import numpy as np
    >>> rows = [{"answerable": True, "source": s} for s in ("doc2dial", "written")
    ...         for _ in range(100)]
    >>> topic_floor(np.r_[np.linspace(0.5, 1, 100), np.linspace(0.2, 1, 100)], rows, miss=0.05)
    0.24
    """
    import numpy as np

    src = np.array([r.get("source", "doc2dial") for r in rows])
    pos = np.array([bool(r["answerable"]) for r in rows])
    return round(min(float(np.quantile(prob[pos & (src == s)], miss))
                     for s in sorted(set(src[pos].tolist()))), 4)


def topic_reach(prob: Any, floor: float) -> Any:
    """Per row, :meth:`re3g.decide.LearnedRule.on_topic` from P(on topic) and the floor."""
    import numpy as np

    return np.where(prob >= floor, 1.0, prob / floor)


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


def chosen_signals(spec: str, rows: list[dict[str, Any]], flag: str = "--signals",
                   also: str = "'agree', 'all'") -> tuple[list[str], dict[str, Any]]:
    """The signals ``--signals`` (or ``flag``, whose other values are ``also``) names (see
    :func:`agreeing_signals`) and why."""
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
        raise DataError(f"{flag}: unknown signals {unknown or spec!r}; known: "
                        f"{', '.join(SIGNALS)} (or {also})")
    return names, {"rule": "named"}


def collect_off_topic(bot: Any, corpus: str, source: str, questions: Sequence[str],
                      cache: dict[tuple[str, str], Any], fh: Any) -> list[dict[str, Any]]:
    """Signals of every off-topic question asked as a first turn over ``bot``'s corpus (kind
    :data:`OFF_TOPIC`, never answerable). Question ``i`` is one group (``dial_id``
    ``off_topic:i``) over every corpus, so the folds keep it out of its own training."""
    from tqdm.auto import tqdm

    from re3g.evaluate.unanswerable import Variant, variant_signals
    from re3g.types import Example, Turn

    rows = []
    for i, question in enumerate(tqdm(questions, desc=f"off-topic runs ({corpus})",
                                      unit="question")):
        key = (f"{OFF_TOPIC}:{corpus}:{i}:{question}", OFF_TOPIC)
        if key in cache:
            rows.append(cache[key])
            continue
        ex = Example(key[0], f"{OFF_TOPIC}:{i}", OFF_TOPIC, [Turn(1, "user", question)], [], None)
        _, hits = bot.candidates(ex.history)
        rec = variant_signals(bot, ex, Variant(OFF_TOPIC, hits), every=True)
        rec.update(answerable=False, source=source)
        rows.append(rec)
        fh.write(rec)
    return rows


def collect_written(docs_dir: Path, dialogues: Path, cache: dict[tuple[str, str], Any],
                    fh: Any, off_topic: Sequence[str] = (), checker: str | None = None,
                    extractor: Path | None = None, histories: str = DEFAULT_HISTORIES
                    ) -> list[dict[str, Any]]:
    """Signals of every turn of a hand-written set, run over its own corpus with the pipeline's
    defaults: answerable turns (kind "written") and unanswerable ones ("written_unanswerable");
    with ``off_topic`` questions, those too (:func:`collect_off_topic`). ``histories``
    (:data:`HISTORIES`) says what each turn is read after; an ``own`` row's id ends in
    ``#own`` and keeps the reply it gave (``kept_reply``), which the dialogue's next turns read."""
    from dataclasses import replace

    from tqdm.auto import tqdm

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.query import normalize_history
    from re3g.evaluate.runner import ensure_index
    from re3g.evaluate.unanswerable import Variant, variant_signals
    from re3g.pipeline import Re3G
    from re3g.train.common import load_written

    if histories not in HISTORIES:
        raise ValueError(f"histories must be one of {HISTORIES}, got {histories!r}")
    docs, _, examples = load_written(docs_dir, dialogues)
    index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
    settings = {"index": str(index), "docs": str(docs_dir), "checker": checker,
                "extractor": str(extractor) if extractor else None}
    own = histories == "own"
    # with own histories the deployed pipeline gives the reply and the signals in one pass: the
    # signals its decision reads equal a pipeline's without the learned decision (session 59:
    # every turn of data/dev2 and data/train3; tests/test_answerability.py), and those it leaves
    # out are read as well (every=True). The rows' confidence and grounded are then the learned
    # decision's (after its checks), which fitting does not read.
    bot = Re3G(Config(**settings) if own else Config(learned=False, **settings), documents=docs)
    said: dict[str, list[str]] = {}
    rows = []
    for ex in tqdm(examples, desc=f"answerability runs ({docs_dir}, {histories} histories)",
                   unit="turn"):
        kind = "written" if ex.references else "written_unanswerable"
        key = (f"{docs_dir}:{ex.id}" + ("#own" if own else ""), kind)
        if own:  # the turn as the chat holds it: earlier questions and the bot's own replies
            earlier = said.setdefault(ex.dial_id, [])
            question = ex.history[-1].utterance or ""
            ex = replace(ex, history=normalize_history([*earlier, question])[0])
        if key in cache:
            rec = cache[key]
        else:
            _, hits = bot.candidates(ex.history)
            rec = variant_signals(bot, ex, Variant(kind, hits), reply=own, every=True)
            rec.update(id=key[0], dial_id=f"{docs_dir}:{ex.dial_id}", kind=kind,
                       answerable=bool(ex.references), source="written", histories=histories)
            fh.write(rec)
        rows.append(rec)
        if own:
            earlier += [question, rec["kept_reply"]]
    return rows + collect_off_topic(bot, str(docs_dir), "written", off_topic, cache, fh)


def other_cascade(bot: Any) -> dict[str, Any]:
    """The cross-encoder step's depth and weight on a corpus other than ``bot``'s tuned one
    (:func:`re3g.rank.load_cross` picks the cross-encoder for other documents there when it
    is trained); empty without a cross-encoder."""
    from re3g.rank import cross_settings, load_cross, other_cross

    if bot.cross_reranker is None:
        return {}
    if bot.config.cross_model is not None or other_cross(None, "other") is None:
        return bot.cascade()  # other corpora get the same cross-encoder (no second load)
    cross = load_cross(bot.config.cross, bot.config.cross_model, None, "other")
    depth, weight = cross_settings(cross, bot.config.cross_depth, bot.config.cross_weight)
    return {"cross_depth": depth, "cross_weight": weight}


def pipeline_stamp(index: Path, checker: str | None, skip: Sequence[str] = (),
                   extractor: Path | None = None) -> str:
    """What a cached signal row depends on besides its turn: the files and manifests of every
    model folder under ``models/`` but the decision's own and ``skip`` (folders the row's
    pipeline never loads: a doc2dial row does not depend on the cross-encoder for other
    documents), the ranking settings for other documents
    (:data:`re3g.rank.regime.OTHER_RANKING`, unless ``skip`` names it), the checker named, the
    reader named instead of the project's (its files and manifest) and the index's files.

    >>> len(pipeline_stamp(Path("no-such-index"), None))
    16
    """

    from re3g.extract.extractor import NAMED_MODELS, beside
    from re3g.train.select_reader import files_stamp

    root = model_path("answerability").parent
    folders = sorted(f for f in root.iterdir() if f.is_dir()
                     and f.name not in ("answerability", *skip)) if root.is_dir() else []
    if extractor is not None:
        # the candidate reader, and the judge or helper it names beside itself (a model there
        # retrained in place must not be served from old rows)
        folders.append(Path(extractor))
        mpath = Path(extractor) / "manifest.json"
        settings = json.loads(mpath.read_text()).get("settings", {}) if mpath.is_file() else {}
        folders += [beside(extractor, str(settings[k])) for k in NAMED_MODELS
                    if settings.get(k)]
    seen = [[f.name, files_stamp(f), (f / "manifest.json").read_text()
             if (f / "manifest.json").is_file() else ""] for f in folders]
    ranking = root / OTHER_RANKING  # the ranking settings for other documents, when chosen
    if OTHER_RANKING not in skip and ranking.is_file():
        seen.append([OTHER_RANKING, ranking.read_text()])
    named = [] if extractor is None else [str(extractor)]  # older caches' stamps stay valid
    return hashlib.sha1(json.dumps([seen, str(checker), str(index), files_stamp(index), *named],
                                   default=str).encode()).hexdigest()[:16]


class CacheFile:
    """The open cache (``--cache``): each record written is stamped (:func:`pipeline_stamp`)
    and flushed at once."""

    def __init__(self, fh: Any, stamp: str) -> None:
        self.fh, self.stamp = fh, stamp

    def write(self, rec: dict[str, Any]) -> None:
        self.fh.write(json.dumps({**rec, "stamp": self.stamp}) + "\n")
        self.fh.flush()


def collect(args: argparse.Namespace) -> tuple[list[dict[str, Any]], Any]:
    """Signals of the sampled train turns and their synthetic variants (cached), and the
    pipeline that produced them."""
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import load_documents, load_examples
    from re3g.evaluate.unanswerable import turn_variants, variant_signals
    from re3g.pipeline import Re3G
    from re3g.rank import OTHER_CROSS, other_cross

    docs = load_documents(args.docs)
    examples = load_examples(args.train, docs)
    dial_ids = sorted({e.dial_id for e in examples})
    random.Random(args.seed).shuffle(dial_ids)
    chosen = set(dial_ids[: args.dialogues])
    examples = [e for e in examples if e.dial_id in chosen]
    done: dict[tuple[str, str], dict[str, Any]] = {}
    bot = Re3G(Config(index=str(args.index), docs=str(args.docs), learned=False,
                      checker=args.checker,
                      extractor=str(args.extractor) if args.extractor else None),
               documents=docs)
    # the doc2dial rows do not read the cross-encoder for other documents (unless that model
    # says doc2dial is another corpus to it); written rows do
    skip = (OTHER_CROSS,) if other_cross(bot.corpus_fingerprint,
                                         bot.config.calibration) is None else ()
    if bot.ranking_config == bot.config:  # nor the ranking settings for other documents
        skip = (*skip, OTHER_RANKING)
    stamps = {"doc2dial": pipeline_stamp(Path(args.index), args.checker, skip=skip,
                                         extractor=args.extractor),
              "written": pipeline_stamp(Path(args.index), args.checker,
                                        extractor=args.extractor)}
    # an own-history row also depends on the decision whose replies its history holds
    decision = model_path("answerability") / "manifest.json"
    stamps["own"] = hashlib.sha1((stamps["written"] + (decision.read_text(encoding="utf-8")
                                  if decision.is_file() else "")).encode()).hexdigest()[:16]
    if args.cache.is_file():
        for line in args.cache.read_text().splitlines():
            try:
                rec = json.loads(line)
                source = rec.get("source")
                # an off-topic question is a first turn: either kind of written run may cache it
                ok = ({stamps["written"], stamps["own"]} if source == "written"
                      and rec.get("kind") == OFF_TOPIC else
                      {stamps["own" if rec.get("histories") == "own" else
                              "written" if source == "written" else "doc2dial"]})
                if (set(rec["signals"]) != set(SIGNALS) or "pick_right" not in rec
                        or rec.pop("stamp", None) not in ok):
                    continue  # written with other models, or before the signals (or the
                    # pick's rightness) were recorded
                done[(rec["id"], rec["kind"])] = rec
            except (ValueError, KeyError):
                continue  # a torn last line
    rows: list[dict[str, Any]] = []
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    with args.cache.open("a", encoding="utf-8") as raw:
        fh = CacheFile(raw, stamps["doc2dial"])
        for ex in tqdm(examples, desc="answerability runs", unit="turn"):
            if (ex.id, "answerable") in done:
                rows += [r for (i, _), r in done.items() if i == ex.id]
                continue
            for variant in turn_variants(bot, ex, docs):
                rec = variant_signals(bot, ex, variant)
                rows.append(rec)
                fh.write(rec)
        questions = load_off_topic(args.off_topic) if args.off_topic else []
        rows += collect_off_topic(bot, "doc2dial", "doc2dial", questions, done, fh)
        written = CacheFile(raw, stamps["own" if args.histories == "own" else "written"])
        for docs_dir, dialogues in common.written_sets(args):
            rows += collect_written(docs_dir, dialogues, done, written, questions, args.checker,
                                    args.extractor, args.histories)
    return rows, bot


def fit(rows: list[dict[str, Any]], folds: int, answer_rate: float, seed: int,
        written_weight: float = 1.0, signals: Sequence[str] = SIGNALS,
        topic_miss: float = TOPIC_MISS[0], calibrations: int = 1,
        other_threshold: str = DEFAULT_OTHER_THRESHOLD,
        other_signals: Sequence[str] | None = None
        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model, report): a logistic regression over ``signals``, its threshold and its
    out-of-fold metrics (folds by dialogue). Rows of a hand-written set (``source`` "written")
    weigh ``written_weight`` times the doc2dial rows in all; the threshold is the highest
    probability at which the answerable turns of each source are still answered
    ``answer_rate`` of the time on average.

    With ``calibrations`` 2 and written rows, they train a calibration of their own instead
    (the model's ``other``, :func:`fit_other`), and the first regression and its threshold
    are the doc2dial rows' alone (``written_weight`` is then unused); the report's
    ``by_source_written`` still scores the first one on them, for comparison;
    ``other_threshold`` (:data:`OTHER_THRESHOLDS`) says how its threshold is set and
    ``other_signals`` what it reads (None: ``signals``).

    With off-topic rows (kind :data:`OFF_TOPIC`) a topic gate is learnt too (the model's
    ``topic``): a regression of answerable against off-topic rows over the signals that
    separate them on every source (:func:`agreeing_signals`), each source and class weighing
    the same, with the floor of :func:`topic_floor` at ``topic_miss``. A row it stops is
    refused and its confidence capped as :meth:`re3g.decide.LearnedRule.decide` caps it; the
    off-topic rows do not train the first regression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    if other_threshold not in OTHER_THRESHOLDS:
        raise ValueError(f"other_threshold must be one of {OTHER_THRESHOLDS}, got "
                         f"{other_threshold!r}")
    x = np.array([[r["signals"][n] for n in signals] for r in rows], dtype=float)
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    off = np.array([r["kind"] == OFF_TOPIC for r in rows])
    if y.all() or not y[~off].any() or y[~off].all():
        from re3g.errors import DataError

        raise DataError("the decision needs answerable and unanswerable turns; got only "
                        + ("answerable" if y.any() else "unanswerable") + " ones")
    groups = np.array([r["dial_id"] for r in rows])
    source = np.array([r.get("source", "doc2dial") for r in rows])
    weight = np.ones(len(rows))
    written = (source == "written") & ~off
    # two calibrations need written rows of both kinds (and doc2dial rows for the first)
    separate = (calibrations == 2 and 0 < int(y[written].sum()) < int(written.sum())
                and bool((~written & ~off).any()))
    if written.any() and (~written & ~off).any():
        weight[written] = written_weight * (~written & ~off).sum() / written.sum()
    first = ~off & ~written if separate else ~off  # the rows the first regression learns
    gate = off.any()
    topic_names: list[str] = []
    if gate:
        topic_names = agreeing_signals([r for r in rows if r["answerable"] or
                                        r["kind"] == OFF_TOPIC])[0]
        xt = np.array([[r["signals"][n] for n in topic_names] for r in rows], dtype=float)
        topic_rows = (y == 1) | off
        tweight = np.zeros(len(rows))  # each (source, class) weighs the same
        for s in set(source.tolist()):
            for c in (0, 1):
                cell = topic_rows & (source == s) & (y == c)
                tweight[cell] = 1.0 / max(1, cell.sum())

    def model() -> Any:
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000,
                                  random_state=seed)

    def topic_model(idx: Any) -> tuple[Any, Any, float]:
        """(scaler, regression, floor) of the topic gate fitted on rows ``idx``."""
        sc = StandardScaler().fit(xt[idx])
        clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(
            sc.transform(xt[idx]), y[idx], sample_weight=tweight[idx] / tweight[idx].mean())
        prob = clf.predict_proba(sc.transform(xt[idx]))[:, 1]
        return sc, clf, topic_floor(prob, [rows[i] for i in idx], topic_miss)

    oof = np.zeros(len(rows))
    reach = np.ones(len(rows))  # out of fold: under the gate of the other folds
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        main = tr[first[tr]]
        scaler = StandardScaler().fit(x[main])
        clf = model().fit(scaler.transform(x[main]), y[main], sample_weight=weight[main])
        oof[te] = clf.predict_proba(scaler.transform(x[te]))[:, 1]
        if gate:
            sc, tclf, floor = topic_model(tr[topic_rows[tr]])
            reach[te] = topic_reach(tclf.predict_proba(sc.transform(xt[te]))[:, 1], floor)
    gated = reach < 1.0
    raw = oof.copy()
    oof = np.where(gated, 0.0, oof)  # refused at any threshold while choosing it
    sources = sorted(set(source.tolist()) - ({"written"} if separate else set()))

    def answered(t: float) -> float:  # a row the gate stops is refused at any threshold
        return float(np.mean([((oof >= t) & ~gated)[(y == 1) & (source == s)].mean()
                              for s in sources if ((y == 1) & (source == s)).any()]))

    cands = np.unique(oof[y == 1])

    def threshold_for(rate: float) -> float:
        return float(max((t for t in cands if answered(t) >= rate), default=cands[0]))

    threshold = threshold_for(answer_rate)
    if answered(threshold) < answer_rate:
        from re3g.errors import DataError

        raise DataError(f"no threshold answers {answer_rate:.0%} of the answerable turns (the "
                        f"topic gate at miss {topic_miss} stops too many)")
    # the confidence the pipeline reports: a gated row keeps min(p, threshold x reach)
    oof = np.where(gated, np.minimum(raw, threshold * reach), raw)
    refused = (oof < threshold) | gated
    final = oof  # each row's probability under the calibration that decides it
    other: tuple[dict[str, Any], dict[str, Any]] | None = None
    if separate:
        mine = source == "written"  # its turns and the off-topic questions over its corpora
        right = np.array([bool(r.get("pick_right")) for r in rows])
        names = list(other_signals or signals)
        other_fit, other_report, other_p = fit_other(
            np.array([[r["signals"][n] for n in names] for r in rows], dtype=float), y, groups,
            written, reach, folds, answer_rate, seed, names, off & mine,
            right if other_threshold == "right-rate" else None)
        kept = other_report["answered" if other_threshold == "rate" else "right_kept"]
        if kept < answer_rate:
            from re3g.errors import DataError

            raise DataError(f"no threshold answers {answer_rate:.0%} of the written sets' "
                            "answerable turns" + (" with a right pick" if other_threshold !=
                                                  "rate" else "")
                            + f" (the topic gate at miss {topic_miss} stops too many)")
        refused = np.where(mine, (other_p < other_fit["threshold"]) | gated, refused)
        final = np.where(mine, other_p, oof)
        other = other_fit, other_report
    kinds = sorted({r["kind"] for r in rows})
    by_kind = {k: [i for i, r in enumerate(rows) if r["kind"] == k] for k in kinds}
    report = {
        "rows": len(rows), "turns": int(y.sum()), "dialogues": len(set(groups.tolist())),
        "folds": folds, "AUROC": round(float(roc_auc_score(y, final)), 4),
        "brier": round(float(brier_score_loss(y, final)), 4),
        "stopped_by_topic_gate": {"answerable": round(float(gated[y == 1].mean()), 4),
                                  "unanswerable": round(float(gated[(y == 0) & ~off].mean()), 4),
                                  OFF_TOPIC: round(float(gated[off].mean()), 4) if gate
                                  else None},
        "answered": round(float((~refused[y == 1]).mean()), 4),
        "refused_unanswerable": round(float(refused[y == 0].mean()), 4),
        "refused_by_kind": {k: round(float(refused[idx].mean()), 4)
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
    for s in sorted(set(source.tolist())):
        pos, neg = (y == 1) & (source == s), (y == 0) & (source == s)
        turns = (source == s) & ~off  # without the off-topic questions
        both = pos.any() and neg.any()
        report[f"by_source_{s}"] = {
            "rows": int((source == s).sum()),
            "answered": round(float((oof[pos] >= threshold).mean()), 4) if pos.any() else None,
            "refused_unanswerable": (round(float((oof[neg] < threshold).mean()), 4)
                                     if neg.any() else None),
            "AUROC": round(float(roc_auc_score(y[source == s], oof[source == s])), 4)
            if both else None,
            "AUROC_on_topic": round(float(roc_auc_score(y[turns], oof[turns])), 4)
            if 0 < y[turns].sum() < turns.sum() else None}
    scaler = StandardScaler().fit(x[first])
    clf = model().fit(scaler.transform(x[first]), y[first], sample_weight=weight[first])
    fitted = {**block(signals, scaler, clf), "threshold": round(threshold, 4),
              "sure": round(max(threshold, threshold_for(SURE_RATE)), 4)}
    if gate:
        idx = np.flatnonzero(topic_rows)
        sc, tclf, floor = topic_model(idx)
        fitted["topic"] = {**block(topic_names, sc, tclf), "floor": floor,
                           "miss": topic_miss}
    if other is not None:
        fitted["other"], report["other"] = other
    return fitted, report


def fit_other(x: Any, y: Any, groups: Any, written: Any, reach: Any, folds: int,
              answer_rate: float, seed: int, signals: Sequence[str], written_off: Any,
              right: Any = None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(block, report, probabilities) of the decision's "other" calibration
    (:meth:`re3g.decide.LearnedRule.for_corpus`): a logistic regression over ``signals``
    fitted on the written rows alone (``written``: answerable turns and real unanswerable
    ones over documents no model here was trained on), its threshold the out-of-fold
    probability that keeps ``answer_rate`` of their answerable turns answered, a row the
    topic gate stops (``reach`` < 1, out of fold) counting as refused. ``written_off``: the
    off-topic rows over the written corpora, never trained on: the model fitted on all
    written rows scores them. The probabilities: out of fold for the written rows, that
    model's for ``written_off``, 0 where the gate stops a row, NaN elsewhere. With ``right``
    (per row: an answerable turn's top evidence is on a reference span) the threshold keeps
    ``answer_rate`` of the answerable turns with a right pick answered instead, and the report
    gains ``right`` (the share of answerable turns answered right) and ``right_kept`` (of
    those with a right pick, the share answered). ``sure`` is read off all answerable turns
    either way.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.ones(60), np.zeros(60)].astype(int)
    >>> x = np.c_[y + rng.normal(0, 0.8, 120)]
    >>> written = np.ones(120, bool)
    >>> fitted, report, p = fit_other(x, y, np.arange(120) // 3, written, np.ones(120), 5,
    ...                               0.9, 0, ["cross"], np.zeros(120, bool))
    >>> sorted(fitted), report["answered"] >= 0.9, report["AUROC"] > 0.7
    (['coef', 'intercept', 'mean', 'scale', 'signals', 'sure', 'threshold'], True, True)
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    def model(idx: Any) -> tuple[Any, Any]:
        sc = StandardScaler().fit(x[idx])
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000,
                                 random_state=seed).fit(sc.transform(x[idx]), y[idx])
        return sc, clf

    from re3g.errors import DataError

    rows = np.flatnonzero(written)
    oof = np.full(len(y), np.nan)
    splits = min(folds, len(set(groups[rows].tolist())))
    if splits < 2:
        raise DataError("the other-documents calibration needs written turns from at least two "
                        "dialogues (out-of-fold threshold); add a written set or use "
                        "--calibrations 1")
    for tr, te in GroupKFold(n_splits=splits).split(rows, y[rows], groups[rows]):
        if len(set(y[rows[tr]].tolist())) < 2:
            raise DataError("a fold of the written turns holds only one kind (answerable or "
                            "not); the written sets need more unanswerable turns, or use "
                            "--calibrations 1")
        sc, clf = model(rows[tr])
        oof[rows[te]] = clf.predict_proba(sc.transform(x[rows[te]]))[:, 1]
    sc, clf = model(rows)
    if written_off.any():  # never trained on: the whole model scores them
        oof[written_off] = clf.predict_proba(sc.transform(x[written_off]))[:, 1]
    oof = np.where(reach < 1.0, 0.0, oof)  # stopped by the topic gate: refused at any level
    pos, neg = written & (y == 1), written & (y == 0)
    stopped = reach < 1.0  # refused whatever the threshold (0 included)
    if right is not None and not (pos & right).any():
        raise DataError("--other-threshold right-rate: no answerable written turn has a right "
                        "pick (the rows' pick_right); use --other-threshold rate")
    threshold = rate_threshold(oof[pos if right is None else pos & right], answer_rate)
    fitted = {**block(signals, sc, clf), "threshold": round(threshold, 4),
              "sure": round(max(threshold, rate_threshold(oof[pos], SURE_RATE)), 4)}
    report = {"rows": int(written.sum()), "folds": splits,
              "AUROC": round(float(roc_auc_score(y[written], oof[written])), 4),
              "answered": round(float(((oof >= threshold) & ~stopped)[pos].mean()), 4),
              "refused_unanswerable": round(float(((oof < threshold) | stopped)[neg].mean()), 4)}
    if right is not None:  # answered right, of the answerable turns / of the right picks
        report["right"] = round(float(((oof >= threshold) & ~stopped & right)[pos].mean()), 4)
        report["right_kept"] = round(float(((oof >= threshold) & ~stopped)[pos & right]
                                           .mean()), 4)
        report["threshold_rule"] = "right-rate"
    if written_off.any():
        report["refused_off_topic"] = round(float(((oof < threshold) | stopped)[written_off]
                                                  .mean()), 4)
    return fitted, report, oof


def rate_threshold(prob: Any, rate: float) -> float:
    """The highest of ``prob`` (probabilities of answerable turns) at which a share ``rate``
    of them is still answered (``prob >= threshold``).

    >>> rate_threshold([0.1, 0.2, 0.3, 0.4, 0.5], 0.8)
    0.2
    """
    import numpy as np

    p = np.sort(np.asarray(prob, dtype=float))[::-1]
    return float(p[max(0, int(np.ceil(rate * len(p))) - 1)])


def choose_topic_miss(rows: list[dict[str, Any]], args: argparse.Namespace,
                      names: Sequence[str], other: Sequence[str] | None = None
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`fit` at the :data:`TOPIC_MISS` that refuses the most unanswerable train turns out
    of fold (mean over their kinds) at ``--answer-rate``; just :func:`fit` without off-topic
    rows. The report gains ``topic_miss``: every candidate's refusals. ``other``: the other
    calibration's signals (None: ``names``)."""
    from re3g.errors import DataError

    def fit_at(miss: float) -> tuple[dict[str, Any], dict[str, Any]]:
        return fit(rows, args.folds, args.answer_rate, args.seed, args.written_weight, names,
                   miss, args.calibrations, args.other_threshold, other)

    if not any(r["kind"] == OFF_TOPIC for r in rows):
        return fit_at(TOPIC_MISS[0])
    best: tuple[float, dict[str, Any], dict[str, Any]] | None = None
    grid: dict[str, Any] = {}
    for miss in TOPIC_MISS:
        try:
            fitted, report = fit_at(miss)
        except DataError as exc:
            grid[str(miss)] = str(exc)
            continue
        score = sum(report["refused_by_kind"].values()) / len(report["refused_by_kind"])
        grid[str(miss)] = {"mean_refused": round(score, 4), **report["refused_by_kind"]}
        if best is None or score > best[0]:
            best = (score, fitted, report)
    if best is None:
        raise DataError(f"no topic gate miss of {TOPIC_MISS} leaves {args.answer_rate:.0%} of "
                        "the answerable turns answered")
    best[2]["topic_miss"] = {"chosen": best[1]["topic"]["miss"], "grid": grid}
    return best[1], best[2]


def other_names(args: argparse.Namespace, written: Sequence[Any]) -> list[str] | None:
    """The signals ``--other-signals`` names for the other calibration (None: "same", those
    ``--signals`` chose); checked before any run, like ``--written``. The two options for the
    other calibration need one: ``--calibrations 2`` and ``written`` sets.

    >>> ok = argparse.Namespace(calibrations=2, other_threshold="rate", other_signals="same")
    >>> other_names(ok, [("d", "f")]) is None
    True
    >>> other_names(argparse.Namespace(**{**vars(ok), "other_signals": "cross, sure"}), ["x"])
    ['cross', 'sure']
    """
    from re3g.errors import DataError

    if args.other_signals == "same":
        names = None
    elif args.other_signals == "agree":
        raise DataError("--other-signals: 'agree' is for --signals; use 'same', 'all' or a "
                        "comma-separated list")
    else:
        names = chosen_signals(args.other_signals, [], "--other-signals", "'same', 'all'")[0]
    if (names is not None or args.other_threshold != DEFAULT_OTHER_THRESHOLD) and (
            args.calibrations != 2 or not written):
        raise DataError("--other-signals and --other-threshold shape the calibration for other "
                        "documents, which needs --calibrations 2 and at least one --written set")
    return names


def run(args: argparse.Namespace) -> int:
    from re3g.errors import DataError
    from re3g.evaluate.report import write_atomic

    if not 0.5 <= args.answer_rate < 1.0:
        raise DataError(f"--answer-rate must be in [0.5, 1), got {args.answer_rate}")
    t0 = time.time()
    written = common.written_sets(args)  # a bad --written fails now, not after the runs
    if args.extractor is not None and not (args.extractor / "manifest.json").is_file():
        raise DataError(f"--extractor {args.extractor}: not a reader folder (no manifest.json)")
    if args.off_topic:
        load_off_topic(args.off_topic)  # and so does a bad --off-topic file
    other = other_names(args, written)  # and so do the other calibration's options
    rows, bot = collect(args)
    names, why = chosen_signals(args.signals, [r for r in rows if r["kind"] != OFF_TOPIC])
    fitted, report = choose_topic_miss(rows, args, names, other)
    report["signals_chosen"] = why
    requires = {"reranker": Path(bot.reranker.path).name if bot.reranker else None,
                "cross": bot.cross_reranker is not None,
                "extractor": Path(bot.extractor.path).name if bot.extractor else None,
                # a decision that does not read the checker does not make the pipeline load it
                "checker": Path(bot.checker.path).name if bot.checker and "check_null" in
                [*names, *fitted.get("topic", {}).get("signals", []),
                 *fitted.get("other", {}).get("signals", [])] else None}
    # the ranking the signals came from (the decision is only as good as the match)
    ranking = {name: getattr(bot.ranking_config, name) for name in
               ("current_weight", "document_weight", "document_temperature",
                "document_margin", "document_words", "current_sure", "current_sure_weight",
                "title_weight", "base_weight")}
    ranking.update(bot.cascade())  # the cross-encoder step's depth and weight, as resolved
    if "other" in fitted:  # other corpora may get their own ranking settings and cross-encoder
        fitted["other"]["ranking"] = {**ranking, **other_ranking(bot.config),
                                      **other_cascade(bot)}
    manifest = {
        "kind": "answerability", "format": 1,
        "description": "logistic regression over the decision's signals: P(the documents "
                       "answer the turn); trained on train turns and synthetic unanswerable "
                       "versions of them (re3g.evaluate.unanswerable)",
        "command": f"{TRAIN_CMD} --dialogues {args.dialogues} --answer-rate {args.answer_rate}"
                   + "".join(f" --written {d} {f}" for d, f in written)
                   + (f" --written-weight {args.written_weight}"
                      if written and args.calibrations == 1 else "")
                   + (f" --calibrations {args.calibrations}" if written else "")
                   + f" --signals {args.signals}"
                   + (f" --other-signals {','.join(other)}" if other else "")
                   + (f" --other-threshold {args.other_threshold}"
                      if args.other_threshold != DEFAULT_OTHER_THRESHOLD else "")
                   + (f" --off-topic {args.off_topic}" if args.off_topic else "")
                   + (f" --checker {args.checker}" if args.checker else "")
                   + (f" --extractor {args.extractor}" if args.extractor else ""),
        "data": common.data_files([args.docs, args.train, *(f for _, f in written)]),
        **fitted, "requires": requires, "ranking": ranking,
        # the reader settings its reader signals came from (re3g.decide.reader_settings): the
        # pipeline warns when the reader in use has others
        "reader": reader_settings(bot.extractor),
        # the corpus whose turns the "tuned" calibration is for; any other corpus gets the
        # "other" one when there is one (re3g.decide.LearnedRule.for_corpus)
        "tuned_corpus": bot.corpus_fingerprint,
        "metrics": {"train_out_of_fold": report},
        "training": {"seconds": round(time.time() - t0, 1), "seed": args.seed},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), **report, "threshold": fitted["threshold"],
                      "coef": dict(zip(names, fitted["coef"], strict=True))}, indent=2))
    return 0
