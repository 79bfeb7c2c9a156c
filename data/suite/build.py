"""Build the behaviour-test conversation suite (doc2dial dialogue files) from its authoring form.

``conversations.json`` beside this script holds the conversations as they were written: every
answerable agent turn names its evidence by an exact sentence of the documents (or a distinctive
part of one sentence), never by a span id. This script loads each corpus with
:func:`re3g.data.ingest.load_directory` (the spans re3g itself indexes: headings and sentences,
numbered "1", "2", ... in reading order), resolves every evidence string to the one sentence span
that contains it, and writes the official doc2dial dialogue shape
``{"dial_data": {domain: {doc_id: [dialogue]}}}``::

    python data/suite/build.py            # writes data/suite/sample_dialogues.json, dialogues.json
    python data/suite/build.py --check    # resolve and validate only, write nothing
    python data/suite/build.py --conversations data/dev/conversations.json   # the dev set

Another authoring file of the same form (``--conversations PATH``, such as the development set
in ``data/dev/``) is built the same way, its documents and output paths taken relative to it.

An agent turn with an empty evidence list is unanswerable: its reply must start with
"The documents do not say" and it is written with ``"references": []``. The tags that can be
computed (unanswerable, topic-shift-across, topic-shift-within, mid-passage) are checked against
the turns. After writing, the files are read back with :func:`re3g.data.dialdoc.load_dialogues`,
every reference is checked against the documents, and counts per corpus and per tag are printed.
Each agent turn also gets the computed tags that it shows itself (``"tags"``, an extra key the
readers ignore), so results can be sliced per turn. Any problem stops the build with a message
naming the dialogue id and the turn.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
from re3g.data.ingest import load_directory
from re3g.errors import DataError
from re3g.types import Document, Span

HERE = Path(__file__).resolve().parent
TAGS = frozenset({
    "follow-up", "topic-shift-within", "topic-shift-across", "mid-passage", "negation",
    "exception", "number", "list", "yes-no", "unanswerable",
})
"""The tags a conversation may carry."""
COMPUTED_TAGS = ("unanswerable", "topic-shift-across", "topic-shift-within", "mid-passage")
"""Tags that must agree with the turns (present exactly when the turns show them)."""
REFUSAL = "The documents do not say"
"""How the reply of an unanswerable agent turn starts."""


class SuiteError(ValueError):
    """The authoring file is malformed or an evidence string does not name one span."""


@dataclass
class Resolved:
    """One conversation with its evidence resolved to (doc id, span) pairs per user turn."""

    dial_id: str
    doc_id: str
    tags: list[str]
    turns: list[tuple[str, str, list[tuple[str, Span]]]] = field(default_factory=list)
    turn_tags: list[list[str]] = field(default_factory=list)
    """Per agent turn, the computed tags it shows (filled by :func:`resolve_conversation`)."""


def _norm(text: str) -> str:
    return " ".join(text.split())


def _str(obj: dict[str, Any], key: str, where: str) -> str:
    val = obj.get(key)
    if not isinstance(val, str) or not val.strip():
        raise SuiteError(f"{where}: {key!r} must be a non-empty string")
    return val.strip()


def section_starts(doc: Document) -> set[str]:
    """Ids of the spans that open a section: the first sentence after each heading."""
    starts: set[str] = set()
    after_heading = True
    for span in doc.spans:
        if span.is_heading:
            after_heading = True
        elif after_heading:
            starts.add(span.id)
            after_heading = False
    return starts


def section_of(doc: Document) -> dict[str, int]:
    """Span id -> number of the section (counted by headings) that holds the span."""
    out: dict[str, int] = {}
    section = 0
    for span in doc.spans:
        if span.is_heading:
            section += 1
        out[span.id] = section
    return out


def _cell_values(text: str) -> str:
    """A table row's text without its column labels ("Day: Monday; Class: Spin" -> "Monday;
    Spin"; :mod:`re3g.data.ingest.table`), so evidence may quote a row's cells as written."""
    return "; ".join(_LABEL.sub("", cell, count=1) for cell in _norm(text).split("; "))


_LABEL = re.compile(r"^[^:;]{1,80}: ")


def resolve(doc: Document, evidence: str, where: str) -> Span:
    """The one sentence span of ``doc`` that contains ``evidence`` (whitespace-normalised; a
    table row also matches on its cells without their column labels)."""
    needle = _norm(evidence)
    hits = [s for s in doc.spans if needle in _norm(s.text)]
    if not hits:
        hits = [s for s in doc.spans if not s.is_heading and needle in _cell_values(s.text)]
    if not hits:
        raise SuiteError(f"{where}: evidence {evidence!r} is not in document {doc.doc_id!r}")
    if len(hits) > 1:
        ids = ", ".join(s.id for s in hits)
        raise SuiteError(f"{where}: evidence {evidence!r} matches spans {ids} of "
                         f"{doc.doc_id!r}; quote more of the sentence")
    if hits[0].is_heading:
        raise SuiteError(f"{where}: evidence {evidence!r} is a heading; quote a sentence")
    return hits[0]


def resolve_conversation(raw: Any, docs: dict[str, Document], where: str) -> Resolved:
    """Check one authored conversation and resolve its evidence to spans."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: expected an object")
    dial_id = _str(raw, "id", where)
    where = f"{where} (dialogue {dial_id})"
    doc_id = _str(raw, "doc", where)
    if doc_id not in docs:
        raise SuiteError(f"{where}: unknown document {doc_id!r}")
    tags = raw.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise SuiteError(f"{where}: 'tags' must be a list of strings")
    if unknown := sorted(set(tags) - TAGS):
        raise SuiteError(f"{where}: unknown tags {unknown}; use {sorted(TAGS)}")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise SuiteError(f"{where}: 'turns' must be a non-empty list")
    conv = Resolved(dial_id, doc_id, list(tags))
    for n, turn in enumerate(turns, 1):
        tw = f"{where} exchange {n} (turn ids {2 * n - 1}-{2 * n})"
        if not isinstance(turn, dict):
            raise SuiteError(f"{tw}: expected an object")
        user, agent = _str(turn, "user", tw), _str(turn, "agent", tw)
        turn_doc = turn.get("doc", doc_id)
        if turn_doc not in docs:
            raise SuiteError(f"{tw}: unknown document {turn_doc!r}")
        evidence = turn.get("evidence")
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise SuiteError(f"{tw}: 'evidence' must be a list of strings (empty: unanswerable)")
        if not evidence and not agent.startswith(REFUSAL):
            raise SuiteError(f"{tw}: an unanswerable turn's reply must start with {REFUSAL!r}")
        if evidence and agent.startswith(REFUSAL):
            raise SuiteError(f"{tw}: a turn with evidence must not reply {REFUSAL!r}")
        spans = [(turn_doc, resolve(docs[turn_doc], e, tw)) for e in evidence]
        if len({s.id for _, s in spans}) != len(spans):
            raise SuiteError(f"{tw}: two evidence strings name the same span")
        conv.turns.append((user, agent, spans))
    conv.turn_tags = turn_tags(conv, docs)
    check_tags(conv, where)
    return conv


def turn_tags(conv: Resolved, docs: dict[str, Document]) -> list[list[str]]:
    """Per agent turn, the tags of COMPUTED_TAGS that the turn itself shows.

    unanswerable: no evidence; topic-shift-across: evidence outside the conversation's first
    document; mid-passage: evidence that is not the first sentence of its section;
    topic-shift-within: evidence in another section of the same document as the previous
    answered turn.
    """
    out: list[list[str]] = []
    previous: tuple[str, int] | None = None
    for _, _, spans in conv.turns:
        found: set[str] = set()
        if not spans:
            found.add("unanswerable")
        for doc_id, span in spans:
            if doc_id != conv.doc_id:
                found.add("topic-shift-across")
            if span.id not in section_starts(docs[doc_id]):
                found.add("mid-passage")
        if spans:
            doc_id, first = spans[0]
            here = (doc_id, section_of(docs[doc_id])[first.id])
            if previous is not None and previous[0] == here[0] and previous != here:
                found.add("topic-shift-within")
            previous = here
        out.append([t for t in COMPUTED_TAGS if t in found])
    return out


def check_tags(conv: Resolved, where: str) -> None:
    """Refuse a conversation whose computable tags disagree with its turns."""
    shown = {t for tags in conv.turn_tags for t in tags}
    for tag in COMPUTED_TAGS:
        if (tag in shown) != (tag in conv.tags):
            state = ("shows it but is not tagged" if tag in shown
                     else "is tagged but does not show it")
            raise SuiteError(f"{where}: tag {tag!r}: the conversation {state}")


def to_doc2dial(convs: list[Resolved], docs: dict[str, Document]) -> dict[str, Any]:
    """The official doc2dial ``dial_data`` shape of the resolved conversations."""
    dial_data: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for conv in convs:
        domain = docs[conv.doc_id].domain
        turns: list[dict[str, Any]] = []
        for (user, agent, spans), tags in zip(conv.turns, conv.turn_tags, strict=True):
            turns.append({"turn_id": len(turns) + 1, "role": "user", "utterance": user,
                          "references": []})
            refs = [{"id_sp": span.id, "doc_id": doc_id} for doc_id, span in spans]
            turns.append({"turn_id": len(turns) + 1, "role": "agent", "utterance": agent,
                          "references": refs, "tags": tags})
        dial_data.setdefault(domain, {}).setdefault(conv.doc_id, []).append({
            "dial_id": conv.dial_id, "doc_id": conv.doc_id, "domain": domain,
            "tags": conv.tags, "turns": turns,
        })
    return {"dial_data": dial_data}


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def verify(path: Path, convs: list[Resolved], docs: dict[str, Document]) -> int:
    """Read a written file back with the project's reader; return its number of examples."""
    dialogues = load_dialogues(path)
    if len(dialogues) != len(convs):
        raise SuiteError(f"{path}: read back {len(dialogues)} dialogues, wrote {len(convs)}")
    by_id = {d.dial_id: d for d in dialogues}
    for conv in convs:
        dial = by_id[conv.dial_id]
        if len(dial.turns) != 2 * len(conv.turns):
            raise SuiteError(f"{path}: dialogue {conv.dial_id}: turns lost when read back")
    examples = examples_from_dialogues(dialogues, docs, str(path))  # checks every reference
    answerable = sum(1 for c in convs for _, _, spans in c.turns if spans)
    if len(examples) != answerable:
        raise SuiteError(f"{path}: {len(examples)} examples read back, {answerable} expected")
    return len(examples)


def report(name: str, convs: list[Resolved], n_examples: int | None) -> None:
    """Print the counts of one corpus."""
    user_turns = sum(len(c.turns) for c in convs)
    unanswerable = sum(1 for c in convs for _, _, spans in c.turns if not spans)
    tags = Counter(t for c in convs for t in c.tags)
    per_turn = Counter(t for c in convs for turn in c.turn_tags for t in turn)
    print(f"{name}: {len(convs)} conversations, {user_turns} user turns, "
          f"{user_turns - unanswerable} answerable and {unanswerable} unanswerable agent turns "
          f"({100 * unanswerable / max(user_turns, 1):.0f}% unanswerable)"
          + ("" if n_examples is None else f"; {n_examples} grounded examples read back"))
    print("  conversations per tag: " + ", ".join(f"{t} {tags[t]}" for t in sorted(TAGS)))
    print("  agent turns per computed tag: "
          + ", ".join(f"{t} {per_turn[t]}" for t in COMPUTED_TAGS))


def build(source: Path, check_only: bool = False) -> None:
    """Resolve every corpus of the authoring file ``source`` and write (or just check) it."""
    try:
        spec = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{source}: cannot read the authoring file ({exc})") from exc
    corpora = spec.get("corpora") if isinstance(spec, dict) else None
    if not isinstance(corpora, list) or not corpora:
        raise SuiteError(f"{source}: 'corpora' must be a non-empty list")
    seen: set[str] = set()
    totals: list[Resolved] = []
    for i, corpus in enumerate(corpora):
        where = f"{source}: corpora[{i}]"
        if not isinstance(corpus, dict):
            raise SuiteError(f"{where}: expected an object")
        name = _str(corpus, "name", where)
        folder = source.parent / _str(corpus, "documents", where)
        output = source.parent / _str(corpus, "output", where)
        docs = {d.doc_id: d for d in load_directory(folder)}
        raw_convs = corpus.get("conversations")
        if not isinstance(raw_convs, list) or not raw_convs:
            raise SuiteError(f"{where}: 'conversations' must be a non-empty list")
        convs = [resolve_conversation(c, docs, f"{where}.conversations[{j}]")
                 for j, c in enumerate(raw_convs)]
        for conv in convs:
            if conv.dial_id in seen:
                raise SuiteError(f"{where}: dialogue id {conv.dial_id!r} is used twice")
            seen.add(conv.dial_id)
        n_examples = None
        if not check_only:
            write_atomic(output, to_doc2dial(convs, docs))
            n_examples = verify(output, convs, docs)
            print(f"wrote {output}")
        report(name, convs, n_examples)
        totals.extend(convs)
    report("total", totals, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", "--source", dest="conversations", type=Path,
                        default=HERE / "conversations.json", metavar="PATH",
                        help="authoring file; its corpora's documents and output paths are "
                             "relative to it (default: conversations.json beside this script)")
    parser.add_argument("--check", action="store_true", help="resolve and validate only")
    args = parser.parse_args(argv)
    try:
        build(args.conversations, check_only=args.check)
    except (SuiteError, DataError) as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
