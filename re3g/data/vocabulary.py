"""Which content stems the documents of a corpus hold: the decision's coverage signals
(``doc_cover``, ``corpus_missing`` in :class:`re3g.decide.Signals`) read a turn's new words
against them. A corpus with documents removed or changed (the synthetic unanswerable turns of
:mod:`re3g.evaluate.unanswerable`) is read as what it is without rebuilding the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Set
from difflib import get_close_matches

from re3g.data.words import content_stems, joined_stems
from re3g.types import Document


def _same(a: Document | None, b: Document) -> bool:
    """Whether ``a`` is ``b`` or holds the same title and text (a corpus read again)."""
    return a is b or (a is not None and a.title == b.title and a.text == b.text)


def document_stems(doc: Document) -> frozenset[str]:
    """Content stems of a document's title and text (not kept in the per-sentence cache).

    >>> sorted(document_stems(Document("d", "Bikes", "Rent one at a dock.")))
    ['bike', 'dock', 'rent']
    """
    return content_stems.__wrapped__(f"{doc.title} {doc.text}")  # type: ignore[attr-defined, no-any-return]


def compound_stems(doc: Document) -> frozenset[str]:
    """Stems of a document's hyphenated words read joined (title and text): the things it names
    by a hyphenated word, as :meth:`Vocabulary.names` looks them up.

    >>> sorted(compound_stems(Document("d", "E-bikes", "Sugar-free, sugar and free Wi-Fi.")))
    ['ebik', 'sugarfre', 'wifi']
    """
    return joined_stems(f"{doc.title} {doc.text}")


class Vocabulary:
    """The content stems of each document of ``documents`` and how many documents hold each.

    >>> docs = {"a": Document("a", "Bikes", "Rent a bike at a dock."),
    ...         "b": Document("b", "Garden", "Plots, compost and bikes.")}
    >>> v = Vocabulary(docs)
    >>> sorted(v.stems("a"))
    ['bike', 'dock', 'rent']
    >>> v.missing({"bike", "scooter"})           # no document has "scooter"
    1
    >>> v.missing({"dock", "bike"}, {"b": docs["b"]})   # the corpus without document "a"
    1
    >>> v.missing({"dock"}, {d: Document(x.doc_id, x.title, x.text) for d, x in docs.items()})
    0
    """

    def __init__(self, documents: Mapping[str, Document],
                 stems: Mapping[str, frozenset[str]] | None = None) -> None:
        self.documents = documents
        self._stems = {doc_id: stems[doc_id] if stems and doc_id in stems
                       else document_stems(doc) for doc_id, doc in documents.items()}
        """Each document's content stems (``stems``: already known ones, not read again)."""
        self.counts = Counter(s for stems in self._stems.values() for s in stems)
        self._compounds: frozenset[str] | None = None  # the corpus's, built on first use
        self._alone: dict[str, Vocabulary] = {}  # :meth:`of` for the corpus's own documents

    def __bool__(self) -> bool:
        return bool(self.documents)

    def stems(self, doc_id: str, documents: Mapping[str, Document] | None = None
              ) -> frozenset[str] | None:
        """Content stems of document ``doc_id`` as ``documents`` (default: the corpus's own)
        hold it; None when it is not there."""
        doc = (self.documents if documents is None else documents).get(doc_id)
        if doc is None:
            return None
        mine = self.documents.get(doc_id)
        return self._stems[doc_id] if mine is not None and _same(doc, mine) else document_stems(doc)

    def of(self, doc_id: str, documents: Mapping[str, Document] | None = None
           ) -> Vocabulary | None:
        """The vocabulary of document ``doc_id`` alone, as ``documents`` (default: the
        corpus's own) hold it; None when it is not there. What one document names, where
        :meth:`names` reads the whole corpus.

        >>> v = Vocabulary({"a": Document("a", "Pool", "The pool opens at 7."),
        ...                 "b": Document("b", "Car park", "Parking is free.")})
        >>> v.names("parking"), v.of("a").names("parking"), v.of("c") is None
        (True, False, True)
        """
        doc = (self.documents if documents is None else documents).get(doc_id)
        if doc is None:
            return None
        if not _same(self.documents.get(doc_id), doc):  # not the corpus's own: read afresh
            return Vocabulary({doc_id: doc})
        if doc_id not in self._alone:  # the corpus's own document: its stems are known
            self._alone[doc_id] = Vocabulary({doc_id: doc}, self._stems)
        return self._alone[doc_id]

    def missing(self, asked: Set[str], documents: Mapping[str, Document] | None = None) -> int:
        """How many stems of ``asked`` no document holds: of the corpus, or of ``documents``
        when given (documents missing from it, or with another title or text under the same id,
        count as removed or changed; the same documents read again cost no stemming)."""
        if documents is None or documents is self.documents:
            return sum(1 for s in asked if not self.counts[s])
        count = {s: self.counts[s] for s in asked}
        for doc_id, doc in self.documents.items():
            if not _same(documents.get(doc_id), doc):  # removed or changed
                for s in asked & self._stems[doc_id]:
                    count[s] -= 1
        for doc_id, doc in documents.items():
            if not _same(self.documents.get(doc_id), doc):  # added or changed
                for s in asked & document_stems(doc):
                    count[s] += 1
        return sum(1 for n in count.values() if n <= 0)

    def names(self, word: str, documents: Mapping[str, Document] | None = None) -> bool:
        """Whether some document names ``word``: holds its stem, or a stem spelt nearly like
        it (``difflib`` ratio >= :data:`NEAR_SPELLING`, so "jewellry" meets "jewelleri"), in
        the corpus or in ``documents`` when given (as :meth:`missing` reads them).

        >>> v = Vocabulary({"a": Document("a", "Pool", "The swimming pool opens at 7.")})
        >>> v.names("pools"), v.names("swiming"), v.names("gym")
        (True, True, False)

        A hyphenated ``word`` is one thing: named only where a document holds it hyphenated
        or joined, not where it holds its parts apart.

        >>> v = Vocabulary({"a": Document("a", "Bikes", "Our bikes are sugar free. E-cargo.")})
        >>> v.names("e-bikes"), v.names("sugar-free"), v.names("e-cargo"), v.names("ecargo")
        (False, False, True, True)
        """
        if "-" in word:
            return self._names_compound(word, documents)
        stems = content_stems(word)
        if not stems or not self.missing(stems, documents):
            return True
        held = self._held(documents)
        return all(get_close_matches(s, held, n=1, cutoff=NEAR_SPELLING) for s in stems)

    def _names_compound(self, word: str, documents: Mapping[str, Document] | None) -> bool:
        """:meth:`names` for a hyphenated ``word``: its joined stem is a document's joined
        hyphenated word or a plain word of it."""
        joined = content_stems(word.replace("-", ""))
        if not joined:
            return True
        if documents is None or documents is self.documents:
            if self._compounds is None:
                self._compounds = frozenset().union(*map(compound_stems,
                                                         self.documents.values()))
            compounds: Collection[str] = self._compounds
        else:
            compounds = set().union(*map(compound_stems, documents.values()))
        held = self._held(documents)
        return all(s in compounds or s in held for s in joined)

    def _held(self, documents: Mapping[str, Document] | None) -> Collection[str]:
        """Every stem some document holds: of the corpus, or of ``documents`` when given (the
        corpus's own documents read again cost no stemming)."""
        if documents is None or documents is self.documents:
            return self.counts.keys()
        return set().union(*(self._stems[d] if _same(self.documents.get(d), doc)
                             else document_stems(doc) for d, doc in documents.items()))


NEAR_SPELLING = 0.8
"""How alike (``difflib.SequenceMatcher`` ratio) a word's stem and a document's must be for a
misspelling to count as the same word (:meth:`Vocabulary.names`)."""
