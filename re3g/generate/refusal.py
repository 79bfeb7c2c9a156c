"""The reply to a refused turn: why the pipeline refused it, where one of its checks did.

The learned decision refuses a turn it is not sure the documents answer, and the reply is
``[answer] abstain_reply``. The refusal checks (:meth:`re3g.pipeline.Re3G.decide`) refuse for a
reason they record in ``Answer.extra``, and the reply says that reason instead of "I could not
find this": the closest sentence does not give the kind of answer asked for (``missing``), no
document, or not the closest one, mentions the thing asked about (``absent``,
``absent_from``), or the best sentence is one an earlier reply gave (``repeated``). The
library (:meth:`re3g.pipeline.Re3G.answer`), ``re3g ask``, the Ray server and the chat
(``app/session.py``, which adds where the passages are shown) all word it here.

>>> print(because(Answer("", grounded=False, extra={"missing": "money"})))
The closest passages in the documents do not give a price or amount for that, so I won't guess.
>>> because(Answer("", grounded=False)) is None
True
"""

from __future__ import annotations

from re3g.extract.answer_type import KIND_NAMES
from re3g.types import Answer

NO_KIND = "The closest passages in {corpus} do not give {what} for that, so I won't guess."
NO_THING = ("None of the documents in {corpus} mention {words}, so they do not say whether "
            "that is there or on offer.")
NO_THING_HERE = ("The closest document in {corpus}, {title}, does not mention {words}, so it "
                 "does not say whether that is there or on offer.")
NO_MORE = ("The best sentence I found in {corpus} is one I already gave you, so I won't give "
           "it again as an answer.")


def quoted(words: list[str] | tuple[str, ...]) -> str:
    """Words as a reply names them: "scooters", or "covid" or "boosters".

    >>> quoted(["paypal"]), quoted(["covid", "boosters"])
    ('"paypal"', '"covid" or "boosters"')
    """
    return " or ".join(f'"{w}"' for w in words)


def check_refused(answer: Answer) -> tuple[str, dict[str, str]] | None:
    """Which refusal check refused ``answer`` and what it found, read from ``Answer.extra``
    in one place for every wording of it (:func:`because`, the chat's evidence panel):
    ``("missing", {"what": ...})``, ``("absent_here", {"title": ..., "words": ...})``,
    ``("absent", {"words": ...})``, ``("repeated", {"how": "unsure" | "nothing new"})``; None
    when no check refused it (answered, or refused by the decision alone).

    >>> check_refused(Answer("", grounded=False, extra={"missing": "money"}))
    ('missing', {'what': 'a price or amount'})
    >>> check_refused(Answer("", grounded=False, extra={"absent": ["covid", "boosters"]}))
    ('absent', {'words': '"covid" or "boosters"'})
    """
    if answer.grounded:
        return None
    kind = answer.extra.get("missing")
    if kind in KIND_NAMES:
        return "missing", {"what": KIND_NAMES[kind]}
    absent = answer.extra.get("absent")
    where = answer.extra.get("absent_from")  # the quoted document, when only it lacks them
    if absent and where:
        return "absent_here", {"title": quoted([where]), "words": quoted(absent)}
    if absent:
        return "absent", {"words": quoted(absent)}
    if answer.extra.get("repeated"):
        return "repeated", {"how": str(answer.extra["repeated"])}
    return None


REPLY = {"missing": NO_KIND, "absent_here": NO_THING_HERE, "absent": NO_THING,
         "repeated": NO_MORE}
"""The reply's wording of each check's refusal (:func:`check_refused`)."""


def because(answer: Answer, corpus: str = "the documents") -> str | None:
    """The reply saying why a refusal check refused ``answer`` (its ``extra``'s ``missing``,
    ``absent`` with ``absent_from``, or ``repeated``), naming the documents as ``corpus``;
    None when no check refused it (the decision alone, or not refused).

    >>> because(Answer("", grounded=False, extra={"absent": ["parking"],
    ...                                           "absent_from": "Plots"}), "sample")[:62]
    'The closest document in sample, "Plots", does not mention "par'
    >>> because(Answer("", grounded=False, extra={"repeated": "unsure"}))[:47]
    'The best sentence I found in the documents is o'
    """
    found = check_refused(answer)
    if found is None:
        return None
    check, fields = found
    return REPLY[check].format(corpus=corpus, **fields)


def refused_reply(answer: Answer, abstain_reply: str) -> str:
    """The whole reply to refused ``answer``: :func:`because`, else ``abstain_reply``.

    >>> refused_reply(Answer("", grounded=False), "I could not find this.")
    'I could not find this.'
    """
    return because(answer) or abstain_reply
