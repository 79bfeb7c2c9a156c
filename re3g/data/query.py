"""Build a retrieval query from a dialogue history (MultiDoc2Dial convention)."""

from __future__ import annotations

from collections.abc import Sequence

from re3g.errors import QueryError
from re3g.types import Turn


def build_query(
    history: Sequence[Turn | str],
    max_words: int = 96,
    max_turns: int | None = None,
    sep: str = " || ",
    roles: str = "all",
) -> str:
    """Current user utterance first, then earlier turns newest first, capped at ``max_words``.

    ``history`` ends with the current user turn; the agent turn being predicted is never part of
    it. Plain strings are accepted and read as alternating turns ending with the user.
    ``roles="user"`` keeps only the user's turns (the pipeline's default: its own earlier
    replies must not pull retrieval back to the passage it already quoted).

    >>> from re3g.types import Turn
    >>> build_query([Turn(1, "user", "Hi"), Turn(2, "agent", "Hello"), Turn(3, "user", "Fees?")])
    'Fees? || Hello || Hi'
    """
    if roles not in ("all", "user"):
        raise ValueError(f'roles must be "all" or "user", got {roles!r}')
    if roles == "user":
        n = len(history)
        history = [t for i, t in enumerate(history)
                   if (t.role == "user" if isinstance(t, Turn) else (n - 1 - i) % 2 == 0)]
    texts = [(t.utterance if isinstance(t, Turn) else t) or "" for t in history]
    texts = [t.strip() for t in texts]
    if not texts or not texts[-1]:
        raise QueryError("the dialogue is empty or its last turn has no text")
    if max_turns is not None:
        texts = texts[-max_turns:]
    parts: list[str] = []
    budget = max_words
    for text in reversed(texts):
        if not text:
            continue
        words = text.split()
        if budget <= 0:
            break
        if len(words) > budget:
            words = words[:budget]
        parts.append(" ".join(words))
        budget -= len(words)
    return sep.join(parts)
