"""Where the answerable turns of a replay are lost, and what a better pick could win.

One job: split the turns of a conversation replay (:func:`re3g.evaluate.replay.replay` with
``detail=pick_detail``) by what went wrong. An answerable turn is right (the top evidence lies
on a reference span, :func:`re3g.evaluate.answerability.is_right`), answered with another
sentence of a reference document, answered from another document, or refused; a refusal is
put down to the check that made it (:func:`refusal`: the kind asked for missing from the
sentence, a thing no document names, a repeat of an earlier reply) or to the threshold, and
split by where the refused pick lay. An unanswerable turn is answered or refused, by the same
reasons.

Two ceilings bound what a change to the sentence choice alone can win. ``best_shown_pick``:
the answered turns that would be right if the pick were the best of the evidence already
shown (the pipeline keeps the top picks, three by default); ``best_shown_pick_all_answered``:
the same over every answerable turn, as if the decision answered them all. A reference that
is in no shown pick needs retrieval or a deeper reading to reach: ``unshown_reference_rank``
says where the first passage holding one ranked for those turns (:data:`RANK_BUCKETS`).

    >>> recs = [{"answerable": True, "grounded": True, "right": False, "refusal": None,
    ...          "picks": [{"doc": "a", "on_reference": False},
    ...                    {"doc": "a", "on_reference": True}], "gold_docs": ["a"]},
    ...         {"answerable": False, "grounded": False, "right": None, "refusal": "threshold",
    ...          "picks": [], "gold_docs": []}]
    >>> split = failure_split(recs)
    >>> split["answerable"]["answered_other_sentence"], split["unanswerable"]["refused_threshold"]
    (1, 1)
    >>> split["ceilings"]["best_shown_pick"]["turns"]
    1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from re3g.types import Answer, Example

REASONS = {"missing": "kind", "absent_here": "absent", "absent": "absent",
           "repeated": "repeat"}
"""The reason each refusal check of :func:`re3g.generate.refusal.check_refused` counts as."""


def refusal(answer: Answer) -> str | None:
    """Why ``answer`` was refused: "kind", "absent", "repeat" (the check that refused it, as
    :func:`re3g.generate.refusal.check_refused` reads it) or "threshold" (the decision alone:
    its confidence, or its topic gate); None when it was answered.

    >>> refusal(Answer("x")), refusal(Answer("", grounded=False, extra={"missing": "money"}))
    (None, 'kind')
    >>> refusal(Answer("", grounded=False))
    'threshold'
    """
    from re3g.generate.refusal import check_refused

    if answer.grounded:
        return None
    found = check_refused(answer)
    return REASONS[found[0]] if found else "threshold"


def pick_detail(example: Example, answer: Answer) -> dict[str, Any]:
    """What :func:`failure_split` reads of one turn besides the replay's record: the refusal
    reason, the rank (from 1) of the first ranked passage holding a reference span (None when
    no passage the answer ranked holds one) and, per shown pick (best first), its document and
    whether it lies on a reference span."""
    from re3g.evaluate.answerability import pick_right

    gold = example.gold_span_ids
    rank = next((i for i, h in enumerate(answer.passages, 1)
                 if any((h.passage.doc_id, s) in gold for s in h.passage.span_ids)), None)
    return {"refusal": refusal(answer), "reference_rank": rank,
            "picks": [{"doc": e.doc_id, "on_reference": pick_right(example, [e])}
                      for e in answer.evidence]}


RANK_BUCKETS = (("1-3", 3), ("4-5", 5), ("6-10", 10), ("11+", None))
"""(name, lowest rank in it) of where the first passage holding a reference ranks, for the
answerable turns whose reference is in no shown pick: among the passages the reader reads
(three by default), just below, further down; "not_ranked" when no passage the answer ranked
holds one (retrieval missed it)."""


def _rank_bucket(rank: int | None) -> str:
    if rank is None:
        return "not_ranked"
    return next(name for name, last in RANK_BUCKETS if last is None or rank <= last)


def _where(record: dict[str, Any]) -> str:
    """Where an answerable turn's top pick lay: on a reference, another sentence of a
    reference document, or another document (none shown counts as another document)."""
    picks = record["picks"]
    if picks and picks[0]["on_reference"]:
        return "pick_on_reference"
    if picks and picks[0]["doc"] in record["gold_docs"]:
        return "other_sentence"
    return "other_document"


def failure_split(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts of the answerable and unanswerable turns of ``records`` by outcome (module
    doc), and the two ceilings of a better pick, as turns and as a share (%) of the
    answerable turns."""
    pos = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]
    answerable: Counter[str] = Counter()
    for r in pos:
        where = _where(r)
        if not r["grounded"]:
            answerable[f"refused_{r['refusal']}_{where}"] += 1
        elif r["right"]:
            answerable["right"] += 1
        else:
            answerable["answered_other_sentence" if where == "other_sentence"
                       else "answered_other_document"] += 1
    unanswerable = Counter("answered" if r["grounded"] else f"refused_{r['refusal']}"
                           for r in neg)

    def ceiling(turns: int) -> dict[str, Any]:
        return {"turns": turns, "share": round(100 * turns / len(pos), 1) if pos else None}

    in_picks = [any(p["on_reference"] for p in r["picks"]) for r in pos]
    shown = [r for r, hit in zip(pos, in_picks, strict=True) if hit]
    unshown = Counter(_rank_bucket(r.get("reference_rank"))
                      for r, hit in zip(pos, in_picks, strict=True) if not hit)
    return {"n_answerable": len(pos), "n_unanswerable": len(neg),
            "answerable": dict(answerable.most_common()),
            "unanswerable": dict(unanswerable.most_common()),
            "unshown_reference_rank": {b: unshown[b] for b in [*(n for n, _ in RANK_BUCKETS),
                                                                "not_ranked"] if unshown[b]},
            "ceilings": {"right": ceiling(answerable["right"]),
                         "best_shown_pick": ceiling(sum(1 for r in shown if r["grounded"])),
                         "best_shown_pick_all_answered": ceiling(len(shown))}}
