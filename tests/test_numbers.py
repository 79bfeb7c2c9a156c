"""A number the user gives, and the ranges and bounds of a sentence it falls in
(``re3g.extract.numbers``, the reader's ``number_weight`` term)."""

from __future__ import annotations

import pytest

from re3g.extract.numbers import asked_numbers, digits, takes_in


@pytest.mark.parametrize(("turn", "numbers"), [
    ("my train got in 40 minutes late, how much do i get back on a single?", (40.0,)),
    ("my 15yo wants to go to an evening one with a friend", (15.0,)),
    ("year 8, live 2.8 miles from the academy. free pass?", (8.0, 2.8)),
    ("and if I don't get there till 10:25?", ()),
    ("can I come at 7pm or 7.30pm?", ()),
    ("it's on the 3rd", ()),
    ("my son is five", (5.0,)),
    ("", ()),
])
def test_asked_numbers_reads_quantities_not_clock_times(turn: str, numbers: tuple) -> None:
    assert asked_numbers(turn) == numbers


@pytest.mark.parametrize(("numbers", "sentence", "fits"), [
    ([15], "Cake: 8 inch round; Serves: 14 to 18; Sponge: 50 pounds", True),
    ([15], "Cake: 6 inch round; Serves: 8 to 10; Sponge: 35 pounds", False),
    ([40], "Delay at arrival: 30 to 59 minutes; Single ticket: 50 percent", True),
    ([13], "Juniors aged 12-17 may play without an adult.", True),
    ([20], "If you are between 15 and 30 minutes late, we may only have time for a bath.", True),
    ([12], "Students in Years 12 and 13 buy the Post-16 pass instead.", True),
    ([5], "Lead-rein lessons are for children aged four to seven.", True),
    ([11], "Children under 12 must have an adult on site at all times.", True),
    ([12], "Children under 12 must have an adult on site at all times.", False),
    ([5], "Each event can have up to 5 reminders.", True),
    ([10], "When you rebook: More than 14 days before the flight; Charge: Free", False),
    ([16], "Players aged 16 and over can play without an adult.", True),
    ([13], "Players aged 16 and over can play without an adult.", False),
    ([70], "Free entry for visitors 65+ on weekdays.", True),
    ([7], "Courts are kept for adults on weekdays from 18:00 to 21:00.", False),
    ([18, 30], "Tickets cost 8 pounds.", False),
    ([], "Serves 14 to 18.", False),
])
def test_takes_in_reads_ranges_and_bounds(numbers: list, sentence: str, fits: bool) -> None:
    assert takes_in(numbers, sentence) is fits


def test_digits_leaves_words_that_only_hold_a_number_alone() -> None:
    assert digits("Someone will phone you; no one else may collect it.") == \
        "Someone will phone you; no one else may collect it."
    assert digits("Anyone aged eleven to fourteen") == "Anyone aged 11 to 14"
