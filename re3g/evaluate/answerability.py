"""The ``answerability`` stage of ``re3g evaluate``: does the pipeline answer what the documents
answer, and refuse what they do not?

It runs when the dialogues hold agent turns without references (written unanswerable turns,
as in the conversation suite ``data/suite/``) or when synthetic ones are asked for
(``--unanswerable synthetic``: :mod:`re3g.evaluate.unanswerable`). Every turn goes through the
interactive pipeline (``Re3G.select``: retrieval, ranking, extraction, decision) and the report
gains::

    "answerability": {
        "answered": share of answerable turns the pipeline answers (Answer.grounded),
        "right": share of answerable turns answered with top evidence on a reference span,
        "refused_unanswerable": share of unanswerable turns it refuses,
        "AUROC": how well Answer.confidence separates the two (scikit-learn),
        "n_answerable", "n_unanswerable", "decision" ("learned" or "rule"), "threshold",
        "refused_by_kind": {kind: share refused} (synthetic turns),
        "right_after_document_change": share of answerable turns whose reference document
            differs from the previous grounded turn's that are answered right (topic shifts),
        "n_document_change",
        with the learned decision's caution level (records with ``tentative``):
        "confident_right": share of answerable turns answered right and not tentative,
        "confident_wrong": share of answerable turns answered wrong and not tentative,
        "refused_or_tentative": share of unanswerable turns refused or answered tentatively
            (what a user is not told with confidence),
        with a reader that says how sure it is of its sentence (re3g.extract.sureness):
        "unsure_pick": share of answerable turns whose sentence it is unsure of (answered
            tentatively),
        "right_or_runner_up": share of answerable turns answered right, or answered
            tentatively with the runner-up sentence on a reference span (the chat names the
            runner-up under every tentative reply: what a user reading both gets)}

Per-turn records go to ``OUT/answerability.jsonl`` (and are cached under ``OUT/cache/``, so an
interrupted run resumes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from re3g.types import Example

SYNTHETIC = "synthetic"


def is_right(example: Example, answer: Any) -> bool:
    """Answered, with its top evidence on one of the example's reference spans."""
    return bool(answer.grounded) and pick_right(example, answer.evidence)


def pick_right(example: Example, evidence: Sequence[Any]) -> bool:
    """Whether the top of ``evidence`` (answered or not) lies on one of the example's
    reference spans.

    >>> from re3g.types import Evidence, Reference, Turn
    >>> ex = Example("d_1", "d", "x", [Turn(1, "user", "a")], [Reference("fees", "2")], "e")
    >>> pick_right(ex, [Evidence("fees", "Fees", "8 dollars", 0, 9, ["2", "3"])])
    True
    >>> pick_right(ex, [])
    False
    """
    if not evidence:
        return False
    top = evidence[0]
    return any((top.doc_id, s) in example.gold_span_ids for s in top.span_ids)


def document_changed(example: Example) -> bool:
    """Whether the example's reference documents share none with those of the last grounded
    agent turn before it (a topic shift across documents; False for the first one).

    >>> from re3g.types import Reference, Turn
    >>> ex = Example("d_3", "d", "x", [Turn(1, "user", "a"), Turn(2, "agent", "b",
    ...              [Reference("fees", "1")]), Turn(3, "user", "c")],
    ...              [Reference("plots", "4")], "e")
    >>> document_changed(ex)
    True
    """
    from re3g.data.dialdoc import last_grounded

    turn = last_grounded(example.history)
    return turn is not None and not ({r.doc_id for r in turn.references} & example.gold_doc_ids)


def answerability_metrics(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The report block (see the module doc) from per-turn records with ``answerable``,
    ``grounded``, ``confidence`` and, for answerable turns, ``right``.

    >>> answerability_metrics([
    ...     {"answerable": True, "grounded": True, "right": True, "confidence": 0.9},
    ...     {"answerable": True, "grounded": False, "right": False, "confidence": 0.3},
    ...     {"answerable": False, "grounded": False, "confidence": 0.2, "kind": "written"}])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'n_answerable': 2, 'n_unanswerable': 1, 'answered': 50.0, 'right': 50.0,
     'refused_unanswerable': 100.0, 'AUROC': 1.0, 'refused_by_kind': {'written': 100.0}}
    """
    pos = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]

    def share(rows: Sequence[dict[str, Any]], key: str, want: bool = True) -> float | None:
        return round(100.0 * sum(bool(r.get(key)) == want for r in rows) / len(rows), 2) \
            if rows else None

    out: dict[str, Any] = {
        "n_answerable": len(pos), "n_unanswerable": len(neg),
        "answered": share(pos, "grounded"), "right": share(pos, "right"),
        "refused_unanswerable": share(neg, "grounded", want=False), "AUROC": None,
    }
    if pos and neg:
        from sklearn.metrics import roc_auc_score

        out["AUROC"] = round(float(roc_auc_score(
            [1] * len(pos) + [0] * len(neg),
            [r["confidence"] for r in pos] + [r["confidence"] for r in neg])), 4)
    kinds = sorted({r.get("kind", "written") for r in neg})
    out["refused_by_kind"] = {k: share([r for r in neg if r.get("kind", "written") == k],
                                       "grounded", want=False) for k in kinds}
    if records and all("tentative" in r for r in records):
        sure = [r for r in pos if r["grounded"] and not r["tentative"]]
        out["confident_right"] = round(100.0 * sum(bool(r["right"]) for r in sure)
                                       / len(pos), 2) if pos else None
        out["confident_wrong"] = round(100.0 * sum(not r["right"] for r in sure)
                                       / len(pos), 2) if pos else None
        out["refused_or_tentative"] = round(100.0 * sum(
            not r["grounded"] or r["tentative"] for r in neg) / len(neg), 2) if neg else None
    if pos and any(r.get("unsure_pick") for r in records):
        out["unsure_pick"] = share(pos, "unsure_pick")
        out["right_or_runner_up"] = round(100.0 * sum(
            bool(r["right"]) or bool(r.get("runner_up_right")) for r in pos) / len(pos), 2)
    moved = [r for r in pos if r.get("document_change")]
    if moved:
        out["right_after_document_change"] = share(moved, "right")
        out["n_document_change"] = len(moved)
    return out


def _turn_record(bot: Any, example: Example) -> dict[str, Any]:
    answer, _, _ = bot.select(example.history)
    top = answer.evidence[0] if answer.evidence else None
    tentative = bool(answer.extra.get("tentative"))
    unsure_pick = bool(answer.extra.get("unsure_pick"))
    # the chat names the runner-up sentence under every tentative reply
    runner_up = answer.evidence[1] if tentative and len(answer.evidence) > 1 else None
    return {"id": example.id, "kind": "answerable" if example.answerable else "written",
            "answerable": example.answerable, "grounded": answer.grounded,
            "tentative": tentative, "unsure_pick": unsure_pick,
            "runner_up_right": any((runner_up.doc_id, s) in example.gold_span_ids
                                   for s in runner_up.span_ids)
            if runner_up is not None and example.answerable else None,
            "confidence": round(answer.confidence, 4),
            "right": is_right(example, answer) if example.answerable else None,
            "document_change": document_changed(example) if example.answerable else None,
            "evidence": [top.doc_id, top.span_ids] if top else None,
            "signals": answer.extra.get("signals"),
            "calibration": answer.extra.get("calibration")}


def turn_records(bot: Any, example: Example, docs: dict[str, Any], synthetic: bool
                 ) -> list[dict[str, Any]]:
    """The records of one turn: its own (:func:`_turn_record`) and, with ``synthetic``, one
    per unanswerable variant of an answerable turn (:mod:`re3g.evaluate.unanswerable`)."""
    from re3g.evaluate.unanswerable import turn_variants, variant_signals

    found = [_turn_record(bot, example)]
    if synthetic and example.answerable:
        for v in turn_variants(bot, example, docs, answerable=False):
            r = variant_signals(bot, example, v)
            r["id"] = f"{example.id}:{v.kind}"
            found.append(r)
    return found


def run_stage(ctx: Any, report: dict[str, Any]) -> None:
    """Add ``answerability`` to ``report`` when there are unanswerable turns to judge (see
    the module doc); write ``OUT/answerability.jsonl``."""
    from re3g.decide import LearnedRule
    from re3g.evaluate.records import LineCache, code_stamp, failure_record
    from re3g.evaluate.report import write_jsonl
    from re3g.evaluate.turns import TurnFailure, dialogue_keys

    synthetic = ctx.options.get("unanswerable") == SYNTHETIC
    if not ctx.unanswerable and not synthetic:
        return
    bot = ctx.local_worker().pipeline("answerability")
    from re3g.evaluate.response import _model_stamp

    # the models behind the records (a cross-encoder for other documents appears or goes
    # with its folder, the config unchanged)
    models = [_model_stamp(m) for m in (bot.reranker, bot.cross_reranker, bot.signal_cross,
                                        bot.extractor if bot.config.extract else None,
                                        bot.rule)]
    sig = hashlib.sha1(json.dumps([report["index"], synthetic, code_stamp(),
                                   bot.config.as_dict(), models], sort_keys=True, default=str
                                  ).encode()).hexdigest()[:10]
    cache = LineCache(ctx.out / "cache" / f"answerability-{sig}.jsonl")
    failures = report.setdefault("failures", [])
    records: list[dict[str, Any]] = []
    try:
        turns = [*ctx.examples, *ctx.unanswerable]
        todo = [ex for ex in turns if cache.get(ex.id) is None]
        fresh = ctx.turns.map("answerability", [(ex, synthetic) for ex in todo],
                              dialogue_keys(todo), desc="answerability")
        computed = {ex.id: r for ex, r in zip(todo, fresh, strict=True)}
        for ex in turns:
            done = cache.get(ex.id)
            if done is not None:
                records += done["records"]
                continue
            found = computed[ex.id]
            if isinstance(found, TurnFailure):  # recorded, the batch goes on
                failures.append(failure_record(ex.id, "answerability", found.exception()))
                continue
            cache.put({"id": ex.id, "records": found})
            records += found
    finally:
        cache.close()
    block = answerability_metrics(records)
    block["decision"] = "learned" if isinstance(bot.rule, LearnedRule) else "rule"
    block["threshold"] = round(bot.min_confidence, 4)
    report["answerability"] = block
    write_jsonl(ctx.out / "answerability.jsonl", records)
