"""The chat's router over the sample corpus: its own questions never go to the code tool.

The real pipeline over the real sample index scores each question against the corpus
(:func:`re3g_app.code_tool.corpus_score`); the rules alone send two of the sample dialogues'
questions ("which generator backends are there?", "When is the heap turned?") to the code
model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("re3g.pipeline")

from app_support import ROOT, sample_index  # noqa: E402

from re3g.config import Config  # noqa: E402
from re3g.tools.router import decide  # noqa: E402
from re3g_app.code_tool import corpus_score, route_message  # noqa: E402

SAMPLE_DIALOGUES = ROOT / "data" / "suite" / "sample_dialogues.json"
CODE_ROUTER = ROOT / "tests" / "data" / "code_router.jsonl"


def _sample_questions() -> list[str]:
    data = json.loads(SAMPLE_DIALOGUES.read_text())["dial_data"]
    dialogues = [d for block in data.values()
                 for d in (block if isinstance(block, list) else
                           [x for dials in block.values() for x in dials])]
    return [t["utterance"] for d in dialogues for t in d["turns"]
            if t["role"] == "user" and t["utterance"]]


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    from re3g.pipeline import Re3G

    index = sample_index(tmp_path_factory.mktemp("indexes"))
    return Re3G(Config().with_overrides(index=str(index), k=10))


def test_sample_questions_go_to_the_documents(bot):
    questions = [*_sample_questions(), "which generator backends are there?"]
    assert len(questions) > 100
    rules_alone = [q for q in questions if decide(q).route != "docs"]
    assert "which generator backends are there?" in rules_alone  # what the issue saw
    routed = {q: route_message(q, True, lambda text: corpus_score(bot, text))[0]
              for q in questions}
    assert [q for q, r in routed.items() if r != "docs"] == []


def test_code_questions_still_go_to_the_code_tool(bot):
    rows = [json.loads(line) for line in Path(CODE_ROUTER).read_text().splitlines() if line]
    code = [r["text"] for r in rows if r["label"] == "code" and decide(r["text"]).route == "code"]
    kept = [q for q in code
            if route_message(q, True, lambda text: corpus_score(bot, text))[0] == "code"]
    assert len(code) > 50 and kept == code  # no labelled code question matches the sample
