"""Data: DialDoc readers, passage splitting, query building and ingest of user files."""

from re3g.data.dialdoc import examples_from_dialogues, load_dialogues, load_documents, load_examples
from re3g.data.passages import split_corpus, split_document
from re3g.data.query import build_query

__all__ = [
    "build_query",
    "examples_from_dialogues",
    "load_dialogues",
    "load_documents",
    "load_examples",
    "split_corpus",
    "split_document",
]
