"""The reader's answer-type term: what kind of answer a question asks for, whether a sentence
holds one (re3g.extract.answer_type), and ``type_weight`` steering the pick to such a
sentence of the right passage."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.extract.answer_type import asked_type, holds_type

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
    ("How many plots are there?", "number"),
    ("Can I add meat?", None),
    ("How do I apply for a plot?", None),
    ("It makes a loud noise when it spins", None),        # "when" that asks nothing
    ("can i charge it at the hotel", None),               # "charge" that is not a price
    ("how much quicker is the fast charger", None),
    ("What documents do I need for a fee waiver?", None),  # a fee named, no price asked
    ("Do you know when it opens?", "time"),
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
