"""An unsure answer that repeats an earlier reply (session 43): ``said_before``,
``Decision.repeats``, ``[answer] repeat_check``."""

from __future__ import annotations

import pytest

from re3g.data.query import normalize_history, said_before
from re3g.decide import Decision


def test_said_before_reads_only_the_agent_turns() -> None:
    turns, _ = normalize_history(["Is a day pass 8 dollars?", "A day pass costs 8 dollars.",
                                  "And a year?"])
    assert said_before("A day pass  costs 8 DOLLARS.", turns)
    # the user's own words are not something the bot said
    assert not said_before("Is a day pass 8 dollars?", turns)
    assert not said_before("", turns) and not said_before("x", [])


def test_repeats_refuses_below_the_threshold_and_says_why() -> None:
    d = Decision(0.31, True, 0.3, sure=0.4)
    assert d.tentative
    refused = d.repeats()
    assert not refused.grounded and refused.repeated and refused.confidence < refused.threshold
    assert refused.sure == d.sure and not refused.absent and refused.missing is None


def test_repeat_check_setting_is_checked() -> None:
    from re3g.config import Config
    from re3g.errors import DataError

    assert Config().repeat_check == "off"  # opt-in (session 43's held-out gate)
    with pytest.raises(DataError, match="key 'repeat_check': must be one of other, all, off"):
        Config(repeat_check="sometimes").validate()


def test_an_unsure_answer_repeating_the_last_reply_is_refused_when_the_check_is_on() -> None:
    """On the sample corpus, after "How much is a day pass?" the pipeline answers "Can I pay in
    cash?" (the documents do not say) with the day-pass sentence it just gave, unsure. With
    ``repeat_check = "other"`` that turn is refused and says why; the first turn, and a sure
    answer, are untouched. "other" leaves the tuned corpus alone; "all" checks there too."""
    from re3g.config import Config
    from re3g.pipeline import Re3G

    first = "How much is a day pass?"
    bot = Re3G(Config(repeat_check="other", absent_check="off"))
    opening = bot.answer(first)
    assert opening.grounded and "repeated" not in opening.extra
    history = [first, opening.text, "Can I pay in cash?"]
    plain = Re3G(Config(absent_check="off")).answer(history)
    assert plain.grounded and plain.evidence[0].text in opening.text  # the same sentence again
    answer = bot.answer(history)
    assert not answer.grounded and answer.extra["repeated"] is True
    assert answer.confidence < answer.extra["min_confidence"]
    assert answer.evidence  # the closest sentence is still listed
    assert not Re3G(Config(calibration="tuned", repeat_check="other")).checks("repeat_check")
    assert Re3G(Config(calibration="tuned", repeat_check="all")).checks("repeat_check")
