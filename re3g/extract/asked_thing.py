"""What an "is there / do you offer" question asks about, and whether the documents name it.

A user who asks whether something exists or is on offer ("Is there a pool?", "do you give
covid boosters", "can I pay with PayPal?") names the thing. Help pages that offer it name it
too, so when no document of the corpus holds a word of that name, nor a word spelt nearly like
it, the documents do not say: a reply quoting the nearest sentence ("Breakfast is served in the
Harbour Room") only looks like an answer. Since session 50 the same holds for the one document
the reply would quote from: a garden page that never mentions parking does not answer "is there
parking?", though a bike page of the corpus does mention it. :func:`asked_things` finds the
name (the words after the question's opening up to a preposition or the end of the clause);
:meth:`re3g.data.vocabulary.Vocabulary.names` says whether the corpus, or one document
(:meth:`re3g.data.vocabulary.Vocabulary.of`), holds a word; with ``[answer] absent_check =
"other"`` or ``"all"`` the pipeline refuses such a turn (:meth:`re3g.pipeline.Re3G.check_named`).
"other" (documents no model here was tuned on) is the default since session 46
(``bench/results/gates-s46.md``, gate N2).

Measured in session 42 (``bench/results/gates-s42.md``): on the written choose sets
(``re3g.train.common.CHOOSE_SETS``) the shipped pipeline answered 33 turns that this flags, 22
the documents cannot answer, 6 answered wrong and 5 right (a "student discount" the page gives
as a student price, a "limit on bags" given as "up to four bags"). Held out it refused 7-8 more
unanswerable turns but also right answers whose thing the user names by a synonym ("boat" on a
page that says "ferry"), and in the chat a refused turn then left the next elliptical turn without
its context: right answers lost 8, won 0 with the bot's own replies, over the bound set before
the run, so it was not on by default then. With the refused question kept in the history
(session 46) it lost 3 right answers held out and refused 8 more unanswerable turns.

    >>> asked_things("Is there a pool?"), asked_things("can i pay with paypal instead")
    (['pool'], ['paypal'])
    >>> asked_things("Are there lockers in the library for my stuff?")
    ['lockers']
    >>> asked_things("How much is a day pass?")
    []
    >>> asked_things("Do you have e-bikes?"), asked_things("do you do sugar-free cakes")
    (['e-bikes'], ['sugar-free', 'cakes'])

A thing named by more than one word, or by its own name, may have it (session 56):

    >>> asked_things("Does the Gullhaven Hotel have a pool?")
    ['pool']
    >>> asked_things("does orrin work without internet")
    ['internet']
    >>> asked_things("Does she have a chance of moving up?")
    []
"""

from __future__ import annotations

import re

from re3g.data.words import content_stems, stopwords
from re3g.extract.answer_type import LOWER_PRICE, OFFER_WORDS, holds_type

_OPENING = re.compile(
    r"\b(?:is there|are there|any"
    r"|do (?:you|they|u|we) (?:do|have|offer|sell|lend|give|provide|rent|hire|take|accept|run|"
    r"stock|fix|repair|service|deliver|make|serve|cater|allow|install|print|collect|ship|"
    r"supply|teach)"
    r"|does (?:it|that|this|the(?: (?!to\b)\w+){1,3}?"
    r"|(?!(?:he|she|they|you|we|i|anyone|anybody|everyone|everybody)\b)[a-z][a-z0-9]*) "
    r"(?:also |still )?(?:have|work with|work on|work without|come with|offer|include|support)"
    r"|can (?:i|we|you) (?:pay|buy|get|hire|rent|book|order|use)"
    r"(?: (?!(?:my|our|your|his|her|their)\b)\w+)? (?:with|by|for|a|an|some)?)\b(.*)", re.I)
"""The opening of a question about whether something exists or is offered; group 1 is what
follows it. It counts only where a clause starts (:data:`_CLAUSE_START`)."""

_CLAUSE_START = re.compile(r"(?:^|[,;:.!?()\n\"'\u2018\u201c\u2013\u2014-]\s*|\b(?:and|so|also|"
                           r"but|then|ok|okay|oh|hi|hey|hello|please|yes|no|thanks|btw|well|"
                           r"great|right|cool)\s+)$", re.I)
"""What comes right before an opening that starts a question: nothing, a punctuation mark, a
quote, a dash, a line break or a word that only links clauses ("thanks, is there a sauna",
"and do you sell gift cards", "quick question - is there parking"). Inside
a clause the words are no such question ("Which courts can we use when it gets dark", "Does
that make any difference?")."""

_NAME_END = re.compile(r"\b(?:for|to|in|at|on|from|with|by|of|if|when|so|because|instead|and|"
                       r"or|but|then|that|which|who|as|like|near|inside|outside|about)\b"
                       r"|[,;:.!?]", re.I)
"""Where the name of the thing asked about ends: a preposition, a conjunction or the clause's
end ("lockers | in the library")."""

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""A word of the name; a hyphenated word stays whole ("e-bikes", "sugar-free"): one thing, which
:meth:`re3g.data.vocabulary.Vocabulary.names` looks for hyphenated or joined."""

_NOT_A_THING = frozenset({"my", "our", "your", "his", "her", "their", "idea", "ideas", "chance",
                          "way", "luck", "news", "update", "point", "reason", "difference",
                          "catch"})
"""A name that opens with one of these is no question about what is offered: the user's own
thing ("can I get my money back") or an idiom ("any idea why", "is there any chance", "is
there a catch")."""

_KIND_OF = re.compile(r"^(?:(?:some|any|a|an|the|what)\s+)?(?:kind|sort|type)s?\s+of(?:\s+|$)",
                      re.I)
"""A name that opens "some kind of" names what follows ("is there some kind of family deal":
a family deal)."""


_CLAUSE_END = re.compile(r"[,;:.!?]|\b(?:and|or|but)\b", re.I)
"""Where the clause holding an offer word ends ("a student discount | or is it full price")."""

_OFFER = re.compile(r"\b(?:" + "|".join(sorted(OFFER_WORDS, key=len, reverse=True)) + r")\b(.*)",
                    re.I)
_OFFER_STEMS = frozenset({"cheap", "cheaper", "concess", "deal", "discount", "offer", "reduct"})
"""The offer words' own stems, never what an offer is for ("do you offer a student discount");
written out, so importing this module loads no stemmer (a test checks they are the stemmer's)."""


def offer_for(question: str, asked: list[str]) -> frozenset[str]:
    """The content stems of what ``question``'s offer is for: the words of the thing asked
    about (``asked``, :func:`asked_things`) other than offer words (:data:`OFFER_WORDS`), and
    the rest of the clause after the offer word; empty when the question names no one and no
    thing the lower price would be for ("any discount?").

    >>> sorted(offer_for("any discount on universal credit", ["discount"]))
    ['credit', 'univers']
    >>> sorted(offer_for("Is there a student discount?", ["student", "discount"]))
    ['student']
    >>> offer_for("is there any discount?", ["discount"])
    frozenset()
    >>> sorted(offer_for("do you offer a student discount or is it full price", ["student",
    ...                                                                         "discount"]))
    ['student']
    """
    found = _OFFER.search(question)
    rest = _CLAUSE_END.split(found.group(1), maxsplit=1)[0] if found else ""
    words = " ".join(w for w in asked if w not in OFFER_WORDS)
    return frozenset(s for s in content_stems(f"{words} {rest}") - _OFFER_STEMS
                     if len(s) > 1 or s.isdigit())  # not the "m" of "I'm"


def offer_answered(question: str, asked: list[str], sentence: str) -> bool:
    """Whether ``sentence`` answers ``question``'s offer words though it never uses them: it
    names everything the offer is for (:func:`offer_for`, not empty) and states a price or a
    lower one (session 51, ``bench/results/gates-s51.md``).

    >>> offer_answered("any discount on universal credit", ["discount"],
    ...                "Families on Universal Credit pay half price for the full-year pass.")
    True
    >>> offer_answered("Is there a discount for groups?", ["discount"],
    ...                "Tickets are sold at the desk on the day.")
    False
    """
    wanted = offer_for(question, asked)
    return (bool(wanted) and wanted <= content_stems(sentence)
            and (holds_type("money", sentence) or bool(LOWER_PRICE.search(sentence))))


def to_be_named(question: str, asked: list[str], sentence: str) -> list[str]:
    """The words of ``asked`` (:func:`asked_things`) that a document must name for
    ``sentence`` to answer ``question``: all of them, or all but the offer words when the
    sentence answers the offer with a price (:func:`offer_answered`).

    >>> to_be_named("any discount on universal credit", ["discount"],
    ...             "Families on Universal Credit pay half price.")
    []
    >>> to_be_named("is there a pool?", ["pool"], "Families pay half price.")
    ['pool']
    """
    if any(w in OFFER_WORDS for w in asked) and offer_answered(question, asked, sentence):
        return [w for w in asked if w not in OFFER_WORDS]
    return asked


def asked_things(question: str) -> list[str]:
    """The content words naming what ``question`` asks is there or on offer (lower case, in
    order), or ``[]`` when it is not such a question."""
    found = _OPENING.search(question)
    while found is not None and not _CLAUSE_START.search(question, 0, found.start()):
        found = _OPENING.search(question, found.start() + 1)  # (.*) took the rest: look on
    if found is None:
        return []
    name = _WORD.findall(_NAME_END.split(_KIND_OF.sub("", found.group(1).strip()), maxsplit=1)[0]
                         .lower().replace("'", ""))
    name = [w for w in name if w not in ("a", "an", "any", "some", "the")]
    if name and name[0] in _NOT_A_THING:
        return []
    stop = stopwords()
    return [w for w in name if w not in stop and len(w) > 2]
