"""Which corpora (built indexes) a session may use, and where its uploads go.

Layout under the indexes folder::

    indexes/<name>/manifest.json                     shared indexes (sample, doc2dial, ...)
    indexes/uploads/<session id>/<corpus>/...        one session's uploaded corpora
    indexes/uploads/.tmp/                            Gradio's upload cache (set by launch)

A session sees the shared indexes and its own uploads. On a server started with
``share_uploads`` it also sees the uploads other sessions *chose to share*: a corpus is shared
only when its manifest says ``"shared": true`` (written by the build when its owner ticks
"share"); private uploads are never listed to anyone else. Corpus keys sent by a browser are
only ever looked up in that list, never joined to a path, so a crafted key cannot reach
another folder.

Private uploads live as long as their session: :meth:`CorpusCatalog.forget_session` deletes
them when the session ends, and :meth:`CorpusCatalog.remove_private` deletes every session's
private uploads at shutdown and at the next start (a server that was killed). Shared corpora
stay until deleted by hand.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from re3g.errors import DataError

UPLOADS = "uploads"
UPLOAD_PREFIX = "upload:"
SHARED = "shared"
"""The manifest key that marks an uploaded corpus as shared with other sessions."""
_SESSION = re.compile(r"[0-9a-f]{16}")
_SLUG = re.compile(r"[^a-z0-9_-]+")
_NAME_OK = re.compile(r"^[\w .()'-]{1,60}$")


@dataclass(frozen=True)
class Corpus:
    """A built index a session may chat with.

    >>> Corpus("sample", "sample (11 docs)", Path("indexes/sample")).key
    'sample'
    """

    key: str
    label: str
    path: Path
    owner: str = ""


def new_session_id() -> str:
    """A random id for a session's private folder (never derived from client input)."""
    return uuid.uuid4().hex[:16]


def corpus_slug(name: str) -> str:
    """Check a corpus name typed by a user and turn it into a folder name.

    >>> corpus_slug("My notes (2024)")
    'my-notes-2024'
    >>> corpus_slug("../../x")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: corpus name '../../x' is not allowed: use letters, digits, spaces, ...
    """
    name = (name or "").strip()
    if not name:
        raise DataError("give the new corpus a name")
    if not _NAME_OK.match(name) or ".." in name or "/" in name or "\\" in name:
        raise DataError(
            f"corpus name {name[:60]!r} is not allowed: use letters, digits, spaces, - or _"
        )
    slug = _SLUG.sub("-", name.lower()).strip("-_")
    if not slug:
        raise DataError(f"corpus name {name!r} has no letters or digits")
    return slug[:48]


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def is_shared(path: Path) -> bool:
    """True when the uploaded corpus at ``path`` was shared by its owner (manifest flag)."""
    return _manifest(path).get(SHARED) is True


def _label(path: Path, fallback: str) -> str:
    manifest = _manifest(path)
    if not manifest:
        return fallback
    docs = manifest.get("corpus", {}).get("n_documents")
    name = manifest.get("name") or fallback
    return f"{name} ({docs} docs)" if docs else str(name)


class CorpusCatalog:
    """Lists built indexes for a session and owns the uploads folder.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "sample").mkdir()
    >>> _ = (root / "sample" / "manifest.json").write_text('{"name": "sample"}')
    >>> cat = CorpusCatalog(root)
    >>> [c.key for c in cat.for_session(new_session_id())]
    ['sample']
    """

    def __init__(self, indexes_dir: str | Path, share_uploads: bool = False) -> None:
        self.root = Path(indexes_dir).resolve()
        self.uploads = self.root / UPLOADS
        self.share_uploads = share_uploads

    def shared(self) -> list[Corpus]:
        """Indexes directly under the indexes folder (anything with a manifest)."""
        if not self.root.is_dir():
            return []
        out = []
        for p in sorted(self.root.iterdir()):
            if p.name == UPLOADS or p.name.startswith(".") or not (p / "manifest.json").is_file():
                continue
            out.append(Corpus(p.name, _label(p, p.name), p))
        return out

    def session_dir(self, session_id: str) -> Path:
        if not _SESSION.fullmatch(session_id or ""):
            raise DataError("invalid session id")
        return self.uploads / session_id

    def _uploads_of(self, session_id: str, shared_only: bool = False) -> list[Corpus]:
        if not _SESSION.fullmatch(session_id or ""):
            return []
        folder = self.uploads / session_id
        if not folder.is_dir():
            return []
        found = []
        for p in sorted(folder.iterdir()):
            if p.name.startswith(".") or not (p / "manifest.json").is_file():
                continue
            shared = is_shared(p)
            if shared_only and not shared:
                continue
            tag = " · shared" if shared else " · uploaded"
            found.append(Corpus(f"{UPLOAD_PREFIX}{session_id}/{p.name}",
                                _label(p, p.name) + tag, p, owner=session_id))
        return found

    def for_session(self, session_id: str) -> list[Corpus]:
        """Shared indexes, then this session's uploads, then (on a server that shares
        uploads) the uploads other sessions shared."""
        found = self.shared() + self._uploads_of(session_id)
        if self.share_uploads and self.uploads.is_dir():
            for d in sorted(self.uploads.iterdir()):
                if d.is_dir() and d.name != session_id and _SESSION.fullmatch(d.name):
                    found += self._uploads_of(d.name, shared_only=True)
        return found

    def choices(self, session_id: str) -> list[tuple[str, str]]:
        """(label, key) pairs for a dropdown."""
        return [(c.label, c.key) for c in self.for_session(session_id)]

    def resolve(self, session_id: str, key: str) -> Corpus:
        """The corpus ``key`` if this session may use it; DataError otherwise."""
        for c in self.for_session(session_id):
            if c.key == key:
                return c
        raise DataError(f"corpus {str(key)[:80]!r} is not available; pick one from the list")

    def upload_target(self, session_id: str, name: str) -> tuple[str, Path]:
        """The key and folder a new upload named ``name`` will be built into."""
        slug = corpus_slug(name)
        folder = self.session_dir(session_id) / slug
        if not folder.resolve().is_relative_to(self.uploads):
            raise DataError(f"corpus name {name!r} is not allowed")
        return f"{UPLOAD_PREFIX}{session_id}/{slug}", folder

    def forget_session(self, session_id: str) -> None:
        """Delete a finished session's private uploads (its shared ones stay)."""
        try:
            folder = self.session_dir(session_id)
        except DataError:
            return
        _remove_private(folder)

    def remove_private(self) -> int:
        """Delete every session's private uploads and the leftovers of interrupted builds
        (at shutdown, and at start-up after a server that was killed); returns how many
        session folders were cleaned. Shared corpora stay."""
        if not self.uploads.is_dir():
            return 0
        from re3g.retrieve.swap import recover_all

        cleaned = 0
        for d in sorted(self.uploads.iterdir()):
            if d.is_dir() and _SESSION.fullmatch(d.name):
                recover_all(d)
                _remove_private(d)
                cleaned += 1
        return cleaned


def _remove_private(folder: Path) -> None:
    """Delete the private corpora (and anything else not shared) in a session folder; the
    folder too once it is empty."""
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.is_dir() and not p.name.startswith(".") and is_shared(p):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()
