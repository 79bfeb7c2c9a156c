"""The committed span extractor (models/extractor): evidence snapped to document spans."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from re3g.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "doc2dial"
MODEL = ROOT / "models" / "extractor"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")


@pytest.fixture(scope="module")
def extractor():
    from re3g.extract import SpanExtractor

    return SpanExtractor.load()


@pytest.fixture(scope="module")
def data():
    from re3g.data import load_documents, load_examples, split_corpus

    docs = load_documents(DATA / "doc2dial_doc.json")
    val = load_examples(DATA / "doc2dial_dial_validation.json", docs)
    return docs, val, split_corpus(docs.values(), max_words=200)


def gold_hits(ex, passages):
    from re3g.evaluate.grounding import gold_passage_hits

    return gold_passage_hits(ex, passages)


def test_evidence_is_whole_document_spans(extractor, data) -> None:
    from re3g.data import build_query

    docs, val, passages = data
    ex = val[3]
    evs = extractor.extract(build_query(ex.history), gold_hits(ex, passages), docs, top_n=3)
    assert 1 <= len(evs) <= 3
    for ev in evs:
        doc = docs[ev.doc_id]
        spans = [doc.span(s) for s in ev.span_ids]
        assert ev.start == spans[0].start and ev.end == spans[-1].end
        assert ev.text == doc.text[ev.start:ev.end].strip()
        assert 0.0 <= ev.score <= 1.0
        assert ev.title == doc.title and ev.passage_id
    assert len({tuple(e.span_ids) for e in evs}) == len(evs)  # no evidence repeated


def test_grounding_f1_with_gold_passage(extractor, data) -> None:
    """Regression guard: on 40 validation turns with the gold passage given, grounding F1 stays
    where the shipped model put it (38.8 when committed; 43.8 over all 580 turns)."""
    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.metrics import grounding_metrics

    docs, val, passages = data
    preds, refs = [], []
    for ex in val[:40]:
        ev = extractor.extract(build_query(ex.history), gold_hits(ex, passages), docs, top_n=1)
        preds.append(ev[0].text)
        refs.append(grounding_text(ex, docs))
    assert grounding_metrics(preds, refs)["F1"] >= 33


def test_without_documents_falls_back_to_sentences(extractor, data) -> None:
    docs, val, passages = data
    p = passages[0]
    from re3g.types import Hit

    ev = extractor.extract("what is this about?", [Hit(p, 1.0, 1)], None, top_n=1)[0]
    assert ev.doc_id == p.doc_id
    assert ev.text.strip() and ev.text.strip() in docs[p.doc_id].text
    assert p.start <= ev.start < ev.end <= p.end


def test_empty_hits_and_bad_arguments(extractor) -> None:
    from re3g.errors import QueryError

    assert extractor.extract("fees?", []) == []
    with pytest.raises(QueryError):
        extractor.extract("", [])


def test_missing_folder_says_how_to_train(tmp_path: Path) -> None:
    from re3g.extract import SpanExtractor

    with pytest.raises(ModelError, match="re3g train extractor"):
        SpanExtractor.load(tmp_path / "missing")


def test_folder_from_another_base_model_is_refused(tmp_path: Path) -> None:
    from re3g.extract import SpanExtractor

    bad = tmp_path / "ex"
    shutil.copytree(MODEL, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["base_model"] = "distilbert-base-uncased"
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="distilbert-base-uncased.*re3g train extractor"):
        SpanExtractor.load(bad)


def test_plain_encoder_folder_is_not_an_extractor() -> None:
    from re3g.extract import SpanExtractor
    from re3g.models import base_model_path

    with pytest.raises(ModelError, match="not a re3g extractor or an extractive QA model"):
        SpanExtractor.load(base_model_path())


def test_local_qa_model_answers_are_snapped_to_spans(tmp_path: Path, data) -> None:
    from test_rerank import tiny_bert

    from re3g.extract import SpanExtractor

    docs, val, passages = data
    ex = SpanExtractor.load(tiny_bert(tmp_path, "BertForQuestionAnswering"))
    assert ex.kind == "qa"
    evs = ex.extract("what is this?", gold_hits(val[0], passages), docs, top_n=2)
    assert evs
    for ev in evs:
        doc = docs[ev.doc_id]
        assert ev.start == doc.span(ev.span_ids[0]).start
        assert ev.end == doc.span(ev.span_ids[-1]).end


def test_default_is_the_reader_and_a_span_scorer_can_join_it(data) -> None:
    """The pipeline's default extractor is the start/end reader models/extractor-qa: it reads
    the question with the agent's turns over the top 2 passages (settings from its manifest,
    chosen on a train dev part in session 9).
    The span scorer models/extractor can add its opinion to each range; evidence is still
    whole document spans, and the helper changes which range wins on real turns."""
    from re3g.data import build_query
    from re3g.extract import SpanExtractor, default_extractor_path

    assert default_extractor_path().name == "extractor-qa"
    ex = SpanExtractor.load()
    assert ex.kind == "qa" and ex.query_roles == "all" and ex.n_passages == 3
    assert ex.span_penalty == 0.25 and ex.ranges_kept == 30
    assert ex.unsure_margin < 0 and ex.unsure["cosine_weight"] > ex.cosine_weight
    assert ex.helper is None and ex.helper_weight == 0.0
    ex.helper, ex.helper_weight = SpanExtractor.load(MODEL), 0.5
    assert ex.helper.kind == "tower"
    docs, val, passages = data
    changed = 0
    for e in val[:30]:
        q, hits = build_query(e.history, roles="user"), gold_hits(e, passages)
        readings = ex.read(ex.question(e.history) or q, hits, docs)
        lp = ex.helper_scores(q, hits[:len(readings)], docs)
        assert lp and all(v <= 1e-6 for v in lp.values())  # log-probabilities
        with_helper = ex.select_ranges(readings, hits, docs, 1, lp)
        alone = ex.select_ranges(readings, hits, docs, 1, None)
        assert with_helper and alone
        changed += with_helper[0].span_ids != alone[0].span_ids
    assert changed >= 1


def test_reader_without_its_span_scorer_says_what_is_missing(tmp_path: Path) -> None:
    from re3g.extract import SpanExtractor
    from re3g.extract.extractor import anchored

    reader = tmp_path / "extractor-qa"
    shutil.copytree(ROOT / "models" / "extractor-qa", reader)
    manifest = json.loads((reader / "manifest.json").read_text())
    # the copy still finds the shipped judge; only the span scorer is missing beside it
    manifest["settings"] = anchored(manifest["settings"], ROOT / "models" / "extractor-qa")
    manifest["settings"].update(helper="extractor", helper_weight=0.5)
    (reader / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="span scorer .* is missing"):
        SpanExtractor.load(reader)
    manifest["settings"]["helper_weight"] = 0.0
    (reader / "manifest.json").write_text(json.dumps(manifest))
    assert SpanExtractor.load(reader).helper is None


class _RecordingReader:
    """A start/end reader stand-in: records the questions it is asked and finds the first
    non-heading span of each passage."""

    def __init__(self, docs) -> None:
        self.docs = docs
        self.questions: list[str] = []
        self.read_counts: list[int] = []

    def read(self, question, passages, documents, keep=5):
        from re3g.extract.reader import PassageReading

        self.questions.append(question)
        self.read_counts.append(len(passages))
        out = []
        for p in passages:
            span = next(s for s in self.docs[p.doc_id].spans
                        if p.start <= s.start and s.end <= p.end and s.text.strip()
                        and not s.is_heading)
            out.append(PassageReading(p, [(5.0, span.start, span.end)], 0.0))
        return out


def test_reader_trained_on_agent_turns_reads_its_own_question(data) -> None:
    """A reader whose manifest says ``query_roles = "all"`` is asked the question with the
    agent's turns, by the extractor and by the pipeline; user-only readers keep the query."""
    from re3g.data import build_query
    from re3g.extract import SpanExtractor
    from re3g.pipeline import Re3G

    docs, val, passages = data
    e = next(x for x in val if any(t.role == "agent" for t in x.history))
    hits = gold_hits(e, passages)
    query = build_query(e.history, roles="user")
    reader = _RecordingReader(docs)
    ex = SpanExtractor("qa", reader, {"settings": {"query_roles": "all", "n_passages": 1}})
    asked = ex.question(e.history)
    assert asked == build_query(e.history, roles="all") and asked != query
    assert ex.extract(query, hits, docs, top_n=1, reader_query=asked)
    assert reader.questions == [asked]

    bot = Re3G(documents=docs)
    bot._parts["extractor"] = ex
    assert bot.extract(query, hits, e.history[-1].utterance, e.history)
    assert bot.extract(query, hits)  # no turns: the dialogue query
    assert reader.questions[1:] == [asked, query]

    plain = SpanExtractor("qa", _RecordingReader(docs), {"settings": {"n_passages": 1}})
    assert plain.query_roles == "user" and plain.question(e.history) is None


def test_without_a_reranker_a_reader_reads_the_top_passage_only(data) -> None:
    """A reader's passage weighting was chosen on reranked scores: over first-stage scores
    (reranking off) the pipeline gives it the top passage only."""
    from re3g.extract import SpanExtractor
    from re3g.pipeline import Re3G
    from re3g.types import Hit

    docs, val, passages = data
    hits = [Hit(p, 10.0 - i, i + 1) for i, p in enumerate(passages[:3])]
    for rerank, expected in ((False, [1]), (True, [3])):
        reader = _RecordingReader(docs)
        bot = Re3G(documents=docs, rerank=rerank)
        bot._parts["extractor"] = SpanExtractor("qa", reader, {"settings": {"n_passages": 3}})
        assert bot.extract("fees?", hits)
        assert reader.read_counts == expected


def test_overlap_weight_points_the_reader_at_the_sentence_with_the_users_words() -> None:
    """The reader alone often takes a neighbour of the right sentence on unseen documents;
    ``overlap_weight`` adds score for the share of the user's content stems in a range."""
    from re3g.extract import SpanExtractor
    from re3g.types import Document, Hit, Passage, Span

    parts = ["\n\nPrices\n", "A day pass costs 8 dollars and allows rides of 30 minutes. ",
             "An annual membership costs 90 dollars a year. ",
             "Students pay half price for the annual membership."]
    text, spans, pos = "", [], 0
    for i, t in enumerate(parts):
        spans.append(Span(str(i + 1), pos, pos + len(t), t, is_heading=i == 0))
        text += t
        pos += len(t)
    docs = {"fees": Document("fees", "Prices", text, spans=spans)}
    hits = [Hit(Passage("fees-0", "fees", "Prices", text.strip(), 0, len(text),
                        [s.id for s in spans]), 0.5, 1)]
    ex = SpanExtractor.load()
    ex.n_passages, ex.unsure, ex.cosine_weight, ex.reader_weight = 1, {}, 0.0, 1.0
    question = "Is there a yearly option, an annual membership?"
    readings = ex.read(question, hits, docs)
    ex.overlap_weight = 0.0
    alone = ex.select_ranges(readings, hits, docs, 3, None, question)
    ex.overlap_weight = 8.0
    steered = ex.select_ranges(readings, hits, docs, 1, None, question)
    assert "annual membership costs 90" in steered[0].text
    assert steered[0].span_ids[0] == "3"  # starts at that whole sentence
    assert {tuple(e.span_ids) for e in alone}  # the reader alone still reads ranges


def test_on_documents_unlike_doc2dial_the_users_words_choose_the_sentence() -> None:
    """On a washing-machine guide (data/dev, no model here was tuned on it) the reader alone
    is unsure ("no answer" far above its best range) and drifts to the passage's opening;
    the shipped settings weigh the general encoder's cosine and the user's words more in that
    regime (``unsure``), and every sentence of the passages read is a candidate."""
    from re3g.data.ingest import load_directory
    from re3g.data.passages import split_corpus
    from re3g.extract import SpanExtractor
    from re3g.types import Hit

    docs = {d.doc_id: d for d in load_directory(ROOT / "data" / "dev" / "documents")}
    guide = [p for p in split_corpus(docs.values()) if p.doc_id == "laundris-7-washer-guide"]
    codes = next(p for p in guide if "F08" in p.text)
    hits = [Hit(p, 0.5 - 0.01 * i, i + 1) for i, p in enumerate(
        [guide[0], codes] + [p for p in guide[1:] if p is not codes][:1])]
    ex = SpanExtractor.load()
    question = "The display says F08 and the laundry is still wet. What should I do?"
    readings = ex.read(question, hits, docs)
    assert readings[0].margin < ex.unsure_margin  # the reader is unsure here
    assert ex.weights(readings)["cosine_weight"] == ex.unsure["cosine_weight"]
    got = ex.extract(question, hits, docs, top_n=1, current=question, reader_query=question)
    text = docs["laundris-7-washer-guide"].text
    line = text.index("F08:")
    assert got[0].doc_id == "laundris-7-washer-guide"
    assert line <= got[0].start < got[0].end <= text.index("\n", line) + 1  # the F08 item


def test_index_stores_span_vectors_and_the_pipeline_uses_them(small_index,
                                                              small_corpus_files) -> None:
    """`re3g index` embeds every span once; the pipeline loads them at start, so a turn's
    sentence cosines need no span encoding, and they equal the on-demand ones."""
    from re3g import models
    from re3g.config import Config
    from re3g.data import load_documents
    from re3g.pipeline import Re3G
    from re3g.retrieve.index import read_manifest
    from re3g.retrieve.span_store import load_span_vectors, span_entries

    docs = load_documents(small_corpus_files[0])
    keys, _ = span_entries(list(docs.values()))
    manifest = read_manifest(small_index)
    assert manifest["spans"]["count"] == len(keys) > 100
    stored_keys, vectors = load_span_vectors(small_index)
    assert stored_keys == keys and vectors.shape == (len(keys), 384)

    bot = Re3G(Config(index=str(small_index), docs=str(small_corpus_files[0])))
    ex = bot.extractor
    assert len(ex.cache) >= len(keys)
    hits = bot.retrieve("how do I renew my license online?", k=3)
    base = models.base_encoder(models.SPAN_MAX_TOKENS)
    calls: list[int] = []
    real = base.encode
    base.encode = lambda texts, *a, **k: (calls.append(len(texts)), real(texts, *a, **k))[1]
    try:
        got = ex.span_cosines("renew online", [h.passage for h in hits], docs)
    finally:
        base.encode = real
    assert calls == [1]  # the turn only: every span vector came from the index
    fresh = on_demand_extractor().span_cosines("renew online", [h.passage for h in hits],
                                               docs)
    assert got.keys() == fresh.keys() and got
    assert max(abs(got[k] - fresh[k]) for k in got) < 1e-4


def on_demand_extractor():
    """A reader-less extractor whose span vectors are computed when asked."""
    from re3g.extract import SpanExtractor

    return SpanExtractor("qa", None, {"settings": {}})


def test_span_vectors_of_another_encoder_are_not_used(tmp_path: Path) -> None:
    """Stored span vectors name their encoder and token limit; vectors that do not match, or a
    damaged file, are ignored (the extractor embeds on first use), never used silently."""
    from re3g.extract import SpanExtractor
    from re3g.retrieve.span_store import build_span_vectors, load_span_vectors
    from re3g.types import Document, Span

    doc = Document("d", "Fees", "A day pass costs 8 dollars.",
                   spans=[Span("1", 0, 27, "A day pass costs 8 dollars.")])
    assert build_span_vectors([doc], tmp_path, progress=False)["count"] == 1
    ex = SpanExtractor("qa", None, {"settings": {}})
    assert ex.prime_from_index(tmp_path) == 1 and len(ex.cache) == 1
    keys = tmp_path / "spans" / "keys.json"
    stored = json.loads(keys.read_text())
    keys.write_text(json.dumps({**stored, "max_tokens": 64}))
    assert load_span_vectors(tmp_path) is None
    keys.write_text(json.dumps({**stored, "model": "some/other-encoder"}))
    assert load_span_vectors(tmp_path) is None
    keys.write_text(json.dumps(stored))
    (tmp_path / "spans" / "vectors.npy").write_bytes(b"not numpy")
    assert load_span_vectors(tmp_path) is None
    assert SpanExtractor("qa", None, {"settings": {}}).prime_from_index(tmp_path) == 0


def key_picks(folder: Path, markdown: str, question: str, term: str = "key_weight",
              value: float = 4.0) -> tuple[str, str]:
    """The shipped reader's top evidence for ``question`` over one document written into
    ``folder``: with the range term ``term`` at 0, then at ``value`` (``key_weight``: 4, its
    shipped value)."""
    from re3g.data.ingest import load_directory
    from re3g.data.passages import split_corpus
    from re3g.extract import SpanExtractor
    from re3g.types import Hit

    (folder / "page.md").write_text(markdown)
    docs = {d.doc_id: d for d in load_directory(folder)}
    hits = [Hit(p, 0.5, i + 1) for i, p in enumerate(split_corpus(docs.values()))]
    ex = SpanExtractor.load()
    readings = ex.read(question, hits, docs)
    picks = []
    for weight in (0.0, value):
        setattr(ex, term, weight)
        ex.unsure = {**ex.unsure, term: weight}
        picks.append(ex.select_ranges(readings, hits, docs, 1, None, question)[0].text)
    return picks[0], picks[1]


def test_key_weight_points_the_reader_at_the_table_row_the_user_names(tmp_path: Path) -> None:
    """Rows of a table read alike to the reader and the encoder (on this opening-hours table
    the Saturday row is their pick for "Fridays"); ``key_weight`` adds score for the share
    of a row's first cell (its name) among the user's words."""
    alone, steered = key_picks(
        tmp_path, "# Opening hours\n\n| Day | Morning | Afternoon |\n|---|---|---|\n"
        "| Monday to Thursday | 8:30 to 12:30 | 13:30 to 18:00 |\n"
        "| Friday | 8:30 to 12:30 | 13:30 to 16:00 |\n"
        "| Saturday | 9:00 to 12:00 (emergencies only) | closed |\n"
        "| Sunday | closed | closed |\n", "When are you open on Fridays?")
    assert not alone.startswith("Day: Friday")
    assert steered.startswith("Day: Friday;")


def test_key_weight_also_points_the_reader_at_the_labelled_item_the_user_names(
        tmp_path: Path) -> None:
    """Error codes written as a list ("- E2: ...") read alike too: the reader picks the first
    code for "What does error E2 mean?" (session 39's person test); a labelled item's label
    is its key, as a table row's name is (``re3g.data.words.item_label``)."""
    alone, steered = key_picks(
        tmp_path, "# Error codes\n\nThe display shows a code when something is wrong.\n\n"
        "- E1: the temperature sensor has failed. Unplug the fryer and call us.\n"
        "- E2: the appliance has overheated. Let it cool for 20 minutes.\n"
        "- E3: the basket is not pushed fully in. Push it in until it clicks.\n",
        "What does error E2 mean?")
    assert not alone.startswith("E2:")
    assert steered.startswith("E2: the appliance has overheated.")


_CAKES = ("# Celebration cakes\n\nEvery cake is baked to order in our own kitchen.\n\n"
          "| Cake | Serves | Sponge | Fruit cake |\n|---|---|---|---|\n"
          "| 6 inch round | 8 to 10 | 35 pounds | 45 pounds |\n"
          "| 8 inch round | 14 to 18 | 50 pounds | 62 pounds |\n"
          "| 10 inch round | 24 to 30 | 70 pounds | 85 pounds |\n")
_BOATS = ("# Boat trips\n\nOur boats leave from the north quay in every season.\n\n"
          "| Season | Seal trip | Island ferry |\n|---|---|---|\n"
          "| April to June | 11:00 and 14:00 daily | every hour from 10:00 to 16:00 |\n"
          "| July and August | 10:30, 12:30 and 15:00 | every half hour |\n"
          "| September and October | 12:00 at weekends only | every hour |\n"
          "| November to March | no seal trips | 11:00 and 14:00 |\n")


@pytest.mark.parametrize(("term", "weight", "page", "cases"), [
    # session 48: "for about 15 people" and the row "Serves: 14 to 18"
    ("number_weight", 4.0, _CAKES,
     [("how much is a sponge cake for about 15 people?", "Cake: 8 inch"),
      ("and for 28 of us?", "Cake: 10 inch")]),
    # session 53: "in may" and the row "Season: April to June" ("may" is a stop word)
    ("month_weight", 6.0, _BOATS,
     [("what times are the seal trips in may?", "Season: April to June"),
      ("and in january?", "Season: November to March")]),
])
def test_a_range_term_points_the_reader_at_the_row_that_takes_in_what_the_user_gives(
        tmp_path: Path, term: str, weight: float, page: str,
        cases: list[tuple[str, str]]) -> None:
    """A user compares a number or names a month rather than repeating the row's words ("for
    about 15 people", "in may"): neither the reader nor the user's words point at the row
    whose range takes it in, and ``number_weight`` (``re3g.extract.numbers``) and
    ``month_weight`` (``re3g.extract.months``), at their shipped values for other documents,
    add score to a range whose sentence holds a range, bound, stretch or list it falls in."""
    for question, row in cases:
        alone, steered = key_picks(tmp_path, page, question, term, weight)
        assert steered.startswith(row), (question, alone, steered)


def test_reader_settings_for_other_documents_apply_off_doc2dial(doc2dial_docs,
                                                                tmp_path: Path) -> None:
    """A reader may carry range settings for documents it was not tuned on (chosen on the
    written development sets alone, ``select_reader --other``; the shipped reader has only
    the question settings of session 33, the judge's weight of session 37, the number term
    of session 48, the month term of session 53 and the named row of session 54): a pipeline
    over any corpus but doc2dial (the sample corpus here) uses them, doc2dial keeps the
    reader's own, and
    ``[answer] calibration`` forces either, as it does for the learned decision. A typo under
    ``other`` is named."""
    from re3g.config import Config
    from re3g.extract import SpanExtractor
    from re3g.extract.extractor import RANGE_SETTINGS
    from re3g.pipeline import Re3G
    from re3g.retrieve.index import corpus_fingerprint

    shipped = ROOT / "models" / "extractor-qa"
    # the shipped reader's range settings for other documents are its own plus the sentence
    # judge's weight (session 37, models/judge-written), the number term (session 48), the
    # month term (session 53) and the follow-up's named row (session 54), in both regimes
    ex = SpanExtractor.load(shipped)
    own = json.loads((shipped / "manifest.json").read_text())["settings"]
    assert set(ex.other) & {*RANGE_SETTINGS, "unsure"} == {"judge_weight", "number_weight",
                                                           "month_weight", "named_weight",
                                                           "unsure"}
    assert ex.other["judge_weight"] == 1.0 and ex.judge is not None and not ex.judge_weight
    assert ex.other["number_weight"] == 4.0 and not ex.number_weight
    assert ex.other["month_weight"] == 6.0 and not ex.month_weight
    assert ex.other["named_weight"] == 2.0 and not ex.named_weight
    assert ex.other["unsure_margin"] == own["unsure_margin"]
    assert ex.other["unsure"] == {**own["unsure"], "judge_weight": 1.0, "number_weight": 4.0,
                                  "month_weight": 6.0, "named_weight": 2.0}

    def reader(other: dict) -> Path:  # the shipped reader's files, ``other`` in its manifest
        out = tmp_path / f"reader{len(list(tmp_path.iterdir()))}"
        out.mkdir()
        for f in shipped.iterdir():
            if f.name != "manifest.json":
                (out / f.name).symlink_to(f.resolve())
        manifest = json.loads((shipped / "manifest.json").read_text())
        manifest["settings"]["other"] = other
        (out / "manifest.json").write_text(json.dumps(manifest))
        return out

    d2d = corpus_fingerprint(doc2dial_docs.values())
    other = {"tuned_corpus": d2d, "cosine_weight": 20.0, "reader_weight": 0.25,
             "unsure_margin": -10.0, "unsure": {"cosine_weight": 5.0}}
    path = reader(other)
    ex = SpanExtractor.load(path)
    own = (ex.cosine_weight, ex.reader_weight, ex.unsure_margin, dict(ex.unsure))
    assert ex.for_corpus(d2d) == "tuned"
    assert (ex.cosine_weight, ex.reader_weight, ex.unsure_margin, ex.unsure) == own
    assert ex.for_corpus("another corpus") == "other"
    assert (ex.cosine_weight, ex.reader_weight, ex.unsure_margin, ex.unsure) == \
        (20.0, 0.25, -10.0, {"cosine_weight": 5.0})
    assert ex.key_weight == SpanExtractor.load(shipped).key_weight  # not named: kept
    assert ex.for_corpus("another corpus", "tuned") == "tuned"  # forced, and back again
    assert (ex.cosine_weight, ex.reader_weight, ex.unsure_margin, ex.unsure) == own

    sample = Re3G(Config(extractor=str(path)))  # the sample corpus: no model was tuned on it
    assert sample.extractor.regime == "other" and sample.extractor.cosine_weight == 20.0
    assert sample.answer("How much does a day pass cost?").evidence
    assert Re3G(Config(extractor=str(path), calibration="tuned")).extractor.regime == "tuned"

    with pytest.raises(ModelError, match="magic_weight"):
        SpanExtractor.load(reader({**other, "magic_weight": 1.0}))
    with pytest.raises(ModelError, match="cosine_wieght"):
        SpanExtractor.load(reader({**other, "unsure": {"cosine_wieght": 5.0}}))


def test_a_row_the_user_says_it_is_not_is_not_the_row_they_name(tmp_path: Path,
                                                                  monkeypatch) -> None:
    """Session 53 (gate N): "red light on the charger, not flashing just red" names "red" and
    "flashing"; the key term read the row "Red, flashing" as named in full. A word the user
    negates now counts against the rows whose name holds it
    (``re3g.data.words.named_key_share``). With the key term weighed high enough to decide on
    this small page (20), the negation turns the pick from the flashing row to the steady one."""
    import re3g.data.words as words

    page = ("# Charger lights\n\n"
            "| Light | What it means | What to do |\n|---|---|---|\n"
            "| Green, steady | The battery is full | Unplug the charger |\n"
            "| Green, flashing | The battery is charging | Wait |\n"
            "| Red, flashing | The battery is faulty | Stop using the battery |\n"
            "| Red, steady | The battery is too hot or too cold | Let it reach room "
            "temperature |\n")
    question = "red light on the charger, not flashing just red. whats wrong"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, steered = key_picks(tmp_path / "a", page, question, "key_weight", 20.0)
    assert steered.startswith("Light: Red, steady"), steered
    monkeypatch.setattr(words, "negated_stems", lambda text: frozenset())
    _, unread = key_picks(tmp_path / "b", page, question, "key_weight", 20.0)
    assert unread.startswith("Light: Red, flashing"), unread


def test_named_weight_points_the_reader_at_the_row_a_follow_up_names(tmp_path: Path) -> None:
    """Session 54 (gate R): rows whose text repeats the question's other words ("the
    dehumidifier is drying the air") outscore the row the user names, and a follow-up names only
    what changes ("and if its flashing?" after "blue and steady"). ``named_weight`` adds score
    to the one row named (``re3g.extract.rows.named_key``), read with the turn before; the
    shipped reader's value turns the pick to it."""
    from re3g.data.ingest import load_directory
    from re3g.data.passages import split_corpus
    from re3g.extract import SpanExtractor
    from re3g.types import Hit

    (tmp_path / "page.md").write_text(
        "# Brisa DH-12 dehumidifier\n\n## The status light\n\n"
        "The status light above the power button shows what the dehumidifier is doing.\n\n"
        "| Status light | What it means | What to do |\n|---|---|---|\n"
        "| Blue, steady | The room has reached the humidity you set; the fan runs slowly. "
        "| Nothing. |\n"
        "| Blue, flashing | The dehumidifier is drying the air towards the humidity you set. "
        "| Nothing. |\n"
        "| Amber, steady | The water tank is full and the dehumidifier has stopped. "
        "| Empty the tank. |\n"
        "| Amber, flashing | The tank is not seated properly. | Push the tank back in. |\n"
        "| Red, flashing slowly | The coil is defrosting because the room is colder than 5 C. "
        "| Nothing; it restarts by itself. |\n"
        "| Red, flashing fast | The humidity sensor has failed, fault H3. "
        "| Unplug the dehumidifier and call us. |\n")
    docs = {d.doc_id: d for d in load_directory(tmp_path)}
    hits = [Hit(p, 0.5, i + 1) for i, p in enumerate(split_corpus(docs.values()))]
    ex = SpanExtractor.load()
    ex.for_corpus("another corpus")
    shipped = ex.unsure.get("named_weight", ex.named_weight)
    assert shipped > 0
    cases = [("what about red flashing slowly?", "and fast?", "Red, flashing fast"),
             ("my dehumidifier light is blue and steady", "and if its flashing?",
              "Blue, flashing")]
    for previous, current, row in cases:
        readings = ex.read(f"{previous} {current}", hits, docs)
        picks = []
        for weight in (0.0, shipped):
            ex.named_weight = weight
            ex.unsure = {**ex.unsure, "named_weight": weight}
            picks.append(ex.select_ranges(readings, hits, docs, 1, None, current,
                                          previous=previous)[0].text)
        assert f"Status light: {row};" not in picks[0], (current, picks)
        assert f"Status light: {row};" in picks[1], (current, picks)
