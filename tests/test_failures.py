"""Where a replay's answerable turns are lost (re3g.evaluate.failures), read through the replay's
``detail`` hook, and the ceilings of a better pick among the shown evidence."""

from __future__ import annotations

from re3g.evaluate.failures import failure_split, pick_detail, refusal
from re3g.evaluate.replay import replay
from re3g.types import Answer, Evidence, Example, Hit, Passage, Reference, Turn

DAY = Evidence("fees", "Fees", "A day pass costs 8 dollars.", 0, 27, ["2"])
YEAR = Evidence("fees", "Fees", "An annual membership costs 90 dollars.", 28, 66, ["3"])
LOCKS = Evidence("bikes", "Bikes", "Lock the bike at a dock.", 0, 24, ["5"])
RANKED = [Hit(Passage(f"p{i}", doc, doc, "text", 0, 4, spans), 1.0 - i / 10, i)
          for i, (doc, spans) in enumerate([("bikes", ["5"]), ("bikes", ["6"]), ("faq", ["1"]),
                                            ("fees", ["1", "2"]), ("fees", ["3", "4"])], 1)]


def _example(turn: int, text: str, refs: list[Reference]) -> Example:
    return Example(f"d_{turn}", "d", "x", [Turn(turn, "user", text)], refs, "")


class Bot:
    """Answers from a script: question -> (grounded, evidence, extra)."""

    def __init__(self, script: dict[str, tuple[bool, list[Evidence], dict]]) -> None:
        self.script = script

    def answer(self, turns: list[str]) -> Answer:
        grounded, evidence, extra = self.script[turns[-1]]
        return Answer(evidence[0].text if grounded else "", list(evidence), list(RANKED),
                      grounded=grounded, extra=dict(extra))


def test_each_answerable_turn_falls_where_its_pick_lay_and_refusals_name_their_check() -> None:
    examples = [
        _example(1, "day pass?", [Reference("fees", "2")]),            # right
        _example(3, "annual?", [Reference("fees", "3")]),              # other sentence
        _example(5, "annual again?", [Reference("fees", "3")]),        # other document
        _example(7, "how much yearly?", [Reference("fees", "3")]),     # refused: kind check
        _example(9, "yearly fee?", [Reference("fees", "3")]),          # refused: threshold
        _example(11, "parking?", []),                                  # unanswerable, refused
        _example(13, "scooters?", []),                                 # unanswerable, answered
    ]
    bot = Bot({"day pass?": (True, [DAY, YEAR], {}),
               "annual?": (True, [DAY, YEAR, LOCKS], {}),
               "annual again?": (True, [LOCKS, DAY], {}),
               "how much yearly?": (False, [YEAR, DAY], {"missing": "money"}),
               "yearly fee?": (False, [DAY, YEAR], {}),
               "parking?": (False, [LOCKS], {"absent": ["parking"]}),
               "scooters?": (True, [LOCKS], {})})
    records = replay(bot, examples, progress=False, detail=pick_detail)
    assert records[1]["refusal"] is None and records[3]["refusal"] == "kind"
    # the first ranked passage holding a reference: fees' span 2 in the 4th, span 3 in the 5th
    assert [r["reference_rank"] for r in records[:3]] == [4, 5, 5]
    assert records[1]["picks"] == [{"doc": "fees", "on_reference": False},
                                   {"doc": "fees", "on_reference": True},
                                   {"doc": "bikes", "on_reference": False}]
    split = failure_split(records)
    assert split["n_answerable"] == 5 and split["n_unanswerable"] == 2
    assert split["answerable"] == {"right": 1, "answered_other_sentence": 1,
                                   "answered_other_document": 1,
                                   "refused_kind_pick_on_reference": 1,
                                   "refused_threshold_other_sentence": 1}
    assert split["unanswerable"] == {"refused_absent": 1, "answered": 1}
    # the best shown pick: right on "annual?" (second pick) but not on "annual again?"
    # (no shown pick on the reference); with every turn answered, the two refused ones too
    # where the reference ranked for the turn whose shown picks all miss it ("annual again?")
    assert split["unshown_reference_rank"] == {"4-5": 1}
    ceilings = split["ceilings"]
    assert ceilings["right"] == {"turns": 1, "share": 20.0}
    assert ceilings["best_shown_pick"] == {"turns": 2, "share": 40.0}
    assert ceilings["best_shown_pick_all_answered"] == {"turns": 4, "share": 80.0}


def test_a_replay_without_detail_keeps_its_records_and_refusal_reads_the_checks_in_order() -> None:
    records = replay(Bot({"day pass?": (True, [DAY], {})}),
                     [_example(1, "day pass?", [Reference("fees", "2")])], progress=False)
    assert "picks" not in records[0] and records[0]["right"] is True
    both = Answer("", grounded=False, extra={"absent": ["x"], "repeated": "unsure"})
    assert refusal(both) == "absent"
    here = Answer("", grounded=False, extra={"absent": ["x"], "absent_from": "Fees"})
    assert refusal(here) == "absent"
    assert refusal(Answer("", grounded=False, extra={"repeated": "nothing new"})) == "repeat"
    assert failure_split([])["ceilings"]["right"] == {"turns": 0, "share": None}


def test_the_bench_refuses_an_unread_fresh_set_a_set_named_twice_and_a_path() -> None:
    import importlib.util
    import sys
    from pathlib import Path

    import pytest

    from re3g.train.common import UNREAD_FRESH

    bench = Path(__file__).resolve().parents[1] / "bench"
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location("failure_split", bench / "failure_split.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(bench))
    unread = UNREAD_FRESH[0]
    for spelled in (unread, f"{unread}/"):
        with pytest.raises(SystemExit, match=f"{unread} is unread"):
            mod.named_sets([spelled])
    with pytest.raises(SystemExit, match="by its name alone"):
        mod.named_sets([f"data/{unread}"])
    assert mod.named_sets([unread], spend=True)[0][0] == unread
    with pytest.raises(SystemExit, match="named twice: dev"):
        mod.named_sets(["dev", "dev"])
    with pytest.raises(SystemExit, match="not 'training'"):
        mod.named_sets(["nowhere"])
    training = mod.named_sets(["training"])
    assert [n for n, _, _ in training][:2] == ["dev", "dev2"] and len(training) == 9
    assert all(d.is_dir() and f.is_file() for _, d, f in training)
