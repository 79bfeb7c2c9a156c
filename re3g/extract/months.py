"""Whether a sentence's months take in a month the user names.

Seasonal tables give a row per stretch of the year ("Season: April to June", "Period: 1 June to
31 August", "Winter, October to March"), and a user names one month ("what times are the seal
trips in may?", "and in november?"). The month is not written in the right row, so neither the
user's words nor the reader point there ("may" is even a stop word), and the reader takes
another row or a sentence that names the month in passing. Of the answerable user turns of the
written training-side sets that name a month, 12 have a reference sentence whose months take it
in while the shipped reader shows another sentence (session 53).

:func:`asked_months` reads the months of a turn; :func:`takes_in_month` says whether a sentence
holds a stretch of months or a list of months that one of them falls in. The reader's
``month_weight`` term (:meth:`re3g.extract.extractor.SpanExtractor.select_ranges`) adds score
to a range that does, as ``number_weight`` does for numbers (:mod:`re3g.extract.numbers`).

    >>> asked_months("what times are the seal trips in may?")
    (5,)
    >>> takes_in_month((5,), "Season: April to June; Seal Point Circuit: 11:00 and 14:00 daily")
    True
    >>> takes_in_month((5,), "Season: September and October; Seal Point Circuit: 12:00")
    False
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_NUMBER = {**{name: i for i, name in enumerate(_NAMES, start=1)},
           **{name[:3]: i for i, name in enumerate(_NAMES, start=1) if name != "may"},
           "sept": 9}
"""Month names and the short forms pages and users write ("Oct-Mar", "tuesdays in feb")."""
_NOT_ASKED = frozenset({"may", "mar"})
"""Words read as a month in a page but not in a user's turn: "may" is the verb there unless
:data:`_MAY` says otherwise, "mar" a word of its own."""
_MONTH = r"\b(?:" + "|".join(sorted(_NUMBER, key=len, reverse=True)) + r")\b"
_MAY = re.compile(
    r"\b(?:in|of|during|for|until|till|from|by|early|mid|late|this|next|last|before|after|"
    r"since|\d{1,2}(?:st|nd|rd|th)?)\s+may\b|\bmay\s+\d{1,2}\b|\bmay\W*$", re.I)
""""may" as the month in a user's turn: after a preposition or a day number, before a day
number, or ending the turn ("and in may?"); elsewhere it is the verb ("may I bring ...")."""
_WORD = re.compile(r"[a-z]+", re.I)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_SPAN = re.compile(r"(?:" + _DAY + r"\s+)?(" + _MONTH + r")(?:\s+" + _DAY + r")?"
                   r"\s*(?:to|-|–|—|until|till|through)\s*(?:the\s+end\s+of\s+)?"
                   r"(?:" + _DAY + r"\s+)?(" + _MONTH + r")\b", re.I)
"""A stretch of months, ends included: "April to June", "1 June to 31 August", "Oct-Mar"."""
_LIST = re.compile(r"(" + _MONTH + r")((?:\s*,\s*" + _MONTH + r")*)\s*,?\s+(?:and|or)\s+("
                   + _MONTH + r")\b", re.I)
"""A list of months: "May and September", "June, July and August"."""


def asked_months(text: str) -> tuple[int, ...]:
    """The months ``text`` (a user's turn) names, as numbers 1-12 in order of first mention;
    "may" counts only where it is the month (:data:`_MAY`), "mar" not at all.

    >>> asked_months("r u open tuesdays in feb"), asked_months("and in May?")
    ((2,), (5,))
    >>> asked_months("may I bring my dog in August or September?")
    (8, 9)
    """
    found = [_NUMBER[w] for w in (m.group(0).lower() for m in _WORD.finditer(text or ""))
             if w in _NUMBER and w not in _NOT_ASKED]
    if _MAY.search(text or ""):
        found.append(5)
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=50_000)
def month_sets(text: str) -> tuple[frozenset[int], ...]:
    """The stretches and lists of months ``text`` holds, each as the set of months it covers;
    a stretch may run over the new year ("October to March").

    >>> [sorted(s) for s in month_sets("Winter, October to March; Summer: May and June")]
    [[1, 2, 3, 10, 11, 12], [5, 6]]
    """
    out = []
    for m in _SPAN.finditer(text):
        a, b = _NUMBER[m.group(1).lower()], _NUMBER[m.group(2).lower()]
        out.append(frozenset(range(a, b + 1)) if a <= b else
                   frozenset([*range(a, 13), *range(1, b + 1)]))
    for m in _LIST.finditer(text):
        middle = re.findall(_MONTH, m.group(2), re.I)
        out.append(frozenset(_NUMBER[w.lower()] for w in (m.group(1), *middle, m.group(3))))
    return tuple(out)


def takes_in_month(months: Sequence[int], text: str) -> bool:
    """Whether ``text`` holds a stretch or a list of months (:func:`month_sets`) that one of
    ``months`` falls in; a month named alone ("the water is 13 degrees in May") does not count.

    >>> takes_in_month((11,), "Season: Winter, October to March; Days open: Wednesday to Sunday")
    True
    >>> takes_in_month((5,), "The water is usually 13 to 15 degrees in May.")
    False
    >>> takes_in_month((5,), "Period: 1 May to 31 May; Monday to Friday: 07:00 to 09:00")
    True
    """
    return bool(months) and any(m in s for s in month_sets(text) for m in months)
