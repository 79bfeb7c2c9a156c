"""The base blend (Reranker.blended, Config.base_weight): the tower reranker's query vector
mixed with the packaged encoder's own, which ranks other documents' opening questions better."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.config import Config
from re3g.errors import DataError
from re3g.rank import RankingChain, Reranker
from re3g.types import Hit, Passage

ROOT = Path(__file__).resolve().parents[1]

TEXTS = ["Jewellery and watches together are covered up to 6,000 pounds per claim.",
         "Delivery is free on every plan except Solo, which pays 3.99 pounds a box.",
         "Report a theft to the police within 24 hours and give us the crime reference."]


def passages() -> list[Passage]:
    return [Passage(f"p{i}", f"d{i}", "Help", t, 0, len(t), [str(i)])
            for i, t in enumerate(TEXTS)]


def test_the_blend_mixes_the_two_cosines_and_keeps_the_tower_at_zero() -> None:
    """Weight 0 is the tower itself, weight 1 the packaged encoder's cosine, and a weight in
    between the same mix of the two (both query vectors are unit vectors)."""
    from re3g.models import PASSAGE_MAX_TOKENS, base_encoder

    tower = Reranker.load()
    ps = passages()
    q = "whats the most they pay out for jewellry?"
    alone, base = tower.score(q, ps), tower.blended(1.0).score(q, ps)
    vecs = base_encoder(PASSAGE_MAX_TOKENS).encode([q] + [p.title + ". " + p.text for p in ps])
    cosine = [float(vecs[0] @ v) for v in vecs[1:]]
    assert base == pytest.approx(cosine, abs=1e-4)
    assert tower.blended(0.0) is tower and tower.blended(0.0).score(q, ps) == alone
    half = tower.blended(0.5).score(q, ps)
    assert half == pytest.approx([(a + b) / 2 for a, b in zip(alone, base, strict=True)],
                                 abs=1e-5)
    assert tower.base_weight == 0.0  # the views share the weights, not the setting
    with pytest.raises(ValueError, match="base_weight"):
        tower.blended(1.5)


def test_the_chain_asks_the_blended_tower_with_the_configured_weight() -> None:
    tower = Reranker.load()
    chain = RankingChain.from_config(Config(base_weight=0.25), tower)
    assert chain.base_weight == 0.25 and chain.tower is tower.blended(0.25)
    hits = [Hit(p, 0.5, i + 1) for i, p in enumerate(passages())]
    q = "whats the most they pay out for jewellry?"
    ranked = chain.rank(q, hits, None).hits
    want = tower.blended(0.25).score(q, [h.passage for h in hits])
    assert [h.score for h in ranked] == pytest.approx(sorted(want, reverse=True), abs=1e-6)
    assert RankingChain(None, base_weight=0.5).tower is None
    with pytest.raises(ValueError, match="base_weight"):
        RankingChain(tower, base_weight=2.0)


@pytest.mark.parametrize("value", [-0.1, 1.5, "half"])
def test_a_bad_base_weight_is_named(value: object) -> None:
    with pytest.raises(DataError, match="base_weight"):
        Config(base_weight=value).validate()  # type: ignore[arg-type]
