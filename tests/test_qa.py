"""Start/end reading: range decoding, snapping to document spans, training features."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.types import Document, Passage, Span

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "doc2dial"


def test_best_ranges_respects_order_length_and_context() -> None:
    from re3g.extract.reader import best_ranges

    offsets = [(0, 0), (0, 3), (4, 8), (9, 12), (13, 17), (0, 0)]
    ctx = [False, True, True, True, True, False]
    start = [9.0, 1.0, 5.0, 0.0, 0.0, 9.0]  # the [CLS] / padding maxima must be ignored
    end = [9.0, 0.0, 0.0, 0.0, 4.0, 9.0]
    ranges = best_ranges(start, end, offsets, ctx, keep=3)
    assert ranges[0] == (9.0, 4, 17)  # token 2 .. token 4
    assert all(a < b for _, a, b in ranges)
    assert best_ranges(start, end, offsets, ctx, max_tokens=1)[0][1:] in {(4, 8), (13, 17),
                                                                           (0, 3), (9, 12)}
    assert best_ranges(start, end, offsets, [False] * 6) == []


def _doc() -> tuple[Document, Passage]:
    parts = ["\n\nFees\n", "You pay 20 dollars. ", "Pay online or by mail. ", "Keep the receipt."]
    text, spans, pos = "", [], 0
    for i, t in enumerate(parts):
        spans.append(Span(str(i + 1), pos, pos + len(t), t, is_heading=i == 0))
        text += t
        pos += len(t)
    doc = Document("d", "Fees", text, spans=spans)
    return doc, Passage("d-0", "d", "Fees", text.strip(), 0, len(text), [s.id for s in spans])


def test_snap_covers_whole_contiguous_spans() -> None:
    from re3g.extract import snap

    doc, p = _doc()
    docs = {"d": doc}
    s2, s3, s4 = doc.spans[1], doc.spans[2], doc.spans[3]
    # most of span 2 and a sliver of span 3: span 2 only
    assert [s.id for s in snap(p, docs, s2.start + 2, s3.start + 3)] == ["2"]
    # from span 2 to span 4: span 3 in between is included
    assert [s.id for s in snap(p, docs, s2.start, s4.end)] == ["2", "3", "4"]
    # a range inside one span, below the ratio: still that span (the most covered)
    assert [s.id for s in snap(p, docs, s3.start + 1, s3.start + 4)] == ["3"]
    # the heading is never chosen while body spans exist
    assert [s.id for s in snap(p, docs, 0, doc.spans[0].end)] == []
    assert snap(p, docs, len(doc.text) + 5, len(doc.text) + 9) == []


def test_qa_features_label_the_reference_range() -> None:
    if not DATA.is_dir():
        pytest.skip("shared doc2dial data not present")
    from transformers import AutoTokenizer

    from re3g.data import build_query, load_documents, load_examples, split_corpus
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.metrics import f1_score
    from re3g.models import base_model_path
    from re3g.train.qa import qa_features

    docs = load_documents(DATA / "doc2dial_doc.json")
    val = load_examples(DATA / "doc2dial_dial_validation.json", docs)[:12]
    keep = {d for ex in val for d in ex.gold_doc_ids}
    passages = split_corpus([docs[d] for d in sorted(keep)], max_words=200)
    tok = AutoTokenizer.from_pretrained(base_model_path())
    queries = [build_query(ex.history, roles="user") for ex in val]
    feats = qa_features(val, docs, passages, tok, queries, negatives=1, progress=False)
    pos = [f for f in feats if f.start > 0]
    neg = [f for f in feats if f.start == 0]
    assert len(pos) >= 10 and neg and all(f.end == 0 for f in neg)
    # the labelled tokens decode to (nearly) the reference text
    scores = [f1_score(tok.decode(f.input_ids[f.start:f.end + 1]), grounding_text(ex, docs))
              for f, ex in zip(pos, val, strict=False)]
    assert sum(scores) / len(scores) > 80


def test_blanked_nulls_read_the_gold_passage_without_its_answer() -> None:
    """--blanked-nulls: each answerable turn also gives its gold passage with the reference
    cut out, labelled "no answer"; the answer's words are gone, the rest of the passage stays."""
    from transformers import AutoTokenizer

    from re3g.models import base_model_path
    from re3g.train.qa import qa_features
    from re3g.types import Example, Reference, Turn

    parts = ["\n\nFees\n", "You pay 20 dollars. ", "Pay online or by mail. ",
             "Keep the receipt. ", "Members ride free for the first hour of every trip."]
    text, spans = "", []
    for i, t in enumerate(parts):
        spans.append(Span(str(i + 1), len(text), len(text) + len(t), t, is_heading=i == 0))
        text += t
    doc = Document("d", "Fees", text, spans=spans)
    p = Passage("d-0", "d", "Fees", text.strip(), 0, len(text), [s.id for s in spans])
    q = "How much do I pay?"
    ex = Example("dial_1", "dial", "x", [Turn(1, "user", q)], [Reference("d", "2")],
                 "You pay 20 dollars.")
    tok = AutoTokenizer.from_pretrained(base_model_path())
    plain = qa_features([ex], {"d": doc}, [p], tok, [q], negatives=0, progress=False)
    both = qa_features([ex], {"d": doc}, [p], tok, [q], negatives=0, progress=False,
                       blanked=1.0)
    assert len(plain) == 1 and plain[0].start > 0
    assert len(both) == 2 and both[0] == plain[0]
    null = both[1]
    assert (null.start, null.end) == (0, 0)
    read = tok.decode(null.input_ids)
    assert "20 dollars" not in read and "receipt" in read and "first hour" in read


def test_length_batches_cover_every_item_once() -> None:
    from re3g.train.common import length_batches, pad_batch

    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = length_batches(lengths, 3, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert batches == length_batches(lengths, 3, seed=1)  # deterministic
    b = pad_batch([[1, 2, 3], [4]], pad_id=0)
    assert b["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
