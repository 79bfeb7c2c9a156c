"""The conversation suite (data/suite/) stays above floors set from measurement.

A regression guard for behaviour on documents no model here was tuned on: each floor sits a
few points under what the shipped models and settings measured (docs/answerability.md), so a
change that makes answers wrong, or refusals rarer, fails here. Not timed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "data" / "suite"

# (documents, dialogues) -> floors in percent, a few points under the session-11 measurement
# (ranking chosen on train, decision retrained on it; sample: answered 70.7, right 48.9,
# refused 70.8 of 24; other documents: 64.5, 39.5, 47.1 of 34)
FLOORS = {
    "sample": (ROOT / "data" / "sample", SUITE / "sample_dialogues.json",
               {"answered": 65.0, "right": 44.0,
                "refused_unanswerable": 62.0}),
    "documents": (SUITE / "documents", SUITE / "dialogues.json",
                  {"answered": 59.0, "right": 35.0,
                   "refused_unanswerable": 41.0}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_conversation_suite_stays_above_its_floors(name: str, tmp_path: Path) -> None:
    from re3g.evaluate.runner import evaluate

    docs, dialogues, floors = FLOORS[name]
    report = evaluate(docs, dialogues, tmp_path / name, stages=["answerability"])
    block = report["answerability"]
    assert not [f for f in report.get("failures", []) if f["stage"] == "data"]
    assert block["n_unanswerable"] > 0 and block["decision"] == "learned"
    for key, floor in floors.items():
        assert block[key] >= floor, f"{name}: {key} {block[key]} fell below {floor}"
