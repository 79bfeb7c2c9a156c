"""Fusion of ranked lists: reciprocal rank fusion (default) and weighted score fusion.

Pure functions over ranked lists of Hit; no model or index needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from re3g.types import Hit


class Fusion(StrEnum):
    """How the hybrid retriever combines its sparse and dense lists.

    >>> Fusion("rrf") is Fusion.RRF, [f.value for f in Fusion]
    (True, ['rrf', 'weighted'])
    """

    RRF = "rrf"
    WEIGHTED = "weighted"


def rrf(runs: Sequence[Sequence[Hit]], k: int = 60, top: int | None = None,
        weights: Sequence[float] | None = None) -> list[Hit]:
    """Reciprocal rank fusion: score(p) = sum_i w_i / (k + rank_i(p)).

    >>> from re3g.types import Passage
    >>> a, b = (Passage(x, "d", "", x, 0, 1, []) for x in "ab")
    >>> [h.passage.pid for h in rrf([[Hit(a, 2.0, 1), Hit(b, 1.0, 2)], [Hit(b, 9.0, 1)]])]
    ['b', 'a']
    """
    if k < 0:
        raise ValueError(f"RRF k must be >= 0, got {k}")
    weights = list(weights) if weights is not None else [1.0] * len(runs)
    if len(weights) != len(runs):
        raise ValueError(f"{len(weights)} weights given for {len(runs)} runs")
    scores: dict[str, float] = {}
    passages = {}
    for run, w in zip(runs, weights, strict=True):
        for rank, hit in enumerate(run, start=1):
            pid = hit.passage.pid
            passages[pid] = hit.passage
            scores[pid] = scores.get(pid, 0.0) + w / (k + rank)
    return _ranked(scores, passages, top, "rrf")


def weighted(runs: Sequence[Sequence[Hit]], weights: Sequence[float] | None = None,
             top: int | None = None) -> list[Hit]:
    """Weighted sum of min-max normalised scores; a passage absent from a run scores 0 there.

    >>> from re3g.types import Passage
    >>> a, b = (Passage(x, "d", "", x, 0, 1, []) for x in "ab")
    >>> [h.passage.pid for h in weighted([[Hit(a, 2.0), Hit(b, 1.0)], [Hit(b, 5.0), Hit(a, 1.0)]],
    ...                                  [0.2, 0.8])]
    ['b', 'a']
    """
    weights = list(weights) if weights is not None else [1.0 / len(runs)] * len(runs)
    if len(weights) != len(runs):
        raise ValueError(f"{len(weights)} weights given for {len(runs)} runs")
    scores: dict[str, float] = {}
    passages = {}
    for run, w in zip(runs, weights, strict=True):
        if not run:
            continue
        hi = max(h.score for h in run)
        lo = min(h.score for h in run)
        span = hi - lo or 1.0
        for hit in run:
            pid = hit.passage.pid
            passages[pid] = hit.passage
            scores[pid] = scores.get(pid, 0.0) + w * (hit.score - lo) / span
    return _ranked(scores, passages, top, "weighted")


def _ranked(scores: dict[str, float], passages: dict, top: int | None, source: str) -> list[Hit]:
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    if top is not None:
        order = order[:top]
    return [Hit(passages[pid], scores[pid], rank, source) for rank, pid in enumerate(order, 1)]
