"""Shared fixtures: real doc2dial data from ../shared/data and a small real index built once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# as re3g.retrieve.milvus_conn.require_pymilvus does before pymilvus loads: the Milvus tests
# import pymilvus at collection, and the sandbox tests later fork (preexec_fn) in the same
# process, where gRPC's fork support can abort the child before exec (grpc/grpc#43055)
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DOC2DIAL = SHARED / "doc2dial"
DOCS_JSON = DOC2DIAL / "doc2dial_doc.json"
TRAIN_JSON = DOC2DIAL / "doc2dial_dial_train.json"
VAL_JSON = DOC2DIAL / "doc2dial_dial_validation.json"


@pytest.fixture(scope="session")
def doc2dial_docs():
    from re3g.data import load_documents

    return load_documents(DOCS_JSON)


@pytest.fixture(scope="session")
def val_examples(doc2dial_docs):
    from re3g.data import load_examples

    return load_examples(VAL_JSON, doc2dial_docs)


@pytest.fixture(scope="session")
def small_corpus_files(tmp_path_factory, doc2dial_docs):
    """A real subset: the documents of the first 12 validation dialogues (+ 20 distractors),
    written in the official shapes, with those dialogues."""
    out = tmp_path_factory.mktemp("small_corpus")
    dial = json.loads(VAL_JSON.read_text())
    raw_docs = json.loads(DOCS_JSON.read_text())["doc_data"]
    keep_dials: dict = {}
    doc_ids: list[tuple[str, str]] = []
    n = 0
    for domain, by_doc in dial["dial_data"].items():
        for doc_id, dials in by_doc.items():
            if n >= 12:
                break
            keep_dials.setdefault(domain, {})[doc_id] = dials[:1]
            doc_ids.append((domain, doc_id))
            n += 1
    extra = [(d, i) for d, docs in raw_docs.items() for i in docs if (d, i) not in doc_ids][:20]
    docs_out: dict = {}
    for domain, doc_id in doc_ids + extra:
        docs_out.setdefault(domain, {})[doc_id] = raw_docs[domain][doc_id]
    docs_path = out / "docs.json"
    dials_path = out / "dialogues.json"
    docs_path.write_text(json.dumps({"doc_data": docs_out}))
    dials_path.write_text(json.dumps({"dial_data": keep_dials}))
    return docs_path, dials_path


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, small_corpus_files):
    """A real BM25 + dense index over the small corpus."""
    from re3g.data import load_documents
    from re3g.retrieve import build_index

    docs = load_documents(small_corpus_files[0])
    path = tmp_path_factory.mktemp("idx") / "small"
    build_index(docs, path, source="small", progress=False)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run tests/test_ray.py last: after an in-process local Ray cluster (and Serve) has been
    started and shut down, a later full evaluation in the same Python process segfaulted
    (session 11, reproduced with test_ray.py followed by test_suite.py; docs/scale.md). The
    CLI runs Ray in its own process, so only a long-lived process that mixes both is exposed."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_ray.py"))
