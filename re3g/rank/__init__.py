"""Reranking: the trained query tower and cross-encoder (:mod:`re3g.rank.reranker`), the
document prior (:mod:`re3g.rank.prior`) and the one chain that composes them
(:mod:`re3g.rank.chain`), behind the :class:`~re3g.rank.base.Ranker` protocol.

    >>> from re3g.rank import RankingChain
    >>> RankingChain(None).rank("fees?", [], []).hits
    []
"""

from __future__ import annotations

from re3g.rank.base import Ranker
from re3g.rank.chain import Ranking, RankingChain, cascade, dialogue_pool, rerank_dialogue
from re3g.rank.prior import agent_text, apply_document_prior, document_prior, document_priors
from re3g.rank.reranker import (
    CROSS_TRAIN_CMD,
    OTHER_CROSS,
    TRAIN_CMD,
    CrossScorer,
    Reranker,
    cross_settings,
    load_cross,
    load_reranker,
    other_cross,
)

__all__ = [
    "CROSS_TRAIN_CMD", "OTHER_CROSS", "TRAIN_CMD", "CrossScorer", "Ranker", "Ranking",
    "RankingChain", "Reranker", "agent_text", "apply_document_prior", "cascade",
    "cross_settings", "dialogue_pool", "document_prior", "document_priors", "load_cross",
    "load_reranker", "other_cross", "rerank_dialogue",
]
