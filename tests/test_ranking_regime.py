"""The ranking chain's settings for other documents (re3g.rank.regime) and their selection
on the written choose sets (re3g.train.select_ranking_written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from re3g.config import Config
from re3g.errors import DataError, ModelError
from re3g.rank.regime import (
    OTHER_KEYS,
    OTHER_RANKING,
    other_ranking,
    other_selection,
    ranking_for,
)
from re3g.train.select_ranking_written import (
    MARGINS,
    MOVES,
    at_defaults,
    choose,
    held_out_check,
    margin_points,
    moves_points,
    pooled_hits,
    scores,
)

ROOT = Path(__file__).resolve().parents[1]
SELECTION = {"tuned_corpus": "doc2dial", "chosen": {"current_weight": 0.5,
                                                    "document_margin": 0.15}}


def test_other_documents_get_the_chosen_values_and_doc2dial_keeps_the_defaults() -> None:
    other = ranking_for(Config(), "my-documents", SELECTION)
    assert (other.current_weight, other.document_margin) == (0.5, 0.15)
    assert other.document_weight == Config().document_weight  # not chosen: the default
    assert ranking_for(Config(), "doc2dial", SELECTION) == Config()
    assert ranking_for(Config(), None, SELECTION).current_weight == 0.5  # unknown corpus
    # the one switch of the reader's and the decision's calibrations forces either
    assert ranking_for(Config(calibration="tuned"), "my-documents", SELECTION) \
        == Config(calibration="tuned")
    assert ranking_for(Config(calibration="other"), "doc2dial", SELECTION).current_weight == 0.5
    assert ranking_for(Config(), "my-documents", {}) == Config()  # nothing chosen


def test_a_value_the_user_sets_is_kept_on_every_corpus() -> None:
    cfg = Config(current_weight=0.4)
    got = ranking_for(cfg, "my-documents", SELECTION)
    assert (got.current_weight, got.document_margin) == (0.4, 0.15)


def test_the_selection_file_is_checked_and_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / OTHER_RANKING
    assert other_selection(path) == {}
    path.write_text("{not json")
    with pytest.raises(ModelError, match=f"{path}: unreadable ranking selection"):
        other_selection(path)
    path.write_text(json.dumps({"chosen": {"current_weight": 0.5}}))
    with pytest.raises(ModelError, match="'tuned_corpus'"):
        other_selection(path)
    path.write_text(json.dumps({"tuned_corpus": "x", "chosen": {"k": 5}}))
    with pytest.raises(ModelError, match="'chosen.k' is not a setting it may choose"):
        other_selection(path)
    path.write_text(json.dumps({"tuned_corpus": "x", "chosen": {"current_weight": 2.0}}))
    with pytest.raises(ModelError, match=f"{path}: key 'current_weight'"):
        other_selection(path)
    path.write_text(json.dumps(SELECTION))
    assert other_selection(path)["chosen"] == SELECTION["chosen"]
    with pytest.raises(DataError, match="key 'calibration': calibration must be one of"):
        ranking_for(Config(calibration="sometimes"), "x", SELECTION)  # never validated


def test_a_selection_reaches_the_pipeline_on_other_documents_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a selection in the models folder, the sample corpus (not the tuned one) gets its
    values in the chain the pipeline ranks with and in what the decision's ranking check
    compares; without one (as shipped since session 39's gate failed) the defaults."""
    import re3g.rank.regime as regime
    from re3g.data.ingest import load_directory
    from re3g.pipeline import Re3G
    from re3g.retrieve.index import corpus_fingerprint

    docs = {d.doc_id: d for d in load_directory(ROOT / "data" / "sample", domain="sample")}
    assert Re3G(Config(), documents=docs).ranking_config == Config()  # nothing shipped
    (tmp_path / OTHER_RANKING).write_text(json.dumps(SELECTION))
    monkeypatch.setattr(regime, "models_dir", lambda: tmp_path)
    bot = Re3G(Config(), documents=docs)
    for key, value in SELECTION["chosen"].items():
        assert getattr(bot.ranking_config, key) == value
        assert getattr(bot.chain, key) == value
    assert other_ranking(Config())["current_weight"] == 0.5
    tuned = {**SELECTION, "tuned_corpus": corpus_fingerprint(docs.values())}
    (tmp_path / OTHER_RANKING).write_text(json.dumps(tuned))
    assert Re3G(Config(), documents=docs).ranking_config == Config()  # the tuned corpus


def test_choosing_pools_the_sets_and_leaves_one_out() -> None:
    a, b = {"current_weight": 0.3}, {"current_weight": 0.5}
    results = [
        (a, {"s1": {"same": [10, 8, 9], "change": [5, 1, 2]},
             "s2": {"same": [10, 8, 9], "change": [5, 1, 2]}}),
        (b, {"s1": {"same": [10, 8, 9], "change": [5, 4, 5]},
             "s2": {"same": [10, 5, 9], "change": [5, 2, 5]}}),
    ]
    # pooled: a = 0.8 x 80 + 0.2 x 20 = 68; b = 0.8 x 65 + 0.2 x 60 = 64
    assert scores(results[0][1])["objective"] == 68.0
    assert scores(results[1][1])["objective"] == 64.0
    assert choose(results) == a
    assert choose(results, ["s1"]) == b  # on s1 alone: 0.8 x 80 + 0.2 x 80 = 80
    check = held_out_check(results, ["s1", "s2"])
    # left-out s1 is scored under s2's choice (a), left-out s2 under s1's (b)
    assert check["chosen_per_left_out_set"] == {"s1": a, "s2": b}
    assert check["scores"]["R@1_same"] == 65.0 and check["scores"]["R@1_change"] == 30.0


def test_the_margin_mode_counts_turns_and_a_tie_keeps_no_bound() -> None:
    none, wide, narrow = ({"document_margin": m} for m in (None, 0.4, 0.2))
    results = [
        (none, {"s1": {"same": [10, 8, 9], "change": [5, 1, 2]}}),   # 9 turns right
        (wide, {"s1": {"same": [10, 8, 9], "change": [5, 1, 2]}}),   # 9: a tie with no bound
        (narrow, {"s1": {"same": [10, 6, 9], "change": [5, 4, 5]}}),  # 10, worse objective
    ]
    assert choose(results) == none  # the weighted objective: 68 against 64
    assert choose(results, objective=pooled_hits) == narrow
    assert choose(results[:2], objective=pooled_hits) == none  # a tie goes to no bound
    points = margin_points()
    assert [p["document_margin"] for p in points] == MARGINS and MARGINS[0] is None
    assert all(set(p) == set(OTHER_KEYS) for p in points)


def test_the_moves_grid_starts_at_the_defaults_and_has_no_twin_points() -> None:
    points = moves_points()
    assert points[0] == at_defaults() and points[0]["document_words"] == Config.document_words
    assert len({json.dumps(p, sort_keys=True) for p in points}) == len(points)
    assert {p["document_words"] for p in points} == set(MOVES["document_words"])
    # the sure share was measured and left out of the grid (gate M, session 45)
    assert {p["current_sure"] for p in points} == {None}
    # the selection's file may carry every key the grid chooses
    sel = {"tuned_corpus": "abc", "chosen": {k: points[-1][k] for k in MOVES}}
    got = ranking_for(Config(), "xyz", sel)
    assert (got.document_words, got.document_margin) == (points[-1]["document_words"],
                                                         points[-1]["document_margin"])
    assert {(p["current_weight"], p["document_weight"]) for p in points} == {
        (Config.current_weight, Config.document_weight)}


def test_cached_decision_rows_depend_on_the_selection(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A written row's signals come from the ranking the selection sets, so a new selection
    must not be served old rows; a doc2dial row (skip names the file) does not depend on it."""
    import re3g.train.answerability as ans

    monkeypatch.setattr(ans, "model_path", lambda kind: tmp_path / "models" / kind)
    (tmp_path / "models" / "reranker").mkdir(parents=True)
    index = tmp_path / "index"
    before = ans.pipeline_stamp(index, None)
    (tmp_path / "models" / OTHER_RANKING).write_text(json.dumps(SELECTION))
    chosen = ans.pipeline_stamp(index, None)
    assert chosen != before
    (tmp_path / "models" / OTHER_RANKING).write_text(json.dumps(
        {**SELECTION, "chosen": {"current_weight": 0.6}}))
    assert ans.pipeline_stamp(index, None) not in (before, chosen)
    assert ans.pipeline_stamp(index, None, skip=(OTHER_RANKING,)) == before
