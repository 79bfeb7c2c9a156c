"""The name step: a question that names what a whole document is about should pick the
document, not the passage that repeats the name most.

On a product or service page the introduction says the product's name several times; a
question that names it ("Does the Halvane Pure 5 have a night mode?") then ranks the
introduction first, although the answer is in a later section. The name identifies the
document; which of its passages answers is what the rest of the question says. This step
scores the current user turn again without the names in each document's title
(:func:`title_names`, :func:`title_free`) and takes ``weight`` x the name's share of each
passage's score (the turn's own score minus its score without the name) off that passage,
measured from the passage of the same document the name helps least, so the document keeps
its best score against other documents and only the order inside it changes.

    >>> title_free("Does the Halvane Pure 5 have a night mode?", "Halvane Pure 5 air purifier")
    'Does the have a night mode?'
    >>> title_free("How do I apply for a Medicare card?", "Apply for a Medicare card") is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from re3g.data.words import content_stems
from re3g.rank.base import Ranker
from re3g.types import Hit

_TOKEN = re.compile(r"\S+")
_LOWER = re.compile(r"\b[a-z][a-z0-9'-]*\b")
_TITLE_PART = re.compile(r"[^\w\s'-]+")
_TITLE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
NAME_RUN = 2
"""Title words after an unknown word that still belong to the name when capitalised or digits
("Halvane Pure 5")."""


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Whole words of the packaged encoder's WordPiece vocabulary: a word not among them is
    one the encoder has to spell out, most often a made-up brand or place name."""
    from pathlib import Path

    from re3g.models import base_model_path

    vocab = Path(base_model_path()) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split()
                     if w.isalpha() and w.islower())


def title_names(title: str, texts: Sequence[str] = (), run: int = NAME_RUN
                ) -> list[tuple[str, ...]]:
    """The names in a document ``title``, each as the stems of its words: a capitalised word
    the encoder does not know (:func:`known_words`, three letters or more; "HomeKeep" too, but
    not an acronym in capitals: those name agencies and forms that many documents share) with
    up to ``run`` capitalised or numeric words after it in the same part of the title (parts
    end at punctuation). A head word that any of the document's ``texts`` writes in lower
    case is a common word in a title-cased title, not a name. A title of known words names
    nothing: ``[]``.

    >>> title_names("Halvane Pure 5 air purifier: quick guide")
    [('halvan', 'pure', '5')]
    >>> title_names("Repayment Estimator", ["Your repayment is ..."])
    [('estim',)]
    """
    return list(_title_names(title, tuple(texts), run))


@lru_cache(maxsize=4096)
def _title_names(title: str, texts: tuple[str, ...], run: int) -> tuple[tuple[str, ...], ...]:
    """:func:`title_names`, remembered: the chain asks it for every named document of every
    turn, with the same few titles and passages again and again."""
    known = known_words()
    lower = set(_LOWER.findall(" ".join(texts))) if texts else set()
    out: list[tuple[str, ...]] = []
    for part in _TITLE_PART.split(title):
        words = _TITLE_WORD.findall(part)
        for i, w in enumerate(words):
            if (len(w) < 3 or not w.isalpha() or not w[0].isupper() or w.isupper()
                    or w.lower() in known or w.lower() in lower):
                continue
            name = [w]
            for nxt in words[i + 1:i + 1 + run]:
                if not (nxt[0].isupper() or nxt.isdigit()):
                    break
                name.append(nxt)
            out.append(tuple(_stem_of(x) for x in name))
    return tuple(out)


def _stem_of(word: str) -> str:
    stems = content_stems(word)
    return next(iter(stems)) if len(stems) == 1 else word.lower()


def title_free(text: str, title: str, texts: Sequence[str] = ()) -> str | None:
    """``text`` without the names of ``title`` (:func:`title_names`, which reads the
    document's ``texts``): a name's first word and the words of the name that follow it in
    ``text``. None when ``text`` names nothing, or when no content word would be left (the
    question is then about the document itself, and the name is all it says)."""
    names = title_names(title, texts)
    if not names:
        return None
    tokens = _TOKEN.findall(text)
    stems = [_stem_of(t.strip(".,;:!?()\"'")) for t in tokens]
    drop: set[int] = set()
    for name in names:
        for i, st in enumerate(stems):
            if st != name[0]:
                continue
            j = 0
            while j < len(name) and i + j < len(stems) and stems[i + j] == name[j]:
                drop.add(i + j)
                j += 1
    if not drop:
        return None
    out = " ".join(t for i, t in enumerate(tokens) if i not in drop)
    return out if content_stems(out) else None


def discount_names(reranker: Ranker, current: str, hits: Sequence[Hit],
                   own: dict[str, float], weight: float) -> list[Hit]:
    """``hits`` rescored by the name step (module docstring) and reordered. ``own`` holds the
    current turn's own reranker score of each passage by id (scored here when missing)."""
    if weight == 0.0 or not current or len(hits) < 2:
        return list(hits)
    by_doc: dict[str, list[Hit]] = {}
    for h in hits:
        by_doc.setdefault(h.passage.doc_id, []).append(h)
    off: dict[str, float] = {}
    for group in by_doc.values():
        if len(group) < 2:
            continue
        masked = title_free(current, group[0].passage.title, [h.passage.text for h in group])
        if masked is None:
            continue
        passages = [h.passage for h in group]
        missing = [p for p in passages if p.pid not in own]
        if missing:
            own = {**own, **dict(zip([p.pid for p in missing],
                                     reranker.score(current, missing), strict=True))}
        without = reranker.score(masked, passages)
        share = [own[p.pid] - float(s) for p, s in zip(passages, without, strict=True)]
        least = min(share)
        off.update({p.pid: weight * (x - least) for p, x in zip(passages, share, strict=True)})
    if not off:
        return list(hits)
    scored = sorted(((h.score - off.get(h.passage.pid, 0.0), i, h) for i, h in enumerate(hits)),
                    key=lambda x: (-x[0], x[1]))
    return [Hit(h.passage, s, r, h.source) for r, (s, _, h) in enumerate(scored, start=1)]
