"""Grounding and response metrics with the official DialDoc / SQuAD normalisation.

Every score is in percent (0-100). Each score is computed the way the
DialDoc / MultiDoc2Dial shared-task script (``sharedtask_eval.py``) computes it:

- F1 and EM normalise text with SQuAD v1.1's ``normalize_answer``: lower case, drop ASCII
  punctuation, drop the articles a/an/the, collapse whitespace;
- SacreBLEU is the corpus score of the ``sacrebleu`` package on the raw text (its default 13a
  tokenizer, case-sensitive);
- ROUGE-L is the mean per-example F-measure of the longest common subsequence, computed by the
  ``rouge_score`` package (which the script's ``load_metric("rouge")`` calls, no stemming) on
  its tokens: lower case, every run of characters other than ``a-z0-9`` is a separator
  (:func:`rouge_tokens`, handed to the scorer so the tokens are the project's by construction).

Check against the team's reference: copying the gold grounding span as the reply on the doc2dial
validation split scores F1 61.1, SacreBLEU 49.0, ROUGE-L 60.6 (``tests/test_metrics.py``).
METEOR is not computed: it needs WordNet, which nltk downloads at run time, and nothing may be
downloaded here.

>>> round(f1_score("The cat sat.", "a cat sat down"), 1)
80.0
>>> response_metrics(["you can renew online"], ["You can renew online."])["F1"]
100.0
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PUNCT = frozenset(string.punctuation)

__all__ = [
    "exact_match",
    "f1_score",
    "grounding_metrics",
    "lcs_length",
    "normalize_answer",
    "response_metrics",
    "rouge_l",
    "rouge_tokens",
    "sacrebleu_score",
]


def normalize_answer(text: str) -> str:
    """SQuAD/DialDoc normalisation: lower, strip punctuation, remove articles, fix whitespace.

    >>> normalize_answer("The  DMV's office, an address!")
    'dmvs office address'
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def rouge_tokens(text: str) -> list[str]:
    """Tokens as ``rouge_score`` makes them (no stemming): lower case, split at non-alphanumerics.

    >>> rouge_tokens("The DMV's fee: $25.")
    ['the', 'dmv', 's', 'fee', '25']
    """
    return _NON_ALNUM.sub(" ", text.lower()).split()


def _refs(references: str | Sequence[str]) -> list[str]:
    if isinstance(references, str):
        return [references]
    refs = list(references)
    if not refs:
        raise ValueError("at least one reference is needed")
    return refs


def _f1_one(pred_tokens: list[str], ref_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(ref_tokens)
    same = sum(common.values())
    if not pred_tokens or not ref_tokens:
        # SQuAD v2 convention: both empty scores 1, one empty scores 0.
        return float(pred_tokens == ref_tokens)
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, references: str | Sequence[str]) -> float:
    """Token F1 (percent) of one prediction, the best over one or several references.

    >>> f1_score("renew online", ["renew by mail", "renew online"])
    100.0
    """
    pred = normalize_answer(prediction).split()
    return 100.0 * max(_f1_one(pred, normalize_answer(r).split()) for r in _refs(references))


def exact_match(prediction: str, references: str | Sequence[str]) -> float:
    """100.0 when the normalised prediction equals a normalised reference, else 0.0.

    >>> exact_match("The fee.", "fee")
    100.0
    """
    pred = normalize_answer(prediction)
    return 100.0 * float(any(pred == normalize_answer(r) for r in _refs(references)))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (``rouge_score``'s
    table).

    >>> lcs_length("a b c d".split(), "a c d e".split())
    3
    """
    from rouge_score.rouge_scorer import _lcs_table

    return int(_lcs_table(list(a), list(b))[-1][-1]) if a and b else 0


class _RougeTokenizer:
    """The tokenizer ``rouge_score.rouge_scorer.RougeScorer`` is given: :func:`rouge_tokens`."""

    def tokenize(self, text: str) -> list[str]:
        return rouge_tokens(text)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=_RougeTokenizer())


def rouge_l(
    predictions: Sequence[str], references: Sequence[str | Sequence[str]]
) -> float:
    """Mean ROUGE-L F-measure (percent) over examples, best reference per example.

    Scores come from ``rouge_score`` (``score_multi`` keeps the reference with the best
    F-measure) on the tokens of :func:`rouge_tokens` (articles are kept, as ``rouge_score``
    keeps them).

    >>> round(rouge_l(["w x y z"], ["x y v z"]), 1)
    75.0
    """
    _check_lengths(predictions, references)
    if not predictions:
        return 0.0
    scorer = _rouge_scorer()
    total = 0.0
    for pred, refs in zip(predictions, references, strict=True):
        total += scorer.score_multi(_refs(refs), pred)["rougeL"].fmeasure
    return 100.0 * total / len(predictions)


def sacrebleu_score(
    predictions: Sequence[str], references: Sequence[str | Sequence[str]]
) -> float:
    """Corpus SacreBLEU (percent) on raw text with sacrebleu's defaults (13a, mixed case).

    Examples may have different numbers of references; the shorter lists are padded with
    None, which sacrebleu skips.

    >>> round(sacrebleu_score(["the fee is 25 dollars"], ["the fee is 25 dollars"]), 6)
    100.0
    """
    import sacrebleu

    _check_lengths(predictions, references)
    if not predictions:
        return 0.0
    ref_lists = [_refs(r) for r in references]
    width = max(len(r) for r in ref_lists)
    streams: list[list[str | None]] = [
        [refs[i] if i < len(refs) else None for refs in ref_lists] for i in range(width)
    ]
    return float(sacrebleu.corpus_bleu(list(predictions), streams).score)  # type: ignore[arg-type]


def _check_lengths(predictions: Sequence[str], references: Sequence[object]) -> None:
    if len(predictions) != len(references):
        raise ValueError(
            f"{len(predictions)} predictions but {len(references)} references: they must pair up"
        )


def grounding_metrics(
    predictions: Sequence[str], references: Sequence[str | Sequence[str]]
) -> dict[str, float]:
    """Grounding-span scores as the DialDoc shared task reports them: ``{"EM", "F1"}``.

    >>> grounding_metrics(["renew online"], ["Renew online."])
    {'EM': 100.0, 'F1': 100.0}
    """
    _check_lengths(predictions, references)
    n = len(predictions)
    if n == 0:
        return {"EM": 0.0, "F1": 0.0}
    pairs = list(zip(predictions, references, strict=True))
    return {
        "EM": sum(exact_match(p, r) for p, r in pairs) / n,
        "F1": sum(f1_score(p, r) for p, r in pairs) / n,
    }


def response_metrics(
    predictions: Sequence[str], references: Sequence[str | Sequence[str]]
) -> dict[str, float]:
    """Response scores: ``{"F1", "SacreBLEU", "ROUGE-L"}`` in percent (METEOR: see module doc).

    >>> sorted(response_metrics(["yes"], ["yes"]).items())
    [('F1', 100.0), ('ROUGE-L', 100.0), ('SacreBLEU', 0.0)]
    """
    _check_lengths(predictions, references)
    n = len(predictions)
    if n == 0:
        return {"F1": 0.0, "SacreBLEU": 0.0, "ROUGE-L": 0.0}
    return {
        "F1": sum(f1_score(p, r) for p, r in zip(predictions, references, strict=True)) / n,
        "SacreBLEU": sacrebleu_score(predictions, references),
        "ROUGE-L": rouge_l(predictions, references),
    }
