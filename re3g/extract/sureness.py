"""How sure the reader is of its sentence: P(the top evidence is the sentence asked about).

The learned decision (:mod:`re3g.decide`) says whether the documents answer a turn; it reads
whether the best passage is about the question, and says little about *which sentence* of it
was taken. On documents no model here was tuned on, most wrong answers are another sentence of
the right passage (docs/answerability.md, session 15), and the decision's confidence barely
tells them from right ones (AUROC 0.53 on the written development set, session 19).

What does tell them apart is how far the reader's pick stands out from the next candidate it
passed over: the gap between their range scores, their cosines with the user's turn under the
general encoder, and how many of the user's words the pick holds. :class:`Sureness` is a
logistic regression over those, fitted on the train dev part and the written development set
(``python -m re3g.train.select_reader --sureness``) and stored in the reader's manifest
(``sureness``). The reader sets :attr:`re3g.types.Evidence.sure` on its top evidence; below the
manifest's ``floor`` the answer is shown as tentative, with the runner-up sentence beside it.

    >>> s = Sureness({"features": ["cos_gap"], "mean": [0.0], "scale": [0.1],
    ...               "coef": [2.0], "intercept": 0.0, "floor": 0.4})
    >>> round(s.probability({"cos_gap": 0.05}), 3), s.unsure(0.3)
    (0.731, True)
"""

from __future__ import annotations

from typing import Any

from re3g import logistic
from re3g.errors import ModelError

FEATURES = ("unsure", "gap_regular", "gap_unsure", "margin_regular", "margin_unsure",
            "cos_top", "cos_gap", "overlap_top", "score_regular", "score_unsure")
"""What is read about a pick (:func:`pick_features`). The reader's two regimes (its margin on
the top passage above or below ``unsure_margin``) weigh ranges on different scales, so the
range scores, their gap and the reader's margin count separately in each. The range scores
leave out the sentence judge's term (:meth:`re3g.extract.SpanExtractor.pick_features`)."""


def pick_features(score: float, runner_up: float | None, margin: float, unsure: bool,
                  cos_top: float, cos_next: float | None, overlap_top: float
                  ) -> dict[str, float]:
    """The features of one pick: its range score ``score`` and the best non-overlapping
    other range's ``runner_up`` (None: there is none; the gap is then 10), the reader's margin
    (best range minus "no answer") for the pick's passage, the regime, the pick's and the
    runner-up's best cosine with the user's last turn, and the share of that turn's content
    stems in the pick.

    >>> f = pick_features(5.0, 3.0, 1.5, False, 0.6, 0.4, 0.5)
    >>> f["gap_regular"], f["gap_unsure"], round(f["cos_gap"], 2)
    (2.0, 0.0, 0.2)
    """
    gap = score - runner_up if runner_up is not None else 10.0
    u = 1.0 if unsure else 0.0
    return {"unsure": u, "gap_regular": gap * (1 - u), "gap_unsure": gap * u,
            "margin_regular": margin * (1 - u), "margin_unsure": margin * u,
            "cos_top": cos_top, "cos_gap": cos_top - (cos_next if cos_next is not None else 0.0),
            "overlap_top": overlap_top, "score_regular": score * (1 - u),
            "score_unsure": score * u}


class Sureness:
    """A standardised logistic regression over :data:`FEATURES` (as
    ``select_reader --sureness`` writes it into the reader's manifest) and its ``floor``.

    >>> Sureness({"features": ["nope"], "mean": [0], "scale": [1], "coef": [1],
    ...           "intercept": 0, "floor": 0.5})
    Traceback (most recent call last):
    re3g.errors.ModelError: the reader's 'sureness' names unknown features ['nope']; known: ...
    """

    def __init__(self, model: dict[str, Any]) -> None:
        try:
            # checked and cast once here; re3g.logistic reads it on every answer
            self.model = {"features": [str(f) for f in model["features"]],
                          "mean": [float(v) for v in model["mean"]],
                          "scale": [float(v) for v in model["scale"]],
                          "coef": [float(v) for v in model["coef"]],
                          "intercept": float(model["intercept"])}
            self.floor = float(model["floor"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the reader's 'sureness' block is incomplete or malformed "
                             f"({exc!r}); refit it with `python -m re3g.train.select_reader "
                             f"--sureness`") from exc
        unknown = sorted(set(self.model["features"]) - set(FEATURES))
        if unknown:
            raise ModelError(f"the reader's 'sureness' names unknown features {unknown}; "
                             f"known: {', '.join(FEATURES)}")
        if len({len(self.model[k]) for k in ("features", "mean", "scale", "coef")}) != 1:
            raise ModelError("the reader's 'sureness' has lists of different lengths")

    def probability(self, features: dict[str, float]) -> float:
        """P(the pick is the sentence asked about), in (0, 1)."""
        return logistic.probability(self.model, lambda n: features.get(n, 0.0), "features")

    def unsure(self, probability: float | None) -> bool:
        """Whether a pick of this probability is shown as tentative."""
        return probability is not None and probability < self.floor
