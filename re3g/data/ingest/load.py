"""The entry points of ingest: bytes, files, folders -> Documents (each format's parser picked
by the file's suffix, every input checked first).

    >>> [d.doc_id for d in load_bytes([("notes.md", b"# Notes\\n\\nPay online. Or by mail.")])]
    ['notes']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from re3g.data.ingest import limits
from re3g.data.ingest.archive import read_zip
from re3g.data.ingest.document import document_from_blocks, make_doc_id, title_from_blocks
from re3g.data.ingest.html import html_blocks
from re3g.data.ingest.limits import (
    DOCUMENT_SUFFIXES,
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    SUPPORTED_SUFFIXES,
    ZIP_SUFFIXES,
    decode_text,
    mb,
    safe_name,
    suffix_of,
)
from re3g.data.ingest.markdown import markdown_blocks
from re3g.data.ingest.pdf import pdf_blocks, pdf_supported
from re3g.data.ingest.text import text_blocks
from re3g.errors import DataError
from re3g.types import Document


def check_suffix(name: str, allowed: set[str]) -> str:
    """The suffix of ``name`` when it is one of ``allowed`` (and, for PDF, pypdf is present).

    >>> check_suffix("a.exe", SUPPORTED_SUFFIXES)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: a.exe: unsupported file type '.exe'; use one of ...
    """
    suffix = suffix_of(name)
    if suffix not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise DataError(f"{name}: unsupported file type {suffix or '(none)'!r}; use one of {kinds}")
    if suffix in PDF_SUFFIXES and not pdf_supported():
        raise DataError(f"{name}: PDF support needs the 'pypdf' package (pip install pypdf)")
    return suffix


def parse_bytes(name: str, data: bytes, doc_id: str | None = None,
                domain: str = "upload") -> Document:
    """Parse one file's bytes into a Document; ``name`` (checked by :func:`safe_name`) picks
    the format by its suffix and names the file in errors."""
    name = safe_name(name)
    suffix = check_suffix(name, DOCUMENT_SUFFIXES)
    if len(data) > limits.MAX_FILE_BYTES:
        raise DataError(f"{name}: {mb(len(data))} is larger than the "
                        f"{mb(limits.MAX_FILE_BYTES)} limit")
    stem = PurePosixPath(name).stem
    doc_id = doc_id or make_doc_id(name)
    fallback = stem.replace("_", " ").replace("-", " ").strip() or stem
    if suffix in PDF_SUFFIXES:
        if not data.strip():
            raise DataError(f"{name}: file is empty")
        title, blocks = pdf_blocks(name, data)
        title = title or title_from_blocks(blocks, fallback)
    else:
        text = decode_text(name, data)
        if suffix in HTML_SUFFIXES:
            title, blocks = html_blocks(text)
            title = title or title_from_blocks(blocks, fallback)
        elif suffix in MARKDOWN_SUFFIXES:
            blocks = markdown_blocks(text)
            title = title_from_blocks(blocks, fallback)
        else:
            blocks = text_blocks(text)
            title = title_from_blocks(blocks, fallback)
    if not any(not b.heading for b in blocks):
        raise DataError(f"{name}: no text found in the file")
    try:
        return document_from_blocks(doc_id, title, blocks, domain=domain)
    except DataError as exc:
        raise DataError(f"{name}: {exc}") from exc


def load_bytes(items: Iterable[tuple[str, bytes]], domain: str = "upload") -> list[Document]:
    """Documents from ``(file name, bytes)`` pairs; zip archives are opened in memory.

    Names are checked with :func:`safe_name`; document ids are unique within the call.
    """
    docs: list[Document] = []
    seen: dict[str, int] = {}
    total = 0
    for raw_name, data in items:
        name = safe_name(raw_name)
        suffix = check_suffix(name, SUPPORTED_SUFFIXES)
        total += len(data)
        if total > limits.MAX_TOTAL_BYTES:
            raise DataError(f"{name}: the files add up to more than "
                            f"{mb(limits.MAX_TOTAL_BYTES)}")
        if suffix in ZIP_SUFFIXES:
            if len(data) > limits.MAX_TOTAL_BYTES:
                raise DataError(f"{name}: {mb(len(data))} is larger than the limit")
            members = read_zip(name, data)
            total += sum(len(d) for _, d in members) - len(data)
            if total > limits.MAX_TOTAL_BYTES:
                raise DataError(f"{name}: the files add up to more than "
                                f"{mb(limits.MAX_TOTAL_BYTES)}")
        else:
            members = [(name, data)]
        for member_name, payload in members:
            if len(docs) >= limits.MAX_FILES:
                raise DataError(f"more than {limits.MAX_FILES} documents in one upload")
            label = member_name if suffix not in ZIP_SUFFIXES else f"{name}:{member_name}"
            doc_id = make_doc_id(member_name)
            if doc_id in seen:
                seen[doc_id] += 1
                doc_id = f"{doc_id}-{seen[doc_id]}"
            else:
                seen[doc_id] = 1
            try:
                docs.append(parse_bytes(member_name, payload, doc_id=doc_id, domain=domain))
            except DataError as exc:
                msg = str(exc)
                raise DataError(msg if msg.startswith(label) else f"{label}: {msg}") from exc
    if not docs:
        raise DataError("no files were given")
    return docs


def read_limited(path: str | Path, name: str | None = None, limit: int | None = None) -> bytes:
    """Read a file's bytes after checking its size on disk (no reading of huge files)."""
    p = Path(path)
    label = name or p.name
    if limit is None:
        limit = (limits.MAX_TOTAL_BYTES if suffix_of(label) in ZIP_SUFFIXES
                 else limits.MAX_FILE_BYTES)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(f"{label}: cannot read ({exc.strerror})") from exc
    if not p.is_file():
        raise DataError(f"{label}: not a regular file")
    if size > limit:
        raise DataError(f"{label}: {mb(size)} is larger than the {mb(limit)} limit")
    try:
        with p.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise DataError(f"{label}: cannot read ({exc.strerror})") from exc
    if len(data) > limit:
        raise DataError(f"{label}: larger than the {mb(limit)} limit")
    return data


def load_files(
    paths: Sequence[str | Path],
    names: Sequence[str] | None = None,
    domain: str = "upload",
) -> list[Document]:
    """Documents from files on disk. ``names`` (same length) gives the names the user chose,
    which pick the format and the document ids and are checked for safety; by default each
    file's own name is used.

    >>> load_files([])
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: no files were given
    """
    if names is not None and len(names) != len(paths):
        raise ValueError("names must have the same length as paths")
    labels = list(names) if names is not None else [Path(p).name for p in paths]
    items = []
    total = 0
    for path, label in zip(paths, labels, strict=True):
        label = safe_name(label)
        check_suffix(label, SUPPORTED_SUFFIXES)
        data = read_limited(path, label)
        total += len(data)
        if total > limits.MAX_TOTAL_BYTES:
            raise DataError(f"{label}: the files add up to more than "
                            f"{mb(limits.MAX_TOTAL_BYTES)}")
        items.append((label, data))
    return load_bytes(items, domain=domain)


def load_directory(folder: str | Path, domain: str = "", recursive: bool = False
                   ) -> list[Document]:
    """Every supported document inside ``folder`` (sorted by path), README files and hidden
    files aside; ``recursive`` also reads sub-folders (ids then include the sub-folder).

    >>> docs = load_directory("data/sample")  # doctest: +SKIP
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found")
    candidates = root.rglob("*") if recursive else root.iterdir()
    files = sorted(
        p for p in candidates
        if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES
        and not p.name.lower().startswith("readme")
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise DataError(f"{root}: no .txt, .md, .html or .pdf files found")
    names = [p.relative_to(root).as_posix() for p in files]
    return load_files(files, names=names, domain=domain or root.name)


def ingest_path(path: str | Path, domain: str = "") -> list[Document]:
    """Documents from a folder (read recursively), a single document file, or a .zip archive.

    >>> docs = ingest_path("data/sample")  # doctest: +SKIP
    """
    p = Path(path)
    if p.is_dir():
        return load_directory(p, domain=domain, recursive=True)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    return load_files([p], domain=domain or "upload")
