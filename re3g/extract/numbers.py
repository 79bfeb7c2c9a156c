"""Whether a sentence's numeric condition takes in a number the user gives.

A user compares rather than repeats: "a cake for about 15 people" is answered by the row
"Serves: 14 to 18", "my 8 yr old" by "children aged 7 to 9", "40 minutes late" by "30 to 59
minutes". The number is not in the right sentence, so neither the reader nor the user's words
point there, and the reader takes a neighbouring row or the table's first one. Of the
answerable user turns of the written training-side sets (``re3g.train.common.CHOOSE_SETS``,
``data/train2``, ``data/train3``) whose reference sentence holds a range taking in a number of
the turn, the shipped reader picked a wrong sentence in 28 of 46 (session 48).

:func:`asked_numbers` reads the numbers of a turn (not clock times); :func:`takes_in` says
whether a sentence holds a range or a bound that one of them falls in: "14 to 18", "12-17",
"between 15 and 30", "under 12", "up to 5", "more than 3", "16 and over", "65+". The reader's
``number_weight`` term (:meth:`re3g.extract.extractor.SpanExtractor.select_ranges`) adds score
to a range that does. Units are not compared: a bound rarely sits beside a number of another
kind in the same sentence the reader weighs.

    >>> asked_numbers("how much is a chocolate cake for about 15 people?")
    (15.0,)
    >>> takes_in((15.0,), "Cake: 8 inch round; Serves: 14 to 18; Sponge: 50 pounds")
    True
    >>> takes_in((15.0,), "Cake: 6 inch round; Serves: 8 to 10; Sponge: 35 pounds")
    False
    >>> asked_numbers("and if I don't get there till 10:25 or 7pm?")
    ()
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUM = r"(?<![\d:.,])(\d+(?:\.\d+)?)(?![\d:]|\.\d)"
"""A number that is not part of a clock time ("10:25", "18:00") or of a longer number."""
_CLOCK = re.compile(r"\d(?:\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w)|[:.]\d\d\s?(?:am|pm)(?!\w))", re.I)
_ASKED = re.compile(_NUM + r"(?!\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w))(?!st|nd|rd|th)", re.I)
_INTERVAL = re.compile(_NUM + r"\s*(?:-|–|—|to|and)\s*" + _NUM, re.I)
"""An interval: "14 to 18", "7-9", "Years 12 and 13" (and so "between 15 and 30")."""
_BELOW = re.compile(r"\b(under|below|less than|fewer than|younger than|up to|no more than|"
                    r"not more than|at most|maximum of|a maximum of|max\.?)\s+(?:the age of\s+)?"
                    + _NUM, re.I)
_ABOVE = re.compile(r"\b(over|above|more than|older than|at least|minimum of|a minimum of|"
                    r"min\.?)\s+(?:the age of\s+)?" + _NUM, re.I)
_AND_BELOW = re.compile(_NUM + r"\s+(?:\w+\s+)?(?:and|or)\s+(?:under|below|less|fewer|younger)\b",
                        re.I)
_AND_ABOVE = re.compile(_NUM + r"(?:\+|\s+(?:\w+\s+)?(?:and|or)\s+(?:over|above|more|older|"
                        r"upwards|up)\b)", re.I)
# "one" is left out: "this one", "no one", "an evening one" name no quantity
_WORDS = {w: str(i) for i, w in enumerate((
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty"), start=2)}
_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
               "eighty": "80", "ninety": "90", "hundred": "100"})
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.I)
_STRICT = ("under", "below", "less than", "fewer than", "younger than", "over", "above",
           "more than", "older than")


def digits(text: str) -> str:
    """``text`` with the numbers from two to twenty and the tens written as digits.

    >>> digits("Lead-rein lessons are for children aged four to seven.")
    'Lead-rein lessons are for children aged 4 to 7.'
    """
    return _WORD.sub(lambda m: _WORDS[m.group(1).lower()], text)


def asked_numbers(text: str) -> tuple[float, ...]:
    """The numbers in ``text`` (a user's turn), in order, without clock times ("10:25",
    "7pm", "3.45pm") and ordinals ("3rd"); numbers written as words count (:func:`digits`).

    >>> asked_numbers("my 8 yr old and her twelve-year-old friend, at 9am")
    (8.0, 12.0)
    """
    text = digits(text or "")
    return tuple(float(m.group(1)) for m in _ASKED.finditer(text)
                 if not _CLOCK.match(text, m.start(1)))


def takes_in(numbers: Sequence[float], text: str) -> bool:
    """Whether ``text`` holds a range or a bound that one of ``numbers`` falls in: an
    interval ("14 to 18", "7-9", "between 15 and 30", "Years 12 and 13", "four to seven"; its
    ends in order), an upper bound ("under 12", "up to 5 miles", "10 or under") or a lower one
    ("more than 3 miles", "16 and over", "65+"). "under" and "over" and their like leave the
    bound out.

    >>> takes_in([8], "Juniors aged 12 to 17 may play alone."), takes_in([13], "aged 12-17")
    (False, True)
    >>> takes_in([11], "Children under 12 must have an adult."), takes_in([12], "under 12")
    (True, False)
    >>> takes_in([70], "Drivers aged 70 and over need a letter."), takes_in([4], "65+")
    (True, False)
    >>> takes_in([7], "Courts are kept for adults from 18:00 to 21:00.")
    False
    """
    if not numbers or not text:
        return False
    text = digits(text)
    for m in _INTERVAL.finditer(text):
        lo, hi = float(m.group(1)), float(m.group(2))
        if lo < hi and any(lo <= n <= hi for n in numbers):
            return True
    for m in _BELOW.finditer(text):
        bound, strict = float(m.group(2)), m.group(1).lower() in _STRICT
        if any(n < bound or (n == bound and not strict) for n in numbers):
            return True
    for m in _ABOVE.finditer(text):
        bound, strict = float(m.group(2)), m.group(1).lower() in _STRICT
        if any(n > bound or (n == bound and not strict) for n in numbers):
            return True
    return any(n <= float(m.group(1)) for m in _AND_BELOW.finditer(text) for n in numbers) \
        or any(n >= float(m.group(1)) for m in _AND_ABOVE.finditer(text) for n in numbers)
