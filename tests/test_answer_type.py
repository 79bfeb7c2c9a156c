"""The reader's answer-type term: what kind of answer a question asks for, whether a sentence
holds one (re3g.extract.answer_type), and ``type_weight`` steering the pick to such a
sentence of the right passage."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.extract.answer_type import asked_type, holds_type, missing_kind

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("question", "kind"), [
    ("How much is an annual membership?", "money"),
    ("what does the deep clean cost", "money"),
    ("is there a fee for that?", "money"),
    ("How long can a single ride last?", "duration"),
    ("how much time do I have to return it", "duration"),
    ("When do applications for plots open?", "time"),
    ("I pay monthly, when do the payments stop?", "time"),
    ("What time does the office close on Fridays?", "time"),
    ("what times are the boat trips in may?", "time"),     # the plural asks too (session 55)
    ("how many times can I renew it?", "number"),
    ("How many plots are there?", "number"),
    ("Can I add meat?", None),
    ("How do I apply for a plot?", None),
    ("It makes a loud noise when it spins", None),        # "when" that asks nothing
    ("can i charge it at the hotel", None),               # "charge" that is not a price
    ("how much quicker is the fast charger", None),
    ("What documents do I need for a fee waiver?", None),  # a fee named, no price asked
    ("Do you know when it opens?", "time"),
    ("how often should I clean the filter?", "frequency"),
    ("How often do you empty the brown caddy", "frequency"),
    ("How much of the plot has to be growing things?", None),   # a share, not a price
    ("And when lots of people use the server at once?", None),  # "when" as a conjunction
    ("and when?", "time"),
    ("so when's the next one", "time"),
    # session 51: more ways to ask for a price or a time
    ("what does the qc4 fast charger cost", "money"),
    ("price of that 2-year service?", "money"),
    ("And what would the planting team charge per tree?", "money"),
    ("do the junior squads cost extra on top of his membership", "money"),
    ("whats the price per bag btw", "money"),
    ("What level of charge should it have when we collect it?", None),
    ("is that car park open overnight?", "time"),
    ("are u open tuesdays in feb", "time"),
    ("Open over Christmas?", "time"),
    ("is the course open to beginners?", None),              # who, not when
    ("Is the app open source?", None),
    ("how do I open the door", None),
    # review mends: "open" describing a thing, a device that will not open, a battery's charge,
    # "the cost" as a noun
    ("is there an open day", None),
    ("is it an open return", None),
    ("wont open on my phone", None),
    ("is the shop open?", "time"),
    ("are you open on bank holidays", "time"),
    ("does it charge more slowly in the cold", None),
    ("what would the charger charge at", None),
    ("could you let me know what you charge to look at it?", "money"),
    ("what do i do if the cost is wrong", None),
    ("cost of living support?", None),
])
def test_asked_type(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


@pytest.mark.parametrize(("kind", "text", "holds"), [
    ("money", "A day pass costs 8 dollars.", True),
    ("money", "Entry is £4.50 for adults.", True),
    ("money", "There is no cancellation fee.", True),
    ("money", "Plots are given out in the order that applications arrive.", False),
    ("time", "Applications open on the first of February each year.", True),
    ("time", "The desk is staffed from 9:30 to 17:00.", True),
    ("time", "Results usually take five working days.", True),   # relative time
    ("time", "Fill in the form at the town hall.", False),
    ("duration", "Rides last up to 45 minutes.", True),
    ("duration", "Bring your own gloves.", False),
    ("number", "The gardens have 120 plots.", True),
    # words that look like the kind and are not (session 36 review)
    ("time", "You may return the bike at any dock.", False),
    ("time", "Renew by 3 May.", True),
    ("time", "Use a 10 amps fuse.", False),
    ("money", "Feel free to ask at the desk.", False),
    ("money", "Use a hands-free kit.", False),
    ("money", "Entry is free.", True),
    ("number", "No one will call you.", False),
    ("number", "It is up to you.", False),
    # time expressions and frequencies added in session 41
    ("time", "Monthly payments stop at the end of the month in which you cancel.", True),
    ("time", "Rent is due on the first day of each month.", True),
    ("time", "At the end of your visit, return the key.", False),
    ("frequency", "In homes with cats, check the pre-filter every week.", True),
    ("frequency", "The caddy is emptied weekly.", True),
    ("frequency", "Sweep it 2 times a year.", True),       # a count answers "how often"
    ("frequency", "Sweep the chimney before winter.", False),
    ("number", "You can renew an item twice, online or at the desk.", True),
])
def test_holds_type(kind: str, text: str, holds: bool) -> None:
    assert holds_type(kind, text) is holds


def test_type_weight_steers_the_reader_to_the_sentence_that_holds_the_date(
        tmp_path: Path) -> None:
    """On the sample corpus's garden page the reader and the encoder prefer "Plots are given
    out in the order that applications arrive." for "When do applications for plots open?"
    (it shares the question's words); the term moves the pick to the sentence with the date,
    in the same passage. A question that asks for no kind of answer is left alone."""
    from re3g.data.ingest import load_directory
    from re3g.data.passages import split_corpus
    from re3g.extract import SpanExtractor
    from re3g.types import Hit

    page = (ROOT / "data" / "sample" / "garden-plots.md").read_text()
    (tmp_path / "garden-plots.md").write_text(page)
    docs = {d.doc_id: d for d in load_directory(tmp_path)}
    passages = [p for p in split_corpus(docs.values()) if p.section == "Applying for a plot"]
    hits = [Hit(p, 0.5, i + 1) for i, p in enumerate(passages)]
    ex = SpanExtractor.load()

    def pick(question: str, weight: float) -> str:
        ex.type_weight, ex.unsure = weight, {**ex.unsure, "type_weight": weight}
        return ex.select_ranges(ex.read(question, hits, docs), hits, docs, 1, None,
                                question)[0].text

    question = "When do applications for plots open?"
    assert not pick(question, 0.0).startswith("Applications open")
    assert pick(question, 4.0).startswith("Applications open on the first of February")
    untyped = "Where do I fill in the form for a plot?"
    assert pick(untyped, 0.0) == pick(untyped, 4.0)


@pytest.mark.parametrize(("question", "text", "missing"), [
    ("How much is the day ticket?", "Fishing from a hire boat needs a day ticket.", "money"),
    ("How much is the day ticket?", "A day ticket costs 6 pounds.", None),
    ("when is the box office open", "If an event is sold out, the box office can resell "
     "your tickets.", "time"),
    ("how long is the voucher good for", "Vouchers are valid for 12 months.", None),
    ("how often do they take the food caddy", "Food caddies are emptied every week.", None),
    ("Can I bring my dog?", "Dogs on leads are welcome.", None),   # asks for no kind
    # two things asked: the sentence may answer the other one
    ("Can you take him, and what would it cost?", "Wheelchair cars must be booked ahead.",
     None),
    ("which squad and how much", "Swimmers move up when the coach says so.", None),
    ("i want a green bin for grass cuttings, how much", "The green bin takes garden waste.",
     "money"),
    # how much of a thing: a measured amount of it answers, a price is not asked (session 43)
    ("bottling day tomorrow, how much sugar goes in each bottle", "Add half a teaspoon of "
     "sugar to each 500 ml bottle, or one level teaspoon to a 1 litre bottle.", None),
    ("how much flour do I need", "Use 500 g of strong white flour.", None),
    ("how much flour do I need", "Strong white flour gives the best rise.", "money"),
    ("how much is the bread maker", "Add two tablespoons of sugar.", "money"),
    ("how much interest do you charge", "Interest is charged on balances after 30 days.",
     "money"),
    ("how much does it weigh", "The machine weighs 6.5 kg.", None),
    ("how much does it weigh", "The machine has a non-stick pan.", "number"),
    ("how much power does it use", "It uses 550 watts while baking.", None),
    # a judgement asked for wants a sentence that states one (session 49)
    ("is excess cover worth it for 3 days", "Vehicle group: Van; Excess with basic cover: "
     "2,000 pounds", "judgement"),
    ("Is it worth repairing a three-year-old phone, or should I buy a new one?",
     "Phones not collected within 90 days of the repair may be sold.", "judgement"),
    ("which room you recommend for first-timers", "We suggest The Lighthouse Keeper for "
     "first-timers and families.", None),
    ("I'm coeliac, is the gluten free loaf safe for me", "The gluten free loaf is baked in "
     "the same kitchen as wheat bread, so it is not suitable for coeliacs.", None),
    ("is the hotel good for families", "Breakfast is served in the Harbour Room.", "judgement"),
    # a safety question: a rule or warning about the thing asked answers it, one about
    # something else or a page's "use it safely" does not (session 52)
    ("is it safe to use the trimmer when the hedge is still wet from the morning",
     "Do not use the trimmer in the rain or on hedges that are still wet.", None),
    ("Is it safe to touch the steam wand?", "The tip of the wand gets very hot; do not touch "
     "it for ten minutes after steaming.", None),
    ("is it safe for the kids to play on the outfield while we set up",
     "Never leave children in the building without an adult.", "safety"),
    ("is it safe for them to throw with glasses on, 2 of them wear them", "Throwing knives, "
     "throwing stars and other blades must not be brought to the range.", "safety"),
    ("is it safe to ride a bike after a crash if it looks ok?", "Riding safely keeps the "
     "service running for everyone. This page explains what to do when a bike is damaged.",
     "safety"),
    ("is it safe to park my car right next to the skip", "A skip may stand in a "
     "pay-and-display or residents' parking bay only if a parking bay suspension has been paid "
     "for every bay it covers.", "safety"),
    ("is it safe for kids with glasses to go on the zip wire",
     "The zip wire is open to anyone aged 10 or over.", "safety"),
])
def test_missing_kind(question: str, text: str, missing: str | None) -> None:
    assert missing_kind(question, text) == missing


@pytest.mark.parametrize(("question", "asks"), [
    ("which authenticator app is best", True),
    ("so is a season ticket even worth it", True),
    ("Would it be better to keep her at home for the whole day?", True),
    ("Would you recommend visiting on a weekday to avoid the crowds?", True),
    ("Half of us have never done one. Would we stand a chance?", True),
    ("Is a second-hand mattress from you likely to be any good for my back?", True),
    ("my husband never skate in his life. is dangerous for him?", True),
    ("All things considered, would she be better off just taking taxis?", True),
    ("is it safe to leave a sofa there for a year?", True),
    ("is it safe to say the price includes vat", False),
    # facts, not judgements
    ("My engagement ring alone is worth 3,200 though.", False),
    ("how long is the voucher good for", False),
    ("also sorting broadband, which corvane plan has the best upload", False),
    ("saturday would suit me best, does that cost more?", False),
    ("Can I bring my dog?", False),
])
def test_asks_judgement(question: str, asks: bool) -> None:
    from re3g.extract.answer_type import asks_judgement

    assert asks_judgement(question) is asks


def test_kind_check_setting_is_checked() -> None:
    from re3g.config import Config
    from re3g.errors import DataError

    assert Config().kind_check == "other"
    with pytest.raises(DataError, match="key 'kind_check': must be one of other, all, off"):
        Config(kind_check="sometimes").validate()


def test_a_reply_without_the_amount_asked_for_is_refused_on_other_documents() -> None:
    """On the sample corpus (documents no model here was trained on: the learned decision's
    "other" calibration) the reader answers "How much does a compost bin cost?" with the list
    of what may go in the bin, which names no amount: the pipeline refuses and says what was
    missing, in the reply too. ``kind_check = "off"`` answers it as before; on the tuned corpus
    (doc2dial) the check is off by default."""
    from re3g.config import Config
    from re3g.pipeline import Re3G

    question = "How much does a compost bin cost?"
    bot = Re3G(Config())
    assert bot.checks("kind_check") and bot.rule.calibration == "other"
    answer = bot.answer(question)
    assert not answer.grounded and answer.extra["missing"] == "money"
    assert answer.confidence < answer.extra["min_confidence"]
    assert answer.evidence  # the closest sentence is still shown
    # the reply says why (session 51), not "I could not find this in the documents"
    assert answer.text.startswith("The closest passages in the documents do not give a price")
    assert answer.text != Config().abstain_reply
    plain = Re3G(Config(kind_check="off")).answer(question)
    assert plain.grounded and "missing" not in plain.extra
    assert plain.evidence[0].text == answer.evidence[0].text
    assert not Re3G(Config(calibration="tuned")).checks("kind_check")
    assert Re3G(Config(calibration="tuned", kind_check="all")).checks("kind_check")


def test_the_safety_words_left_out_are_the_stems_of_those_words() -> None:
    """``_NOT_THE_THING`` is written out (no stemmer loaded on import); it must be what the
    stemmer makes of the words it names."""
    from re3g.data.words import content_stems
    from re3g.extract.answer_type import _NOT_THE_THING

    words = ("safe unsafe safely dangerous danger risky ok okay fine alright just really "
             "actually like")
    assert content_stems(words) == _NOT_THE_THING


@pytest.mark.parametrize(("question", "text", "missing"), [
    # no words of its own: no warning can be matched to it (review, session 52)
    ("is it safe to do that?", "Do not leave bags unattended in the hall.", "safety"),
    # a fact, not a warning: "cannot", "without warning", "to avoid"
    ("is it safe to leave the skip on the street without a permit",
     "Our street wardens check skips without warning.", "safety"),
    ("is it safe to leave the card reader in the sun", "The card cannot be read in the sun.",
     "safety"),
    # a curly apostrophe, and a label
    ("is it safe to use the trimmer in the rain", "Don\u2019t use the trimmer in the rain.",
     None),
    ("is it safe to use the trimmer in the rain", "Warning: never use the trimmer in rain.",
     None),
    # "safely" asks how, not whether: a "which is best" question
    ("which helmet is best if I want to ride safely", "We recommend the Orbit helmet.", None),
])
def test_safety_questions_read_after_review(question: str, text: str,
                                            missing: str | None) -> None:
    assert missing_kind(question, text) == missing
