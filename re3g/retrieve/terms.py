"""Lucene's English analysis in Python, so BM25 outside Lucene indexes the same terms.

pyserini (Anserini's ``DefaultEnglishAnalyzer``) tokenises with Lucene's ``StandardTokenizer``
(Unicode word boundaries), drops a trailing possessive ``'s``, lowercases, removes Lucene's 33
English stop words and applies the Porter stemmer. :func:`english_terms` does the same: over the
2,325 doc2dial passages and the 580 validation queries it gives Lucene's term list, term for
term, for all but 25 passages, which differ only by a "®" that Lucene keeps as a term
(checked against ``pyserini.analysis.Analyzer``; ``tests/test_milvus.py`` repeats the check
on the sample corpus).

Milvus (and Milvus Lite) offer no analyzer that matches: Lite refuses the "english" analyzer
and ignores a stemmer filter. So the Milvus backend stores the terms from here, stripped to
letters and digits (:func:`milvus_text`), in a VARCHAR field that Milvus's "standard" analyzer
only splits at the spaces, and sends queries through the same function: both sides are
analysed here, identically on Lite and on a real Milvus.

>>> english_terms("Renewing the car's registrations online, e.g. for $1,000.")
['renew', 'car', 'registr', 'onlin', 'e.g', '1,000']
>>> milvus_text("Renewing the car's registrations online, e.g. for $1,000.")
'renew car registr onlin eg 1000'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

LUCENE_STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with"))
"""Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`` (what Anserini removes)."""

_RUN = re.compile(r"\w+(?:[.'’,:;]\w+)*")
_JOIN = re.compile(r"[.'’,:;]")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LETTER_JOINERS = frozenset(".'’:")  # UAX #29 MidLetter / MidNumLet: between two letters
_DIGIT_JOINERS = frozenset(".'’,;")  # MidNum / MidNumLet: between two digits


def _words(run: str) -> list[str]:
    """Split a run like "www.site508.gov" where Unicode word-boundary rules break it."""
    out, start = [], 0
    for m in _JOIN.finditer(run):
        i, sep = m.start(), m.group()
        left, right = run[i - 1], run[i + 1]
        joined = ((sep in _LETTER_JOINERS and left.isalpha() and right.isalpha())
                  or (sep in _DIGIT_JOINERS and left.isdigit() and right.isdigit()))
        if not joined:
            out.append(run[start:i])
            start = i + 1
    out.append(run[start:])
    return out


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem.porter import PorterStemmer

    # Martin Porter's own implementation, which Lucene's PorterStemmer ports
    return PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)


def english_terms(text: str) -> list[str]:
    """The terms Lucene's default English analysis indexes for ``text``, in order."""
    terms = []
    for run in _RUN.findall(text.lower()):
        for word in _words(run):
            word = word.replace("’", "'")
            if word.endswith("'s"):
                word = word[:-2]
            if word and word not in LUCENE_STOP_WORDS:
                terms.append(_stem(word))
    return terms


def milvus_text(text: str) -> str:
    """:func:`english_terms` as one string of letter-and-digit words joined by spaces, which
    any Milvus "standard" analyzer splits back into exactly these terms."""
    words = (_NOT_ALNUM.sub("", t) for t in english_terms(text))
    return " ".join(w for w in words if w)
