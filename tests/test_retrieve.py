"""Real BM25 (Lucene), dense (MiniLM + FAISS) and hybrid retrieval over a small real corpus."""

from __future__ import annotations

import json
import shutil

import pytest

from re3g.data import load_documents
from re3g.errors import IndexLoadError, QueryError, Re3GError
from re3g.retrieve import build_index, open_index, read_manifest
from re3g.retrieve.dense import make_faiss_index


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_find_the_right_document(small_index, mode):
    r = open_index(small_index, mode=mode)
    passage = r.passages[5]
    query = " ".join(passage.text.split()[:25])
    hits = r.search(query, k=5)
    assert hits and hits[0].passage.doc_id == passage.doc_id
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    batch = r.batch_search([query, "how do I apply for benefits"], k=3)
    assert len(batch) == 2 and [h.passage.pid for h in batch[0]] == [h.passage.pid
                                                                      for h in hits[:3]]


def test_manifest_records_the_build(small_index):
    m = read_manifest(small_index)
    assert m["dense"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert m["dense"]["dim"] == 384 and m["n_passages"] > 50
    assert m["corpus"]["n_documents"] == 32


@pytest.mark.parametrize("query", ["", "   \n", None])
def test_bad_queries(small_index, query):
    r = open_index(small_index, mode="bm25")
    with pytest.raises(QueryError):
        r.search(query, k=3)


def test_lucene_syntax_is_plain_text(small_index):
    r = open_index(small_index, mode="bm25")
    assert r.search('what (is) "this" [a-b]? AND/OR ~x', k=2) is not None


def test_refuses_other_model_corpus_and_old_builds(small_index, tmp_path, small_corpus_files,
                                                   doc2dial_docs):
    with pytest.raises(IndexLoadError, match="built with encoder"):
        open_index(small_index, mode="dense", model="intfloat/e5-small-v2")
    with pytest.raises(IndexLoadError, match="another corpus"):
        open_index(small_index, mode="bm25", corpus=doc2dial_docs)
    docs = load_documents(small_corpus_files[0])
    assert open_index(small_index, mode="bm25", corpus=docs)
    old = tmp_path / "old"
    shutil.copytree(small_index, old)
    m = json.loads((old / "manifest.json").read_text())
    m["format"] = 0
    (old / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexLoadError, match="another re3g build"):
        open_index(old)
    with pytest.raises(IndexLoadError, match="no index at"):
        open_index(tmp_path / "missing")
    with pytest.raises(IndexLoadError, match="unknown retrieval mode"):
        open_index(small_index, mode="sparse")


def test_failed_build_leaves_old_index_usable(small_index, tmp_path, small_corpus_files):
    target = tmp_path / "idx"
    shutil.copytree(small_index, target)
    docs = load_documents(small_corpus_files[0])
    with pytest.raises(Exception, match="Loading|load|encoder|model"):
        build_index(docs, target, model="/no/such/model", progress=False)
    assert open_index(target, mode="bm25").search("benefits", k=1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".idx")]
    with pytest.raises(Re3GError, match="no documents"):
        build_index([], tmp_path / "empty")


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_faiss_kinds_agree_on_easy_queries(kind):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 32)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = make_faiss_index(x, kind)
    if kind == "ivf":
        index.nprobe = 8
    _, ids = index.search(x[:50], 1)
    assert (ids[:, 0] == np.arange(50)).mean() >= 0.9
