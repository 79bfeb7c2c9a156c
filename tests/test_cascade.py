"""The cross-encoder's second reranking step (re3g.rank.cascade) and its settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rerank import tiny_bert

from re3g.config import Config
from re3g.errors import DataError, ModelError
from re3g.rank import RankingChain, Reranker, cascade, cross_settings, load_cross
from re3g.types import Hit, Passage, Turn


class Logits:
    """A stand-in scorer that returns fixed logits and records what it was asked."""

    def __init__(self, values: list[float]) -> None:
        self.values = values
        self.seen: list[str] = []
        self.asked = ""

    def score(self, query: str, passages: list[Passage]) -> list[float]:
        self.seen = [p.pid for p in passages]
        self.asked = query
        return self.values[:len(passages)]


def _hits(n: int) -> list[Hit]:
    ps = [Passage(f"p{i}", "d", "T", f"text {i}", 0, 6, [str(i)]) for i in range(n)]
    return [Hit(p, 1.0 - 0.1 * i, i + 1, "rerank") for i, p in enumerate(ps)]


def test_cascade_reorders_only_the_top_depth() -> None:
    scorer = Logits([0.0, 0.0, 5.0])
    out = cascade(scorer, "q", _hits(5), depth=3, weight=0.1)
    assert scorer.seen == ["p0", "p1", "p2"]  # only the top 3 are read
    assert [h.passage.pid for h in out] == ["p2", "p0", "p1", "p3", "p4"]
    assert [h.rank for h in out] == [1, 2, 3, 4, 5]
    assert out[0].score == pytest.approx(0.8 + 0.5) and out[0].source == "cross"
    assert out[3].score == pytest.approx(0.7) and out[3].source == "rerank"


def test_cascade_weight_zero_or_one_hit_changes_nothing() -> None:
    hits = _hits(4)
    assert cascade(Logits([9.0, 0, 0, 0]), "q", hits, 3, 0.0) == hits
    assert cascade(Logits([9.0]), "q", hits[:1], 3, 1.0) == hits[:1]


class Fixed:
    """A stand-in reranker that keeps the given order and scores."""

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        return list(hits)


def rank_turn(reranker: object, query: str, hits: list[Hit], prior: dict | None = None,
              document_weight: float = 0.0, cross: object = None, depth: int = 0,
              weight: float = 0.0, history: list[Turn] | None = None
              ) -> tuple[list[Hit], float]:
    chain = RankingChain(reranker, cross, current_weight=0.3,  # type: ignore[arg-type]
                         document_weight=document_weight, cross_depth=depth,
                         cross_weight=weight)
    ranking = chain.rank(query, hits, history, prior or {})
    return ranking.hits, ranking.top_score


def test_ranking_chain_is_mix_then_prior_then_cascade() -> None:
    """The ranking chain composes the three steps as the pipeline does and reports the
    reranker's own top score, from before the document bonus and the cross-encoder."""
    hits = _hits(4)
    prior = {"d": 1.0}  # every passage is in document "d": the bonus keeps the order
    scorer = Logits([0.0, 9.0, 0.0])
    ranked, top = rank_turn(Fixed(), "q", hits, prior, 0.2, scorer, 3, 0.1)
    assert top == pytest.approx(1.0)  # before the +0.2 bonus and the cross-encoder
    assert [h.passage.pid for h in ranked] == ["p1", "p0", "p2", "p3"]
    assert ranked[0].score == pytest.approx(0.9 + 0.2 + 0.9)
    assert scorer.seen == ["p0", "p1", "p2"]
    plain, top = rank_turn(Fixed(), "q", hits)  # no prior, no cross-encoder
    assert [h.passage.pid for h in plain] == ["p0", "p1", "p2", "p3"] and top == 1.0
    assert scorer.asked == "q"

    class EveryTurn(Logits):  # a cross-encoder trained with --query-roles all
        def question(self, history: list[Turn]) -> str:
            return " || ".join(t.utterance for t in reversed(history))

    scorer = EveryTurn([0.0, 9.0, 0.0])
    turns = [Turn(1, "user", "hi"), Turn(2, "agent", "agent"), Turn(3, "user", "q")]
    rank_turn(Fixed(), "q", hits, prior, 0.2, scorer, 3, 0.1, turns)
    assert scorer.asked == "q || agent || hi"  # a cross-encoder's own query when it has one


def test_cross_encoder_question_follows_its_query_roles() -> None:
    turns = [Turn(1, "user", "Hi"), Turn(2, "agent", "Hello"), Turn(3, "user", "Fees?")]
    every = Reranker("cross-encoder", None, {"settings": {"query_roles": "all"}})
    assert every.question(turns) == "Fees? || Hello || Hi"
    assert every.question([]) is None and every.question(None) is None
    assert Reranker("cross-encoder", None, {"settings": {"query_roles": "user"}}).question(
        turns) is None
    assert Reranker("cross-encoder", None, {}).question(turns) is None  # hub models: user
    assert Reranker("tower", None, {"settings": {"query_roles": "all"}}).question(turns) is None


def test_cross_settings_from_config_then_manifest_then_defaults() -> None:
    def WithManifest() -> Reranker:  # noqa: N802
        return Reranker("cross-encoder", None, {"settings": {"depth": 4, "cross_weight": 0.02}})

    assert cross_settings(WithManifest()) == (4, 0.02)
    assert cross_settings(WithManifest(), 7, 0.3) == (7, 0.3)
    assert cross_settings(Reranker("cross-encoder", None, {})) == (5, 0.05)


@pytest.mark.parametrize(("key", "value", "match"), [
    ("cross", "maybe", "'cross'"),
    ("cross_depth", 0, "'cross_depth'"),
    ("cross_weight", -1, "'cross_weight'"),
    ("cross_model", "", "'cross_model'"),
])
def test_bad_cross_settings_name_the_key(key: str, value: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Config(**{key: value}).validate()


def test_cross_without_a_reranker_is_refused() -> None:
    with pytest.raises(DataError, match="'cross'.*needs"):
        Config(cross=True, rerank=False).validate()


def test_cross_switch_words() -> None:
    assert Config(cross="off").validate().cross is False
    assert Config(cross="AUTO").validate().cross == "auto"


def test_load_cross_off_missing_and_required(tmp_path: Path) -> None:
    assert load_cross(False) is None
    with pytest.raises(ModelError, match="train one with `re3g train reranker --arch cross"):
        load_cross(True, str(tmp_path / "missing"))


def test_pipeline_runs_a_named_cross_encoder_after_the_tower(small_index, small_corpus_files,
                                                             tmp_path: Path) -> None:
    from re3g.pipeline import Re3G

    model = tiny_bert(tmp_path, "BertForSequenceClassification")
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), cross=True,
               cross_model=str(model), cross_depth=3, cross_weight=1.0, min_confidence=0.0)
    ans = bot.answer("How do I apply for benefits?")
    assert bot.cross_reranker.kind == "cross-encoder"
    assert [h.source for h in ans.passages[:3]] == ["cross"] * 3
    assert all(h.source != "cross" for h in ans.passages[3:])
    assert [h.rank for h in ans.passages] == list(range(1, len(ans.passages) + 1))
    off = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), cross=False)
    assert off.cross_reranker is None
    # a cross-encoder trained with --query-roles all reads every turn, not the user-only query
    cross = bot.cross_reranker
    asked: list[str] = []
    real = cross.score
    cross.score = lambda q, ps: asked.append(q) or real(q, ps)
    cross.query_roles = "all"
    turns = [Turn(1, "user", "How do I apply?"), Turn(2, "agent", "Online or by mail."),
             Turn(3, "user", "What about benefits?")]
    bot.answer(turns)
    assert asked == ["What about benefits? || Online or by mail. || How do I apply?"]
    cross.query_roles = "user"
    asked.clear()
    bot.answer(turns)
    assert asked == [bot.build_query(turns)] and "Online" not in asked[0]
