"""Metrics: hand-computed values, and the team's reference numbers on the validation split."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.evaluate.metrics import (
    exact_match,
    f1_score,
    grounding_metrics,
    lcs_length,
    normalize_answer,
    response_metrics,
    rouge_l,
    rouge_tokens,
    sacrebleu_score,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "doc2dial"


def test_normalize_answer_official_rules() -> None:
    assert normalize_answer("  The Quick, brown FOX!  ") == "quick brown fox"
    assert normalize_answer("an apple a day") == "apple day"
    # articles inside words stay; punctuation goes before articles are removed
    assert normalize_answer("Theatre and anthem") == "theatre and anthem"
    assert normalize_answer("the-end") == "theend"
    assert normalize_answer("") == ""


def test_f1_hand_computed() -> None:
    # pred tokens: renew licence online; ref: renew your licence ; common 2
    # P = 2/3, R = 2/3, F1 = 2/3
    assert f1_score("Renew the licence online.", "renew your licence") == pytest.approx(200 / 3)
    # repeated tokens count with multiplicity: pred "fee fee", ref "fee" -> P 1/2 R 1 F1 2/3
    assert f1_score("fee fee", "fee") == pytest.approx(200 / 3)
    assert f1_score("yes", "no") == 0.0
    assert f1_score("", "") == 100.0
    assert f1_score("the", "an") == 100.0  # both normalise to empty
    assert f1_score("something", "the") == 0.0


def test_f1_and_em_max_over_references() -> None:
    assert f1_score("renew online", ["by mail", "Renew online!"]) == 100.0
    assert exact_match("Renew online!", ["by mail", "renew online"]) == 100.0
    assert exact_match("renew", ["renew online"]) == 0.0
    with pytest.raises(ValueError):
        f1_score("x", [])


def test_lcs_and_rouge_l_hand_computed() -> None:
    assert lcs_length(["a", "b", "c", "d", "e"], ["b", "d", "e"]) == 3
    assert lcs_length([], ["x"]) == 0
    # pred w x y z, ref x y v z: LCS 3 -> P 3/4, R 3/4, F 0.75
    assert rouge_l(["w x y z"], ["x y v z"]) == pytest.approx(75.0)
    # mean over examples: 100 and 0
    assert rouge_l(["same words", "abc"], ["same words", "xyz"]) == pytest.approx(50.0)
    # rouge_score tokens: articles kept, apostrophes split
    assert rouge_tokens("The DMV's fee") == ["the", "dmv", "s", "fee"]


def test_sacrebleu_matches_package() -> None:
    import sacrebleu

    preds = ["You can renew your licence online .", "It costs 25 dollars"]
    refs = ["You may renew your licence online.", "The fee is 25 dollars"]
    expected = sacrebleu.corpus_bleu(preds, [refs]).score
    assert sacrebleu_score(preds, refs) == pytest.approx(expected)
    assert sacrebleu_score(preds, preds) == pytest.approx(100.0)
    # several references per example, ragged lists
    multi = sacrebleu_score(preds, [[refs[0], preds[0]], [refs[1]]])
    assert multi > sacrebleu_score(preds, refs)


def test_aggregates_and_length_mismatch() -> None:
    g = grounding_metrics(["renew online", "pay the fee"], ["Renew online.", "fee"])
    assert g["EM"] == pytest.approx(50.0)
    assert g["F1"] == pytest.approx((100.0 + 200 / 3) / 2)
    r = response_metrics(["renew online"], ["renew online"])
    assert set(r) == {"F1", "SacreBLEU", "ROUGE-L"}
    assert r["F1"] == r["ROUGE-L"] == 100.0
    assert response_metrics([], []) == {"F1": 0.0, "SacreBLEU": 0.0, "ROUGE-L": 0.0}
    with pytest.raises(ValueError, match="pair up"):
        response_metrics(["a"], [])


@pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")
def test_gold_span_copy_matches_reference_numbers() -> None:
    """DESIGN.md: copying the gold span scores F1 61.1, SacreBLEU 49.0, ROUGE-L 60.6."""
    from re3g.data import load_documents, load_examples
    from re3g.data.dialdoc import grounding_text

    docs = load_documents(DATA / "doc2dial_doc.json")
    examples = [
        e for e in load_examples(DATA / "doc2dial_dial_validation.json", docs)
        if e.response is not None
    ]
    preds = [grounding_text(e, docs) for e in examples]
    scores = response_metrics(preds, [e.response or "" for e in examples])
    assert scores["F1"] == pytest.approx(61.1, abs=0.05)
    assert scores["SacreBLEU"] == pytest.approx(49.0, abs=0.05)
    assert scores["ROUGE-L"] == pytest.approx(60.6, abs=0.05)
