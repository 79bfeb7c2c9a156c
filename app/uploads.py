"""A session's uploaded files: checked, read, indexed into the session's private folder.

Reading and every check on the files (names, sizes, types, zip bombs) is
:mod:`re3g.data.ingest`; where a session's corpora live is :mod:`.corpora`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from re3g.errors import DataError

from .corpora import CorpusCatalog
from .pipelines import PipelineCache

MAX_UPLOAD_CORPORA = 5
"""Uploaded corpora one session may keep."""
DOCUMENTS_FILE = "documents.json"
"""The parsed documents (doc2dial form) beside an uploaded corpus's index."""
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".zip"]

Progress = Callable[..., Any]
"""``progress(fraction, desc=...)``, e.g. a ``gr.Progress``."""

class Uploads:
    """Builds uploaded files into an index in a session's folder, and deletes a finished
    session's corpora.

    >>> import tempfile
    >>> from re3g_app.corpora import new_session_id
    >>> uploads = Uploads(CorpusCatalog(tempfile.mkdtemp()), PipelineCache(lambda *_: None))
    >>> uploads.build([], "", new_session_id(), [], progress=lambda *a, **k: None)
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: Choose one or more files first (.txt, .md, .html, .pdf or .zip).
    """

    def __init__(self, catalog: CorpusCatalog, pipelines: PipelineCache) -> None:
        self.catalog = catalog
        self.pipelines = pipelines

    def build(self, files: Sequence[str] | str | None, name: str, session_id: str,
              kept: Sequence[str], progress: Progress) -> tuple[str, str]:
        """Read ``files``, build their index as the corpus ``name`` of the session (which
        already keeps the corpora ``kept``); returns (corpus key, status text)."""
        from re3g.data.ingest import load_files, write_doc2dial
        from re3g.retrieve import build_index

        paths = [files] if isinstance(files, str) else [str(f) for f in (files or [])]
        if not paths:
            raise DataError("Choose one or more files first (.txt, .md, .html, .pdf or .zip).")
        names = [os.path.basename(p) for p in paths]
        name = (name or "").strip() or (
            re.sub(r"[^\w -]+", " ", Path(names[0]).stem).strip()[:40] or "my documents")
        key, folder = self.catalog.upload_target(session_id, name)
        if key not in kept and len(kept) >= MAX_UPLOAD_CORPORA:
            raise DataError(f"A session may keep at most {MAX_UPLOAD_CORPORA} uploaded corpora.")
        progress(0.02, desc="Reading files")
        docs = load_files(paths, names=names, domain="upload")
        progress(0.1, desc=f"Indexing {len(docs)} documents")
        stages = {"bm25": (0.35, "Encoding passages"), "dense": (0.95, "Finishing")}

        def on_stage(stage: str, _seconds: float) -> None:
            frac, desc = stages.get(stage, (0.5, stage))
            progress(frac, desc=desc)

        self.pipelines.forget(folder)
        # The pipeline finds the documents (for sentence-level evidence spans) through the
        # manifest's source, relative to the index folder.
        build_index(docs, folder, name=name, source=DOCUMENTS_FILE, progress=True,
                    on_stage=on_stage)
        write_doc2dial(docs, folder / DOCUMENTS_FILE)
        progress(1.0, desc="Ready")
        n_words = sum(len(d.text.split()) for d in docs)
        return key, (f"✅ Built **{name}** from {len(docs)} document(s), {n_words:,} words. "
                     "It is now the selected corpus.")

    def forget(self, session_id: str, keys: Sequence[str]) -> None:
        """A session ended: drop the pipelines over its corpora ``keys``, delete its folder."""
        for key in keys:
            with contextlib.suppress(DataError):
                self.pipelines.forget(self.catalog.resolve(session_id, key).path)
        self.catalog.forget_session(session_id)

    @staticmethod
    def limits_note() -> str:
        """What the upload box accepts, for the page."""
        from re3g.data.ingest import MAX_FILE_BYTES, MAX_TOTAL_BYTES

        return (f".txt, .md, .html, .pdf or a .zip of them; up to {MAX_FILE_BYTES // 2**20} MB "
                f"a file, {MAX_TOTAL_BYTES // 2**20} MB in all. Only you see what you upload.")
