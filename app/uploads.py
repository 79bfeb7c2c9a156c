"""A session's uploaded files: checked, read, indexed into the session's private folder.

Reading and every check on the files (names, sizes, types, zip bombs) is
:mod:`re3g.data.ingest`; where a session's corpora live is :mod:`.corpora`. What one upload
may cost the server is bounded here with the limits of
:mod:`re3g.data.ingest.limits` (read at call time): at most ``MAX_PASSAGES`` passages (checked
before anything is built) and ``MAX_BUILD_SECONDS`` of building. A build can be cancelled
(:meth:`Uploads.cancel`); a cancelled, timed-out or failed build leaves the corpus it would
replace as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from re3g.errors import BuildCancelled, DataError
from re3g.types import Document

from .corpora import CorpusCatalog
from .pipelines import PipelineCache

MAX_UPLOAD_CORPORA = 5
"""Uploaded corpora one session may keep."""
DOCUMENTS_FILE = "documents.json"
"""The parsed documents (doc2dial form) beside an uploaded corpus's index."""
SOURCES_FOLDER = "sources"
"""The uploaded files as they were, beside the corpus (the document view's "source file"
button; only the uploading session is offered them)."""
SOURCES_FILE = "sources.json"
"""Which source file each document of an uploaded corpus came from: {doc id: file name}."""
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".zip"]

Progress = Callable[..., Any]
"""``progress(fraction, desc=...)``, e.g. a ``gr.Progress``."""


def check_passages(docs: Sequence[Document], names: Sequence[str]) -> int:
    r"""The number of passages ``docs`` make; DataError naming the file that makes the most
    when the total is over ``limits.MAX_PASSAGES``.

    >>> from re3g.data.ingest import load_bytes
    >>> check_passages(load_bytes([("notes.md", b"# Notes\n\nFees are 8 dollars.\n")]),
    ...                ["notes.md"])
    1
    """
    from re3g.data.ingest import limits, make_doc_id
    from re3g.data.passages import split_corpus

    per_doc = Counter(p.doc_id for p in split_corpus(docs))
    total = sum(per_doc.values())
    if total <= limits.MAX_PASSAGES:
        return total
    doc_id, most = per_doc.most_common(1)[0]
    by_id = {make_doc_id(n): n for n in names}
    label = by_id.get(doc_id) or next((d.title for d in docs if d.doc_id == doc_id), doc_id)
    share = "" if most == total else f" of the {total:,} of this upload"
    raise DataError(
        f"{label}: splits into {most:,} passages{share}; an upload may make at most "
        f"{limits.MAX_PASSAGES:,} (MAX_PASSAGES in re3g/data/ingest/limits.py). Upload fewer "
        "or smaller documents, or documents with fewer, longer sections.")


def keep_sources(paths: Sequence[str], names: Sequence[str], docs: Sequence[Document],
                 folder: Path) -> None:
    """Copy the uploaded files into ``folder/sources/`` (under their base names, already
    checked by ingest) and write which document came from which file (``sources.json``):
    a document read from a file has that file's doc id; the others came from a zip."""
    from re3g.data.ingest import make_doc_id

    target = folder / SOURCES_FOLDER
    target.mkdir(exist_ok=True)
    by_id: dict[str, str] = {}
    archives: list[str] = []
    for path, name in zip(paths, names, strict=True):
        base = Path(name).name
        shutil.copyfile(path, target / base)
        if base.lower().endswith(".zip"):
            archives.append(base)
        else:
            by_id[make_doc_id(name)] = base
    sources = {d.doc_id: by_id.get(d.doc_id) or (archives[0] if archives else "")
               for d in docs}
    (folder / SOURCES_FILE).write_text(json.dumps({k: v for k, v in sources.items() if v}))


class Uploads:
    """Builds uploaded files into an index in a session's folder, one cancellable build per
    session, and deletes a finished session's private corpora.

    ``upload_cache`` is the folder of Gradio's upload cache: uploaded files found there are
    deleted once their corpus is built (the index keeps what it needs).

    >>> import tempfile
    >>> from re3g_app.corpora import new_session_id
    >>> uploads = Uploads(CorpusCatalog(tempfile.mkdtemp()), PipelineCache(lambda *_: None))
    >>> uploads.build([], "", new_session_id(), [], progress=lambda *a, **k: None)
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: Choose one or more files first (.txt, .md, .html, .pdf or .zip).
    """

    def __init__(self, catalog: CorpusCatalog, pipelines: PipelineCache,
                 upload_cache: str | Path | None = None) -> None:
        self.catalog = catalog
        self.pipelines = pipelines
        self.upload_cache = Path(upload_cache).resolve() if upload_cache else None
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def build(self, files: Sequence[str] | str | None, name: str, session_id: str,
              kept: Sequence[str], progress: Progress, share: bool = False) -> tuple[str, str]:
        """Read ``files``, build their index as the corpus ``name`` of the session (which
        already keeps the corpora ``kept``); returns (corpus key, status text). ``share``
        records in the corpus's manifest that other sessions may use it (only on a server
        that shares uploads)."""
        from re3g.data.ingest import load_files, write_doc2dial

        paths = [files] if isinstance(files, str) else [str(f) for f in (files or [])]
        if not paths:
            raise DataError("Choose one or more files first (.txt, .md, .html, .pdf or .zip).")
        if share and not self.catalog.share_uploads:
            raise DataError("This server does not share uploads (start it with "
                            "--share-uploads); untick sharing to build a private corpus.")
        names = [os.path.basename(p) for p in paths]
        name = (name or "").strip() or (
            re.sub(r"[^\w -]+", " ", Path(names[0]).stem).strip()[:40] or "my documents")
        key, folder = self.catalog.upload_target(session_id, name)
        if key not in kept and len(kept) >= MAX_UPLOAD_CORPORA:
            raise DataError(f"A session may keep at most {MAX_UPLOAD_CORPORA} uploaded corpora.")
        with self._running_build(session_id) as check:
            progress(0.02, desc="Reading files")
            docs = load_files(paths, names=names, domain="upload")
            check()
            n_passages = check_passages(docs, names)
            progress(0.1, desc=f"Indexing {len(docs)} documents ({n_passages:,} passages)")
            self._build_index(docs, folder, name, share, check, progress)
            write_doc2dial(docs, folder / DOCUMENTS_FILE)
            keep_sources(paths, names, docs, folder)
        self.pipelines.forget(folder)  # the next question opens the new index
        self._drop_uploaded(paths)
        progress(1.0, desc="Ready")
        n_words = sum(len(d.text.split()) for d in docs)
        shared = " Other users of this server can use it too." if share else ""
        return key, (f"✅ Built **{name}** from {len(docs)} document(s), {n_words:,} words. "
                     f"It is now the selected corpus.{shared}")

    @staticmethod
    def _build_index(docs: Sequence[Document], folder: Path, name: str, share: bool,
                     check: Callable[[], None], progress: Progress) -> None:
        from re3g.retrieve import build_index

        stages = {"spans": (0.5, "Indexing words"), "bm25": (0.6, "Encoding passages"),
                  "dense": (0.95, "Finishing")}

        def on_stage(stage: str, _seconds: float) -> None:
            frac, desc = stages.get(stage, (0.5, stage))
            progress(frac, desc=desc)

        # The pipeline finds the documents (for sentence-level evidence spans) through the
        # manifest's source, relative to the index folder.
        build_index(docs, folder, name=name, source=DOCUMENTS_FILE, progress=True,
                    on_stage=on_stage, check=check, meta={"shared": bool(share)})

    @contextlib.contextmanager
    def _running_build(self, session_id: str) -> Iterator[Callable[[], None]]:
        """Register the session's build (one at a time) and yield its ``check()``: it raises
        BuildCancelled once :meth:`cancel` is called or ``MAX_BUILD_SECONDS`` have passed."""
        from re3g.data.ingest import limits

        cancel = threading.Event()
        with self._lock:
            previous = self._running.get(session_id)
            if previous is not None:
                previous.set()  # a new upload replaces the session's running build
            self._running[session_id] = cancel
        limit = limits.MAX_BUILD_SECONDS
        deadline = time.monotonic() + limit

        def check() -> None:
            if cancel.is_set():
                raise BuildCancelled("The build was cancelled; nothing was changed.")
            if time.monotonic() > deadline:
                raise BuildCancelled(
                    f"The build took longer than the {limit} s limit (MAX_BUILD_SECONDS in "
                    "re3g/data/ingest/limits.py) and was stopped; nothing was changed. "
                    "Upload fewer or smaller documents.")

        try:
            yield check
        finally:
            with self._lock:
                if self._running.get(session_id) is cancel:
                    del self._running[session_id]

    def cancel(self, session_id: str) -> bool:
        """Stop the session's running build (it stops at its next check, within about a
        second); True when there was one."""
        with self._lock:
            running = self._running.get(session_id)
        if running is None:
            return False
        running.set()
        return True

    def cancel_all(self) -> None:
        """Stop every running build (the server is stopping)."""
        with self._lock:
            running = list(self._running.values())
        for event in running:
            event.set()

    def _drop_uploaded(self, paths: Sequence[str]) -> None:
        """Delete uploaded files that are in Gradio's upload cache (built: no longer needed)."""
        if self.upload_cache is None:
            return
        for p in paths:
            path = Path(p).resolve()
            if path.is_relative_to(self.upload_cache) and path != self.upload_cache:
                with contextlib.suppress(OSError):
                    path.unlink()
                if path.parent != self.upload_cache:  # Gradio's per-upload folder, if empty
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()

    def forget(self, session_id: str, keys: Sequence[str]) -> None:
        """A session ended: stop its build, drop the pipelines over its corpora ``keys`` and
        delete its private corpora (shared ones stay)."""
        self.cancel(session_id)
        for key in keys:
            with contextlib.suppress(DataError):
                self.pipelines.forget(self.catalog.resolve(session_id, key).path)
        self.catalog.forget_session(session_id)

    @staticmethod
    def limits_note() -> str:
        """What the upload box accepts, for the page."""
        from re3g.data.ingest import limits

        return (f".txt, .md, .html, .pdf or a .zip of them; up to "
                f"{limits.MAX_FILE_BYTES // 2**20} MB a file, "
                f"{limits.MAX_TOTAL_BYTES // 2**20} MB in all, {limits.MAX_PASSAGES:,} "
                "passages. Only you see what you upload, and it is deleted when you leave.")
