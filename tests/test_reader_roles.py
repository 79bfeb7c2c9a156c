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


def test_the_replay_keeps_answered_turns_only_and_counts_turns() -> None:
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
    # the refused turn is not kept; the bot's own reply is
    assert seen[2] == ["day pass?", "reply to day pass?", "and members?"]
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
    from re3g.config import QUERY_ROLES
    from re3g.extract import default_extractor_path
    from re3g.train.select_reader import main, roles_copy

    reader = roles_copy(default_extractor_path(), tmp_path / "reader", "doc2dial-fp", "all")
    docs, dialogues = _tiny_set(tmp_path)
    assert main(["--roles", "--reader", str(reader),
                 "--written", str(docs), str(dialogues)]) == 0
    manifest = json.loads((reader / "manifest.json").read_text())
    other = manifest["settings"]["other"]
    assert other["query_roles"] in QUERY_ROLES and other["tuned_corpus"] == "doc2dial-fp"
    chosen = manifest["roles_selection"]
    assert chosen["chosen"] == other["query_roles"] and "--roles" in chosen["command"]
    pooled = chosen["pooled"]
    assert set(pooled) == set(QUERY_ROLES)
    assert {p["n_answerable"] for p in pooled.values()} == {
        chosen["sets"][str(docs)]["all"]["n_answerable"]} != {0}
    # a value other than today's ("all") is taken only when it is right more often
    if other["query_roles"] == "user":
        assert pooled["user"]["right_turns"] > pooled["all"]["right_turns"]
    # the range settings and the sureness model are untouched
    shipped = json.loads((default_extractor_path() / "manifest.json").read_text())["settings"]
    assert manifest["settings"]["sureness"] == shipped["sureness"]
    assert "query_roles = " in capsys.readouterr().out


def test_the_roles_selection_refuses_held_out_sets_before_any_work(tmp_path: Path) -> None:
    from re3g.train.select_reader import main

    with pytest.raises(DataError, match="held-out set"):
        main(["--roles", "--dry-run", "--written", "data/dev6/documents",
              "data/dev6/dialogues.json"])
    with pytest.raises(DataError, match="not found"):
        main(["--roles", "--dry-run", "--written", str(tmp_path / "nothing"),
              str(tmp_path / "none.json")])
