"""Who said what in a dialogue given as plain strings (issue 18, item E).

A list of plain strings alternates user, agent, ... starting with the user; the question is
the last user turn. Explicit roles are taken as given.
"""

from __future__ import annotations

import pytest

from re3g.cli.ask import ask_history
from re3g.data.query import build_query, normalize_history
from re3g.errors import QueryError
from re3g.types import Turn


def test_two_plain_strings_are_the_user_then_the_agent():
    turns, _ = normalize_history(["How much is it?", "It costs 5 dollars."])
    assert [(t.role, t.utterance) for t in turns] == [("user", "How much is it?")]
    # the question is the user's, never the agent's sentence
    assert build_query(["How much is it?", "It costs 5 dollars."]) == "How much is it?"


def test_odd_lists_alternate_from_the_user():
    turns, _ = normalize_history(["Day pass?", "8 dollars.", "And monthly?"])
    assert [t.role for t in turns] == ["user", "agent", "user"]
    assert build_query(["Day pass?", "8 dollars.", "And monthly?"], roles="user") == \
        "And monthly? || Day pass?"


def test_explicit_roles_are_kept():
    msgs = [{"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "How much is it?"}]
    turns, _ = normalize_history(msgs)
    assert [(t.role, t.utterance) for t in turns] == [("agent", "Hello, how can I help?"),
                                                      ("user", "How much is it?")]
    with pytest.raises(QueryError, match="must be a user turn"):
        normalize_history([{"role": "user", "content": "How much is it?"},
                           {"role": "agent", "content": "It costs 5 dollars."}])
    turns = [Turn(1, "agent", "Hi"), Turn(2, "user", "Fees?")]
    assert build_query(turns, roles="user") == "Fees?"


def test_a_lone_agent_string_is_not_a_question():
    with pytest.raises(QueryError):
        normalize_history(["", "It costs 5 dollars."])


@pytest.mark.parametrize("earlier,roles", [
    ([], ["user"]),
    (["How much is a day pass?"], ["user", "user"]),
    (["How much is a day pass?", "8 dollars."], ["user", "agent", "user"]),
])
def test_ask_command_history_has_explicit_roles(earlier, roles):
    history = ask_history(earlier, "And monthly?", 1000)
    assert [m["role"] for m in history] == roles
    turns, _ = normalize_history(history)
    assert turns[-1].utterance == "And monthly?" and turns[-1].role == "user"
