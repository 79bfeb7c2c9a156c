"""The dialogue a user gives, checked and turned into a retrieval query.

- :func:`clean_turn_text` and :func:`normalize_history`: the input rules (roles, decoding,
  control characters, length caps) every entry point applies;
- :func:`build_query`: the current user utterance, then earlier turns newest first
  (MultiDoc2Dial convention), capped in words.

**Plain strings.** A list of plain strings is read as alternating turns *starting with the
user*: user, agent, user, ... The question is the last user turn; an agent turn after it (a
list with an even number of strings) is not part of the dialogue to answer and is dropped.
``["How much is it?", "It costs 5 dollars."]`` is therefore the user's question "How much is
it?" followed by an agent reply, never an agent turn followed by the question "It costs 5
dollars.". To say who spoke explicitly, pass ``{"role": "user" | "agent", "content": ...}``
messages or :class:`~re3g.types.Turn` objects; their roles are taken as given.

    >>> turns, cut = normalize_history(["How much is a day pass?", "8 dollars.", "And monthly?"])
    >>> build_query(turns, roles="user")
    'And monthly? || How much is a day pass?'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from re3g.config import QUERY_ROLES, Config
from re3g.data.passages import span_text
from re3g.data.words import content_stems, joined_stems, new_stems
from re3g.errors import QueryError
from re3g.types import Turn

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ROLES = {"user": "user", "human": "user", "agent": "agent", "assistant": "agent",
         "bot": "agent", "system": "agent"}
MAX_TURN_CHARS = Config.max_turn_chars


def plain_string_roles(n: int) -> list[str]:
    """The roles of ``n`` plain-string turns: alternating, starting with the user.

    >>> plain_string_roles(3), plain_string_roles(2)
    (['user', 'agent', 'user'], ['user', 'agent'])
    """
    return ["user" if i % 2 == 0 else "agent" for i in range(n)]


def _question_end(roles: Sequence[str]) -> int:
    """How many plain-string turns make the dialogue to answer: up to the last user turn."""
    return max((i + 1 for i, r in enumerate(roles) if r == "user"), default=0)


def build_query(
    history: Sequence[Turn | str],
    max_words: int = Config.query_max_words,
    max_turns: int | None = None,
    sep: str = " || ",
    roles: str = "all",
) -> str:
    """Current user utterance first, then earlier turns newest first, capped at ``max_words``.

    ``history`` ends with the current user turn; the agent turn being predicted is never part of
    it. Plain strings are accepted and read as alternating turns starting with the user (see the
    module doc); an agent string after the last user string is dropped. ``roles="user"`` keeps
    only the user's turns (the pipeline's default: its own earlier replies must not pull
    retrieval back to the passage it already quoted).

    >>> from re3g.types import Turn
    >>> build_query([Turn(1, "user", "Hi"), Turn(2, "agent", "Hello"), Turn(3, "user", "Fees?")])
    'Fees? || Hello || Hi'
    """
    if roles not in QUERY_ROLES:
        raise ValueError(f'roles must be "all" or "user", got {roles!r}')
    plain = plain_string_roles(len(history))
    if history and not any(isinstance(t, Turn) for t in history):  # plain strings
        history = list(history)[:_question_end(plain)]
    if roles == "user":
        history = [t for i, t in enumerate(history)
                   if (t.role == "user" if isinstance(t, Turn) else plain[i] == "user")]
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


def clean_turn_text(text: str | bytes | None, max_chars: int = MAX_TURN_CHARS) -> tuple[str, bool]:
    """Decode, drop control characters and cut to ``max_chars``; returns (text, was_cut).

    >>> clean_turn_text(b"caf\\xe9 ok")
    ('caf\\ufffd ok', False)
    >>> clean_turn_text("a b c d", max_chars=4)
    ('a b', True)
    """
    if text is None:
        return "", False
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        raise QueryError(f"a dialogue turn must be text, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable command-line bytes)
        try:
            raw = text.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", errors="replace")
        text = raw.decode("utf-8", errors="replace")
    text = _CONTROL.sub("", text)
    cut = False
    if len(text) > max_chars:
        head = text[:max_chars]
        space = max(head.rfind(" "), head.rfind("\n"))
        text = head[:space] if space > max_chars // 2 else head
        cut = True
    return text, cut


def normalize_history(history: Any, max_chars: int = MAX_TURN_CHARS
                      ) -> tuple[list[Turn], list[int]]:
    """The dialogue as checked Turns and the indices of turns that were cut.

    A list of plain strings alternates user, agent, ... starting with the user; the question is
    the last user turn, and an agent string after it is dropped (see the module doc). Turns and
    ``{"role", "content"}`` messages keep their roles; the last one must be the user's.

    >>> turns, cut = normalize_history(["Hi", "Hello, how can I help?", "Fees?"])
    >>> [t.role for t in turns], cut
    (['user', 'agent', 'user'], [])
    >>> turns, _ = normalize_history(["How much is it?", "It costs 5 dollars."])
    >>> [(t.role, t.utterance) for t in turns]
    [('user', 'How much is it?')]
    """
    if isinstance(history, (str, bytes, bytearray)):
        history = [history]
    if history is None or isinstance(history, Mapping) or not isinstance(history, Sequence):
        raise QueryError("the dialogue must be a text or a list of turns, got "
                         f"{type(history).__name__}")
    if len(history) == 0:
        raise QueryError("the dialogue is empty: give at least one user turn")
    plain = plain_string_roles(len(history))
    if all(isinstance(t, (str, bytes, bytearray)) or t is None for t in history):
        history = list(history)[:_question_end(plain)]
    turns: list[Turn] = []
    cut: list[int] = []
    for i, item in enumerate(history):
        if isinstance(item, Turn):
            role, text, refs, tid = item.role, item.utterance, item.references, item.turn_id
        elif isinstance(item, Mapping):
            role = str(item.get("role", "")).lower()
            text = item.get("content", item.get("utterance"))
            refs, tid = [], i + 1
        else:  # plain strings alternate, starting with the user
            role = plain[i]
            text, refs, tid = item, [], i + 1
        if role not in ROLES:
            raise QueryError(f"turn {i + 1} has unknown role {role!r}; use 'user' or 'agent'")
        clean, was_cut = clean_turn_text(text, max_chars)
        if was_cut:
            cut.append(i)
        turns.append(Turn(tid, ROLES[role], clean, list(refs)))
    last = turns[-1]
    if last.role != "user":
        raise QueryError(f"the last turn of the dialogue must be a user turn, found role "
                         f"{last.role!r}")
    if not (last.utterance or "").strip():
        raise QueryError("the last user turn is empty")
    return turns, cut


def earlier_user(turns: Sequence[Turn]) -> str:
    """The user's turn before the last one of ``turns`` ("" when there is none): what a
    follow-up leaves as it was.

    >>> turns, _ = normalize_history(["blue and steady?", "It is charging.", "and flashing?"])
    >>> earlier_user(turns)
    'blue and steady?'
    >>> earlier_user(turns[:1])
    ''
    """
    users = [t.utterance or "" for t in turns if t.role == "user"]
    return users[-2] if len(users) > 1 else ""


def said_before(text: str, turns: Sequence[Turn]) -> bool:
    """Whether an agent turn of ``turns`` already holds ``text`` (case and spacing aside): the
    sentence a reply would quote was given earlier in the conversation.

    >>> turns, _ = normalize_history(["Fees?", "A day pass costs 8 dollars.  Ask at the desk.",
    ...                               "And for members?"])
    >>> said_before("a day pass  costs 8 dollars.", turns), said_before("Members ride free.", turns)
    (True, False)
    """
    wanted = span_text(text).lower()
    return bool(wanted) and any(
        t.role == "agent" and wanted in span_text(t.utterance or "").lower() for t in turns)


def adds_nothing(text: str, turns: Sequence[Turn]) -> bool:
    """Whether the sentence ``text`` holds none of the content stems that the last turn of
    ``turns`` newly asks (:func:`re3g.data.words.new_stems` against the earlier user turns):
    a reply quoting it would say nothing of what the user asks now. False when the turn asks
    no new word ("So for both of them?"). Hyphenated words of ``text`` count joined too.

    >>> turns, _ = normalize_history(["Cancellation rule?", "Cancel 4 hours before the start.",
    ...                               "And if I just don't turn up?"])
    >>> adds_nothing("Cancel 4 hours before the start.", turns)
    True
    >>> turns, _ = normalize_history(["Boats on New Year's Day?", "No boats on 1 January or 31 "
    ...                               "December.", "And on 31 December?"])
    >>> adds_nothing("No boats on 1 January or 31 December.", turns)
    False
    >>> adds_nothing("E-bikes need a removed battery.", normalize_history(["ebike ok?"])[0])
    False
    """
    asked = new_stems(turns[-1].utterance or "",
                      [t.utterance or "" for t in turns[:-1] if t.role == "user"])
    if not asked:
        return False
    return not asked & (content_stems(text) | joined_stems(text))
