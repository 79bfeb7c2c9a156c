"""Synthetic topic shifts: two train dialogues over different documents joined at a turn boundary.

MultiDoc2Dial was built this way from doc2dial: the first dialogue's opening turns, then a second
dialogue over another document of the same domain. The turns right after the join are where a
user moves on, and where the ranking must leave the document the conversation was about.

    >>> from re3g.types import Dialogue, Turn
    >>> a = Dialogue("a", "dmv", [Turn(1, "user", "Hi"), Turn(2, "agent", "Hello"),
    ...                           Turn(3, "user", "Fees?"), Turn(4, "agent", "10 dollars")], "d1")
    >>> b = Dialogue("b", "dmv", [Turn(1, "user", "Renew?"), Turn(2, "agent", "Online.")], "d2")
    >>> joined, at = splice(a, b, 2)
    >>> joined.dial_id, at, [(t.turn_id, t.utterance) for t in joined.turns]
    ('a+b', 2, [(1, 'Hi'), (2, 'Hello'), (3, 'Renew?'), (4, 'Online.')])
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from re3g.types import Dialogue, Example


def agent_cuts(dialogue: Dialogue) -> list[int]:
    """Indices right after each agent turn that a user turn follows (where a join may go)."""
    turns = dialogue.turns
    return [i + 1 for i in range(len(turns) - 1)
            if turns[i].role == "agent" and turns[i + 1].role == "user"]


def splice(first: Dialogue, second: Dialogue, cut: int) -> tuple[Dialogue, int]:
    """``first``'s turns before index ``cut`` then all of ``second``'s, turn ids renumbered from
    1; returns the joined dialogue and the index of its first turn from ``second``."""
    if not 0 < cut <= len(first.turns):
        raise ValueError(f"cut {cut} outside dialogue {first.dial_id} ({len(first.turns)} turns)")
    turns = [replace(t, turn_id=i) for i, t in
             enumerate(list(first.turns[:cut]) + list(second.turns), start=1)]
    return Dialogue(f"{first.dial_id}+{second.dial_id}", second.domain, turns,
                    second.doc_id), cut


def spliced_dialogues(dialogues: Sequence[Dialogue], seed: int = 0, min_turns: int = 2
                      ) -> list[tuple[Dialogue, int]]:
    """One joined dialogue per dialogue of ``dialogues`` (as the second part), its first part
    drawn with ``seed`` among dialogues of the same domain over another document and cut after
    one of its agent turns (at least ``min_turns`` turns kept); dialogues with no partner are
    skipped."""
    rng = random.Random(seed)
    by_domain: dict[str, list[Dialogue]] = {}
    for d in dialogues:
        if d.doc_id:
            by_domain.setdefault(d.domain, []).append(d)
    out = []
    for second in dialogues:
        partners = [d for d in by_domain.get(second.domain, [])
                    if d.doc_id != second.doc_id and d.dial_id != second.dial_id]
        if not partners or not second.doc_id:
            continue
        first = rng.choice(partners)
        cuts = [c for c in agent_cuts(first) if c >= min_turns]
        if cuts:
            out.append(splice(first, second, rng.choice(cuts)))
    return out


def shift_examples(examples: Sequence[Example], joins: dict[str, int], after: int = 2
                   ) -> list[Example]:
    """The examples of joined dialogues (``joins``: dialogue id -> index of the join) whose
    user turn is one of the first ``after`` user turns after the join."""
    out = []
    for e in examples:
        at = joins.get(e.dial_id)
        if at is None:
            continue
        users = sum(1 for t in e.history[at:] if t.role == "user")
        if len(e.history) > at and 1 <= users <= after:
            out.append(e)
    return out
