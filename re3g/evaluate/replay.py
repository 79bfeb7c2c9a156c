"""Conversations replayed as the chat holds them: the history holds the pipeline's own
earlier replies, not the written agent turns.

``re3g evaluate`` reads each turn after the dialogue's written agent turns. In the chat the
agent turns are the bot's own replies, which quote the sentence they came from word for word,
and a refused turn keeps its question with an empty reply (``app/session.py``,
:attr:`re3g.types.Answer.kept_reply`). :func:`replay` plays every dialogue that
way, turn by turn; :func:`summary` gives the share of answerable turns answered right (top
evidence on a reference span), overall and after a change of document, and the share of
unanswerable turns refused. ``bench/own_replies.py`` reports it; ``python -m
re3g.train.select_reader --roles`` chooses the reader's question roles for other documents
on it.

>>> summary([{"answerable": True, "grounded": True, "right": True, "document_change": False},
...          {"answerable": False, "grounded": False, "right": None, "document_change": None}])
... # doctest: +NORMALIZE_WHITESPACE
{'n_answerable': 1, 'n_unanswerable': 1, 'answered': 100.0, 'right': 100.0,
 'right_after_document_change': None, 'n_document_change': 0, 'refused_unanswerable': 100.0,
 'right_turns': 1, 'refused_turns': 1}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from re3g.types import Answer, Example


def replay(bot: Any, examples: Sequence[Example], progress: bool = True,
           detail: Callable[[Example, Answer], dict[str, Any]] | None = None
           ) -> list[dict[str, Any]]:
    """One record per user turn of ``examples`` (in dialogue order, as
    :func:`re3g.data.dialdoc.examples_from_dialogues` gives them), answered by ``bot``
    (a :class:`re3g.pipeline.Re3G`) with the dialogue's earlier questions and its own
    replies to them as the history (a refused turn's question with an empty reply,
    :attr:`re3g.types.Answer.kept_reply`). ``detail(example, answer)`` adds its keys to
    each record (e.g. :func:`re3g.evaluate.failures.pick_detail`)."""
    from tqdm.auto import tqdm

    from re3g.evaluate.answerability import document_changed, is_right

    records: list[dict[str, Any]] = []
    history: dict[str, list[str]] = {}
    for ex in tqdm(examples, desc="replay", unit="turn", disable=not progress):
        said = history.setdefault(ex.dial_id, [])
        question = ex.history[-1].utterance or ""
        answer = bot.answer([*said, question])
        said += [question, answer.kept_reply]
        top = answer.evidence[0].doc_id if answer.evidence else None
        records.append({"id": ex.id, "answerable": ex.answerable, "grounded": answer.grounded,
                        "top_doc": top, "gold_docs": sorted(ex.gold_doc_ids),
                        "right": is_right(ex, answer) if ex.answerable else None,
                        "document_change": document_changed(ex) if ex.answerable else None,
                        "confidence": round(answer.confidence, 4),
                        **(detail(ex, answer) if detail else {})})
    return records


def summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Shares (in %) of :func:`replay`'s records: answerable turns answered and answered
    right, right after a change of document, unanswerable turns refused; and the counts of
    right and refused turns (what a choice between settings compares)."""
    pos = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]
    moved = [r for r in pos if r["document_change"]]

    def pct(rows: list[dict[str, Any]], key: str, want: bool = True) -> float | None:
        return round(100 * sum(bool(r[key]) == want for r in rows) / len(rows), 1) if rows \
            else None

    return {"n_answerable": len(pos), "n_unanswerable": len(neg),
            "answered": pct(pos, "grounded"), "right": pct(pos, "right"),
            "right_after_document_change": pct(moved, "right"), "n_document_change": len(moved),
            "refused_unanswerable": pct(neg, "grounded", want=False),
            "right_turns": sum(bool(r["right"]) for r in pos),
            "refused_turns": sum(not r["grounded"] for r in neg)}


def paired(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
           ) -> dict[str, Any]:
    """Two :func:`replay` runs of the same turns compared turn by turn (records keyed by
    their ``set``, when they have one, and ``id``): answerable turns right only before /
    only after, unanswerable turns refused only before / only after, and for each measure
    and for both together (a turn won or lost either way) the two-sided exact sign test of
    the turns that changed (:func:`scipy.stats.binomtest`): the chance of a split at least
    this uneven if the change did nothing but reshuffle them.

    Two settings that each win and lose many turns differ by little in total; the counts
    say how much of a total's difference is such reshuffling.

    >>> a = [{"id": "d_1", "answerable": True, "right": True, "grounded": True},
    ...      {"id": "d_3", "answerable": False, "right": None, "grounded": True}]
    >>> b = [{"id": "d_1", "answerable": True, "right": False, "grounded": True},
    ...      {"id": "d_3", "answerable": False, "right": None, "grounded": False}]
    >>> r = paired(a, b)
    >>> r["right"], r["refused"], r["either"]["p"]
    ({'lost': 1, 'won': 0, 'p': 1.0}, {'lost': 0, 'won': 1, 'p': 1.0}, 1.0)
    """
    from scipy.stats import binomtest

    def key(r: dict[str, Any]) -> tuple[str, str]:
        return (str(r.get("set", "")), str(r["id"]))

    old = {key(r): r for r in before}
    new = {key(r): r for r in after}
    if old.keys() != new.keys():
        missing = sorted(old.keys() ^ new.keys())[:3]
        raise ValueError(f"the two runs hold different turns (e.g. {missing})")

    def good(r: dict[str, Any]) -> bool:  # right when answerable, refused when not
        return bool(r["right"]) if r["answerable"] else not r["grounded"]

    def split(keys: list[tuple[str, str]]) -> dict[str, Any]:
        lost = sum(good(old[k]) and not good(new[k]) for k in keys)
        won = sum(good(new[k]) and not good(old[k]) for k in keys)
        p = binomtest(won, won + lost).pvalue if won + lost else 1.0
        return {"lost": lost, "won": won, "p": round(float(p), 4)}

    answerable = [k for k in old if old[k]["answerable"]]
    unanswerable = [k for k in old if not old[k]["answerable"]]
    return {"right": split(answerable), "refused": split(unanswerable),
            "either": split(answerable + unanswerable)}
