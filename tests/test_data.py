"""Readers, examples, query building and passage splitting on the real doc2dial files."""

from __future__ import annotations

import json

import pytest
from conftest import DOCS_JSON, TRAIN_JSON, VAL_JSON

from re3g.data import build_query, load_dialogues, load_documents, load_examples, split_corpus
from re3g.data.dialdoc import grounding_text
from re3g.errors import DataError, QueryError
from re3g.types import Turn


def test_documents_and_spans_align(doc2dial_docs):
    assert len(doc2dial_docs) == 273
    for doc in doc2dial_docs.values():
        for span in doc.spans:
            assert doc.text[span.start:span.end] == span.text
        assert any(s.is_heading for s in doc.spans) or len(doc.spans) < 5


def test_examples_follow_the_convention(doc2dial_docs, val_examples):
    train = load_examples(TRAIN_JSON, doc2dial_docs)
    assert (len(train), len(val_examples)) == (2909, 580)
    ex = val_examples[0]
    dial_id, user_turn = ex.id.rsplit("_", 1)
    assert dial_id == ex.dial_id and ex.history[-1].turn_id == int(user_turn)
    assert ex.history[-1].role == "user"
    assert all(t.turn_id < int(user_turn) + 1 for t in ex.history)
    assert sum(e.response is None for e in val_examples) == 98  # last agent reply is missing
    assert grounding_text(ex, doc2dial_docs)


def test_query_is_newest_first_and_capped():
    hist = [Turn(1, "user", "first question"), Turn(2, "agent", "an answer"),
            Turn(3, "user", "second question")]
    assert build_query(hist) == "second question || an answer || first question"
    long = [Turn(1, "user", "word " * 500)]
    assert len(build_query(long, max_words=50).split()) == 50
    # plain strings alternate user, agent, ... starting with the user
    assert build_query(["a b c", "d e f", "g h"], max_words=4) == "g h || d e"
    assert build_query(hist, roles="user") == "second question || first question"
    assert build_query(["q1", "a1", "q2"], roles="user") == "q2 || q1"
    with pytest.raises(QueryError):
        build_query([Turn(1, "user", "   ")])
    with pytest.raises(QueryError):
        build_query([])


def test_passages_respect_structure(doc2dial_docs):
    passages = split_corpus(doc2dial_docs.values(), max_words=200)
    assert len({p.pid for p in passages}) == len(passages)
    for p in passages:
        doc = doc2dial_docs[p.doc_id]
        assert doc.text[p.start:p.end].strip() == p.text
        assert len(p.text.split()) <= 200 or len(p.span_ids) == 1
        spans = [doc.span(s) for s in p.span_ids]
        # a heading can only open a passage (or follow a tiny merged section)
        assert spans[0].start == p.start and spans[-1].end == p.end
    # every span of every document lands in exactly one passage
    for doc in doc2dial_docs.values():
        ids = [s for p in passages if p.doc_id == doc.doc_id for s in p.span_ids]
        assert sorted(ids) == sorted(s.id for s in doc.spans)
    smaller = split_corpus(doc2dial_docs.values(), max_words=100)
    assert len(smaller) > len(passages)


def test_multidoc2dial_shape_is_read(tmp_path):
    dial = {"dial_data": {"dmv": [{"dial_id": "x1", "domain": "dmv", "turns": [
        {"turn_id": 1, "role": "user", "utterance": "hi", "da": "query"},
        {"turn_id": 2, "role": "agent", "utterance": "yes", "references": [
            {"id_sp": "4", "label": "solution", "doc_id": "D#1"}]}]}]}}
    p = tmp_path / "md2d.json"
    p.write_text(json.dumps(dial))
    dials = load_dialogues(p)
    assert dials[0].turns[1].references[0].doc_id == "D#1"


@pytest.mark.parametrize("content, needle", [
    ('{"doc_data": {"dmv": {', "malformed JSON at line 1"),
    ("", "file is empty"),
    ('{"docs": {}}', "missing key 'doc_data'"),
    ('{"doc_data": {}}', "no documents"),
    ('{"doc_data": {"dmv": {"a": {"doc_id": "a"}}}}', "missing key 'doc_text'"),
    ('{"doc_data": {"dmv": {"a": {"doc_id": "a", "doc_text": "hi", "spans": {"1": '
     '{"id_sp": "1", "start_sp": 0, "end_sp": 99}}}}}}', "outside doc_text"),
])
def test_bad_document_files(tmp_path, content, needle):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(DataError, match=needle) as err:
        load_documents(p)
    assert str(p) in str(err.value)


def test_truncated_real_file_names_the_line(tmp_path):
    p = tmp_path / "cut.json"
    p.write_bytes(DOCS_JSON.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"cut.json: malformed JSON at line"):
        load_documents(p)


def test_reference_to_missing_span_or_document(tmp_path, doc2dial_docs):
    raw = json.loads(VAL_JSON.read_text())
    domain = next(iter(raw["dial_data"]))
    doc_id = next(iter(raw["dial_data"][domain]))
    dial = raw["dial_data"][domain][doc_id][0]
    agent = next(t for t in dial["turns"][1:] if t.get("references"))
    agent["references"][0]["id_sp"] = "99999"
    p = tmp_path / "dials.json"
    p.write_text(json.dumps({"dial_data": {domain: {doc_id: [dial]}}}))
    with pytest.raises(DataError, match=rf"dialogue {dial['dial_id']} .*missing span '99999'"):
        load_examples(p, doc2dial_docs)
    agent["references"][0]["doc_id"] = "no such doc"
    p.write_text(json.dumps({"dial_data": {domain: {doc_id: [dial]}}}))
    with pytest.raises(DataError, match="unknown document 'no such doc'"):
        load_examples(p, doc2dial_docs)
