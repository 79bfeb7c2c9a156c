"""The answer-or-abstain decision: how sure the pipeline is that the documents answer the
turn (``Answer.confidence``), and whether it answers (``Answer.grounded``).

This is the one place that decides; the chat displays ``Answer.grounded``, it does not
re-decide. :func:`caution` also decides here whether an answer is shown as tentative.

- With the project's reranker, confidence is the reranker's relevance of the best passage
  (its own top score, before the document prior and the cross-encoder step), capped by the
  top evidence score for span scorers; a start/end reader's score says where the answer is
  among the passages it was shown, not whether they answer, so for readers the relevance
  alone decides (bench/abstention.py).
- Without a reranker, a trained extractor's score is capped by the dense cosine of the query
  and the best passage; the dense fallback's own score is that cosine already.

Below the threshold (``min_confidence``, default per extractor kind:
:data:`DEFAULT_MIN_CONFIDENCE`) the pipeline abstains.

    >>> rule = AbstainRule(None, "dense-fallback", reader=False)
    >>> rule.threshold
    0.3
    >>> rule.decide([], [], 0.0, lambda: 0.0)
    Decision(confidence=0.0, grounded=False, threshold=0.3)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from re3g.config import corpus_calibration
from re3g.errors import ModelError
from re3g.logistic import probability as standard_logistic
from re3g.rank.base import Ranker
from re3g.types import Evidence, Hit

DEFAULT_MIN_CONFIDENCE = {"dense-fallback": 0.30, "extractor": 0.20, "passage": 0.30}
# With the project's (tower) reranker, confidence is also capped by the best passage's reranked
# score (a cosine). Measured against the 0.20 threshold: doc2dial validation turns have top
# scores 0.226 / 0.304 / 0.553 at the 1st / 5th / 50th percentile; ten off-topic questions
# scored 0.04-0.18 (one, about car tyres on the DMV corpus, 0.27) on doc2dial and the sample.


LACKING_CAP = 0.999
"""A turn refused for lacking the kind of answer asked for, for asking about something no
document names, or for an unsure pick that repeats an earlier reply, keeps at most this share
of the threshold as its confidence (:meth:`Decision.lacking`, :meth:`Decision.unnamed`,
:meth:`Decision.repeats`)."""


@dataclass(frozen=True)
class Decision:
    """The confidence in [0, 1], whether the pipeline answers, and the threshold used.

    ``sure`` is the confidence from which an answer stands without a caution (the learned
    decision's ``sure`` level); an answer below it is ``tentative``: shown, with a warning
    that the documents may not say this.

    >>> Decision(0.3, True, 0.27, sure=0.36).tentative
    True
    """

    confidence: float
    grounded: bool
    threshold: float
    sure: float = field(default=0.0, repr=False)
    missing: str | None = field(default=None, repr=False)
    """The kind of answer the turn asks for that the top evidence does not hold, when the
    decision refused for it (:meth:`lacking`)."""
    absent: tuple[str, ...] = field(default=(), repr=False)
    """The words of what the turn asks is there or on offer that no document names (or not the
    document :attr:`absent_from`), when the decision refused for them (:meth:`unnamed`)."""
    absent_from: str = field(default="", repr=False)
    """Where :attr:`absent` is not named: the title of the document the reply would quote from,
    or "" for the whole corpus."""
    repeated: str = field(default="", repr=False)
    """Why the decision refused a pick that repeats an earlier reply (:meth:`repeats`):
    "unsure" (the decision was not sure of it) or "nothing new" (the sentence holds none of
    the words the turn newly asks); "" when it did not."""

    @property
    def tentative(self) -> bool:
        """Answered, but with a confidence below :attr:`sure`."""
        return self.grounded and self.confidence < self.sure

    def lacking(self, kind: str) -> Decision:
        """This decision refused because the reply would not hold the ``kind`` of answer the
        turn asks for (:func:`re3g.extract.answer_type.missing_kind`): the confidence is capped
        just below the threshold (as sure as the decision was, but not answered).

        >>> d = Decision(0.9, True, 0.3).lacking("money")
        >>> d, d.missing
        (Decision(confidence=0.2997, grounded=False, threshold=0.3), 'money')
        """
        return self._refused(missing=kind)

    def unnamed(self, words: tuple[str, ...], where: str = "") -> Decision:
        """This decision refused because the turn asks whether something is there or on offer
        and no document names it (``words``, :func:`re3g.extract.asked_thing.asked_things`),
        or the document the reply would quote from (titled ``where``) does not: the confidence
        is capped as in :meth:`lacking`.

        >>> d = Decision(0.9, True, 0.3).unnamed(("paypal",))
        >>> d.grounded, d.confidence, d.absent, d.absent_from
        (False, 0.2997, ('paypal',), '')
        >>> Decision(0.9, True, 0.3).unnamed(("parking",), "Opening hours").absent_from
        'Opening hours'
        """
        return self._refused(absent=words, absent_from=where)

    def repeats(self, why: Literal["unsure", "nothing new"] = "unsure") -> Decision:
        """This decision refused because the sentence its reply would quote is one an earlier
        reply of the conversation already gave (:func:`re3g.data.query.said_before`), and it
        was tentative (``why`` "unsure") or the sentence holds none of the words the turn
        newly asks (``why`` "nothing new", :func:`re3g.data.query.adds_nothing`): the user
        asked something new and the pipeline has nothing new to say. The confidence is capped
        as in :meth:`lacking`.

        >>> d = Decision(0.35, True, 0.3, sure=0.4).repeats()
        >>> d.grounded, d.confidence, d.repeated
        (False, 0.2997, 'unsure')
        """
        return self._refused(repeated=why)

    def _refused(self, **why: Any) -> Decision:
        """Refused by a check outside the decision, saying ``why`` (one of the reason fields):
        as sure as the decision was, capped just below its threshold."""
        return Decision(round(min(self.confidence, self.threshold * LACKING_CAP), 4), False,
                        self.threshold, self.sure, **why)


class AbstainRule:
    """Confidence and the answer/abstain decision of one pipeline's components.

    ``extractor_kind``: "extractor" (trained), "dense-fallback", "passage" (no documents) or
    "off"; ``reader``: the extractor is a start/end reader.

    >>> AbstainRule(None, "extractor", reader=True, min_confidence=0.5).threshold
    0.5
    """

    def __init__(self, reranker: Ranker | None, extractor_kind: str, reader: bool,
                 min_confidence: float | None = None) -> None:
        self.reranker = reranker
        self.extractor_kind = extractor_kind
        self.reader = reader
        self.threshold = (min_confidence if min_confidence is not None
                          else DEFAULT_MIN_CONFIDENCE.get(extractor_kind, 0.0))

    def confidence(self, hits: Sequence[Hit], evidence: Sequence[Evidence], top_score: float,
                   passage_cosine: Callable[[], float]) -> float:
        """How sure the pipeline is that the documents answer the turn, in [0, 1].
        ``top_score`` is the reranker's best score before the document bonus and the
        cross-encoder step; ``passage_cosine()`` the dense cosine of query and top passage."""
        confidence = evidence[0].score if evidence else passage_cosine()
        reader = self.reader and bool(evidence)
        if hits and self.reranker is not None:
            rel = self.reranker.relevance(top_score)
            return rel if reader else min(confidence, rel)
        if hits and evidence and self.extractor_kind == "extractor":
            cos = passage_cosine()
            return cos if reader else min(confidence, cos)
        return confidence

    def decide(self, hits: Sequence[Hit], evidence: Sequence[Evidence], top_score: float,
               passage_cosine: Callable[[], float]) -> Decision:
        """The :class:`Decision` for one turn."""
        conf = self.confidence(hits, evidence, top_score, passage_cosine)
        return Decision(conf, bool(hits) and conf >= self.threshold, self.threshold)


# ---------------------------------------------------------------------------------------------
# the learned decision
def reader_settings(extractor: Any) -> dict[str, Any]:
    """The reader's manifest settings as flat ``key`` / ``group.key`` pairs (what its pick
    and the decision's reader signals depend on), with the sureness model as a digest of its
    JSON and a model folder it names (its judge, its helper) by the folder's name (a copy of
    the reader elsewhere names the same folder by its absolute path): what the decision's
    manifest records (``reader``) and :meth:`LearnedRule.reader_differs` compares. {} without
    a reader.

    >>> class Reader: settings = {"cosine_weight": 2.0, "unsure": {"cosine_weight": 20.0},
    ...                           "judge": "/m/judge-written"}
    >>> reader_settings(Reader())
    {'cosine_weight': 2.0, 'unsure.cosine_weight': 20.0, 'judge': 'judge-written'}
    """
    import hashlib

    from re3g.extract.extractor import NAMED_MODELS

    out: dict[str, Any] = {}

    def walk(prefix: str, block: dict[str, Any]) -> None:
        for key, value in block.items():
            name = f"{prefix}{key}"
            if key == "sureness" and isinstance(value, dict):
                out[name] = hashlib.sha1(json.dumps(value, sort_keys=True).encode()
                                         ).hexdigest()[:12]
            elif isinstance(value, dict):
                walk(f"{name}.", value)
            elif key in NAMED_MODELS and value:
                out[name] = Path(str(value)).name
            else:
                out[name] = value

    walk("", dict(getattr(extractor, "settings", None) or {}))
    return out


UNRECORDED_RANKING = {"title_weight": 0.0, "base_weight": 0.0, "document_words": 200,
                      "current_sure": None, "current_sure_weight": 0.5}
"""Ranking settings a decision trained before they existed was trained without (their value
then), for :meth:`LearnedRule.ranking_differs`."""
SIGNALS = ("relevance", "cross", "reader", "cosine", "overlap", "gap", "evidence_overlap",
           "evidence_cosine", "null", "sure", "check_null", "doc_cover", "corpus_missing",
           "judge")
LAZY_SIGNALS = ("check_null", "doc_cover", "corpus_missing")
"""Signals that cost a model pass or a corpus-wide table: the pipeline computes them only when
its decision reads them (:attr:`Signals.skipped` names those it left out)."""
@dataclass(frozen=True)
class Signals:
    """What the learned decision reads about one turn (:data:`SIGNALS`, in that order):

    - ``relevance``: the reranker's relevance of its best passage, in [0, 1];
    - ``cross``: the cross-encoder's logit of the final best passage (0 when it did not read
      it);
    - ``reader``: the top evidence span's score (the reader's sigmoid of best range minus
      "no answer");
    - ``cosine``: the dense cosine of the user's last turn and the best passage;
    - ``overlap``: share of the last turn's content words found in the best passage;
    - ``gap``: the reranker's best score minus its second best;
    - ``evidence_overlap``: share of the last turn's content stems found in the top evidence
      span itself (a sentence or two: sharper than the passage for "the passage is on topic
      but does not say it");
    - ``evidence_cosine``: the dense cosine of the user's last turn and the top evidence span,
      under the dense retriever's encoder (the packaged all-MiniLM-L6-v2 by default, trained
      far beyond doc2dial);
    - ``null``: the start/end reader's "not in this passage" logit (start + end logits of its
      first token) for the best passage; 0 for other extractors. On the written development
      set (data/dev) it separates answerable from unanswerable turns better than any other
      signal alone (AUROC 0.72, higher null = less likely answered);
    - ``sure``: how sure the reader is of its sentence (:attr:`re3g.types.Evidence.sure`,
      :mod:`re3g.extract.sureness`); 0 when its manifest has no sureness model;
    - ``check_null``: the checker's "not in this passage" logit for the passage of the top
      evidence (the best passage when there is none): the checker is a second start/end
      reader (``models/checker``, ``[answer] checker``), the project's reader continued on
      hand-written conversations over other documents (``data/train``), which tells "the
      passage does not say it" apart better there (development set AUROC 0.77 against the
      reader's 0.67); 0 without a checker;
    - ``doc_cover``: share of the turn's new content stems (those of the user's last turn that
      no earlier turn has, :func:`re3g.data.words.new_stems`) found anywhere in the document
      of the top evidence (of the best passage when there is none); 1 when the turn brings no
      new word. A question the page does not answer often names what the page never mentions
      ("Is there parking?" over a page that says nothing of cars);
    - ``corpus_missing``: how many of those new stems no document of the corpus has;
    - ``judge``: the sentence judge's log-odds that the top evidence answers the question
      (:attr:`re3g.types.Evidence.judged`; the reader weighs its judge on other documents
      only, ``models/judge-written``), 0 when the reader did not weigh it for this turn.

    >>> Signals(relevance=0.6, overlap=0.5).vector()
    [0.6, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """

    relevance: float = 0.0
    cross: float = 0.0
    reader: float = 0.0
    cosine: float = 0.0
    overlap: float = 0.0
    gap: float = 0.0
    evidence_overlap: float = 0.0
    evidence_cosine: float = 0.0
    null: float = 0.0
    sure: float = 0.0
    check_null: float = 0.0
    doc_cover: float = 0.0
    corpus_missing: float = 0.0
    judge: float = 0.0
    skipped: tuple[str, ...] = ()
    """Signals not computed for this turn because the decision does not read them
    (:meth:`re3g.pipeline.Re3G.signals`); :meth:`as_dict` leaves them out."""

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in SIGNALS]

    def as_dict(self) -> dict[str, float]:
        """The computed signals by name, rounded (what the records and ``Answer.extra`` show).

        >>> Signals(overlap=0.5, skipped=("check_null",)).as_dict()["overlap"]
        0.5
        >>> "check_null" in Signals(skipped=("check_null",)).as_dict()
        False
        """
        return {name: round(float(getattr(self, name)), 4) for name in SIGNALS
                if name not in self.skipped}


class LearnedRule:
    """A logistic model of "the documents answer this turn" over :class:`Signals`, trained by
    ``re3g train answerability`` on train turns and synthetic unanswerable ones, its
    threshold chosen on train folds. ``Answer.confidence`` is its probability.

    >>> rule = LearnedRule({"signals": ["relevance", "overlap"], "mean": [0.5, 0.5],
    ...                     "scale": [0.1, 0.2], "coef": [2.0, 1.0], "intercept": 0.0,
    ...                     "threshold": 0.4})
    >>> rule.decide(Signals(relevance=0.5, overlap=0.5))
    Decision(confidence=0.5, grounded=True, threshold=0.4)
    """

    def __init__(self, manifest: dict[str, Any], min_confidence: float | None = None,
                 path: str = "") -> None:
        names = list(manifest["signals"])
        unknown = sorted(set(names) - set(SIGNALS))
        if unknown:
            raise ModelError(f"{path or 'answerability model'}: unknown signals {unknown}")
        self.names = names
        self.mean = [float(x) for x in manifest["mean"]]
        self.scale = [float(x) or 1.0 for x in manifest["scale"]]
        self.coef = [float(x) for x in manifest["coef"]]
        self.intercept = float(manifest["intercept"])
        self.min_confidence = min_confidence  # the user's threshold, over the model's
        self.threshold = (min_confidence if min_confidence is not None
                          else float(manifest["threshold"]))
        # answers below this are tentative (``re3g train answerability``: the confidence that
        # SURE_RATE of the answerable train turns reach, out of fold); 0 in older models
        self.sure = float(manifest.get("sure", 0.0))
        # the topic gate (``re3g train answerability --off-topic``): a second regression,
        # P(the turn is about these documents at all), learned from answerable turns against
        # questions about nothing the corpus covers; below its floor the turn is refused
        # whatever the first one says. None in models trained without off-topic questions.
        self.topic = manifest.get("topic") or None
        if self.topic is not None:
            unknown = sorted(set(self.topic["signals"]) - set(SIGNALS))
            if unknown:
                raise ModelError(f"{path or 'answerability model'}: unknown topic signals "
                                 f"{unknown}")
        self.manifest = manifest
        self.path = path
        # which calibration this is: "tuned" (the corpus the models were trained on, or a
        # model with one calibration) or "other" (:meth:`for_corpus`), and the rule it came from
        self.calibration = "tuned"
        self.base = self

    @classmethod
    def load(cls, path: Path, min_confidence: float | None = None) -> LearnedRule:
        """Read ``path/manifest.json`` (ModelError naming the file when unusable)."""
        mpath = Path(path) / "manifest.json"
        try:
            manifest = json.loads(mpath.read_text())
            return cls(manifest, min_confidence, str(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{mpath}: not a usable answerability model ({exc}); retrain it "
                             f"with `re3g train answerability`") from exc

    @property
    def calibrations(self) -> tuple[str, ...]:
        """The calibrations the model holds: ("tuned",), or ("tuned", "other") when it was
        trained with written sets over other documents and two calibrations (``re3g train
        answerability --written ... --calibrations 2``, the default), which give it a second
        regression and threshold for them.

        >>> LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [], "intercept": 0,
        ...              "threshold": 0.5}).calibrations
        ('tuned',)
        """
        return ("tuned", "other") if self.manifest.get("other") else ("tuned",)

    def for_corpus(self, fingerprint: str | None, calibration: str = "auto") -> LearnedRule:
        """The rule for a corpus (its :func:`re3g.retrieve.index.corpus_fingerprint`): this
        one on the corpus the models were tuned on (the manifest's ``tuned_corpus``), else
        the model's ``other`` calibration, fitted on turns over documents no model here was
        trained on (the signals of the doc2dial-trained models read differently there).
        ``calibration`` "tuned" or "other" forces one; a model without ``other`` has only
        "tuned". The topic gate and requirements stay those of the model; the ranking is the
        "other" block's when it records one.

        >>> m = {"signals": ["overlap"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
        ...      "intercept": 0.0, "threshold": 0.5, "tuned_corpus": "abc",
        ...      "other": {"signals": ["overlap"], "mean": [0.0], "scale": [1.0],
        ...                "coef": [3.0], "intercept": -1.0, "threshold": 0.3, "sure": 0.4}}
        >>> rule = LearnedRule(m)
        >>> rule.for_corpus("abc") is rule, rule.for_corpus("xyz").threshold
        (True, 0.3)
        >>> rule.for_corpus("xyz").decide(Signals(overlap=1.0)).grounded
        True
        >>> rule.for_corpus("abc", "other").calibration
        'other'
        >>> rule.for_corpus("xyz").for_corpus("abc") is rule    # always from the model itself
        True
        """
        base = self.base
        other = base.manifest.get("other")
        try:
            wanted = corpus_calibration(calibration, fingerprint,
                                        base.manifest.get("tuned_corpus"))
        except ValueError as exc:
            raise ModelError(str(exc)) from exc
        if not other or wanted == "tuned":
            return base
        try:
            block = {k: other[k] for k in ("signals", "mean", "scale", "coef", "intercept",
                                           "threshold")}
            # the other calibration's signals came from its own ranking when it records one
            # (a cross-encoder for other documents, re3g.rank.other_cross)
            ranking = {"ranking": other["ranking"]} if other.get("ranking") else {}
            rule = LearnedRule({**base.manifest, **block, "sure": other.get("sure", 0.0),
                                **ranking}, base.min_confidence, base.path)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{base.path or 'answerability model'}: its 'other' calibration is "
                             f"not usable ({exc!r}); retrain it with `re3g train "
                             f"answerability`") from exc
        rule.calibration, rule.base = "other", base
        return rule

    def mismatch(self, reranker: Any, cross: Any, extractor: Any, checker: Any = None
                 ) -> str | None:
        """Why this model does not fit the given components (None when it does): it was
        trained on the signals of particular models (``requires`` in its manifest: the
        reranker's, the extractor's and the checker's folders, whether a cross-encoder ran).

        >>> rule = LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [],
        ...                     "intercept": 0.0, "threshold": 0.5,
        ...                     "requires": {"checker": "checker"}})
        >>> rule.mismatch(None, None, None)[:55]
        "was trained with checker 'checker', but the pipeline ha"
        """
        need = self.manifest.get("requires", {})
        have = {"reranker": Path(reranker.path).name if reranker is not None else None,
                "cross": cross is not None,
                "extractor": Path(extractor.path).name if extractor is not None else None,
                "checker": Path(checker.path).name if checker is not None else None}
        for key, value in have.items():
            if key in need and need[key] != value:
                return (f"was trained with {key} {need[key]!r}, but the pipeline has "
                        f"{value!r}; retrain it or set [answer] learned = false")
        return None

    def ranking_differs(self, config: Any, cascade: dict[str, Any] | None = None) -> list[str]:
        """The ranking settings (``ranking`` in the manifest) on which ``config`` differs from
        the ones the model was trained with: its signals then come from another ranking, so
        its confidence is less well calibrated (the model is still used; retrain it to match).
        ``cascade`` gives the values the pipeline resolved for settings whose config value may
        be unset (``cross_depth``, ``cross_weight``: the cross-encoder's manifest by default).

        A setting the manifest does not record had its value from before the trainer recorded
        it (:data:`UNRECORDED_RANKING`: the name step and the base blend were off, the prior
        read 200 words and no turn had a sure share).

        >>> rule = LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [],
        ...                     "intercept": 0.0, "threshold": 0.5,
        ...                     "ranking": {"current_weight": 0.3, "document_weight": 0.1}})
        >>> from re3g.config import Config
        >>> rule.ranking_differs(Config(document_weight=0.3, title_weight=0, base_weight=0))
        ['document_weight 0.3 (trained with 0.1)']
        >>> rule.ranking_differs(Config())
        ['title_weight 2.0 (trained with 0.0)', 'base_weight 0.25 (trained with 0.0)']
        >>> trained = {"cross_depth": 3, "title_weight": 2.0, "base_weight": 0.25}
        >>> LearnedRule({**rule.manifest, "ranking": trained}).ranking_differs(
        ...     Config(cross_depth=5), cascade={"cross_depth": 5})
        ['cross_depth 5 (trained with 3)']
        """
        trained = self.manifest.get("ranking") or {}
        if trained:
            trained = {**UNRECORDED_RANKING, **trained}
        have = {k: getattr(config, k) for k in trained if hasattr(config, k)}
        have.update({k: v for k, v in (cascade or {}).items() if k in trained})
        return [f"{k} {have[k]!r} (trained with {v!r})"
                for k, v in trained.items() if k in have and have[k] != v]

    def reader_differs(self, extractor: Any) -> list[str]:
        """The reader settings (:func:`reader_settings`) on which ``extractor`` differs from
        the ones the model was fitted under (``reader`` in the manifest; a decision fitted
        before the trainer recorded them is not checked): its signals (the evidence's words
        and cosine, how sure the reader is of its sentence, its null) then come from another
        pick, so its confidence is less well calibrated. Session 35 found a shipped decision
        read a reader question it was not fitted on, unnoticed for two sessions.

        >>> rule = LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [],
        ...                     "intercept": 0.0, "threshold": 0.5,
        ...                     "reader": {"type_weight": 0.0, "other.skip_quotes": True}})
        >>> class Reader: settings = {"type_weight": 4.0, "other": {"skip_quotes": True}}
        >>> rule.reader_differs(Reader())
        ['type_weight 4.0 (fitted with 0.0)']
        >>> class Later: settings = {"type_weight": 0.0, "judge_weight": 0,
        ...                          "other": {"skip_quotes": True}}
        >>> LearnedRule({**rule.manifest, "reader": {"other.skip_quotes": True}}
        ...             ).reader_differs(Later())
        []
        """
        fitted = self.manifest.get("reader")
        if not fitted:
            return []
        have = reader_settings(extractor)

        def differs(key: str) -> bool:
            # a key only one side names counts as unset there: a setting written out at its
            # off value (0, false, null) by a later tool is not a change
            if key not in have or key not in fitted:
                return bool(have.get(key, fitted.get(key)))
            return have[key] != fitted[key]

        return [f"{k} {have.get(k)!r} (fitted with {fitted.get(k)!r})"
                for k in sorted({*have, *fitted}) if differs(k)]

    @property
    def needs_checker(self) -> bool:
        """Whether the model was trained with a checker's signal (``requires.checker``), so
        the pipeline must load that checker to use it.

        >>> LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [], "intercept": 0,
        ...              "threshold": 0.5, "requires": {"checker": "checker"}}).needs_checker
        True
        """
        return bool(self.manifest.get("requires", {}).get("checker"))

    def reads(self, name: str) -> bool:
        """Whether the model (or its topic gate) reads the signal ``name``.

        >>> LearnedRule({"signals": ["null"], "mean": [0], "scale": [1], "coef": [1],
        ...              "intercept": 0, "threshold": 0.5}).reads("check_null")
        False
        """
        return name in self.names or (self.topic is not None and name in self.topic["signals"])

    def probability(self, signals: Signals) -> float:
        """P(the documents answer the turn), in (0, 1)."""
        return logistic(self.manifest, signals)

    def on_topic(self, signals: Signals) -> float:
        """How far the turn reaches towards the topic gate's floor: 1.0 when it passes (or
        there is no gate), else P(on topic) / floor, in [0, 1).

        >>> gate = {"signals": ["relevance"], "mean": [0.0], "scale": [1.0], "coef": [10.0],
        ...         "intercept": -2.0, "floor": 0.5}
        >>> rule = LearnedRule({"signals": [], "mean": [], "scale": [], "coef": [],
        ...                     "intercept": 0.0, "threshold": 0.5, "topic": gate})
        >>> round(rule.on_topic(Signals(relevance=0.1)), 3), rule.on_topic(Signals(relevance=0.3))
        (0.538, 1.0)
        """
        if self.topic is None:
            return 1.0
        p, floor = logistic(self.topic, signals), float(self.topic["floor"])
        return 1.0 if p >= floor else p / floor

    def decide(self, signals: Signals) -> Decision:
        """The decision for one turn: its probability, except that a turn the topic gate
        stops is refused, its confidence capped at ``threshold x`` :meth:`on_topic` (so such
        turns still come in order of how near they came).

        >>> gate = {"signals": ["relevance"], "mean": [0.0], "scale": [1.0], "coef": [10.0],
        ...         "intercept": -2.0, "floor": 0.5}
        >>> rule = LearnedRule({"signals": ["overlap"], "mean": [0.0], "scale": [1.0],
        ...                     "coef": [4.0], "intercept": 0.0, "threshold": 0.4, "topic": gate})
        >>> rule.decide(Signals(relevance=0.1, overlap=1.0))
        Decision(confidence=0.2152, grounded=False, threshold=0.4)
        """
        unread = [n for n in signals.skipped if self.reads(n)]
        if unread:
            raise ValueError(f"signals {unread} were not computed but this decision reads them")
        p = self.probability(signals)
        reach = self.on_topic(signals)
        if reach < 1.0:
            p = round(min(p, self.threshold * reach), 4)
        # a turn the gate stops is refused even where a threshold of 0 would take any p
        return Decision(p, p >= self.threshold and reach >= 1.0, self.threshold, self.sure)


def caution(decision: Decision, sure: float | None, sureness: Any) -> dict[str, Any]:
    """Whether an answer is shown with a caution, and why (``Answer.extra`` keys): the
    decision's confidence is below its ``sure`` level (``tentative_reason`` "confidence"), or
    the reader is unsure of its sentence (``sure``, the top evidence's
    :attr:`re3g.types.Evidence.sure`, below ``sureness``'s floor, :mod:`re3g.extract.sureness`;
    reason "sentence"). ``sure`` and ``unsure_pick`` are reported when the reader has a
    sureness model.

    >>> class Floor:
    ...     def unsure(self, p): return p < 0.4
    >>> caution(Decision(0.5, True, 0.3, sure=0.38), 0.2, Floor())
    {'tentative': True, 'sure': 0.2, 'unsure_pick': True, 'tentative_reason': 'sentence'}
    >>> caution(Decision(0.1, False, 0.3), 0.2, Floor())["tentative"]
    False
    """
    out: dict[str, Any] = {"tentative": decision.tentative}
    if sure is not None and sureness is not None:
        out["sure"] = sure
        out["unsure_pick"] = decision.grounded and sureness.unsure(sure)
        out["tentative"] = out["tentative"] or out["unsure_pick"]
    if out["tentative"]:
        out["tentative_reason"] = "confidence" if decision.tentative else "sentence"
    return out


def logistic(model: dict[str, Any], signals: Signals) -> float:
    """A standardised logistic regression's probability (``signals``, ``mean``, ``scale``,
    ``coef``, ``intercept`` as ``re3g train answerability`` writes them), in (0, 1).

    >>> logistic({"signals": ["cross"], "mean": [1.0], "scale": [2.0], "coef": [1.0],
    ...           "intercept": 0.0}, Signals(cross=1.0))
    0.5
    """
    return standard_logistic(model, lambda name: getattr(signals, name))
