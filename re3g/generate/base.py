"""The generator interface and the helpers every backend shares (history checks, input text)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from re3g.config import Config
from re3g.errors import QueryError
from re3g.types import Evidence, Hit, Turn

MAX_TURN_CHARS = Config.max_turn_chars  # a longer user turn is cut before any model


@runtime_checkable
class Generator(Protocol):
    """Writes the agent's reply from the dialogue, the selected evidence and the ranked passages.

    ``history`` ends with the current user turn. ``stream`` yields the reply in pieces as the
    backend produces them; a backend that cannot stream yields the whole reply once.

    >>> from re3g.generate import make_generator
    >>> from re3g.types import Evidence, Turn
    >>> gen = make_generator("extractive")
    >>> ev = [Evidence("d1", "Fees", "The fee is $25 a year. ", 0, 23, ["3"])]
    >>> gen.generate([Turn(1, "user", "How much is it?")], ev, [])
    'The fee is $25 a year.'
    >>> "".join(gen.stream([Turn(1, "user", "How much is it?")], ev, []))
    'The fee is $25 a year.'
    """

    def generate(self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]) -> str:
        """Return the whole reply."""
        ...

    def stream(
        self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]
    ) -> Iterator[str]:
        """Yield the reply in pieces (their concatenation is the reply)."""
        ...


def check_history(history: Sequence[Turn]) -> list[Turn]:
    """Validate a dialogue history: non-empty, ends with a user turn that has text.

    Raises QueryError with a message saying what is wrong.

    >>> check_history([Turn(1, "user", "hi")])[0].utterance
    'hi'
    """
    if not history:
        raise QueryError("the dialogue is empty: give at least one user turn")
    last = history[-1]
    if not isinstance(last, Turn):
        raise QueryError(f"dialogue turns must be re3g.types.Turn, found {type(last).__name__}")
    if last.role != "user":
        raise QueryError(
            f"the last turn of the dialogue must be a user turn, found role {last.role!r}"
        )
    if not (last.utterance or "").strip():
        raise QueryError("the last user turn has no text")
    return list(history)


def clean_text(text: str) -> str:
    """Collapse whitespace (doc2dial spans carry newlines and trailing blanks).

    >>> clean_text("\\n\\nHow to apply \\n")
    'How to apply'
    """
    return " ".join(text.split())


def strip_leading(pieces: Iterable[str]) -> Iterator[str]:
    """A streamed reply without the white space models put before it (empty pieces dropped
    until the text starts).

    >>> list(strip_leading(["", " \\n", "  The fee", " is $25."]))
    ['The fee', ' is $25.']
    """
    first = True
    for piece in pieces:
        if first:
            piece = piece.lstrip()
        if piece:
            first = False
            yield piece


def order_evidence(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Evidence in reading order: documents in order of first appearance, spans by offset.

    Exact duplicates and spans contained in an earlier span of the same document are dropped.

    >>> a = Evidence("d", "T", "second", 10, 16, ["2"])
    >>> b = Evidence("d", "T", "first", 0, 5, ["1"])
    >>> [e.text for e in order_evidence([a, b, a])]
    ['first', 'second']
    """
    by_doc: dict[str, list[Evidence]] = {}
    for ev in evidence:
        by_doc.setdefault(ev.doc_id, []).append(ev)
    out: list[Evidence] = []
    for items in by_doc.values():
        kept: list[Evidence] = []
        for ev in sorted(items, key=lambda e: (e.start, -e.end)):
            if any(k.start <= ev.start and ev.end <= k.end for k in kept):
                continue
            kept.append(ev)
        out.extend(kept)
    return out


def evidence_text(evidence: Sequence[Evidence]) -> str:
    """The evidence spans joined in reading order, whitespace collapsed.

    >>> evidence_text([Evidence("d", "T", " b ", 5, 8, []), Evidence("d", "T", "a", 0, 1, [])])
    'a b'
    """
    parts = (clean_text(e.text) for e in order_evidence(evidence))
    return " ".join(p for p in parts if p)


def history_text(history: Sequence[Turn], max_turns: int = 6) -> str:
    """The current user turn, then earlier turns newest first (the MultiDoc2Dial query).

    Very long turns are cut to ``MAX_TURN_CHARS`` characters.

    >>> history_text([Turn(1, "user", "Hi"), Turn(2, "agent", "Hello"), Turn(3, "user", "Fee?")])
    'Fee? || agent: Hello || user: Hi'
    """
    turns = [t for t in history if (t.utterance or "").strip()][-max_turns:]
    parts: list[str] = []
    for i, t in enumerate(reversed(turns)):
        text = clean_text((t.utterance or "")[:MAX_TURN_CHARS])
        parts.append(text if i == 0 else f"{t.role}: {text}")
    return " || ".join(parts)


def seq2seq_input(
    history: Sequence[Turn],
    evidence: Sequence[Evidence],
    passages: Sequence[Hit] = (),
    max_passages: int = 3,
) -> str:
    """The Re3G generator input: query, then the extracted spans, then the top passages.

    The most important parts come first, so truncation to the model's maximum input length
    drops passage text before it touches the query or the spans.

    >>> seq2seq_input([Turn(1, "user", "Fee?")], [Evidence("d", "Fees", "It is $25.", 0, 9, [])])
    'question: Fee? evidence: It is $25.'
    """
    parts = [f"question: {history_text(history)}"]
    spans = evidence_text(evidence)
    if spans:
        parts.append(f"evidence: {spans}")
    for hit in list(passages)[:max_passages]:
        p = hit.passage
        title = clean_text(p.title)
        body = clean_text(p.text)
        parts.append(f"passage: {title}: {body}" if title else f"passage: {body}")
    return " ".join(parts)
