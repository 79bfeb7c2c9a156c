"""Load a corpus from a path: a doc2dial/MultiDoc2Dial JSON file or the user's own files."""

from __future__ import annotations

from pathlib import Path

from re3g.data.dialdoc import load_documents
from re3g.errors import DataError
from re3g.types import Document


def load_corpus(path: str | Path) -> dict[str, Document]:
    """Documents keyed by id from ``path``.

    A ``.json`` file is read as official ``doc_data``; a folder or a .txt/.md/.html/.pdf file is
    read by :mod:`re3g.data.ingest`.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    if p.is_file() and p.suffix.lower() == ".json":
        return load_documents(p)
    from re3g.data.ingest import ingest_path

    docs = ingest_path(p)
    if not docs:
        raise DataError(f"{p}: no readable documents found (empty corpus)")
    return {d.doc_id: d for d in docs}
