"""The document prior from earlier agent turns (re3g.rank.prior), on real doc2dial dialogues."""

from __future__ import annotations

import math

import pytest

from re3g.config import Config
from re3g.errors import DataError
from re3g.rank.prior import (
    agent_text,
    apply_document_prior,
    document_prior,
    document_priors,
    prior_from_scores,
)
from re3g.types import Hit, Passage, Turn


def _hit(pid: str, doc: str, score: float, rank: int) -> Hit:
    return Hit(Passage(pid, doc, doc, "text", 0, 4, ["1"]), score, rank, "rerank")


def test_agent_text_newest_first_and_capped():
    turns = [Turn(1, "user", "hi"), Turn(2, "agent", "one two three"),
             Turn(3, "user", "and?"), Turn(4, "agent", "four five"), Turn(5, "user", "ok")]
    assert agent_text(turns) == "four five one two three"
    assert agent_text(turns, max_words=3) == "four five one"
    assert agent_text([Turn(1, "user", "hi")]) == ""


def test_prior_from_scores_and_bonus():
    prior = prior_from_scores({"a": 10.0, "b": 7.0}, temperature=3.0)
    assert prior["a"] == 1.0 and math.isclose(prior["b"], math.exp(-1.0))
    hits = [_hit("b1", "b", 0.50, 1), _hit("a1", "a", 0.45, 2), _hit("c1", "c", 0.44, 3)]
    out = apply_document_prior(hits, prior, 0.2)
    assert [h.passage.pid for h in out] == ["a1", "b1", "c1"]
    assert [h.rank for h in out] == [1, 2, 3]
    assert math.isclose(out[0].score, 0.65)
    assert apply_document_prior(hits, {}, 0.2) == hits
    assert apply_document_prior(hits, prior, 0.0) == hits
    with pytest.raises(ValueError, match="temperature"):
        document_priors(None, ["x"], temperature=0)


def test_agent_turns_find_the_dialogue_document(small_index, val_examples, doc2dial_docs):
    """On real dialogues of the small corpus, the earlier agent turns' best BM25 document is
    the dialogue's document."""
    from re3g.retrieve import open_index

    bm25 = open_index(small_index, mode="bm25")
    indexed = {p.doc_id for p in bm25.passages}
    cases = [ex for ex in val_examples
             if agent_text(ex.history) and ex.references[0].doc_id in indexed][:10]
    assert len(cases) >= 5
    right = 0
    for ex in cases:
        prior = document_prior(bm25, agent_text(ex.history))
        assert max(prior.values()) == 1.0 and all(0 < v <= 1 for v in prior.values())
        right += max(prior, key=prior.get) == ex.references[0].doc_id
    assert right >= 0.8 * len(cases)
    assert document_prior(bm25, "") == {}


def test_config_checks_document_settings():
    assert Config().document_weight == 0.1
    with pytest.raises(DataError, match="document_margin"):
        Config(document_margin=-0.1).validate()
    with pytest.raises(DataError, match="document_weight"):
        Config(document_weight=-1).validate()
    with pytest.raises(DataError, match="document_temperature"):
        Config(document_temperature=0).validate()
    with pytest.raises(DataError, match="document_words"):
        Config(document_words=0).validate()
    with pytest.raises(DataError, match="document_words"):
        Config(document_words=40.5).validate()
    with pytest.raises(DataError, match="current_sure"):
        Config(current_sure="high").validate()
    with pytest.raises(DataError, match="current_sure_weight"):
        Config(current_sure_weight=2).validate()


def test_pipeline_stays_in_the_dialogue_document(small_index, small_corpus_files,
                                                 val_examples):
    """A follow-up whose words fit several documents: the pipeline's top passage comes from
    the document the agent has been answering from, and the prior can be switched off."""
    from re3g.pipeline import Re3G

    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]))
    assert bot.reranker is not None  # the shipped models/reranker
    docs = bot.documents
    ex = next(e for e in val_examples
              if agent_text(e.history) and e.references[0].doc_id in docs
              and len([t for t in e.history if t.role == "agent"]) >= 2)
    doc_id = ex.references[0].doc_id
    on = bot.answer(ex.history)
    off = Re3G(index=str(small_index), docs=str(small_corpus_files[0]),
               document_weight=0.0).answer(ex.history)
    assert on.passages[0].passage.doc_id == doc_id
    in_doc = [h.passage.doc_id == doc_id for h in on.passages[:5]]
    assert sum(in_doc) >= sum(h.passage.doc_id == doc_id for h in off.passages[:5])
