"""Finding an index folder by path or name, and the documents it was built from.

    >>> from re3g.retrieve.locate import resolve_index
    >>> resolve_index("sample").name
    'sample'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from re3g.errors import DataError
from re3g.models import project_root
from re3g.types import Document


def resolve_index(value: str) -> Path:
    """An index folder from a path or a name under ``$RE3G_INDEX_DIR`` (default ``indexes/``);
    a relative path that does not exist here is also tried from the project root."""
    p = Path(value).expanduser()
    if p.exists():
        return p
    root = Path(os.environ.get("RE3G_INDEX_DIR", "indexes"))
    candidates = [root / value] if os.sep not in value and not value.startswith(".") else []
    if not p.is_absolute():
        candidates.append(project_root() / p)
        if os.sep not in value:
            candidates.append(project_root() / "indexes" / value)
    for c in candidates:
        if c.exists():
            return c
    return p


def find_documents(index_dir: Path, manifest: dict[str, Any], docs: str | None) -> Path | None:
    """The documents file/folder the index was built from: ``docs`` when given, else the
    manifest's ``corpus.source`` as a path, relative to the index or the project, or by name
    under the project's ``../shared/data/*/``. None when nothing is found."""
    if docs:
        p = Path(docs).expanduser()
        if not p.exists():
            raise DataError(f"documents {p} (config key 'docs') do not exist")
        return p
    source = str(manifest.get("corpus", {}).get("source") or "")
    if not source:
        return None
    src = Path(source).expanduser()
    candidates = [src]
    if not src.is_absolute():
        candidates += [index_dir / src, project_root() / src]
        shared = project_root().parent / "shared" / "data"
        if shared.is_dir():
            candidates += sorted(shared.glob(f"*/{src.name}"))
    return next((c for c in candidates if c.exists()), None)


def index_documents(index_dir: Path, docs: str | None = None) -> dict[str, Document] | None:
    """The documents behind the index at ``index_dir`` (for exact span offsets), checked
    against the corpus fingerprint in its manifest; None when they cannot be found or are
    not that corpus. ``docs`` (config key) names them explicitly: a mismatch is then an
    error."""
    from re3g.data.corpus import load_corpus
    from re3g.retrieve.index import corpus_fingerprint, read_manifest

    manifest = read_manifest(index_dir)
    path = find_documents(index_dir, manifest, docs)
    if path is None:
        return None
    found = load_corpus(path)
    if corpus_fingerprint(found.values()) != manifest["corpus"]["sha256"]:
        if docs:
            raise DataError(f"documents {path} (config key 'docs') are not the corpus index "
                            f"{index_dir} was built from")
        return None
    return found
