"""Typed records shared by every stage: documents, spans, passages, hits, dialogues, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A span of a document, as doc2dial defines them (``id_sp``, character offsets).

    >>> Span("1", 0, 5, "Hello").end
    5
    """

    id: str
    start: int
    end: int
    text: str
    is_heading: bool = False


@dataclass
class Document:
    """One document: its text, title, domain and ordered spans.

    >>> d = Document("d1", "Title", "Hello world", domain="demo")
    >>> d.text[:5]
    'Hello'
    """

    doc_id: str
    title: str
    text: str
    domain: str = ""
    spans: list[Span] = field(default_factory=list)

    def span(self, span_id: str) -> Span:
        """Return the span with id ``span_id``; raise KeyError if unknown."""
        for s in self.spans:
            if s.id == span_id:
                return s
        raise KeyError(f"document {self.doc_id!r} has no span {span_id!r}")


@dataclass
class Passage:
    """A retrieval unit: a contiguous slice of one document with its span ids and offsets.

    ``start``/``end`` are character offsets into the document text, so any stage can map
    text back to the document. ``section`` is the nearest heading above the passage.

    >>> p = Passage("d1#0", "d1", "Title", "Some text", 0, 9, ["1"], section="Intro")
    >>> p.doc_id
    'd1'
    """

    pid: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    span_ids: list[str]
    section: str = ""
    domain: str = ""

    def overlaps(self, span_ids: set[str]) -> bool:
        """True when this passage contains any of the given span ids."""
        return any(s in span_ids for s in self.span_ids)


@dataclass
class Hit:
    """One retrieval result: a passage, its score and its rank (1-based)."""

    passage: Passage
    score: float
    rank: int = 0
    source: str = ""


@dataclass
class Reference:
    """A grounding reference of an agent turn: a span of a document."""

    doc_id: str
    span_id: str


@dataclass
class Turn:
    """One dialogue turn. Agent turns may carry grounding references; utterance may be None."""

    turn_id: int
    role: str
    utterance: str | None
    references: list[Reference] = field(default_factory=list)


@dataclass
class Dialogue:
    """A dialogue over (usually) one document, as in doc2dial and MultiDoc2Dial."""

    dial_id: str
    domain: str
    turns: list[Turn]
    doc_id: str = ""


@dataclass
class Example:
    """A prediction target: the agent turn that follows user turn ``user_turn_id``.

    ``id`` is ``<dial_id>_<user turn_id>`` (the DialDoc shared-task convention).
    ``history`` holds the turns before the agent turn (the last one is the user turn).
    ``response`` is None when the real reply is missing from the data.
    """

    id: str
    dial_id: str
    domain: str
    history: list[Turn]
    references: list[Reference]
    response: str | None

    @property
    def answerable(self) -> bool:
        """False for an agent turn without references: the documents do not answer it."""
        return bool(self.references)

    @property
    def gold_doc_ids(self) -> set[str]:
        return {r.doc_id for r in self.references}

    @property
    def gold_span_ids(self) -> set[tuple[str, str]]:
        return {(r.doc_id, r.span_id) for r in self.references}


@dataclass
class Evidence:
    """A grounding span returned with an answer: where in which document the answer comes from."""

    doc_id: str
    title: str
    text: str
    start: int
    end: int
    span_ids: list[str]
    score: float = 0.0
    passage_id: str = ""
    section: str = ""
    # P(this is the sentence asked about), set by a start/end reader on its top evidence when
    # its manifest has a ``sureness`` model (re3g.extract.sureness); None otherwise
    sure: float | None = None
    # the sentence judge's log-odds that this evidence answers the question (its best span),
    # set when the reader weighed its judge for this turn (re3g.extract.judge); None otherwise
    judged: float | None = None


@dataclass
class Answer:
    """Everything one turn produced: reply, evidence, ranked passages and per-stage timings (s).

    ``confidence`` (in [0, 1]) says how sure the pipeline is that the documents answer the
    turn; ``grounded`` is its decision (:mod:`re3g.decide`): False means the reply says the
    documents do not cover it, while evidence and passages still show the closest text.

    >>> Answer("8 dollars.", confidence=0.9).to_dict()["reply"]
    '8 dollars.'
    """

    text: str
    evidence: list[Evidence] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    grounded: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kept_reply(self) -> str:
        """The agent turn a conversation keeps after this answer (the chat, and
        :func:`re3g.evaluate.replay.replay`): the reply when grounded; "" when refused, so the
        question stays in the history for the user's next turn ("And on New Year's Eve?") while
        the refusal's words reach no later query.

        >>> Answer("8 dollars.").kept_reply, Answer("Not found.", grounded=False).kept_reply
        ('8 dollars.', '')
        """
        return self.text.strip() if self.grounded else ""

    def to_dict(self, passages: int = 5) -> dict[str, Any]:
        """A JSON-ready view (``re3g ask --json``): reply, decision, evidence, the top
        ``passages`` ranked passages, timings and extras."""
        return {
            "reply": self.text,
            "grounded": self.grounded,
            "confidence": round(self.confidence, 4),
            "evidence": [{"doc_id": e.doc_id, "title": e.title, "section": e.section,
                          "span_ids": e.span_ids, "start": e.start, "end": e.end,
                          "score": round(e.score, 4), "text": e.text,
                          **({} if e.sure is None else {"sure": e.sure})}
                         for e in self.evidence],
            "passages": [{"rank": h.rank, "score": round(h.score, 6), "pid": h.passage.pid,
                          "doc_id": h.passage.doc_id, "section": h.passage.section,
                          "start": h.passage.start, "end": h.passage.end}
                         for h in self.passages[:passages]],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "extra": dict(self.extra),
        }
