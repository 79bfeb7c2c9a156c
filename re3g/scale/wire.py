"""The JSON form of an :class:`~re3g.types.Answer` on the wire (``re3g serve``), lossless:
what a client decodes is the Answer the server built (evidence, ranked passages with their
offsets and span ids, timings, confidence, decision, extras). No Ray needed to read it.

>>> from re3g.types import Evidence
>>> a = Answer("8 dollars.", [Evidence("fees", "Fees", "8 dollars", 10, 19, ["3"], 0.9)],
...            confidence=0.8)
>>> answer_from_wire(answer_to_wire(a)) == a
True
"""

from __future__ import annotations

import dataclasses
from typing import Any

from re3g.types import Answer, Evidence, Hit, Passage

WIRE_VERSION = 1


def answer_to_wire(answer: Answer) -> dict[str, Any]:
    """A JSON-ready dict holding every field of ``answer``."""
    return {"version": WIRE_VERSION, **dataclasses.asdict(answer)}


def answer_from_wire(data: dict[str, Any]) -> Answer:
    """The Answer :func:`answer_to_wire` encoded."""
    return Answer(
        text=data["text"],
        evidence=[Evidence(**e) for e in data.get("evidence", [])],
        passages=[Hit(Passage(**h["passage"]), h["score"], h.get("rank", 0),
                      h.get("source", "")) for h in data.get("passages", [])],
        timings=dict(data.get("timings", {})),
        confidence=float(data.get("confidence", 0.0)),
        grounded=bool(data.get("grounded", True)),
        extra=dict(data.get("extra", {})),
    )
