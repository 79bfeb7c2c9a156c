"""What kind of answer a question asks for, and whether a sentence holds one.

Two users: the reader's ``type_weight`` term (:meth:`re3g.extract.extractor.SpanExtractor.
select_ranges`) and the decision's refusal of a reply that does not hold the kind asked for
(:func:`missing_kind`, :meth:`re3g.pipeline.Re3G.decide`). A question that asks "how much"
wants an amount of money, "when" a date or a time, "how long" a duration, "how often" a
frequency, "how many" a number; a sentence that holds no such thing rarely answers it, however
much it shares the question's words. On the written choose sets
(``re3g.train.common.CHOOSE_SETS``) 17% of the answerable user turns ask for one of these
kinds, their reference sentences hold it 88-95% of the time, and the other sentences of the
same documents 24-55% of the time (session 36). Of the shipped pipeline's answered turns that
ask for one and whose top evidence holds none, 21 were unanswerable, 23 answered wrong and 7
right (session 41).

A question may also ask for a judgement ("is it worth it?", "would you recommend ...?",
"which is best for me?"), which help pages rarely give: :func:`missing_kind` also refuses such
a turn when the sentence states no judgement (:func:`asks_judgement`, ``HOLDS["judgement"]``;
only in the decision's check, not in the reader's term). On the training-side own-reply records 15
unanswerable turns ask for one and were answered, and 1 answerable turn (session 49). A question
whether something is safe is answered by a judgement or a warning about the thing asked
(:func:`safety_answered`, session 52): help pages answer it with "Do not ...".

The patterns are regular expressions over English help-page text. No package these machines
can install ships an entity tagger with its weights (spaCy's English models are downloaded
from GitHub, not from a package registry), and these kinds need no more than this.

    >>> asked_type("When do applications open?"), asked_type("How much is a day pass?")
    ('time', 'money')
    >>> holds_type("time", "Applications open on the first of February each year.")
    True
    >>> holds_type("money", "Plots are given out in the order that applications arrive.")
    False
    >>> asked_type("Can I add meat?") is None
    True
"""

from __future__ import annotations

import re

from re3g.data.words import content_stems, cover_share

_MONTHS = ("january|february|march|april|june|july|august|september|october|november|"
           r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|\d{1,2} may|may \d{1,2}")
# "may" alone is the verb help pages use everywhere; the month only beside a day number
_DAYS = ("mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|weekdays?|"
         "weekends?")
_COUNT = (r"\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
          r"twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|several|few|half an?")
_UNITS = r"seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|business days?|" \
         r"working days?"

HOLDS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        r"[$€£¥]\s?\d|\d\s?(?:dollars?|euros?|pounds?|cents?|pence|usd|eur|gbp|chf|kr)\b"
        r"|(?<![\w-])(?<!feel )free(?! to)(?![\w-])|\b(?:no charge|no cost|costs? nothing|"
        r"not charged)\b"
        r"|\bno (?:\w+ )?fees?\b|\bfull price\b|\bat cost\b|\bhalf price\b|\bpercent\b|%",
        re.I),
    "time": re.compile(
        rf"\b(?:{_MONTHS}|{_DAYS})\b|\b\d{{1,2}}(?:[:.]\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w)"
        r"|\b\d{1,2}:\d\d\b|\b(?:noon|midday|midnight|morning|afternoon|evening|sunset|"
        r"sunrise|daily|every day|each year|every year|annually|yearly|today|tomorrow)\b"
        r"|\b(?:19|20)\d\d\b|\b\d{1,2}(?:st|nd|rd|th)\b|\b(?:first|last) of\b"
        r"|\b(?:first|last|second|third) (?:working |business )?(?:day|week|weekday) of\b"
        r"|\b(?:end|start|beginning|middle) of (?:the|each|every|a|that|your) (?:day|week|"
        r"month|year|term|season|quarter)\b", re.I),
    "duration": re.compile(rf"\b(?:{_COUNT})[\s-]+(?:{_UNITS})\b", re.I),
    "number": re.compile(
        r"\b(?<!no )(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"twenty|thirty|fifty|hundred|thousand|dozen|no more than|at most|at least|once|"
        r"twice|thrice)\b"
        r"|\bup to (?:\d|one|two|three|four|five|six|seven|eight|nine|ten)", re.I),
    "frequency": re.compile(
        r"\b(?:every|each|daily|weekly|fortnightly|monthly|yearly|annually|"
        r"hourly|nightly)\b|\b(?:a|per) (?:day|week|fortnight|month|year|night|hour)\b", re.I),
    # a judgement stated: a recommendation, what suits whom, what is safe (what
    # :func:`asks_judgement` asks for; :func:`asked_type` never names it, so the reader's
    # type term does not read it); "safety" names a thing ("the safety check"), it judges
    # nothing
    "judgement": re.compile(
        r"\b(?:recommend\w*|suggest\w*|advis\w*|best|better|ideal\w*|worth\w*|suit\w*|"
        r"good for|great for|perfect for|popular|safe(?:ly|r|st)?|unsafe|danger\w*|risk\w*|"
        r"should|prefer\w*|not for)\b", re.I),
    # a prohibition or warning stated: what a help page says to a safety question ("Do not
    # use the trimmer on wet hedges"); read only for a question that asks whether something
    # is safe (:func:`missing_kind`). A condition or a limit ("only if", "no more than") is no
    # warning: "A skip may stand in a parking bay only if ..." does not say whether parking
    # beside it is safe (session 52, gate S). "cannot" and "may not" mostly state facts ("the
    # card cannot be read"), "avoid" and "warning" warn only as a command or a label ("Avoid
    # ...", "Warning:"), not in "to avoid the peak charge" or "without warning"
    "warning": re.compile(
        r"\b(?:do not|don['\u2019]?t|never|must not|mustn['\u2019]?t|should not|"
        r"shouldn['\u2019]?t|not (?:be )?(?:allowed|permitted)|prohibited|forbidden)\b"
        r"|(?:^|[.;:!?]\s+)avoid\b|\b(?:warning|caution)\s*[:!]", re.I),
}
"""A sentence holds an answer of the kind when its pattern matches."""

_AUX = r"(?:do|does|did|is|are|was|were|will|would|can|could|should|must|has|have|shall)"

_ASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", re.compile(
        r"\bhow much\b(?! (?:time|longer|sooner|quicker|faster|more|less|space|room|water|"
        r"data|weight|notice|of|power|energy|electricity))(?!.*\bweigh)"
        r"|\b(?:what|whats|which)\b(?:\W+\w+){0,4}?\W+(?:cost|costs|price|prices|fee|fees)\b"
        r"|\bwhat (?:does|do|did|would|will) (?:[\w-]+\s+){1,5}?(?<!\bthe )cost\b"
        rf"|\b{_AUX} (?:it|that|this|they|there|these|those) (?:\w+ )?cost\b"
        r"|\bis there an? (?:\w+ )?(?:fee|charge)\b"
        r"|(?:^|[,;:.!?]\s*|\band\s+)(?:the\s+)?(?:price|cost|fee)s?\s+"
        r"(?:of(?!\s+living\b)|for|per)\b"
        r"|\bcosts?\s+(?:extra|more)\b|\bcharges?\s+extra\b|\bcharge\s+(?:you|me|us|them)\s+more\b"
        r"|\bwhat\s+(?:(?:would|will|do|does|did)\s+)?(?:you|they|he|she|the\s+\w+(?:\s+\w+)?)"
        r"\s+charge\b(?!\s+(?:at|up|overnight|fully|from)\b)", re.I)),
    ("duration", re.compile(r"\bhow (?:long|soon)\b|\bhow much (?:time|longer|notice)\b"
                            rf"|\bhow many (?:{_UNITS})\b", re.I)),
    # "when" asks at the head of a clause only with a verb form after it ("when is", "and
    # when?"); "when lots of people use it" is a conjunction
    ("time", re.compile(rf"(?:^|[,;:.!?]\s*|\band\s+|\bso\s+|\bbut\s+)when\b"
                        rf"(?=\s*(?:$|[,;:.!?]|(?:{_AUX}|may|might|'s|’s)\b))|\bwhen {_AUX}\b"
                        r"|\b(?:tell me|know|ask) when\b"
                        r"|\b(?:which|what) (?:times?|day|days|date|dates|month|months|"
                        r"year|hours)\b|\bopening hours\b|\bhow (?:late|early)\b"
                        r"|\b(?:until|till|by) when\b|\bdeadline\b"
                        # "are you open sundays", "is that car park open overnight", "open over
                        # Christmas?": when it is open, not who it is open to
                        rf"|\b(?:are|is|r)\s+(?!there\b)(?:\w+\s+){{0,3}}?open\b(?=\s*(?:$|[,;:.!?]|"
                        rf"(?:now|today|tonight|tomorrow|yet|late|early|again|on|over|at|in|"
                        rf"during|till|until|overnight|all|24|this|next|every|{_DAYS}|"
                        rf"{_MONTHS})\b))"
                        rf"|^\W*(?:(?:you|u|r|are|is|still|youre|ur)\s+)?open\s+(?:on|over|at|"
                        rf"in|during|till|until|late|overnight|all|{_DAYS})\b", re.I)),
    ("frequency", re.compile(r"\bhow often\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|old|far|big|large|heavy|tall|much (?:space|"
                          r"room|water|data|weight|power|energy|electricity))\b"
                          r"|\bwhat (?:percentage|percent|size|number)\b|\bmaximum\b"
                          r"|\bminimum\b|\bhow much\b.*\bweigh", re.I)),
)


def asked_type(question: str) -> str | None:
    """The kind of answer ``question`` asks for (``"money"``, ``"duration"``, ``"time"``,
    ``"frequency"``, ``"number"``), or None when it asks for none of them (a yes/no question,
    a "how do I")."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


_JUDGEMENT = re.compile(
    r"\bworth (?:it|the|a|getting|paying|\w+ing)\b"
    r"|\b(?:is|was|would|will) (?:it |that |this |a |an |the )?(?:\w+ )?(?:even |really )?"
    r"worth\b(?!\s*[\d$€£])"
    r"|\bwould (?:it|that|he|she|they|we|i|you|the \w+) (?:be )?(?:better|enjoy|get on better)\b"
    r"|\bbetter off\b|\bis (?:it |that |this )?better (?:to|if|for)\b|\bor better\b"
    r"|\b(?:would|do|could|can|will) you (?:recommend|suggest|advise)\b"
    r"|\byou(?:'d| would)? recommend\b"
    r"|^(?!.*\bhow long\b).*\b(?:is|are) (?:it|that|this|they|he|she|the \w+|a \w+) "
    r"(?:\w+ )?(?:any )?good for\b|\bany good\b"
    r"|\bwhich\b.*\b(?:is|are|works?|would be) best\b|\bwhat(?:'s| is) best\b"
    r"|\bstand a chance\b|\bdangerous\b|\bis (?:it |that |this )?safe for\b"
    r"|\b(?:is|would|will) (?:it|that|this) (?:\w+ )?safe to\b(?!\s+(?:say|assume)\b)", re.I)
"""A question that asks for a judgement: whether something is worth it, better, best, good
for someone, safe or dangerous, or what the pipeline would recommend."""


_SAFETY = re.compile(r"\b(?:safe|dangerous|danger)\b", re.I)
"""A judgement question (:func:`asks_judgement`) about safety ("is it safe to ...", "is it
dangerous to ..."); "safely" says how, not whether ("which helmet is best if I want to ride
safely" asks which is best)."""

_NOT_THE_THING = frozenset({"safe", "unsaf", "danger", "riski", "fine", "alright", "just",
                            "realli", "actual"})
"""Stems of the words of a safety question that name no part of the thing asked about (the
safety words and hedges; "ok", "okay" and "like" are stop words already)."""

_SAFELY = re.compile(r"\bsafely\b", re.I)
"""How a thing is done ("Riding safely keeps the service running", a page's intro): no
judgement of whether the thing asked about is safe."""

SAFETY_NAMED = 0.5
"""The share of a safety question's own words (:func:`safety_answered`) a sentence must hold
to be about the thing asked. Chosen on the training side (session 52): the two safety questions
of ``data/train4`` answered by a warning share 3 of 6 and 4 of 5 of their words with it, the
one warning shown for an unanswerable one shares none."""


def safety_answered(question: str, text: str) -> bool:
    """Whether ``text`` answers a question asking whether something is safe: it states a
    judgement or a rule or warning (``HOLDS["judgement"]``, ``HOLDS["warning"]``) about the
    thing asked, naming at least :data:`SAFETY_NAMED` of the question's own words. A warning
    about something else does not answer it, nor a sentence whose only judgement is how a
    thing is done ("Riding safely keeps the service running", :data:`_SAFELY`), nor any
    sentence when the question names nothing of its own ("is that safe?"). Words before the
    question count too ("my dad is 80, is it safe ..."), so a long preamble asks more of the
    sentence.

    >>> safety_answered("Is it safe to touch the steam wand?",
    ...                 "The tip of the wand gets very hot; do not touch it for ten minutes.")
    True
    >>> safety_answered("is it safe for them to throw with glasses on, 2 of them wear them",
    ...                 "Throwing knives and other blades must not be brought in.")
    False
    >>> safety_answered("is it safe to ride a bike after a crash if it looks ok?",
    ...                 "Riding safely keeps the service running for everyone.")
    False
    """
    if not (HOLDS["judgement"].search(_SAFELY.sub("", text)) or HOLDS["warning"].search(text)):
        return False
    own = content_stems(question) - _NOT_THE_THING
    # a question with no words of its own ("is that safe?") cannot be matched to a warning:
    # any warning would pass, as in session 51's gate U2
    return bool(own) and cover_share(own, content_stems(text)) >= SAFETY_NAMED


def asks_judgement(question: str) -> bool:
    """Whether ``question`` asks for a judgement rather than a fact ("is it worth it?",
    "would you recommend ...?", "which one is best for me?", "is it dangerous for him?").
    Help pages state facts; they rarely judge for the reader, and a sentence that judges
    nothing does not answer such a question however many of its words it shares.

    >>> asks_judgement("is excess cover worth it for 3 days"), asks_judgement(
    ...     "Would you recommend visiting on a weekday?")
    (True, True)
    >>> asks_judgement("My ring alone is worth 3,200 though."), asks_judgement(
    ...     "how long is the voucher good for"), asks_judgement("which plan has the best upload")
    (False, False, False)
    """
    return bool(_JUDGEMENT.search(question))


LOWER_PRICE = re.compile(r"\bcheaper\b|\breduced (?:rate|price|fee|fare)s?\b"
                         r"|\b(?:pay|pays|costs?)\s+(?:less|half)\b"
                         r"|\blower (?:rate|price|fee|fare)s?\b|\bhalf (?:price|fare|fee|rate)s?\b",
                         re.I)
"""A lower price stated without an amount ("pay less", "a reduced rate", "half fare"); not any
"less" or "lower" ("no less than two days ahead", "the lower car park")."""

_ASKS_OFFER = re.compile(
    r"\b(?:discounts?|concessions?|reductions?|cheaper|deals?(?!\s+with)|money off"
    r"|reduced (?:rate|price|fee|fare)s?|(?:better|lower) (?:price|rate|deal|fare)s?"
    r"|pay(?:s|ing)? less)\b", re.I)
"""Words asking for a lower price ("any discount if I'm unemployed?", "cheaper if I pay the
whole year up front?", "do locals get money off"); not "cheap" alone ("a cheap cable lock"), not
"deal with", and not a price the user states ("flights are half price"). In a sentence they
speak of a lower price of its own ("The concession price is for people aged 65 or over"),
which answers whether there is one, for whom it may say in other words (session 53, gate O2)."""

_FULL_PRICE = re.compile(r"\bfull (?:price|fee|fare|rate)s?\b", re.I)
"""A "no" to a lower price stated as the full one ("Everyone pays the full fare")."""


_NO_OFFER = re.compile(r"\bno (?:discounts?|concessions?|reductions?|money off|reduced "
                       r"(?:rate|price|fee|fare)s?)\b", re.I)
"""A "no" to a lower price ("There is no discount for students")."""
_EVERYONE = re.compile(r"\b(?:every(?:one|body)|any(?:one|body)|no ?one|nobody|all)\b", re.I)
"""A "no" said of everyone ("Everyone pays the full fare") answers whoever asks."""
OFFER_WORDS = frozenset({"discount", "discounts", "deal", "deals", "cheaper", "cheap", "reduction",
                         "reductions", "concession", "concessions", "offer", "offers"})
"""Words that ask for a lower price. Help pages give one as a price or a rule ("Students pay
36 pounds", "Families on Universal Credit pay half price") far more often than with these
words, so a page that never says "discount" may still answer "is there a student discount?"
(:func:`re3g.extract.asked_thing.offer_for`)."""
_PRICE_WORDS = ("reduced money off price prices rate rates fee fees fare fares pay pays paying "
                "less lower better full get gets cost costs")
"""With :data:`OFFER_WORDS`, the words of asking for, or refusing, a lower price: shared by a
question and a "no", they do not say whom the "no" is for (:func:`offer_given`)."""
_ASKING_A_PRICE = " ".join(sorted(OFFER_WORDS)) + " " + _PRICE_WORDS
"""Both lists as one text (:func:`re3g.data.words.content_stems` caches its stems)."""


def offer_given(text: str, question: str = "") -> bool:
    """Whether ``text`` answers a question asking for a lower price: it gives a price or an
    amount, a lower price (:data:`LOWER_PRICE`), the full price, or speaks of a lower price in
    its own words (:data:`_ASKS_OFFER`: "There are no discounts for groups"). A sentence whose
    only answer is a "no" (no discount, the full price) shares a word with ``question`` other
    than those of a lower price, or takes in a number of it ("hes 13" and "aged 12 to 15",
    :mod:`re3g.extract.numbers`), or is said of everyone, when one is given: a "no" for other
    people ("no discount for a birthday player") does not answer "is there a discount for
    charities?" (session 54).

    >>> offer_given("Residents pay half fare on the ferry."), offer_given(
    ...     "Members get a discount on classes."), offer_given("You can pause your plan.")
    (True, True, False)
    >>> no = "There is no discount for a birthday player, and stag groups pay the full price."
    >>> offer_given(no, "is there a discount for charities?"), offer_given(
    ...     no, "do stag groups get a discount?")
    (False, True)
    >>> offer_given("There is no discount for players aged 12 to 15.", "discount? hes 13")
    True
    """
    if not (holds_type("money", text) or LOWER_PRICE.search(text) or _FULL_PRICE.search(text)
            or _ASKS_OFFER.search(text)):
        return False
    rest = _FULL_PRICE.sub(" ", text)  # an amount or a lower price besides the "no"
    if not question or holds_type("money", rest) or LOWER_PRICE.search(rest) \
            or not (_NO_OFFER.search(text) or _FULL_PRICE.search(text)) \
            or _EVERYONE.search(text):
        return True
    from re3g.data.words import content_stems
    from re3g.extract.numbers import asked_numbers, takes_in

    return bool((content_stems(question) - content_stems(_ASKING_A_PRICE)) & content_stems(text)
                or takes_in(asked_numbers(question), text))


KIND_NAMES = {"money": "a price or amount", "time": "a date or time", "duration": "how long",
              "frequency": "how often", "number": "a number",
              "judgement": "a recommendation or judgement",
              "safety": "a safety rule or warning",
              "offer": "a price or discount"}
"""What each kind is called in a reply that says the documents do not give it."""

ALSO_HOLDS = {"time": ("duration",), "frequency": ("number",)}
"""Kinds whose answer may also come as another kind: "when" as a time relative to something
("two working days after ..."), "how often" as a count ("3 times a year", "twice")."""


def holds_type(kind: str, text: str) -> bool:
    """Whether ``text`` holds an answer of ``kind`` (:func:`asked_type`'s kinds).

    >>> holds_type("time", "Payments stop at the end of the month in which you cancel.")
    True
    >>> holds_type("frequency", "Check the pre-filter every week."), holds_type("frequency",
    ...     "Sweep it 2 times a year."), holds_type("frequency", "Sweep the chimney.")
    (True, True, False)
    """
    return any(HOLDS[k].search(text) for k in (kind, *ALSO_HOLDS.get(kind, ())))


_CLAUSES = re.compile(r"[,;:?.!]+|\b(?:and|or|but|also|then)\b", re.I)
_QUESTION_HEAD = re.compile(
    r"^\s*(?:what|whats|how|when|where|which|who|whom|whose|why|is|are|am|was|were|can|"
    r"could|will|would|do|does|did|should|shall|may|might|has|have|had|must)\b", re.I)


def asks(question: str) -> int:
    """How many question clauses ``question`` holds (clauses split at punctuation and "and",
    "or", "but"; a clause asks when it opens with a question word or a verb form).

    >>> asks("Can you take him, and what would it cost?"), asks("How much is it?")
    (2, 1)
    >>> asks("I'm not a member. Is there a fee for the bus?")
    1
    """
    return sum(1 for part in _CLAUSES.split(question) if _QUESTION_HEAD.search(part))


def missing_kind(question: str, text: str) -> str | None:
    """The kind of answer ``question`` asks for when ``text`` (the sentence a reply would
    quote) holds none of it, else None: "How much is the day ticket?" answered with a
    sentence that names no amount does not answer it (:meth:`re3g.pipeline.Re3G.decide`).
    A turn that asks two things (:func:`asks`) is left alone: the sentence may answer the
    other one ("Can you take him, and what would it cost?").

    >>> missing_kind("How much is the day ticket?", "Fishing needs a day ticket.")
    'money'
    >>> missing_kind("How much is the day ticket?", "A day ticket costs 6 pounds.") is None
    True
    >>> missing_kind("Can I fish from a canoe?", "Fishing needs a day ticket.") is None
    True
    >>> missing_kind("Can I fish, and what does it cost?", "Fishing needs a day ticket.") is None
    True

    A question that asks for a judgement (:func:`asks_judgement`) and no other kind wants a
    sentence that states one:

    >>> missing_kind("Is the day ticket worth it?", "A day ticket costs 6 pounds.")
    'judgement'
    >>> missing_kind("Which rod is best for a beginner?", "We recommend the 9-foot rod.") is None
    True

    A question asking only for a lower price wants a price, a lower one or a "no"
    (:func:`offer_given`):

    >>> missing_kind("student discount?", "You can pause your plan for up to 3 months.")
    'offer'
    >>> missing_kind("student discount?", "Students pay 36 pounds a term.") is None
    True
    """
    kind = asked_type(question)
    if kind is None and asks_judgement(question):
        # asked in one clause or across "is it worth it, or should I ...": one thing asked
        if _SAFETY.search(question):
            return None if safety_answered(question, text) else "safety"
        kind = "judgement"
    elif asks(question) > 1:  # two things asked: the sentence may answer the other one
        return None
    if kind is None and _ASKS_OFFER.search(question):  # a lower price asked (session 53)
        return None if offer_given(text, question) else "offer"
    if kind is None or holds_type(kind, text) or (kind == "money"
                                                   and gives_quantity(question, text)):
        return None
    return kind


_HOW_MUCH_OF = re.compile(r"\bhow much (\w+)", re.I)

MEASURE = re.compile(
    rf"\b(?:{_COUNT})\s?(?:g|kg|mg|ml|cl|l|oz|lbs?|grams?|kilos?|kilograms?|millilit(?:re|er)s?|"
    r"lit(?:re|er)s?|ounces?|cups?|mugs?|tablespoons?|teaspoons?|tbsp|tsp|spoons?|spoonfuls?|"
    r"scoops?|measures?|capfuls?|sachets?|pinch(?:es)?|handfuls?|drops?|pods?|tablets?|doses?|"
    r"slices?|pieces?|sheets?|bags?|loads?|portions?|servings?)\b", re.I)
"""An amount of something measured ("500 g", "two tablespoons", "a pinch"): what "how much
sugar?" asks for, as opposed to a price."""


def gives_quantity(question: str, text: str) -> bool:
    """Whether ``question`` asks how much of a thing ("how much sugar", "how much flour") and
    ``text`` names that thing with a measured amount (:data:`MEASURE`): a quantity, not a
    price, answers it.

    >>> gives_quantity("How much sugar goes in?", "Add two tablespoons of sugar.")
    True
    >>> gives_quantity("How much is the bread?", "Add two tablespoons of sugar.")
    False
    >>> gives_quantity("How much interest?", "Interest is charged after 30 days.")
    False
    """
    found = _HOW_MUCH_OF.search(question)
    if found is None:
        return False
    thing = content_stems(found.group(1))
    return bool(thing) and thing <= content_stems(text) and bool(MEASURE.search(text))
