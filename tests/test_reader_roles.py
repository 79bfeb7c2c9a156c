"""Which turns the reader's question holds on documents it was not tuned on
(``other.query_roles``), the replay with the bot's own replies it is chosen on
(re3g.evaluate.replay) and its selection (``python -m re3g.train.select_reader --roles``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from re3g.errors import DataError, ModelError
from re3g.extract import SpanExtractor
from re3g.types import Turn

HISTORY = [Turn(1, "user", "How much is a day pass?"),
           Turn(2, "agent", "A day pass costs 8 dollars."),
           Turn(3, "user", "And for members?")]


def _reader(settings: dict) -> SpanExtractor:
    return SpanExtractor("qa", None, {"settings": settings})


def test_other_documents_can_get_their_own_question_roles() -> None:
    ex = _reader({"query_roles": "all",
                  "other": {"tuned_corpus": "doc2dial", "query_roles": "user"}})
    assert ex.for_corpus("doc2dial") == "tuned"
    assert ex.question(HISTORY) == "And for members? || A day pass costs 8 dollars. || " \
                                   "How much is a day pass?"
    assert ex.for_corpus("my-documents") == "other"
    assert ex.question(HISTORY) is None  # user-only: it reads the pipeline's dialogue query
    assert ex.for_corpus("my-documents", "tuned") == "tuned"  # [answer] calibration forces it
    assert ex.query_roles == "all"
    # without other roles every corpus keeps the manifest's own
    plain = _reader({"query_roles": "all", "other": {"tuned_corpus": "doc2dial"}})
    assert plain.for_corpus("my-documents") == "other" and plain.query_roles == "all"


def test_unknown_question_roles_are_named_with_their_key() -> None:
    with pytest.raises(ModelError, match="other.query_roles is 'agents'"):
        _reader({"other": {"tuned_corpus": "x", "query_roles": "agents"}})
    with pytest.raises(ModelError, match="settings key query_roles"):
        _reader({"query_roles": "everyone"})


def test_the_replay_keeps_refused_questions_with_empty_replies_and_counts_turns() -> None:
    from re3g.evaluate.replay import replay, summary
    from re3g.types import Answer, Evidence, Example, Reference

    seen: list[list[str]] = []

    class Bot:
        def answer(self, turns: list[str]) -> Answer:
            seen.append(list(turns))
            refused = "parking" in turns[-1]
            return Answer("" if refused else f"reply to {turns[-1]}", grounded=not refused,
                          evidence=[Evidence("fees", "Fees", "8 dollars", 0, 9, ["2"])])

    def example(turn: int, text: str, refs: list[Reference]) -> Example:
        return Example(f"d_{turn}", "d", "x", [Turn(turn, "user", text)], refs, "")

    examples = [example(1, "day pass?", [Reference("fees", "2")]),
                example(3, "parking?", []),
                example(5, "and members?", [Reference("fees", "3")])]
    records = replay(Bot(), examples, progress=False)
    # the bot's own reply is kept; a refused turn keeps its question with an empty reply
    assert seen[2] == ["day pass?", "reply to day pass?", "parking?", "", "and members?"]
    got = summary(records)
    assert (got["right_turns"], got["refused_turns"], got["n_answerable"]) == (1, 1, 2)
    assert got["right"] == 50.0 and got["refused_unanswerable"] == 100.0


def _tiny_set(tmp_path: Path, dialogues: int = 2) -> tuple[Path, Path]:
    """The first ``dialogues`` conversations of data/dev4 over its documents."""
    data = json.loads(Path("data/dev4/dialogues.json").read_text())
    kept, n = {}, 0
    for domain, docs in data["dial_data"].items():
        for doc_id, dials in docs.items():
            if n < dialogues:
                kept.setdefault(domain, {})[doc_id] = dials[:1]
                n += 1
    path = tmp_path / "dialogues.json"
    path.write_text(json.dumps({"dial_data": kept}))
    return Path("data/dev4/documents"), path


def test_the_roles_are_chosen_on_replays_and_written_with_where_they_were_chosen(
        tmp_path: Path, capsys) -> None:
    from re3g.extract import default_extractor_path
    from re3g.train.select_reader import ROLE_VARIANTS, main, roles_copy

    reader = roles_copy(default_extractor_path(), tmp_path / "reader", "doc2dial-fp", "all")
    # the copy keeps the folder's name: the learned decision checks it (requires.extractor)
    assert reader.name == default_extractor_path().name
    docs, dialogues = _tiny_set(tmp_path)
    assert main(["--roles", "--reader", str(reader),
                 "--written", str(docs), str(dialogues)]) == 0
    manifest = json.loads((reader / "manifest.json").read_text())
    other = manifest["settings"]["other"]
    chosen = manifest["roles_selection"]
    assert other["tuned_corpus"] == "doc2dial-fp" and "--roles" in chosen["command"]
    assert ROLE_VARIANTS[chosen["chosen"]] == (other["query_roles"], other["skip_quotes"])
    pooled = chosen["pooled"]
    assert set(pooled) == set(ROLE_VARIANTS) and chosen["today"] == "all"
    assert {p["n_answerable"] for p in pooled.values()} == {
        chosen["sets"][str(docs)]["all"]["n_answerable"]} != {0}
    # a pipeline with the copy keeps the learned decision (it checks the reader folder's name)
    from re3g.config import Config
    from re3g.decide import LearnedRule
    from re3g.pipeline import Re3G

    assert isinstance(Re3G(Config(extractor=str(reader))).rule, LearnedRule)
    # a variant other than today's ("all") is taken only when it is right more often
    if chosen["chosen"] != "all":
        assert pooled[chosen["chosen"]]["right_turns"] > pooled["all"]["right_turns"]
    # the range settings and the sureness model are untouched
    shipped = json.loads((default_extractor_path() / "manifest.json").read_text())["settings"]
    assert manifest["settings"]["sureness"] == shipped["sureness"]
    assert "the question roles" in capsys.readouterr().out


def test_the_roles_selection_refuses_held_out_sets_before_any_work(tmp_path: Path) -> None:
    from re3g.train.select_reader import main

    with pytest.raises(DataError, match="held-out set"):
        main(["--roles", "--dry-run", "--written", "data/dev6/documents",
              "data/dev6/dialogues.json"])
    with pytest.raises(DataError, match="not found"):
        main(["--roles", "--dry-run", "--written", str(tmp_path / "nothing"),
              str(tmp_path / "none.json")])


def test_agent_turns_that_quote_the_documents_can_be_left_out_on_other_documents() -> None:
    from re3g.types import Document

    docs = {"d": Document("d", "Rides", "Each ride can last up to 45 minutes for members. "
                                        "Single rides last 30 minutes.")}
    history = [Turn(1, "user", "How long can a ride last?"),
               Turn(2, "agent", "Each ride can last up to 45 minutes for members."),
               Turn(3, "user", "And for members?")]
    ex = _reader({"query_roles": "all",
                  "other": {"tuned_corpus": "doc2dial", "skip_quotes": True}})
    ex.for_corpus("doc2dial")
    assert "45 minutes" in ex.question(history, docs)  # doc2dial: every turn, as trained
    ex.for_corpus("my-documents")
    assert ex.question(history, docs) == "And for members? || How long can a ride last?"
    # a paraphrase stays; without the documents nothing is left out
    said = [*history[:1], Turn(2, "agent", "Members may ride for 45 minutes."), history[2]]
    assert "Members may ride" in ex.question(said, docs)
    assert "45 minutes" in ex.question(history)


def test_two_replays_are_compared_turn_by_turn_with_a_sign_test(tmp_path: Path) -> None:
    """``paired`` counts the turns each run gets that the other does not (right answers,
    refusals) per set and pooled, and tests the split: ten turns won and none lost is not
    reshuffling, five each way is; runs over different turns are refused, and the bench
    names a file and line that is not a record."""
    import subprocess
    import sys

    from re3g.evaluate.replay import paired

    root = Path(__file__).resolve().parents[1]

    def rec(i: int, answerable: bool, good: bool, where: str = "a") -> dict:
        return {"set": where, "id": f"d_{i}", "answerable": answerable,
                "grounded": good if answerable else not good,
                "right": good if answerable else None}

    before = [rec(i, True, False) for i in range(10)] + [rec(i, False, i < 15, "b")
                                                          for i in range(10, 20)]
    after = [rec(i, True, True) for i in range(10)] + [rec(i, False, i >= 15, "b")
                                                       for i in range(10, 20)]
    got = paired(before, after)
    assert got["right"] == {"lost": 0, "won": 10, "p": 0.002}
    assert got["refused"] == {"lost": 5, "won": 5, "p": 1.0}
    assert got["either"]["won"] == 15 and got["either"]["lost"] == 5
    with pytest.raises(ValueError, match="different turns"):
        paired(before, after[:-1])

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in before))
    b.write_text("".join(json.dumps(r) + "\n" for r in after))
    out = subprocess.run([sys.executable, str(root / "bench" / "paired_replays.py"), str(a),
                          str(b)], capture_output=True, text=True, check=True).stdout
    shown = json.loads(out)
    assert shown["pooled"] == got and shown["a"]["right"]["won"] == 10
    assert shown["b"]["refused"] == {"lost": 5, "won": 5, "p": 1.0}
    b.write_text(b.read_text() + "{not json\n")
    bad = subprocess.run([sys.executable, str(root / "bench" / "paired_replays.py"), str(a),
                          str(b)], capture_output=True, text=True)
    assert bad.returncode != 0 and f"{b}, line 21: not a replay record" in bad.stderr
