"""How sure the reader is of its sentence (re3g.extract.sureness, re3g.train.sureness)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from re3g.errors import DataError, ModelError
from re3g.extract.sureness import FEATURES, Sureness, pick_features
from re3g.train.sureness import fit_sureness

ROOT = Path(__file__).resolve().parents[1]


def _rows(n: int = 400, seed: int = 3) -> list[dict]:
    """Picks whose rightness follows their cosine gap in one part and their regular-regime
    gap in the other, with noise."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        part = i % 2
        feats = dict.fromkeys(FEATURES, 0.0)
        feats["cos_gap"], feats["gap_regular"] = rng.gauss(0, 0.2), rng.gauss(1, 1)
        signal = feats["cos_gap"] * 5 if part else feats["gap_regular"] - 1
        rows.append({"features": feats, "right": signal + rng.gauss(0, 0.7) > 0,
                     "part": part, "group": f"{part}:{i // 4}"})
    return rows


def test_the_floor_keeps_the_asked_share_of_right_picks_in_each_part() -> None:
    block, report = fit_sureness(_rows(), ["doc2dial", "written"], keep=0.8)
    model = Sureness(block)
    assert set(report["AUROC_out_of_fold"]) == {"doc2dial", "written"}
    # each part's own signal is learnt although the parts disagree on which feature speaks
    assert min(report["AUROC_out_of_fold"].values()) > 0.75
    kept = [v["right_kept"] for v in report["at_floor"].values()]
    assert min(kept) >= 0.78 and max(kept) <= 0.95  # the lower part's level is taken
    assert all(v["wrong_marked"] > 0.4 for v in report["at_floor"].values())
    sure = pick_features(3.0, 1.0, 2.0, False, 0.7, 0.2, 1.0)
    unsure = pick_features(1.0, 0.9, -1.0, False, 0.4, 0.45, 0.0)
    assert model.probability(sure) > model.probability(unsure)
    with pytest.raises(ValueError, match="keep"):
        fit_sureness(_rows(), ["a", "b"], keep=0.0)


def test_a_malformed_sureness_block_is_named() -> None:
    good = {"features": ["cos_gap"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
            "intercept": 0.0, "floor": 0.5}
    with pytest.raises(ModelError, match="sureness.*select_reader --sureness"):
        Sureness({k: v for k, v in good.items() if k != "floor"})
    with pytest.raises(ModelError, match="different lengths"):
        Sureness({**good, "coef": [1.0, 2.0]})


def test_settings_rewritten_by_the_grid_drop_an_old_sureness_model(capsys) -> None:
    from re3g.train.select_reader import main
    from re3g.train.sureness import stale_sureness

    manifest = {"settings": {"cosine_weight": 2.0, "sureness": {"floor": 0.4}}}
    stale_sureness(manifest)
    assert "sureness" not in manifest["settings"] and "refit" in capsys.readouterr().out
    with pytest.raises(DataError, match="--sureness-keep"):
        main(["--sureness", "--sureness-keep", "1.5"])


@pytest.fixture(scope="module")
def sample_bot():
    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.corpus import load_corpus
    from re3g.evaluate.runner import ensure_index
    from re3g.pipeline import Re3G

    docs = load_corpus(ROOT / "data" / "sample")
    index = ensure_index(docs, ROOT / "data" / "sample", None, PASSAGE_MAX_WORDS)
    return Re3G(Config(index=str(index), docs=str(ROOT / "data" / "sample")), documents=docs)


def test_the_shipped_reader_says_how_sure_it_is_and_an_unsure_pick_is_tentative(
        sample_bot) -> None:
    sureness = sample_bot.extractor.sureness
    assert sureness is not None and 0.0 < sureness.floor < 1.0
    question = "How much is an annual membership?"
    answer = sample_bot.answer(question)
    top = answer.evidence[0]
    assert answer.grounded and "90 dollars" in top.text
    assert 0.0 < top.sure < 1.0 and answer.extra["sure"] == top.sure == round(top.sure, 4)
    assert answer.to_dict()["evidence"][0]["sure"] == top.sure
    floor = sureness.floor
    try:
        sureness.floor = 1.0  # every pick is now unsure of its sentence
        unsure = sample_bot.answer(question)
        sureness.floor = 0.0  # and none
        sure = sample_bot.answer(question)
    finally:
        sureness.floor = floor
    assert unsure.extra["unsure_pick"] and unsure.extra["tentative"]
    assert unsure.extra["tentative_reason"] == "sentence" and len(unsure.evidence) > 1
    assert unsure.text == sure.text  # the reply itself is the same; only the caution differs
    assert not sure.extra["unsure_pick"] and "tentative_reason" not in sure.extra
