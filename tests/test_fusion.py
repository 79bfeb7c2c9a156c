"""Fusion is a pure function: check RRF and weighted fusion by hand."""

from __future__ import annotations

import pytest

from re3g.retrieve.fusion import rrf, weighted
from re3g.types import Hit, Passage


def _p(pid: str) -> Passage:
    return Passage(pid, "d", "", pid, 0, 1, [])


def _run(*pids: str) -> list[Hit]:
    return [Hit(_p(pid), 10.0 - i, i + 1) for i, pid in enumerate(pids)]


def test_rrf_scores_match_the_formula():
    fused = rrf([_run("a", "b", "c"), _run("c", "a")], k=60)
    scores = {h.passage.pid: h.score for h in fused}
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    assert [h.passage.pid for h in fused] == ["a", "c", "b"]
    assert [h.rank for h in fused] == [1, 2, 3]


def test_rrf_top_weights_and_ties():
    fused = rrf([_run("a"), _run("b")], k=60, top=1)
    assert [h.passage.pid for h in fused] == ["a"]  # tie broken by id, deterministic
    fused = rrf([_run("a"), _run("b")], weights=[1.0, 2.0])
    assert fused[0].passage.pid == "b"
    with pytest.raises(ValueError):
        rrf([_run("a")], weights=[1.0, 1.0])
    assert rrf([[], []]) == []


def test_weighted_fusion_normalises_scores():
    a = [Hit(_p("a"), 100.0, 1), Hit(_p("b"), 0.0, 2)]
    b = [Hit(_p("b"), 0.9, 1), Hit(_p("a"), 0.1, 2)]
    fused = weighted([a, b], weights=[0.3, 0.7])
    assert fused[0].passage.pid == "b"
    assert fused[0].score == pytest.approx(0.7)
    assert fused[1].score == pytest.approx(0.3)
