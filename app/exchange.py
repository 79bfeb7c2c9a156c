"""One question and its reply as the app keeps them: for feedback, export and the document view.

    >>> from re3g.types import Answer, Evidence
    >>> ev = Evidence("fees", "Fees", "A day pass costs 8 dollars.", 10, 37, ["4"])
    >>> ex = Exchange.of("How much is a day pass?", [], Answer(ev.text, [ev]), "docs", "sample")
    >>> ex.marked, ex.to_dict()["citations"][0]["doc_id"]
    ('A day pass costs 8 dollars. [1]', 'fees')
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from re3g.types import Answer

from .citations import Citation, Part, citations_dicts, cite, marked_text


@dataclass
class Exchange:
    """A user message, the conversation before it, and the reply with its citations."""

    question: str
    history: list[str]
    reply: str
    route: str
    corpus: str
    answer: Answer | None = None
    parts: list[Part] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    time: float = field(default_factory=time.time)

    @classmethod
    def of(cls, question: str, history: list[str], answer: Answer | None, route: str,
           corpus: str, reply: str | None = None) -> Exchange:
        """The exchange of a finished turn; citations only for a document reply."""
        text = reply if reply is not None else (answer.text if answer else "")
        parts, cites = ([], [])
        if answer is not None and route == "docs" and answer.grounded:
            parts, cites = cite(Answer(text, answer.evidence, grounded=True))
        return cls(question, list(history), text, route, corpus, answer, parts, cites)

    @property
    def marked(self) -> str:
        """The reply with its citation markers as plain text."""
        return marked_text(self.parts) if self.parts else self.reply

    def evidence_dicts(self) -> list[dict[str, Any]]:
        """The evidence spans of the reply (JSON-ready)."""
        return self.answer.to_dict()["evidence"] if self.answer is not None else []

    def to_dict(self) -> dict[str, Any]:
        """What the API, the export and the feedback file store of the exchange."""
        grounded = bool(self.answer.grounded) if self.answer is not None else False
        return {"question": self.question, "history": list(self.history),
                "reply": self.reply, "reply_marked": self.marked, "route": self.route,
                "corpus": self.corpus, "grounded": grounded,
                "confidence": round(self.answer.confidence, 4) if self.answer else 0.0,
                "citations": citations_dicts(self.citations),
                "evidence": self.evidence_dicts(), "time": round(self.time, 3)}
