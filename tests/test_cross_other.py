"""The cross-encoder for documents other than doc2dial (re3g.train.cross_other, re3g.rank.
load_cross): which corpus gets which model, how its cascade is chosen, its trainer."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_rerank import tiny_bert

from re3g.models import BASE_MODEL
from re3g.rank import OTHER_CROSS, load_cross, other_cross
from re3g.train.cross_other import RankedTurn, choose_cascade, top_passage_rate
from re3g.types import Turn


def _model(root: Path, name: str, tuned: str | None = None) -> Path:
    folder = root / name
    tiny = tiny_bert(root / f"tiny-{name}", "BertForSequenceClassification")
    tiny.rename(folder)
    manifest = {"kind": "reranker", "format": 2, "architecture": "cross-encoder",
                "base_model": BASE_MODEL, "settings": {"depth": 3, "cross_weight": 0.1}}
    if tuned:
        manifest["tuned_corpus"] = tuned
        manifest["settings"] = {"depth": 2, "cross_weight": 0.02}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def models_root(tmp_path: Path, monkeypatch):
    """An empty models folder in place of the project's (``models_dir`` is resolved once)."""
    from re3g.models import models_dir

    monkeypatch.setenv("RE3G_MODELS_DIR", str(tmp_path))
    models_dir.cache_clear()
    yield tmp_path
    models_dir.cache_clear()


def test_every_corpus_but_the_tuned_one_gets_the_cross_encoder_for_other_documents(
        models_root: Path) -> None:
    tmp_path = models_root
    tuned = _model(tmp_path, "cross-reranker")
    assert other_cross("any-corpus", "auto") is None  # not trained: the default everywhere
    other = _model(tmp_path, OTHER_CROSS, tuned="doc2dial-fingerprint")
    assert other_cross("any-corpus", "auto") == str(other)
    assert other_cross(None, "auto") == str(other)  # an unknown corpus is another one
    assert other_cross("doc2dial-fingerprint", "auto") is None
    assert other_cross("any-corpus", "tuned") is None  # [answer] calibration forces it
    assert other_cross("doc2dial-fingerprint", "other") == str(other)
    assert Path(load_cross("auto", None, "any-corpus", "auto").path) == other
    assert Path(load_cross("auto", None, "doc2dial-fingerprint", "auto").path) == tuned
    # callers that do not give the corpus keep the tuned model; a named model always wins
    assert Path(load_cross("auto").path) == tuned
    assert Path(load_cross("auto", str(tuned), "any-corpus", "auto").path) == tuned


def test_the_pipeline_picks_the_cross_encoder_by_corpus_and_the_decision_reads_the_tuned_one(
        models_root: Path) -> None:
    """The project's models, with a (tiny) cross-encoder for other documents beside them: the
    sample corpus ranks with it, the decision's cross signal still comes from the doc2dial
    one, and ``calibration = "tuned"`` forces the doc2dial one for both."""
    from re3g.models import project_root
    from re3g.pipeline import Re3G
    from re3g.rank import cross_settings

    for folder in (project_root() / "models").iterdir():
        if folder.is_dir() and folder.name != OTHER_CROSS:
            (models_root / folder.name).symlink_to(folder)
    _model(models_root, OTHER_CROSS, tuned="doc2dial-fingerprint")
    sample = Re3G.from_config()  # the embedded sample corpus: not doc2dial
    assert Path(sample.cross_reranker.path).name == OTHER_CROSS
    assert sample.cascade() == {"cross_depth": 2, "cross_weight": 0.02}
    assert sample.cascade() == dict(zip(("cross_depth", "cross_weight"),
                                        cross_settings(sample.cross_reranker), strict=True))
    assert sample.rule.calibration == "other"
    # the decision's cross signal is the doc2dial cross-encoder's logit of the top passage
    assert Path(sample.signal_cross.path).name == "cross-reranker"
    turns = [Turn(1, "user", "How much is a day pass?")]
    ranking = sample.rank(*sample.candidates(turns), turns)
    top = ranking.hits[0].passage
    signals = sample.signals(turns, ranking, [])
    own = sample.signal_cross.score(sample.signal_cross.question(turns), [top])[0]
    assert signals.cross == pytest.approx(float(own), abs=1e-5)
    assert signals.cross != pytest.approx(ranking.cross_logits[top.pid], abs=1e-3)
    answer = sample.answer("How much is a day pass?")
    assert answer.evidence and answer.passages[0].source == "cross"
    forced = Re3G.from_config(calibration="tuned")
    assert Path(forced.cross_reranker.path).name == "cross-reranker"
    assert forced.signal_cross is forced.cross_reranker


def _turn(scores: list[float], gold: list[bool]) -> RankedTurn:
    return RankedTurn(None, "q", [SimpleNamespace(score=s) for s in scores], gold)


def test_the_cascade_is_chosen_by_the_pooled_top_passage_rate_at_the_shallowest_depth() -> None:
    # the gold is second in both turns; logits lift it at any depth >= 2 with weight >= 0.2
    turns = {"a": [_turn([1.0, 0.99, 0.5], [False, True, False])],
             "b": [_turn([1.0, 0.95, 0.9], [False, True, False])]}
    logits = {"a": [[0.0, 1.0, 0.0]], "b": [[0.0, 1.0, 0.0]]}
    assert top_passage_rate(turns["b"], logits["b"], 2, 0.01) == 0
    assert top_passage_rate(turns["b"], logits["b"], 2, 0.1) == 1
    chosen, record = choose_cascade(turns, logits)
    assert chosen["depth"] == 2 and chosen["cross_weight"] == 0.075  # smallest weight that works
    assert record["sets"]["a"] == {"turns": 1, "without": 0.0, "chosen": 100.0}
    assert record["best"] == record["chosen_rate"] == 100.0


def test_the_trainer_refuses_held_out_sets_before_any_work(tmp_path: Path, capsys) -> None:
    from re3g.cli import main

    for flag, docs in (("--written", "data/suite/documents"),
                       ("--choose", "data/dev6/documents")):
        rc = main(["train", "cross-other", flag, docs, "x.json", "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert rc == 2 and docs in err and "held-out" in err
        assert not (tmp_path / "o").exists()
    rc = main(["train", "cross-other", "--written", "data/dev/documents", "no-such.json",
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "no-such.json not found" in capsys.readouterr().err
    # a set trained on must not choose the cascade (dev4 is one of the default choose sets)
    rc = main(["train", "cross-other", "--written", "data/dev4/documents",
               "data/dev4/dialogues.json", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "data/dev4/documents: also a set the cascade is chosen on" in err
    assert not (tmp_path / "o").exists()
    rc = main(["train", "cross-other", "--depth", "9", "--out", str(tmp_path / "o")])
    assert rc == 2 and "--depth must be between 1 and 8" in capsys.readouterr().err


def test_the_quick_trainer_writes_a_model_with_its_corpus_and_chosen_cascade(
        tmp_path: Path) -> None:
    from re3g.cli import main
    from re3g.data import load_documents
    from re3g.retrieve.index import corpus_fingerprint
    from re3g.train.common import DATA_DIR

    out = tmp_path / "co"
    rc = main(["train", "cross-other", "--profile", "quick", "--no-progress", "--out", str(out),
               "--written", "data/dev4/documents", "data/dev4/dialogues.json",
               "--choose", "data/dev5/documents", "data/dev5/dialogues.json"])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["tuned_corpus"] == corpus_fingerprint(
        load_documents(DATA_DIR / "doc2dial_doc.json").values())
    assert m["architecture"] == "cross-encoder" and m["training"]["steps"] == 2
    assert m["settings"]["depth"] in (2, 3, 5, 8) and m["settings"]["cross_weight"] > 0
    assert list(m["selection"]["sets"]) == ["data/dev5/dialogues.json"]
    assert "--written data/dev4/documents data/dev4/dialogues.json" in m["command"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["co"]  # no checkpoint, no staging


def test_the_other_calibration_is_checked_against_the_ranking_it_was_fitted_on() -> None:
    from re3g.config import Config
    from re3g.decide import LearnedRule

    block = {"signals": ["overlap"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
             "intercept": 0.0, "threshold": 0.5}
    ranking = {"title_weight": 2.0, "base_weight": 0.25, "cross_depth": 3}
    rule = LearnedRule({**block, "tuned_corpus": "doc2dial",
                        "ranking": {**ranking, "cross_weight": 0.1},
                        "other": {**block, "ranking": {**ranking, "cross_weight": 0.02}}})
    other_cascade = {"cross_depth": 3, "cross_weight": 0.02}
    assert rule.for_corpus("another").ranking_differs(Config(), other_cascade) == []
    assert rule.ranking_differs(Config(), other_cascade) == ["cross_weight 0.02 (trained with 0.1)"]
    # a model from before: its other block records no ranking and is checked against the base
    old = LearnedRule({**rule.manifest, "other": block})
    assert old.for_corpus("another").ranking_differs(Config(), other_cascade) != []
