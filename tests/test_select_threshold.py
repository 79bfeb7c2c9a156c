"""The decision's threshold for other documents re-chosen on replays when a cross-encoder for
other documents changes their ranking (re3g.train.select_threshold)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cross_other import _model
from test_reader_roles import _tiny_set

from re3g.errors import DataError
from re3g.rank import OTHER_CROSS
from re3g.train.select_threshold import (
    best_shares,
    lowest_matching,
    main,
    most_right_and_refused,
    read_other,
    refused_at,
    right_at,
)


def _row(answerable: bool, confidence: float, grounded: bool = True,
         right: bool | None = None) -> dict:
    return {"answerable": answerable, "confidence": confidence, "grounded": grounded,
            "right": right}


def test_the_lowest_threshold_that_refuses_as_many_unanswerable_turns() -> None:
    rows = [_row(False, 0.10, grounded=False), _row(False, 0.25), _row(False, 0.40),
            _row(True, 0.30, right=True), _row(True, 0.50, right=True), _row(True, 0.6)]
    assert refused_at(rows, 0.2) == 1 and right_at(rows, 0.2) == 2
    assert lowest_matching(rows, 0.2, 1) == 0.2  # the trained threshold already refuses one
    assert lowest_matching(rows, 0.2, 2) == 0.2501  # just above the 0.25 turn
    assert right_at(rows, 0.2501) == 2 and refused_at(rows, 0.2501) == 2
    assert lowest_matching(rows, 0.2, 3) == 0.4001  # the 0.30 answerable turn is refused too
    assert right_at(rows, 0.4001) == 1
    assert lowest_matching(rows, 0.2, 4) == 0.4001  # no more to refuse: as far as it goes


def test_the_threshold_with_the_most_right_answers_plus_refusals() -> None:
    rows = [_row(False, 0.10, grounded=False), _row(False, 0.25), _row(True, 0.28, right=False),
            _row(False, 0.30), _row(True, 0.35, right=True), _row(False, 0.40),
            _row(True, 0.50, right=True), _row(True, 0.6, right=False)]
    # at 0.2: 2 right + 1 refused; just above 0.30: 2 + 3; above 0.40: 1 + 4 (a right one lost)
    assert right_at(rows, 0.2) + refused_at(rows, 0.2) == 3
    assert most_right_and_refused(rows, 0.2) == 0.3001  # the lowest of the best
    assert right_at(rows, 0.3001) + refused_at(rows, 0.3001) == 5
    assert right_at(rows, 0.4001) + refused_at(rows, 0.4001) == 5
    # never below the trained threshold, even where a lower one would score more
    assert most_right_and_refused(rows, 0.45) == 0.45
    # nothing to gain: the trained threshold stays
    assert most_right_and_refused([_row(True, 0.5, right=True)], 0.3) == 0.3


def test_the_threshold_with_the_highest_two_shares_stays_below_sure() -> None:
    # 4 answerable turns (3 right), 2 unanswerable (1 refused already)
    rows = [_row(False, 0.10, grounded=False), _row(False, 0.31), _row(True, 0.30, right=True),
            _row(True, 0.33, right=False), _row(True, 0.36, right=True),
            _row(True, 0.50, right=True)]
    # at 0.2: 3/4 + 1/2; just above 0.31: 2/4 + 2/2 (the refusal is worth two right answers
    # here, where the sets hold twice as many answerable turns)
    assert best_shares(rows, 0.2, 0.45) == 0.3101
    # the ceiling (the calibration's sure) is never passed: below 0.31 nothing gains
    assert best_shares(rows, 0.2, 0.31) == 0.2
    # never below the trained threshold
    assert best_shares(rows, 0.4, 0.45) == 0.4
    # where answering is worth more, the trained threshold stays
    many = rows + [_row(True, 0.305, right=True)] * 20
    assert best_shares(many, 0.2, 0.45) == 0.2


@pytest.mark.slow
def test_the_threshold_with_the_most_right_answers_plus_refusals_is_written_with_its_record(
        tmp_path: Path, capsys) -> None:
    from re3g.models import project_root

    decision = tmp_path / "answerability"
    decision.mkdir()
    shutil.copy(project_root() / "models" / "answerability" / "manifest.json", decision)
    before = json.loads((decision / "manifest.json").read_text())
    docs, dialogues = _tiny_set(tmp_path)
    # needs no cross-encoder for other documents
    assert main(["--rule", "most", "--model", str(decision), "--written", str(docs),
                 str(dialogues), "--records", str(tmp_path / "records")]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out[out.index("{"):out.rindex("}") + 1])
    other = json.loads((decision / "manifest.json").read_text())["other"]
    record = other["threshold_selection"]
    trained = read_other(decision)[3]  # the trained one, before any selection
    assert record == shown and record["trained_threshold"] == trained
    assert other["threshold"] == record["threshold"] >= trained
    assert "--rule most" in record["command"] and "held-out" in record["where"]
    assert other["coef"] == before["other"]["coef"]
    kept = [[json.loads(line) for line in (tmp_path / "records" / f"{name}.jsonl").open()]
            for name in ("reference", "candidate")]
    # the threshold is the best on the first replay's records, the figures the second's
    assert most_right_and_refused(kept[0], trained) == record["threshold"]
    assert {"right": right_at(kept[0], trained), "refused": refused_at(kept[0], trained)} \
        == record["at_trained"]
    chosen = record["threshold"]
    assert {"right": right_at(kept[1], chosen), "refused": refused_at(kept[1], chosen)} \
        == record["chosen"]
    assert len(kept[1]) == record["n_answerable"] + record["n_unanswerable"]


@pytest.fixture
def models_root(tmp_path: Path, monkeypatch):
    """The project's models with a tiny cross-encoder for other documents beside them."""
    from re3g.models import models_dir, project_root

    root = tmp_path / "models"
    root.mkdir()
    for folder in (project_root() / "models").iterdir():
        if folder.is_dir() and folder.name != OTHER_CROSS:
            (root / folder.name).symlink_to(folder)
    monkeypatch.setenv("RE3G_MODELS_DIR", str(root))
    models_dir.cache_clear()
    yield root
    models_dir.cache_clear()


@pytest.mark.slow
def test_the_threshold_is_chosen_on_replays_and_written_with_its_record(
        models_root: Path, tmp_path: Path, capsys) -> None:
    from re3g.models import project_root

    decision = tmp_path / "answerability"
    decision.mkdir()
    shutil.copy(project_root() / "models" / "answerability" / "manifest.json", decision)
    before = json.loads((decision / "manifest.json").read_text())
    with pytest.raises(SystemExit, match="re3g train cross-other"):  # no model: nothing to do
        main(["--model", str(decision), "--dry-run"])
    _model(models_root, OTHER_CROSS, tuned=before["tuned_corpus"])
    docs, dialogues = _tiny_set(tmp_path)
    assert main(["--model", str(decision), "--written", str(docs), str(dialogues)]) == 0
    other = json.loads((decision / "manifest.json").read_text())["other"]
    record = other["threshold_selection"]
    trained = read_other(decision)[3]  # the trained one, before any selection
    assert record["trained_threshold"] == trained and other["threshold"] >= trained
    assert record["chosen"]["refused"] >= record["reference"]["refused"]
    assert (other["ranking"]["cross_depth"], other["ranking"]["cross_weight"]) == (2, 0.02)
    assert "--written" in record["command"] and "held-out" in record["where"]
    # the coefficients are the trained ones
    assert other["coef"] == before["other"]["coef"]
    assert "wrote the other calibration's threshold" in capsys.readouterr().out
    # run again: it starts from the trained threshold, not from the one it wrote
    assert main(["--model", str(decision), "--written", str(docs), str(dialogues),
                 "--dry-run", "--records", str(tmp_path / "records")]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert shown["trained_threshold"] == trained
    # both replays' turns are kept for a turn-by-turn comparison (bench/paired_replays.py)
    from re3g.evaluate.replay import paired

    kept = [[json.loads(line) for line in (tmp_path / "records" / f"{name}.jsonl").open()]
            for name in ("reference", "candidate")]
    assert len(kept[0]) == len(kept[1]) == shown["n_answerable"] + shown["n_unanswerable"]
    # the kept records are the ones the report was computed from
    assert {"right": right_at(kept[0], trained), "refused": refused_at(kept[0], trained)} \
        == shown["reference"]
    assert {"right": right_at(kept[1], trained), "refused": refused_at(kept[1], trained)} \
        == shown["at_trained"]
    split = paired(*kept)
    assert split["right"]["won"] - split["right"]["lost"] == \
        shown["at_trained"]["right"] - shown["reference"]["right"]


def test_the_threshold_selection_refuses_held_out_sets_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="held-out set"):
        main(["--dry-run", "--written", "data/suite/documents", "data/suite/dialogues.json"])
    with pytest.raises(DataError, match="not found"):
        main(["--dry-run", "--written", str(tmp_path / "nothing"), str(tmp_path / "none.json")])
    with pytest.raises(SystemExit, match="no answerability model here"):
        main(["--rule", "most", "--dry-run", "--model", str(tmp_path / "none")])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"other": {"coef": []}}')
    with pytest.raises(SystemExit, match="not a readable answerability manifest"):
        main(["--rule", "most", "--dry-run", "--model", str(broken)])
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit, match="--records .*cannot write there"):
        main(["--rule", "most", "--dry-run", "--records", str(tmp_path / "a-file")])


def test_a_second_selection_starts_from_the_trained_threshold(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"other": {
        "threshold": 0.3331, "threshold_selection": {"trained_threshold": 0.2338}}}))
    assert read_other(tmp_path)[3] == 0.2338
    (tmp_path / "manifest.json").write_text(json.dumps({"other": {"threshold": 0.25}}))
    assert read_other(tmp_path)[3] == 0.25
    # thresholds stay within [0, 1]: a turn at 1.0 cannot be refused, one at 0.9999 can
    assert most_right_and_refused([_row(False, 1.0)], 0.3) == 0.3
    assert most_right_and_refused([_row(False, 1.0), _row(False, 0.9999)], 0.3) == 1.0
    assert lowest_matching([_row(False, 1.0)], 0.3, 1) == 1.0


def test_with_no_ceiling_the_threshold_may_pass_sure_and_sure_follows_it(
        tmp_path: Path, monkeypatch, capsys) -> None:
    from re3g.models import project_root
    from re3g.train import common

    decision = tmp_path / "answerability"
    decision.mkdir()
    shutil.copy(project_root() / "models" / "answerability" / "manifest.json", decision)
    manifest = json.loads((decision / "manifest.json").read_text())
    manifest["other"].pop("threshold_selection", None)
    manifest["other"].update({"threshold": 0.3, "sure": 0.4})
    (decision / "manifest.json").write_text(json.dumps(manifest))
    # above sure (0.4), refusing the 0.45 unanswerable turn costs no right answer
    rows = [_row(False, 0.45), _row(True, 0.35, right=True), _row(True, 0.5, right=True)]
    monkeypatch.setattr(common, "replay_sets", lambda sets, **config: [dict(r) for r in rows])
    docs, dialogues = _tiny_set(tmp_path)
    written = ["--written", str(docs), str(dialogues)]

    def other_after(*flags: str) -> dict:
        assert main(["--rule", "shares", "--model", str(decision), *flags, *written]) == 0
        return json.loads((decision / "manifest.json").read_text())["other"]

    other = other_after("--ceiling", "none")
    assert other["threshold"] == 0.4501 and other["sure"] == 0.4501  # sure never below it
    record = other["threshold_selection"]
    assert record["trained_threshold"] == 0.3 and record["trained_sure"] == 0.4
    assert "--ceiling none" in record["command"]
    # a later selection with the default ceiling starts from the trained threshold and sure
    other = other_after()
    assert other["threshold"] == 0.3 and other["sure"] == 0.4
    assert "--ceiling" not in other["threshold_selection"]["command"]
    with pytest.raises(SystemExit):
        main(["--rule", "shares", "--ceiling", "sky", "--model", str(decision), *written])
    assert "invalid choice: 'sky'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the other rules have no ceiling to lift
        main(["--rule", "most", "--ceiling", "none", "--model", str(decision), *written])
    assert "--ceiling none is read by --rule shares only" in capsys.readouterr().err
