"""Readers for the doc2dial and MultiDoc2Dial official JSON files.

Both share ``{"doc_data": {domain: {doc_id: doc}}}`` for documents. Dialogues come as
``{"dial_data": {domain: {doc_id: [dialogue]}}}`` (doc2dial) or ``{"dial_data": {domain:
[dialogue]}}`` (MultiDoc2Dial). Optional fields of the official files (tag, parent_titles,
id_sec, doc_html_*, da) are ignored when present and never required.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from re3g.errors import DataError
from re3g.types import Dialogue, Document, Example, Reference, Span, Turn


def read_json(path: str | Path) -> Any:
    """Read a JSON file, turning I/O and syntax problems into a DataError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise DataError(f"{p}: file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{p}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc


def _need(obj: Any, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object, found {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"{where}: missing key {key!r}")
    val = obj[key]
    if not isinstance(val, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DataError(f"{where}.{key}: expected {names}, found {type(val).__name__}")
    return val


def is_heading(text: str) -> bool:
    """doc2dial marks section titles as spans whose text starts with a blank line."""
    return text.startswith("\n")


def parse_document(raw: Any, where: str, domain: str = "") -> Document:
    """Build a Document from one official doc record; ``where`` names it in errors."""
    doc_id = str(_need(raw, "doc_id", where, (str, int)))
    text = _need(raw, "doc_text", where, str)
    title = raw.get("title") or doc_id
    spans_raw = raw.get("spans", {})
    if isinstance(spans_raw, list):
        items = [(str(s.get("id_sp", i)) if isinstance(s, dict) else str(i), s)
                 for i, s in enumerate(spans_raw)]
    elif isinstance(spans_raw, dict):
        items = list(spans_raw.items())
    else:
        raise DataError(f"{where}.spans: expected an object or list")
    spans: list[Span] = []
    for key, s in items:
        sw = f"{where}.spans[{key}]"
        start = _need(s, "start_sp", sw, int)
        end = _need(s, "end_sp", sw, int)
        if not 0 <= start <= end <= len(text):
            raise DataError(f"{sw}: offsets {start}..{end} outside doc_text (length {len(text)})")
        sid = str(s.get("id_sp", key))
        span_text = text[start:end]
        spans.append(Span(sid, start, end, span_text, is_heading(span_text)))
    spans.sort(key=lambda s: (s.start, s.end))
    if not spans and text.strip():
        spans = [Span("1", 0, len(text), text, False)]
    return Document(doc_id, str(title), text, str(raw.get("domain") or domain), spans)


def load_documents(path: str | Path) -> dict[str, Document]:
    """Load every document of a doc2dial/MultiDoc2Dial ``doc_data`` file, keyed by doc id.

    >>> import json, pathlib, tempfile
    >>> doc = {"doc_id": "d1", "title": "Fees", "doc_text": "The fee is $25. Pay online.",
    ...        "spans": {"1": {"id_sp": "1", "start_sp": 0, "end_sp": 15},
    ...                  "2": {"id_sp": "2", "start_sp": 16, "end_sp": 27}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "doc2dial_doc.json")
    ...     _ = path.write_text(json.dumps({"doc_data": {"dmv": {"d1": doc}}}))
    ...     docs = load_documents(path)
    >>> docs["d1"].domain, [s.text for s in docs["d1"].spans]
    ('dmv', ['The fee is $25.', 'Pay online.'])
    """
    data = read_json(path)
    doc_data = _need(data, "doc_data", str(path), dict)
    docs: dict[str, Document] = {}
    for domain, by_id in doc_data.items():
        where = f"{path}: doc_data[{domain!r}]"
        if not isinstance(by_id, dict):
            raise DataError(f"{where}: expected an object of documents keyed by doc id")
        for doc_id, raw in by_id.items():
            doc = parse_document(raw, f"{where}[{doc_id!r}]", domain)
            docs[doc.doc_id] = doc
    if not docs:
        raise DataError(f"{path}: doc_data holds no documents (empty corpus)")
    return docs


def _iter_raw_dialogues(dial_data: dict[str, Any], path: str) -> Iterator[tuple[str, Any, str]]:
    for domain, block in dial_data.items():
        if isinstance(block, list):  # MultiDoc2Dial
            for i, dial in enumerate(block):
                yield domain, dial, f"{path}: dial_data[{domain!r}][{i}]"
        elif isinstance(block, dict):  # doc2dial
            for doc_id, dials in block.items():
                if not isinstance(dials, list):
                    raise DataError(f"{path}: dial_data[{domain!r}][{doc_id!r}]: expected a list")
                for i, dial in enumerate(dials):
                    yield domain, dial, f"{path}: dial_data[{domain!r}][{doc_id!r}][{i}]"
        else:
            raise DataError(f"{path}: dial_data[{domain!r}]: expected a list or an object")


ROLES = ("user", "agent")


def load_dialogues(path: str | Path, problems: list[str] | None = None) -> list[Dialogue]:
    """Load the dialogues of a doc2dial or MultiDoc2Dial ``dial_data`` file.

    A dialogue without turns, or with a turn whose role is neither "user" nor "agent", is an
    error naming the file and the dialogue id (DataError). Given a ``problems`` list, such a
    dialogue is left out and its message appended there instead, so the rest of a batch
    run goes on.

    A ``.jsonl`` file is read as the chat's feedback file
    (:func:`re3g.data.feedback.load_feedback`).
    """
    if str(path).endswith(".jsonl"):
        from re3g.data.feedback import load_feedback

        return load_feedback(path, problems)
    data = read_json(path)
    dial_data = _need(data, "dial_data", str(path), dict)
    out: list[Dialogue] = []
    for domain, raw, where in _iter_raw_dialogues(dial_data, str(path)):
        try:
            out.append(_parse_dialogue(raw, where, domain))
        except DataError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return out


def _parse_dialogue(raw: Any, where: str, domain: str) -> Dialogue:
    dial_id = str(_need(raw, "dial_id", where, (str, int)))
    where = f"{where} (dial_id {dial_id})"
    raw_turns = _need(raw, "turns", where, list)
    if not raw_turns:
        raise DataError(f"{where}: the dialogue has no turns")
    turns: list[Turn] = []
    for j, t in enumerate(raw_turns):
        tw = f"{where}.turns[{j}]"
        role = str(_need(t, "role", tw, str)).lower()
        if role not in ROLES:
            raise DataError(f"{tw}.role: {role!r} is neither 'user' nor 'agent'")
        utt = t.get("utterance")
        if utt is not None and not isinstance(utt, str):
            raise DataError(f"{tw}.utterance: expected a string or null")
        refs = []
        for k, r in enumerate(t.get("references") or []):
            rw = f"{tw}.references[{k}]"
            refs.append(Reference(str(_need(r, "doc_id", rw, (str, int))),
                                  str(_need(r, "id_sp", rw, (str, int)))))
        turns.append(Turn(int(t.get("turn_id", j + 1)), role, utt, refs))
    return Dialogue(dial_id, str(raw.get("domain") or domain), turns, str(raw.get("doc_id") or ""))


def examples_from_dialogues(
    dialogues: Iterable[Dialogue],
    documents: dict[str, Document] | None = None,
    source: str = "dialogues",
    unanswerable: bool = False,
    problems: list[str] | None = None,
) -> list[Example]:
    """Turn dialogues into examples: each agent turn with references right after a user turn;
    with ``unanswerable``, also each agent turn without references (a turn the documents do
    not answer: the system must say so; ``Example.answerable`` is False).

    When ``documents`` is given, every reference is checked against it and a missing document or
    span raises DataError naming the dialogue, turn and id; given a ``problems`` list, that
    dialogue is left out and the message appended there instead.
    """
    out: list[Example] = []
    for dial in dialogues:
        try:
            found = _dialogue_examples(dial, documents, source, unanswerable)
        except DataError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
            continue
        out.extend(found)
    return out


def _check_references(turn: Turn, documents: dict[str, Document], where: str) -> None:
    for ref in turn.references:
        doc = documents.get(ref.doc_id)
        if doc is None:
            raise DataError(f"{where}: reference to unknown document {ref.doc_id!r}")
        try:
            doc.span(ref.span_id)
        except KeyError:
            raise DataError(f"{where}: reference to missing span {ref.span_id!r} "
                            f"of document {ref.doc_id!r}") from None


def _dialogue_examples(dial: Dialogue, documents: dict[str, Document] | None, source: str,
                       unanswerable: bool) -> list[Example]:
    out: list[Example] = []
    for i, turn in enumerate(dial.turns):
        if turn.role != "agent" or i == 0 or not (turn.references or unanswerable):
            continue
        prev = dial.turns[i - 1]
        if prev.role != "user" or not (prev.utterance or "").strip():
            continue
        if documents is not None:
            _check_references(turn, documents,
                              f"{source}: dialogue {dial.dial_id} turn {turn.turn_id}")
        out.append(Example(id=f"{dial.dial_id}_{prev.turn_id}", dial_id=dial.dial_id,
                           domain=dial.domain, history=list(dial.turns[:i]),
                           references=list(turn.references), response=turn.utterance))
    return out


def load_examples(
    dialogues_path: str | Path, documents: dict[str, Document] | None = None
) -> list[Example]:
    """Load a dialogue file and return its examples, checked against ``documents`` if given."""
    return examples_from_dialogues(load_dialogues(dialogues_path), documents, str(dialogues_path))


def last_grounded(history: Iterable[Turn]) -> Turn | None:
    """The latest agent turn of ``history`` that has references (None if there is none).

    >>> last_grounded([Turn(1, "agent", "a", [Reference("fees", "1")]), Turn(2, "agent", "b"),
    ...                Turn(3, "user", "c")]).turn_id
    1
    """
    for turn in reversed(list(history)):
        if turn.role == "agent" and turn.references:
            return turn
    return None


def grounding_text(example: Example, documents: dict[str, Document]) -> str:
    """The reference grounding text of an example: its reference spans in document order."""
    by_doc: dict[str, list[Span]] = {}
    for ref in example.references:
        doc = documents[ref.doc_id]
        by_doc.setdefault(ref.doc_id, []).append(doc.span(ref.span_id))
    parts = []
    for spans in by_doc.values():
        seen = set()
        for s in sorted(spans, key=lambda s: s.start):
            if s.id not in seen:
                seen.add(s.id)
                parts.append(s.text.strip())
    return " ".join(p for p in parts if p)
