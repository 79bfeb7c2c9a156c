"""Fit the reader's sureness model (:mod:`re3g.extract.sureness`) on train-only parts.

    python -m re3g.train.select_reader --sureness [--sureness-keep 0.9] [--dry-run]

Every turn of the parts ``select_reader`` chooses settings on (the doc2dial train dev part and
the written development set; never validation, never the suite) is read with the reader's
shipped settings; what the sureness model reads about the pick (:func:`pick_features`) and
whether the pick is right (grounding F1 with the reference of at least :data:`RIGHT_F1`) make
one row. A standardised logistic regression is fitted with each part weighing the same.
Its ``floor`` keeps ``keep`` of the right picks of each part above it (the lower of the two
parts' levels), measured out of fold (dialogues grouped in :data:`FOLDS` folds), so a right
answer is marked tentative about ``1 - keep`` of the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from re3g.extract.sureness import FEATURES
from re3g.logistic import block

RIGHT_F1 = 50.0
"""Grounding F1 (0-100, official normalisation) from which a pick counts as right."""
FOLDS = 5
KEEP = 0.9
"""Share of right picks a fitted floor leaves untouched (in each part)."""


def stale_sureness(manifest: dict[str, Any]) -> None:
    """Drop a sureness model fitted under the range settings being replaced (its features
    are read on their scale); it is refitted with ``select_reader --sureness``."""
    if manifest.get("settings", {}).pop("sureness", None) is not None:
        print("the reader's sureness model was fitted under the old settings and is dropped; "
              "refit it with `python -m re3g.train.select_reader --sureness`")


def _model() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _weights(parts: Any, idx: Any) -> Any:
    import numpy as np

    counts = {p: int((parts[idx] == p).sum()) for p in set(parts[idx].tolist())}
    # each part weighs the same; the weights average 1, so the penalty keeps its strength
    scale = len(idx) / len(counts)
    return np.array([scale / counts[p] for p in parts[idx]])


def fit_sureness(rows: Sequence[dict[str, Any]], part_names: Sequence[str],
                 keep: float = KEEP) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the manifest block, a report) from ``rows`` (``features``: dict over
    :data:`FEATURES`, ``right``: bool, ``part``: index into ``part_names``, ``group``: the
    dialogue). The report holds out-of-fold AUROC per part and the right picks kept and the
    wrong ones marked at the floor, per part.

    >>> import random
    >>> rng = random.Random(0)
    >>> rows = [{"features": {**dict.fromkeys(FEATURES, 0.0), "cos_gap": g}, "right": g > 0.1,
    ...          "part": i % 2, "group": f"d{i % 20}"}
    ...         for i, g in enumerate(rng.uniform(-0.2, 0.4) for _ in range(200))]
    >>> block, report = fit_sureness(rows, ["a", "b"])
    >>> report["AUROC_out_of_fold"]["a"] > 0.9 and 0 < block["floor"] < 1
    True
    """
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be a share in (0, 1], got {keep}")
    x = np.array([[float(r["features"][f]) for f in FEATURES] for r in rows])
    y = np.array([bool(r["right"]) for r in rows])
    part = np.array([int(r["part"]) for r in rows])
    groups = np.array([str(r["group"]) for r in rows])
    oof = np.zeros(len(y))
    for tr, te in GroupKFold(min(FOLDS, len(set(groups)))).split(x, y, groups):
        m = _model().fit(x[tr], y[tr], logisticregression__sample_weight=_weights(part, tr))
        oof[te] = m.predict_proba(x[te])[:, 1]

    def floor_for(prob: Any) -> float:
        levels = []
        for p in range(len(part_names)):
            right = prob[(part == p) & y]
            if len(right):
                levels.append(float(np.quantile(right, 1.0 - keep)))
        return min(levels) if levels else 0.0

    floor = floor_for(oof)
    report: dict[str, Any] = {"rows": {n: int((part == p).sum()) for p, n in
                                       enumerate(part_names)},
                              "right": {n: round(float(y[part == p].mean()), 4)
                                        for p, n in enumerate(part_names) if (part == p).any()},
                              "keep": keep, "floor_out_of_fold": round(floor, 4),
                              "AUROC_out_of_fold": {}, "at_floor": {}}
    for p, n in enumerate(part_names):
        m = part == p
        if m.any() and len(set(y[m].tolist())) == 2:
            report["AUROC_out_of_fold"][n] = round(float(roc_auc_score(y[m], oof[m])), 4)
            report["at_floor"][n] = {
                "right_kept": round(float((oof[m & y] >= floor).mean()), 4),
                "wrong_marked": round(float((oof[m & ~y] < floor).mean()), 4)}
    final = _model().fit(x, y, logisticregression__sample_weight=_weights(
        part, np.arange(len(y))))
    fitted = {**block(FEATURES, final.named_steps["standardscaler"],
                      final.named_steps["logisticregression"], names="features"),
              "floor": round(floor, 4)}
    return fitted, report
