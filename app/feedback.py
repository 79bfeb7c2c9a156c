"""Feedback on replies, kept locally as JSON lines: thumbs up or down, or "this is the right
passage".

Each line is one choice with what it is about: the question, the conversation before it, the
reply, its evidence and citations, the corpus and the choice (``{"kind": "up" | "down" |
"passage", "passage": {...}}``). :func:`re3g.data.feedback.load_feedback` reads the file back
as dialogues for ``re3g evaluate`` (see docs/app.md). Lines are appended whole: one
``os.write`` of the complete line on a file opened with ``O_APPEND``, under a lock, then
``fsync``, so concurrent sessions never interleave and a crash never leaves half a record
before a later one.

    >>> import tempfile, json, pathlib
    >>> log = FeedbackLog(pathlib.Path(tempfile.mkdtemp()) / "feedback.jsonl")
    >>> log.append({"question": "Hi?", "choice": {"kind": "up"}})
    >>> json.loads(log.path.read_text())["choice"]
    {'kind': 'up'}
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from re3g.types import Hit

from .exchange import Exchange

KINDS = ("up", "down", "passage")
FEEDBACK_FILE = "feedback.jsonl"


class FeedbackLog:
    """Appends feedback records to one JSON-lines file (created with its folder on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line, whole, and flush it to disk."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, line)
                while written < len(line):  # a short write (rare): finish the same line
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                os.close(fd)


def passage_dict(hit: Hit) -> dict[str, Any]:
    """The passage a user chose, with what is needed to find it again."""
    p = hit.passage
    return {"pid": p.pid, "doc_id": p.doc_id, "title": p.title, "section": p.section,
            "start": p.start, "end": p.end, "span_ids": list(p.span_ids), "text": p.text,
            "rank": hit.rank, "score": round(hit.score, 6)}


def feedback_record(exchange: Exchange, kind: str, session: str,
                    passage: Hit | None = None) -> dict[str, Any]:
    """The line written for one choice about ``exchange``."""
    if kind not in KINDS:
        raise ValueError(f"unknown feedback {kind!r}; one of {KINDS}")
    choice: dict[str, Any] = {"kind": kind}
    if passage is not None:
        choice["passage"] = passage_dict(passage)
    return {"version": 1, "session": session, **exchange.to_dict(), "choice": choice}
