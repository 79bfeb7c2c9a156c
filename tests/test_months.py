"""A month the user names, and the stretches and lists of months of a sentence it falls in
(``re3g.extract.months``, the reader's ``month_weight`` term)."""

from __future__ import annotations

import pytest

from re3g.extract.months import asked_months, month_sets, takes_in_month


@pytest.mark.parametrize(("turn", "months"), [
    ("what times are the seal trips in may?", (5,)),
    ("and in may", (5,)),
    ("can we come on 5 may or may 12", (5,)),
    ("r u open tuesdays in feb", (2,)),
    ("what about november and december?", (11, 12)),
    ("sept or Oct?", (9, 10)),
    ("may I bring my dog?", ()),
    ("you may want to check", ()),
    ("whens the first day back after xmas", ()),
    ("is there a mar on the table", ()),
    ("", ()),
])
def test_asked_months_reads_months_not_the_verb(turn: str, months: tuple) -> None:
    assert asked_months(turn) == months


@pytest.mark.parametrize(("months", "sentence", "fits"), [
    ((5,), "Season: April to June; Seal Point Circuit: 11:00 and 14:00 daily", True),
    ((5,), "Season: September and October; Seal Point Circuit: 12:00 at weekends only", False),
    ((2,), "Season: November to March; Days open: Wednesday to Sunday", True),
    ((2,), "Season: April to October; Days open: Tuesday to Sunday", False),
    ((7,), "Period: 1 June to 31 August; Monday to Friday: 06:30 to 20:00", True),
    ((5,), "Period: 1 May to 31 May; Monday to Friday: 07:00 to 09:00", True),
    ((9,), "Period: May and September; Weekdays: 07:00 to 19:00", True),
    ((7,), "In June, July and August the lake is closed to swimmers every Monday.", True),
    ((1,), "Dec-Feb: closed", True),
    ((5,), "The water is usually 13 to 15 degrees in May.", False),
    ((5,), "Members may to some extent choose.", False),
    ((), "Season: April to June", False),
])
def test_takes_in_month_reads_stretches_and_lists(months: tuple, sentence: str,
                                                  fits: bool) -> None:
    assert takes_in_month(months, sentence) is fits


def test_a_stretch_over_the_new_year_wraps() -> None:
    assert [sorted(s) for s in month_sets("Winter, October to March")] == \
        [[1, 2, 3, 10, 11, 12]]
