"""The conversation suite (data/suite/) stays above floors set from measurement.

A regression guard for behaviour on documents no model here was tuned on: each floor sits a
few points under what the shipped models and settings measured (docs/answerability.md), so a
change that makes answers wrong, or the decision blinder, fails here. Not timed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "data" / "suite"

# (documents, dialogues) -> floors, a few points under the session-17 measurement (the decision
# with its topic gate, over the three signals that separate on every source; sample: answered
# 98.9, right 72.8, refused 12.5 and refused or tentative 50.0 of 24 unanswerable, AUROC 0.81;
# other documents: 96.0, 71.8, 8.8 and 52.9 of 34, AUROC 0.73). The decision's threshold
# answers 95% of answerable train turns, so it refuses few here outright; AUROC guards how well
# it separates the two kinds whatever the threshold, and "refused_or_tentative" that
# unanswerable turns are not stated with confidence. With 24 and 34 unanswerable turns one
# standard error of AUROC is about 0.05. Session 19 (the reader's sureness; the runner-up named
# under tentative replies): sample refused or tentative 62.5, right or runner-up right 77.2;
# other documents 52.9 and 72.6. Session 22 (the base blend and the decision retrained on it,
# now reading the reader's sureness too): sample answered 97.8, right 72.8, refused 20.8,
# refused or tentative 58.3, AUROC 0.85, right or runner-up 77.2; other documents answered 91.9
# (the retrained decision refuses more, answerable turns included), right 74.2, refused 11.8,
# refused or tentative 47.1, AUROC 0.73, right or runner-up 74.2. Session 24 (the checker's
# null as a fifth signal): sample answered 98.9, right 72.8, refused 20.8, refused or tentative
# 58.3, AUROC 0.84, right or runner-up 76.1; other documents 91.9, 72.6, 11.8, 47.1, 0.75, 73.4.
# Session 27 (the decision's own calibration for other documents, fitted on both development
# sets, and the checker trained on passages without their answer): sample 98.9, 72.8, 20.8,
# 54.2, 0.86, 77.2; other documents 93.6, 73.4, 14.7, 38.2, 0.79, 74.2 (the other calibration's
# caution level sits nearer its threshold, so fewer unanswerable turns are cautioned).
# Session 28 (the decision refitted with a third development set, data/dev3; `agree` now keeps
# the reranker's relevance too): sample 98.9, 72.8, 25.0, 50.0, 0.87, 77.2; other documents
# 92.7, 73.4, 26.5, 44.1, 0.79, 74.2. Session 33 (the reader leaves the chat's quoting replies
# out of its question on other documents, chosen on replays with the bot's own replies, where
# it gets 10 more turns right; here the agent turns are written ones): sample 98.9, 72.8, 25.0,
# 45.8, 0.86, 76.1 (one unanswerable turn fewer cautioned: that floor moved from 46 to 42, four
# points under, as the others); other documents 92.7, 72.6, 26.5, 41.2, 0.80, 74.2.
# Session 37 (the sentence judge trained on written pairs, weighed on other documents; shipped
# by its gate on replays with the bot's own replies, where refusals held 43 -> 43): here, with
# the written agent turns, sample 98.9, 75.0, 20.8, 45.8, 0.85, 78.3; other documents 91.9,
# 72.6, 17.6 (3 of 34 refusals fewer: that floor moved from 20 to 14, one turn under), 44.1,
# 0.79, 74.2. Session 38 (the sureness reads the range scores without the judge's term):
# sample 98.9, 75.0, 29.2, 45.8, 0.84, 78.3; other documents 92.7, 72.6, 20.6, 41.2, 0.79, 73.4
# (the refusal floors moved to one turn under: 24 and 17). Session 39 (a labelled item's label
# is its key, as a table row's name: the error codes of the coffee machine manual): other
# documents 92.7, 75.0, 23.5, 41.2, 0.79, 75.8 (right and refused floors moved to 72 and 20,
# one turn under the refusals; the sample is unchanged). Session 41 (a reply without the kind
# of answer asked for is refused on other documents): sample 95.7, 73.9, 33.3, 50.0, 0.83,
# 77.2; other documents 91.1, 75.0, 29.4, 44.1, 0.79, 75.8 (the refusal floors moved to one
# turn under: 29 and 26). Session 46 ("is there X?" refused when no document names X, on other
# documents): sample 95.7, 73.9, 37.5, 54.2, 0.85, 77.2; other documents 89.5, 73.4, 44.1, 55.9,
# 0.82, 74.2 (the refusal floors moved to one turn under: 33 and 41). Session 47 (a repeat of an
# earlier reply refused when unsure or holding nothing newly asked, on other documents): sample
# 94.6, 73.9, 37.5, 54.2, 0.85, 77.2 (one wrong answer refused: the answered floor moved to one
# turn under, 93.4); other documents unchanged. Session 51 (more ways of asking for a price or a
# time, "is it safe to" as a judgement, on other documents): sample unchanged; other documents
# 88.7, 74.2, 47.1, 0.81 (answered, right, refused, AUROC; "Is it safe to touch the steam wand?"
# refused: the answered floor moved to one turn under, 87.9). Session 52 (a safety question
# answered by a warning about the thing asked, and the other calibration's threshold 0.2338 ->
# 0.342, chosen on the training side for the best share right plus share refused: a policy that
# refuses tentative answers, gate Th in bench/results/gates-s52.md): sample answered 88.0,
# right 69.6, refused or tentative 62.5, refused 58.3, AUROC 0.87, right or runner-up 70.7;
# other documents 85.5, 72.6, 55.9, 50.0, 0.81, 73.4 (`re3g evaluate --stages answerability`
# on each, written agent turns). The answered, right and right-or-runner-up floors moved to one
# turn under (the threshold refuses answers on purpose; right 72.6 with S2's steam wand, 71.8
# without), the refusal floors up to one turn under.
FLOORS = {
    "sample": (ROOT / "data" / "sample", SUITE / "sample_dialogues.json",
               {"answered": 86.9, "right": 68.0, "AUROC": 0.80, "refused_or_tentative": 58.3,
                "refused_unanswerable": 54.1, "right_or_runner_up": 69.5}),
    "documents": (SUITE / "documents", SUITE / "dialogues.json",
                  {"answered": 84.6, "right": 71.7, "AUROC": 0.74, "refused_or_tentative": 52.9,
                   "refused_unanswerable": 47.0, "right_or_runner_up": 72.5}),
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


@pytest.mark.slow
def test_questions_about_nothing_in_the_corpus_are_refused(tmp_path: Path) -> None:
    """The held-out off-topic questions (data/suite/off_topic.json; the decision's topic gate
    learnt from the different ones in data/dev/off_topic.json) asked over the sample corpus:
    session 17 measured 18 of 20 refused (the shipped decision before the gate: 12), and every
    refusal's confidence is below the threshold."""
    import json

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.corpus import load_corpus
    from re3g.evaluate.runner import ensure_index
    from re3g.pipeline import Re3G

    questions = json.loads((SUITE / "off_topic.json").read_text())["questions"]
    docs = load_corpus(ROOT / "data" / "sample")
    index = ensure_index(docs, ROOT / "data" / "sample", None, PASSAGE_MAX_WORDS)
    bot = Re3G(Config(index=str(index), docs=str(ROOT / "data" / "sample")), documents=docs)
    answers = [bot.answer(q) for q in questions]
    refused = [a for a in answers if not a.grounded]
    assert len(refused) >= 16, [q for q, a in zip(questions, answers, strict=True) if a.grounded]
    assert all(a.confidence < bot.min_confidence for a in refused)
