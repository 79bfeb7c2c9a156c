"""Topic shifts: spliced train dialogues and the bound on the document prior."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.rank import RankingChain
from re3g.rank.prior import bound_prior
from re3g.train.splice import agent_cuts, shift_examples, splice, spliced_dialogues
from re3g.types import Dialogue, Hit, Passage, Reference, Turn

TRAIN = Path(__file__).resolve().parents[2] / "shared/data/doc2dial/doc2dial_dial_train.json"


def dialogue(dial_id: str, doc: str, domain: str = "ssa", n: int = 3) -> Dialogue:
    turns = []
    for i in range(n):
        turns.append(Turn(2 * i + 1, "user", f"{dial_id} question {i}"))
        turns.append(Turn(2 * i + 2, "agent", f"{dial_id} answer {i}",
                          [Reference(doc, str(i + 1))]))
    return Dialogue(dial_id, domain, turns, doc)


def test_splice_renumbers_and_keeps_both_parts() -> None:
    a, b = dialogue("a", "d1"), dialogue("b", "d2")
    assert agent_cuts(a) == [2, 4]
    joined, at = splice(a, b, 4)
    assert at == 4 and joined.dial_id == "a+b" and joined.doc_id == "d2"
    assert [t.turn_id for t in joined.turns] == list(range(1, 11))
    assert [t.utterance for t in joined.turns[3:6]] == ["a answer 1", "b question 0",
                                                         "b answer 0"]
    with pytest.raises(ValueError, match="cut 0 outside dialogue a"):
        splice(a, b, 0)


def test_spliced_dialogues_pair_another_document_of_the_same_domain() -> None:
    dials = [dialogue("a", "d1"), dialogue("b", "d2"), dialogue("c", "d1"),
             dialogue("e", "d9", domain="va")]
    joined = spliced_dialogues(dials, seed=3)
    assert {d.dial_id.split("+")[1] for d, _ in joined} == {"a", "b", "c"}  # e has no partner
    for d, at in joined:
        first = next(x for x in dials if x.dial_id == d.dial_id.split("+")[0])
        second = next(x for x in dials if x.dial_id == d.dial_id.split("+")[1])
        assert first.doc_id != second.doc_id and first.domain == second.domain
        assert d.turns[at - 1].role == "agent" and d.turns[at].role == "user"


def test_shift_examples_are_the_first_user_turns_after_the_join() -> None:
    from re3g.data.dialdoc import examples_from_dialogues

    joined, at = splice(dialogue("a", "d1"), dialogue("b", "d2"), 4)
    examples = examples_from_dialogues([joined])
    picked = shift_examples(examples, {joined.dial_id: at})
    assert [e.history[-1].utterance for e in picked] == ["b question 0", "b question 1"]


@pytest.mark.skipif(not TRAIN.is_file(), reason="needs ../shared/data (doc2dial train)")
def test_spliced_train_dialogues_move_to_another_document() -> None:
    from re3g.data import load_dialogues

    dials = load_dialogues(TRAIN)[:200]
    joined = spliced_dialogues(dials, seed=7)
    assert len(joined) > 150
    for d, at in joined[:50]:
        before = {r.doc_id for t in d.turns[:at] for r in t.references}
        after = {r.doc_id for t in d.turns[at:] for r in t.references}
        assert before and after and not before & after


DOC_OF = {"a1": "fees", "a2": "fees", "b1": "plots"}


def test_bound_prior_drops_only_for_a_clear_match_elsewhere() -> None:
    prior = {"fees": 1.0, "plots": 0.2}
    assert bound_prior(prior, {"a1": 0.2, "a2": 0.25, "b1": 0.6}, DOC_OF, 0.1) == {}
    assert bound_prior(prior, {"a1": 0.2, "a2": 0.55, "b1": 0.6}, DOC_OF, 0.1) == prior
    assert bound_prior(prior, {"a1": 0.7, "b1": 0.6}, DOC_OF, 0.1) == prior
    assert bound_prior(prior, {"a1": 0.2, "b1": 0.6}, DOC_OF, None) == prior


class TableRanker:
    """A ranker with fixed scores per (query, passage id)."""

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table

    def rerank(self, query: str, hits: list[Hit], k: int | None = None) -> list[Hit]:
        scored = sorted(((self.table.get((query, h.passage.pid), 0.0), h) for h in hits),
                        key=lambda x: -x[0])
        return [Hit(h.passage, s, r, "rerank") for r, (s, h) in enumerate(scored, start=1)]


def hits() -> list[Hit]:
    return [Hit(Passage(pid, doc, doc, pid, 0, 1, ["1"]), 0.0, i)
            for i, (pid, doc) in enumerate(DOC_OF.items(), start=1)]


def after_day_pass(current: str) -> tuple[list[Turn], str]:
    """A conversation that asked about a day pass and now asks ``current``; its query."""
    return ([Turn(1, "user", "day pass?"), Turn(2, "agent", "8 dollars"),
             Turn(3, "user", current)], f"{current} day pass?")


def test_the_prior_never_outweighs_a_turn_that_clearly_matches_another_document() -> None:
    history, query = after_day_pass("lost bike?")
    table = {(query, "a1"): 0.5, (query, "a2"): 0.4, (query, "b1"): 0.45,
             ("lost bike?", "a1"): 0.2, ("lost bike?", "a2"): 0.1, ("lost bike?", "b1"): 0.7}
    prior = {"fees": 1.0, "plots": 0.05}
    unbounded = RankingChain(TableRanker(table), document_weight=0.3, current_weight=0.3)
    assert unbounded.rank(query, hits(), history, prior=prior).hits[0].passage.pid == "a1"
    bounded = RankingChain(TableRanker(table), document_weight=0.3, current_weight=0.3,
                           document_margin=0.1)
    assert bounded.rank(query, hits(), history, prior=prior).hits[0].passage.pid == "b1"
    # a vague follow-up ("and for members?") keeps the prior
    vague = dict(table)
    vague.update({("lost bike?", "a1"): 0.3, ("lost bike?", "b1"): 0.35})
    ranked = RankingChain(TableRanker(vague), document_weight=0.3, current_weight=0.3,
                          document_margin=0.1).rank(query, hits(), history, prior=prior)
    assert ranked.hits[0].passage.pid == "a1"


def test_ranking_selection_takes_the_shallowest_cascade_within_the_tolerance() -> None:
    """select_ranking's choice: the best setting at the smallest cross-encoder depth whose
    best objective comes within DEPTH_TOLERANCE of the best overall (the depth costs time)."""
    from re3g.train.select_ranking import DEPTH_TOLERANCE, best, grid_points

    def point(depth: int, weight: float = 0.05) -> dict[str, float]:
        return {"current_weight": 0.5, "document_weight": 0.1, "cross_weight": weight,
                "cross_depth": depth}

    hits = [1] * 60 + [0] * 40  # 60% R@1
    one_more = [1] * 61 + [0] * 39  # 61%: a full point better
    slightly = [1] * 600 + [0] * 399  # 60.06%: within the tolerance of 60%
    assert DEPTH_TOLERANCE < 1.0
    results = [(point(3), hits, hits), (point(5), one_more, one_more), (point(8), hits, hits)]
    assert best(results)[0]["cross_depth"] == 5  # a point better is worth two passages
    close = [(point(3), hits * 10, hits * 10), (point(5), slightly, slightly)]
    chosen, value = best(close)
    assert chosen["cross_depth"] == 3 and abs(value - 60.0) < 1e-9
    # without the cross-encoder nothing is read: the cheapest of all when within the tolerance
    off = [(point(3, 0.0), slightly, slightly), (point(5), hits * 10, hits * 10),
           (point(3), one_more, one_more)]
    assert best(off)[0] == point(3)  # 61% at depth 3: the cross-encoder off is 0.94 below
    assert best(off[:2])[0] == point(3, 0.0)  # off and within the tolerance: nothing read
    # the depth is searched only where the cross-encoder is on
    depths_off = {p["cross_depth"] for p in grid_points() if p["cross_weight"] == 0.0}
    assert len(depths_off) == 1
    assert {p["cross_depth"] for p in grid_points()} == {3, 5, 8}


def test_memo_rankers_score_every_turn_once_and_then_answer_from_memory() -> None:
    """select_ranking and its --written mode (select_ranking_written) share one set-up: the
    pipeline's blended tower and its cross-encoder behind memos filled once per turn."""
    from types import SimpleNamespace

    from re3g.train.select_ranking import TurnData, memo_rankers

    calls: list[tuple[str, str]] = []

    class Fake:
        def rerank(self, query: str, hits: list[Hit], k: int | None = None) -> list[Hit]:
            calls.append(("rerank", query))
            return list(hits)

        def score(self, query: str, passages: list[Passage]) -> list[float]:
            calls.append(("score", query))
            return [1.0] * len(passages)

        def question(self, history: list[Turn]) -> str | None:
            return None

        def blended(self, weight: float) -> Fake:
            calls.append(("blended", str(weight)))
            return self

    fake = Fake()
    pipe = SimpleNamespace(reranker=fake, cross_reranker=fake,
                           config=SimpleNamespace(base_weight=0.25))
    pool = [Hit(Passage("a", "d1", "T", "fees", 0, 4, ["1"]), 1.0, 1)]
    example = SimpleNamespace(history=[Turn(1, "user", "and for members?")])
    turns = [TurnData(example, "fees? and for members?", pool, {})]
    tower, cross = memo_rankers(pipe, turns)
    assert calls == [("blended", "0.25"), ("rerank", "fees? and for members?"),
                     ("rerank", "and for members?"), ("score", "fees? and for members?")]
    assert cross is not None
    tower.rerank("and for members?", pool)
    cross.score("fees? and for members?", [pool[0].passage])
    assert len(calls) == 4  # answered from the memo


def test_a_turn_sure_on_its_own_takes_a_larger_share_of_the_mix() -> None:
    history, query = after_day_pass("plot rules?")
    table = {(query, "a1"): 0.6, (query, "a2"): 0.3, (query, "b1"): 0.3,
             ("plot rules?", "a1"): 0.1, ("plot rules?", "a2"): 0.0, ("plot rules?", "b1"): 0.5}
    plain = RankingChain(TableRanker(table), document_weight=0.0, current_weight=0.3)
    # a1 = 0.7 x 0.6 + 0.3 x 0.1 = 0.45; b1 = 0.7 x 0.3 + 0.3 x 0.5 = 0.36
    assert plain.rank(query, hits(), history).hits[0].passage.pid == "a1"
    sure = RankingChain(TableRanker(table), document_weight=0.0, current_weight=0.3,
                        current_sure=0.4, current_sure_weight=0.7)
    # the turn's own best (0.5) reaches 0.4: a1 = 0.3 x 0.6 + 0.7 x 0.1 = 0.25; b1 = 0.44
    assert sure.rank(query, hits(), history).hits[0].passage.pid == "b1"
    unsure = RankingChain(TableRanker(table), document_weight=0.0, current_weight=0.3,
                          current_sure=0.6, current_sure_weight=0.7)
    assert unsure.rank(query, hits(), history).hits[0].passage.pid == "a1"
    with pytest.raises(ValueError, match="current_sure_weight must be in"):
        RankingChain(None, current_sure_weight=1.5)


class CountingSearcher:
    """A BM25 stand-in that remembers the texts it was asked with."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def batch_search(self, texts: list[str], k: int) -> list[list[Hit]]:
        self.asked += texts
        return [[] for _ in texts]


def test_the_prior_reads_only_the_latest_agent_words_it_is_given() -> None:
    from re3g.rank.prior import agent_text

    history = [Turn(1, "user", "q"), Turn(2, "agent", "compost takes fruit scraps"),
               Turn(3, "user", "membership?"), Turn(4, "agent", "annual costs 90 dollars"),
               Turn(5, "user", "and monthly?")]
    assert agent_text(history, 4) == "annual costs 90 dollars"
    searcher = CountingSearcher()
    chain = RankingChain(TableRanker({}), sparse=searcher, document_words=4)
    chain.priors([history])
    assert searcher.asked == ["annual costs 90 dollars"]
    with pytest.raises(ValueError, match="document_words must be >= 1"):
        RankingChain(None, document_words=0)
