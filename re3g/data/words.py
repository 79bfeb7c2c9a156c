"""Word-level text helpers shared by the stages: content words, stems, overlap.

``content_words`` drops function words (scikit-learn's English list plus chat words) and a
plural -s; ``content_stems`` goes further with NLTK's Porter stemmer (so "rented" meets
"rent"). The decision's overlap signal reads the first; the reader's range scoring the second.

    >>> sorted(content_stems("Bikes are rented at docks"))
    ['bike', 'dock', 'rent']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

TOPIC_WORDS = frozenset({"amount", "back", "bill", "call", "computer", "detail", "empty", "fill",
                         "find", "fire", "front", "full", "interest", "move", "name", "part",
                         "side", "system", "top"})
CHAT_WORDS = frozenset({"please", "tell", "know", "want", "need", "like", "thanks", "thank",
                        "hi", "hello", "ok", "okay", "yes"})


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """scikit-learn's English stop words plus a few chat words (what a question shares with
    any passage), less the words of its list that carry a topic in help pages."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return (frozenset(ENGLISH_STOP_WORDS) - TOPIC_WORDS) | CHAT_WORDS


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` without function words, with a plural -s removed.

    >>> sorted(content_words("How much are the annual memberships?"))
    ['annual', 'membership']
    """
    out = set()
    stop = stopwords()
    for w in _WORD.findall(text.lower()):
        if w in stop:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def word_overlap(question: str, text: str) -> float:
    """Share of the question's content words found in ``text`` (0 when it has none).

    >>> word_overlap("Can I rent electric scooters?", "Bikes can be rented at 38 docks.")
    0.0
    >>> word_overlap("Annual membership price?", "An annual membership costs 90 dollars.")
    0.6666666666666666
    """
    asked = content_words(question)
    return len(asked & content_words(text)) / len(asked) if asked else 0.0


@lru_cache(maxsize=1)
def _stemmer() -> object:
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stem(word)  # type: ignore[attr-defined, no-any-return]


@lru_cache(maxsize=50_000)
def content_stems(text: str) -> frozenset[str]:
    """Porter stems of the content words of ``text``.

    >>> sorted(content_stems("Can I rent electric scooters?"))
    ['electr', 'rent', 'scooter']
    """
    stop = stopwords()
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if w not in stop)


_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
"""A hyphenated word ("E-bikes", "Wi-Fi")."""


def joined_stems(text: str) -> frozenset[str]:
    """Stems of the hyphenated words of ``text`` read joined: what it names by a hyphenated
    word ("E-bikes" -> "ebik"), which a user may write joined, or look up as one thing.

    >>> sorted(joined_stems("Sugar-free, sugar and free Wi-Fi."))
    ['sugarfre', 'wifi']
    """
    return frozenset(s for m in _HYPHENATED.finditer(text)
                     for s in content_stems(m.group(0).replace("-", "")))


def stem_overlap(question: str, text: str) -> float:
    """Share of the question's content stems found in ``text`` (0 when it has none).

    >>> stem_overlap("Can I rent a bike?", "Bikes are rented at 38 docks.")
    1.0
    """
    asked = content_stems(question)
    return len(asked & content_stems(text)) / len(asked) if asked else 0.0


def new_stems(current: str, earlier: Iterable[str]) -> frozenset[str]:
    """Content stems of ``current`` (the user's last turn) that no ``earlier`` turn has: what
    the turn newly asks about.

    >>> sorted(new_stems("And is there parking?", ["How much is a day pass?"]))
    ['park']
    """
    said: set[str] = set()
    for text in earlier:
        said |= content_stems(text)
    return content_stems(current) - said


def cover_share(asked: frozenset[str], known: frozenset[str] | set[str]) -> float:
    """Share of ``asked`` (stems) found in ``known``; 1 when nothing is asked.

    >>> cover_share(frozenset({"park", "car"}), {"car", "bike"})
    0.5
    """
    return len(asked & known) / len(asked) if asked else 1.0


LABEL_WORDS = 3
"""Longest label of a labelled item (:func:`item_label`), in words."""


def item_label(text: str) -> str:
    """The label of a labelled item, a sentence that starts "Label: " with a label of 1 to
    :data:`LABEL_WORDS` words and no sentence punctuation (an error code, a list item's name,
    a step), or "" for any other sentence.

    >>> item_label("E2: the appliance has overheated. "), item_label("Child lock: hold it.")
    ('E2', 'Child lock')
    >>> item_label("The rule is simple: no dogs."), item_label("Closed. Note: ring first.")
    ('', '')
    """
    label, colon, rest = text.strip().partition(": ")
    if not colon or not rest.strip() or not 1 <= len(label.split()) <= LABEL_WORDS:
        return ""
    return "" if any(c in label for c in ".?!;") else label


def key_share(asked: frozenset[str], text: str) -> float:
    """Share of a sentence's key found in ``asked`` (content stems of a question): a table
    row's name (its first cell, :func:`re3g.data.ingest.table.row_key`), else a labelled
    item's label (:func:`item_label`); 0 for a sentence that has neither.

    >>> asked = content_stems("When are you open on Fridays?")
    >>> key_share(asked, "Day: Friday; Morning: 8:30 to 12:30")
    1.0
    >>> key_share(asked, "Day: Saturday; Morning: closed")
    0.0
    >>> key_share(content_stems("What does error E2 mean?"), "E2: the fan has stopped.")
    1.0
    """
    key = key_stems(text)
    return len(key & asked) / len(key) if key else 0.0


_NEGATIONS = frozenset({"not", "never", "without", "isnt", "arent", "wasnt", "werent", "doesnt",
                        "dont", "didnt", "wont", "cant", "aint"})
"""Words that negate what follows ("not flashing", "it isn't steady"); "no" is left out ("no
idea which one")."""
_NEGATION_REACH = 3
"""How many words after a negation may hold the word it negates ("not the fast one")."""


def negated_stems(text: str) -> frozenset[str]:
    """Content stems ``text`` (a user's turn) negates: the first content word within
    :data:`_NEGATION_REACH` words after a negation (apostrophes dropped: "isn't", "isnt").

    >>> sorted(negated_stems("red light on the charger, not flashing just red"))
    ['flash']
    >>> sorted(negated_stems("it isn’t the fast one, its the slow blink"))
    ['fast']
    >>> negated_stems("no idea which one")
    frozenset()
    """
    words = _WORD.findall(re.sub(r"['’]", "", text.lower()))
    out: set[str] = set()
    for i, w in enumerate(words):
        if w in _NEGATIONS:
            for after in words[i + 1:i + 1 + _NEGATION_REACH]:
                stems = content_stems(after)
                if stems:
                    out |= stems
                    break
    return frozenset(out)


def named_key_share(asked: frozenset[str], negated: frozenset[str], text: str) -> float:
    """:func:`key_share` of the stems asked less those negated, minus the share of the key
    the user negates: "not flashing just red" names the row "Red, steady" (1 of 2) rather
    than "Red, flashing" (1 of 2 named, 1 of 2 negated: 0).

    >>> asked = content_stems("red light, not flashing just red")
    >>> neg = negated_stems("red light, not flashing just red")
    >>> named_key_share(asked, neg, "Light: Red, flashing; What it means: faulty")
    0.0
    >>> named_key_share(asked, neg, "Light: Red, steady; What it means: too hot")
    0.5
    """
    return key_share(asked - negated, text) - key_share(negated, text) if negated else \
        key_share(asked, text)


@lru_cache(maxsize=50_000)
def key_stems(text: str) -> frozenset[str]:
    """Content stems of a sentence's key: a table row's name, else a labelled item's label
    (empty for any other sentence; see :func:`key_share`).

    >>> sorted(key_stems("Light: Red, flashing fast; Means: sensor failed"))
    ['fast', 'flash', 'red']
    """
    from re3g.data.ingest.table import row_key

    return content_stems(row_key(text) or item_label(text))
