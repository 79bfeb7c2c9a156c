"""The name step (re3g.rank.names): a question naming the product a page is about should reach
the section that answers it, not the introduction that repeats the name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from re3g.rank import RankingChain
from re3g.rank.names import discount_names, title_free, title_names
from re3g.types import Hit, Passage, Turn

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Halvane Pure 5 air purifier"


class WordRanker:
    """A stand-in ranker: a passage scores the share of the query's words found in it,
    counted with repeats (so a passage that says the name three times scores higher)."""

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        asked = [w.strip("?.,").lower() for w in query.split()]
        out = []
        for p in passages:
            words = [w.strip("?.,").lower() for w in p.text.split()]
            out.append(sum(words.count(w) for w in asked) / 10.0)
        return out

    def rerank(self, query: str, hits: Sequence[Hit], k: int | None = None) -> list[Hit]:
        scores = self.score(query, [h.passage for h in hits])
        order = sorted(range(len(hits)), key=lambda i: -scores[i])
        return [Hit(hits[i].passage, scores[i], r) for r, i in enumerate(order, start=1)]

    def question(self, history: object) -> None:
        return None

    def relevance(self, score: float) -> float:
        return score


def passage(pid: str, doc: str, title: str, text: str) -> Passage:
    return Passage(pid, doc, title, text, 0, len(text), ["1"])


INTRO = passage("i", "pure", TITLE, "The Halvane Pure 5 is quiet. The Halvane Pure 5 cleans air. "
                                    "The Halvane Pure 5 has simple controls.")
FEATURES = passage("f", "pure", TITLE, "Night mode switches off the lights; a night mode timer.")
OTHER = passage("o", "hotel", "The Gullhaven Hotel", "Quiet rooms with a night porter.")


def test_names_are_unknown_capitalised_words_with_what_follows() -> None:
    assert title_names(TITLE) == [("halvan", "pure", "5")]
    assert title_names("The Gullhaven Hotel, Saltreach") == [("gullhaven", "hotel"),
                                                             ("saltreach",)]
    # known words, acronyms and words the document writes in lower case are not names
    assert title_names("BrewMate 300 coffee machine: user manual") == [("brewmat", "300")]
    assert title_names("Apply for a Medicare card") == []
    assert title_names("Top 5 DMV Mistakes") == []
    assert title_names("Repayment Plans", ["choose a repayment plan"]) == []


def test_title_free_drops_the_name_and_keeps_the_question() -> None:
    assert title_free("does the halvane pure 5 have a night mode?", TITLE) == \
        "does the have a night mode?"
    assert title_free("does it have a night mode?", TITLE) is None  # no name: nothing to do
    assert title_free("Halvane Pure 5?", TITLE) is None  # the name is all it says


def test_the_named_product_reaches_the_section_that_answers() -> None:
    ranker = WordRanker()
    q = "Does the Halvane Pure 5 have a night mode?"
    hits = ranker.rerank(q, [Hit(p, 0.0) for p in (INTRO, FEATURES, OTHER)])
    assert hits[0].passage is INTRO  # the pull this step is for
    own = {h.passage.pid: h.score for h in hits}
    moved = discount_names(ranker, q, hits, own, weight=1.0)
    assert [h.passage.pid for h in moved][:2] == ["f", "i"]
    assert [h.rank for h in moved] == [1, 2, 3]
    # the document keeps its best score: only the order inside it changes
    assert moved[0].score == pytest.approx(own["f"])
    assert next(h for h in moved if h.passage is OTHER).score == own["o"]
    assert discount_names(ranker, q, hits, own, weight=0.0) == hits


def test_the_chain_runs_the_step_only_when_asked() -> None:
    q = "Does the Halvane Pure 5 have a night mode?"
    pool = [Hit(p, 0.0) for p in (INTRO, FEATURES, OTHER)]
    history = [Turn(1, "user", q)]
    off = RankingChain(WordRanker(), title_weight=0.0).rank(q, pool, history)
    on = RankingChain(WordRanker(), title_weight=2.0).rank(q, pool, history)
    assert off.hits[0].passage is INTRO and on.hits[0].passage is FEATURES
    assert on.top_score == off.top_score  # what the abstention rule reads is unchanged


def test_on_a_product_page_the_trained_tower_leaves_the_introduction() -> None:
    """Real reranker and cross-encoder, a product page from the development set: naming the
    product ranks the introduction first without the step (the cross-encoder's logit lifts
    it), the night-mode section with the shipped weight."""
    from re3g.config import Config
    from re3g.data.ingest import load_directory
    from re3g.data.passages import split_corpus
    from re3g.rank import Reranker, cross_settings, load_cross

    docs = [d for d in load_directory(ROOT / "data" / "dev" / "documents")
            if d.doc_id == "halvane-pure-5-air-purifier"]
    passages = split_corpus(docs)
    q = "Does the Halvane Pure 5 have a night mode?"
    pool = [Hit(p, 0.0) for p in passages]
    tower, cross = Reranker.load(), load_cross("auto")
    depth, weight = cross_settings(cross)
    history = [Turn(1, "user", q)]

    def top(title_weight: float) -> str:
        chain = RankingChain(tower, cross, cross_depth=depth, cross_weight=weight,
                             title_weight=title_weight)
        return chain.rank(q, pool, history).hits[0].passage.text

    assert "is a quiet, compact air purifier" in top(0.0)  # the introduction
    assert "Night mode switches off" in top(Config.title_weight)
