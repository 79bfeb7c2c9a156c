"""The chat's feedback file (JSON lines) read back as dialogues, so corrections become test
and training data.

Each line of the chat's ``feedback.jsonl`` (written by ``re3g_app.feedback``) holds a question,
the conversation before it, the reply, its evidence and citations, and the user's choice:
``up`` (the reply was right), ``down`` (it was not) or ``passage`` (this passage is the right
one). Each usable choice becomes one dialogue in the doc2dial shape: the history as
alternating user and agent turns, the question, and an agent turn whose references are

- ``passage``: the spans of the reply's evidence inside the chosen passage (the reply is the
  agent's utterance), else the passage's own spans (no utterance: only grounding is judged);
- ``up``: the spans the reply cited (else all its evidence spans), with the reply.

A thumbs down alone does not say what the right answer is, so it makes no dialogue. When one
reply got several choices, "passage" wins over "up" and "down", and a later choice over an
earlier one. :func:`re3g.data.dialdoc.load_dialogues` reads a ``.jsonl`` file through
:func:`load_feedback`, so ``re3g evaluate --dialogues feedback.jsonl`` works as is;
:func:`to_dial_data` writes the MultiDoc2Dial JSON shape for other tools.

    >>> rec = {"question": "How much is a day pass?", "history": [], "corpus": "sample",
    ...        "reply": "A day pass costs 8 dollars.", "time": 1.0, "session": "s1",
    ...        "evidence": [{"doc_id": "fees", "span_ids": ["4"], "start": 10, "end": 37}],
    ...        "citations": [], "choice": {"kind": "up"}}
    >>> [d] = feedback_dialogues([rec])
    >>> [(t.role, t.utterance, [r.span_id for r in t.references]) for t in d.turns]
    [('user', 'How much is a day pass?', []), ('agent', 'A day pass costs 8 dollars.', ['4'])]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from re3g.errors import DataError
from re3g.types import Dialogue, Reference, Turn

DOMAIN = "feedback"
_RANK = {"down": 0, "up": 1, "passage": 2}


def read_feedback(path: str | Path, problems: list[str] | None = None) -> list[dict[str, Any]]:
    """The records of a feedback file, in order. A line that is not a JSON object is a
    DataError naming the file and line; given ``problems``, it is skipped and reported there
    instead."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    out: list[dict[str, Any]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            message = f"{p}: line {n} is not a feedback record ({exc})"
            if problems is None:
                raise DataError(message) from exc
            problems.append(message)
            continue
        out.append(record)
    return out


def _key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(record.get("session", "")), str(record.get("time", "")),
            str(record.get("question", "")), str(record.get("reply", "")))


def latest_choices(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per reply: "passage" over "up" over "down", later over earlier."""
    chosen: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in records:
        key = _key(r)
        kind = str((r.get("choice") or {}).get("kind", ""))
        old = chosen.get(key)
        old_kind = str((old.get("choice") or {}).get("kind", "")) if old else ""
        if old is None or _RANK.get(kind, -1) >= _RANK.get(old_kind, -1):
            chosen[key] = r
    return list(chosen.values())


def _refs(spans: Iterable[dict[str, Any]]) -> list[Reference]:
    seen: list[Reference] = []
    for s in spans:
        for sid in s.get("span_ids") or []:
            ref = Reference(str(s.get("doc_id", "")), str(sid))
            if ref.doc_id and ref not in seen:
                seen.append(ref)
    return seen


def _grounding(record: dict[str, Any]) -> tuple[list[Reference], str | None]:
    """(references, agent utterance) of a record's choice; no references: not usable."""
    choice = record.get("choice") or {}
    kind = choice.get("kind")
    evidence = [e for e in record.get("evidence") or [] if isinstance(e, dict)]
    reply = record.get("reply") or None
    if kind == "passage" and isinstance(choice.get("passage"), dict):
        p = choice["passage"]
        inside = [e for e in evidence if e.get("doc_id") == p.get("doc_id")
                  and int(p.get("start", 0)) <= int(e.get("start", -1)) < int(p.get("end", 0))]
        if inside:
            return _refs(inside), reply
        return _refs([p]), None
    if kind == "up" and record.get("grounded", True) is not False:
        cited = [c for c in record.get("citations") or [] if isinstance(c, dict)]
        return _refs(cited or evidence), reply
    return [], None


def _history_turns(history: list[Any]) -> list[Turn]:
    roles = ("user", "agent")
    return [Turn(i + 1, roles[i % 2], str(text)) for i, text in enumerate(history)]


def feedback_dialogues(records: Iterable[dict[str, Any]]) -> list[Dialogue]:
    """The usable choices of ``records`` as doc2dial-shaped dialogues (see the module doc)."""
    out: list[Dialogue] = []
    for record in latest_choices(records):
        refs, utterance = _grounding(record)
        question = str(record.get("question") or "").strip()
        if not refs or not question:
            continue
        history = list(record.get("history") or [])
        turns = _history_turns(history[: len(history) // 2 * 2])
        turns.append(Turn(len(turns) + 1, "user", question))
        turns.append(Turn(len(turns) + 1, "agent", utterance, refs))
        dial_id = "feedback-" + hashlib.sha256(repr(_key(record)).encode()).hexdigest()[:12]
        out.append(Dialogue(dial_id, DOMAIN, turns, refs[0].doc_id))
    return out


def load_feedback(path: str | Path, problems: list[str] | None = None) -> list[Dialogue]:
    """The dialogues of a chat feedback file (``feedback.jsonl``)."""
    dialogues = feedback_dialogues(read_feedback(path, problems))
    if not dialogues:
        raise DataError(f"{path}: no usable feedback (only thumbs up on grounded replies and "
                        "'right passage' choices become dialogues)")
    return dialogues


def to_dial_data(dialogues: Iterable[Dialogue]) -> dict[str, Any]:
    """The MultiDoc2Dial ``dial_data`` JSON shape of ``dialogues`` (readable by
    :func:`re3g.data.dialdoc.load_dialogues`)."""
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for d in dialogues:
        by_domain.setdefault(d.domain, []).append({
            "dial_id": d.dial_id, "doc_id": d.doc_id, "domain": d.domain,
            "turns": [{"turn_id": t.turn_id, "role": t.role, "utterance": t.utterance,
                       "references": [{"doc_id": r.doc_id, "id_sp": r.span_id}
                                      for r in t.references]} for t in d.turns]})
    return {"dial_data": by_domain}
