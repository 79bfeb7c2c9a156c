"""Retrieval metrics: recall at k and MRR@10, where a hit is a passage overlapping a gold span."""

from __future__ import annotations

from collections.abc import Sequence

from re3g.types import Example, Hit

CUTOFFS = (1, 5, 10, 20)


def is_relevant(hit: Hit, example: Example) -> bool:
    """True when the hit's passage contains a reference span of the example."""
    p = hit.passage
    return any(ref.doc_id == p.doc_id and ref.span_id in p.span_ids for ref in example.references)


def first_relevant_rank(hits: Sequence[Hit], example: Example) -> int | None:
    """1-based rank of the first relevant hit, or None."""
    for rank, hit in enumerate(hits, start=1):
        if is_relevant(hit, example):
            return rank
    return None


def retrieval_metrics(examples: Sequence[Example], runs: Sequence[Sequence[Hit]],
                      cutoffs: Sequence[int] = CUTOFFS) -> dict[str, float]:
    """``{"R@1", "R@5", "R@10", "R@20", "MRR@10"}`` in percent over ``examples``.

    >>> retrieval_metrics([], [])
    {'R@1': 0.0, 'R@5': 0.0, 'R@10': 0.0, 'R@20': 0.0, 'MRR@10': 0.0}
    """
    if len(examples) != len(runs):
        raise ValueError(f"{len(examples)} examples but {len(runs)} result lists")
    n = len(examples)
    ranks = [first_relevant_rank(hits, ex) for ex, hits in zip(examples, runs, strict=True)]
    out = {f"R@{c}": _pct(sum(1 for r in ranks if r is not None and r <= c), n) for c in cutoffs}
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10)
    out["MRR@10"] = round(100.0 * mrr / n, 2) if n else 0.0
    return out


def _pct(count: int, n: int) -> float:
    return round(100.0 * count / n, 2) if n else 0.0
