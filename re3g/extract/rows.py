"""Which row of the passages read the user names, read from their last turn and the one before.

Rows of a table (and labelled items: error codes, list entries) read alike to the reader and
the encoder, and their *text* often repeats the question's other words ("the dehumidifier is
drying the air" for "what does amber flashing mean on the dehumidifier"), so the row whose
text says more of the question outscores the row whose *name* the user gave. The key term
(``key_weight``, :func:`re3g.data.words.key_share`) counts a share of each row's name and so
cannot tell "the one row named in full" from "several rows named in half". A follow-up
moreover names only what changes: "and if it's flashing?" after "blue and steady", "and
fast?" after "red flashing slowly".

:func:`named_key` reads the one row the user names: the largest row name all of whose words
are in the last turn, when it has at least :data:`FULL_NAME_STEMS` words; else, when the last
turn names no row in full, the largest row name all of whose words are in the last turn and the
one before together and which holds a word of the last turn (a follow-up says what changes). A
tie names nothing, and a negated word (:func:`re3g.data.words.negated_stems`) names nothing.
A one-word row name said in the last turn is left to the key term: session 54's gate R added
score to it too, and on held-out two-part questions ("I got red wine down a cream silk dress
... and what will it cost?") the "Dress" price row took the pick from the prose that answers.

A row named is not always the answer ("what temperature is the main pool?" names the row "Main
pool", whose cells give its depth, while a sentence below gives the temperature), so
:func:`row_answers` also asks that the row hold what the turn asks: the turn's other words are
found in the row's other cells, or the turn asks a kind of answer (money, a time ...:
:mod:`re3g.extract.answer_type`) the row holds, or the turn says nothing besides the row's name.
The reader's ``named_weight`` term (:meth:`re3g.extract.extractor.SpanExtractor.select_ranges`)
adds score to a range that holds the row named when it answers.

    >>> rows = ["Light: Blue, steady; Means: set humidity reached",
    ...         "Light: Blue, flashing; Means: the dehumidifier is drying the air",
    ...         "Light: Red, flashing slowly; Means: defrosting",
    ...         "Light: Red, flashing fast; Means: sensor failed"]
    >>> sorted(named_key("my light is blue and steady, what does it mean?", "", rows))
    ['blue', 'steadi']
    >>> named_key("is it red?", "", ["Colour: Red; Means: hot", "Colour: Blue; Means: cold"])
    >>> sorted(named_key("and if its flashing?", "my light is blue and steady", rows))
    ['blue', 'flash']
    >>> sorted(named_key("and fast?", "what about red flashing slowly?", rows))
    ['fast', 'flash', 'red']
    >>> named_key("is it flashing?", "", rows) is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from re3g.data.ingest.table import row_cells, row_fields
from re3g.data.words import content_stems, key_stems, negated_stems
from re3g.extract.answer_type import asked_type, holds_type


def _most_specific(keys: Iterable[frozenset[str]]) -> frozenset[str] | None:
    found = set(keys)
    if not found:
        return None
    size = max(len(k) for k in found)
    top = [k for k in found if len(k) == size]
    return top[0] if len(top) == 1 else None


FULL_NAME_STEMS = 2
"""The fewest content stems a row name needs for the last turn alone to name it: a one-word
name ("Dress", "Coat") is a word users say in passing ("red wine down a cream silk dress ...
and what will it cost?"), a name of two words or more ("Amber, flashing") is one they name
on purpose (session 55)."""


def named_key(current: str, previous: str, texts: Iterable[str]) -> frozenset[str] | None:
    """The content stems of the one row name (:func:`re3g.data.words.key_stems`) among
    ``texts`` that the user's last turn ``current`` names, read with their turn before,
    ``previous`` ("" for none), in the order the module doc gives; None when they name no
    one row."""
    negated = negated_stems(current) | negated_stems(previous)
    now = content_stems(current) - negated
    if not now:
        return None
    keys = {k for k in map(key_stems, texts) if k}
    full = [k for k in keys if k <= now]
    if full:  # the turn names a row itself
        named = _most_specific(full)
        return named if named is not None and len(named) >= FULL_NAME_STEMS else None
    if not previous:
        return None
    before = content_stems(previous) - negated
    return _most_specific(k for k in keys if k <= now | before and k & now)


def row_answers(current: str, text: str) -> bool:
    """Whether the row ``text`` holds what the user's turn ``current`` asks besides the row's
    name: its other words are found in the row's other cells, or it asks a kind of answer the
    row holds (:func:`re3g.extract.answer_type.asked_type`), or it has no other words.

    >>> row = "Area: Main pool; Depth: 1 to 2 metres; Who can use it: swimmers"
    >>> row_answers("what temperature is the main pool?", row)
    False
    >>> row_answers("is the main pool heated?", row), row_answers("and the main pool?", row)
    (False, True)
    >>> row_answers("main pool depth?", row)
    True
    """
    rest = content_stems(current) - key_stems(text)
    if not rest:
        return True
    kind = asked_type(current)
    if kind is not None and holds_type(kind, text):
        return True
    return bool(rest & content_stems(row_cells(text)))


_ORDER_WORDS = frozenset({"first", "last", "next", "before", "after"})
"""Stop words that tell a table's columns apart ("First train", "Last train")."""


def _label_stems(text: str) -> frozenset[str]:
    """Content stems of ``text`` with the order words (:data:`_ORDER_WORDS`) kept."""
    return content_stems(text) | (set(re.findall(r"[a-z]+", text.lower())) & _ORDER_WORDS)


def asked_cell(current: str, text: str) -> tuple[str, str] | None:
    """The one cell of the table row ``text`` (:func:`re3g.data.ingest.table.row_fields`) whose
    label holds the most content words of the user's turn ``current``, as (label, value), among
    the cells holding a price when the turn asks "how much"
    (:func:`re3g.extract.answer_type.asked_type`). None when no label holds one, two labels
    tie, the row has a single labelled cell (the row is then the answer), or the turn asks
    another kind of answer: "what time is the last train in august?" names "train", which the
    label "Days trains run" holds rather than the departures asked, so a time, date or number
    is left to the whole row. The chat names it under a reply that quotes a whole row (session
    56's person test: "how much is a family return?" got the row with every fare).

    >>> row = "Ticket: Return; Adult: 18 pounds; Child (5 to 15): 9 pounds; Family: 48 pounds"
    >>> asked_cell("how much is a family return?", row)
    ('Family', '48 pounds')
    >>> asked_cell("how much is a return?", row) is None
    True
    >>> asked_cell("last train on sunday?", "Day: Sunday; First train: 10:00; Last train: 16:30")
    ('Last train', '16:30')
    >>> asked_cell("how much for the child?", "Ticket: Single; Child (5 to 15): 5 pounds; "
    ...            "Child under 5: free; Adult: 11 pounds") is None  # which child: a tie
    True
    >>> asked_cell("what time is the last train in august?",
    ...            "Season: August; Days trains run: every day; Departures: 10:00 and 16:00")
    """
    fields = row_fields(text)
    kind = asked_type(current)
    if len(fields) < 2 or kind not in (None, "money"):
        return None
    if kind is not None:  # "how much": only a cell holding a price answers it
        fields = [(label, value) for label, value in fields if holds_type(kind, value)]
    asked = _label_stems(current)
    shares = [len(asked & _label_stems(label)) for label, _ in fields]
    best = max(shares, default=0)
    return fields[shares.index(best)] if best and shares.count(best) == 1 else None
