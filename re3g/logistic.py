"""A standardised logistic regression stored as JSON: the form every small learned rule here
takes (the answerability decision and its topic gate, :mod:`re3g.decide`; the reader's
sureness, :mod:`re3g.extract.sureness`). scikit-learn fits it (``StandardScaler`` then
``LogisticRegression``); :func:`block` writes what inference needs and :func:`probability`
reads it back without scikit-learn.

    >>> model = {"signals": ["x"], "mean": [1.0], "scale": [2.0], "coef": [1.0],
    ...          "intercept": 0.0}
    >>> probability(model, {"x": 1.0}.__getitem__)
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def probability(model: dict[str, Any], value: Callable[[str], float],
                names: str = "signals") -> float:
    """P(positive) in (0, 1) for the inputs ``value(name)`` of the names under ``model[names]``,
    each standardised with its ``mean`` and ``scale`` (0 read as 1), then ``coef`` and
    ``intercept``."""
    z = float(model["intercept"]) + sum(
        float(c) * (float(value(n)) - float(m)) / (float(s) or 1.0)
        for n, m, s, c in zip(model[names], model["mean"], model["scale"], model["coef"],
                              strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def block(inputs: Sequence[str], scaler: Any, clf: Any, names: str = "signals"
          ) -> dict[str, Any]:
    """The JSON form of a fitted ``StandardScaler`` + binary ``LogisticRegression`` over
    ``inputs`` (six decimals)."""
    return {names: list(inputs), "mean": [round(float(v), 6) for v in scaler.mean_],
            "scale": [round(float(v), 6) for v in scaler.scale_],
            "coef": [round(float(v), 6) for v in clf.coef_[0]],
            "intercept": round(float(clf.intercept_[0]), 6)}
