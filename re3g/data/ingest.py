"""Read a user's own files (.txt, .md, .html, .pdf, or a .zip of them) into Documents.

Each document gets doc2dial-like spans so the rest of the system treats it like DialDoc data:
one span per sentence (list items and table rows are sentences too), and one span per heading
whose text starts with a blank line (``"\\n\\nHeading\\n"``), which is how doc2dial marks section
titles and what :func:`re3g.data.passages.split_document` uses to cut passages at sections.

Everything a user sends is checked before it is parsed, and each problem raises a
:class:`~re3g.errors.DataError` whose message names the file:

- names: no absolute paths, no ``..`` parts, no control characters (``../../x`` is refused);
- size: at most :data:`MAX_FILE_BYTES` per file and :data:`MAX_TOTAL_BYTES` per call;
- content: empty files, files with no text, and binary files (NUL bytes, not UTF-8) are refused;
- zip archives: at most :data:`MAX_ZIP_MEMBERS` members; the declared uncompressed sizes, the
  compression ratio (:data:`MAX_ZIP_RATIO`) and the bytes actually inflated are all checked, so
  a zip bomb is refused before it fills memory. Members are read in memory, never extracted to
  disk; nested archives are refused.

Example::

    from re3g.data.ingest import load_files
    docs = load_files(["notes.md", "faq.html"])
    print(docs[0].title, len(docs[0].spans))
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from re3g.errors import DataError
from re3g.types import Document, Span

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest single file (or single zip member, uncompressed) accepted: 5 MiB."""
MAX_TOTAL_BYTES = 20 * 1024 * 1024
"""Largest total of all files of one call (zip members counted uncompressed): 20 MiB."""
MAX_FILES = 200
"""Most documents one call may produce (zip members included)."""
MAX_ZIP_MEMBERS = 200
MAX_ZIP_RATIO = 100.0
"""Largest uncompressed/compressed size ratio accepted for a zip member (zip bomb guard)."""
MAX_PDF_PAGES = 500

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
ZIP_SUFFIXES = {".zip"}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | ZIP_SUFFIXES

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_SETEXT = re.compile(r"^(=+|-+)\s*$")
_MD_RULE = re.compile(r"^(\*\s*){3,}$|^(-\s*){3,}$|^(_\s*){3,}$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_DOC_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Block:
    """A heading or a paragraph of plain text, in reading order."""

    text: str
    heading: bool = False
    split_sentences: bool = True


# --------------------------------------------------------------------------- names and sizes


def safe_name(name: str) -> str:
    """Check a user-supplied file name and return it in a normal form (``/`` separated).

    Refuses empty names, absolute paths, drive letters, ``..`` parts and control characters.

    >>> safe_name("notes/guide.md")
    'notes/guide.md'
    >>> safe_name("../../x")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: '../../x': unsafe file name (parent-directory parts are not allowed)
    """
    if not isinstance(name, str) or not name.strip():
        raise DataError("a file has an empty name")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise DataError(f"{name!r}: unsafe file name (control characters)")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise DataError(f"{name!r}: unsafe file name (absolute paths are not allowed)")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise DataError(f"{name!r}: unsafe file name (parent-directory parts are not allowed)")
    if not parts:
        raise DataError(f"{name!r}: not a file name")
    if len(norm) > 255:
        raise DataError(f"{name[:40]!r}...: file name longer than 255 characters")
    return "/".join(parts)


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _check_suffix(name: str, allowed: set[str]) -> str:
    suffix = _suffix(name)
    if suffix not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise DataError(f"{name}: unsupported file type {suffix or '(none)'!r}; use one of {kinds}")
    if suffix in PDF_SUFFIXES and not pdf_supported():
        raise DataError(f"{name}: PDF support needs the 'pypdf' package (pip install pypdf)")
    return suffix


def pdf_supported() -> bool:
    """True when the optional PDF parser (pypdf) is installed."""
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- decoding


def decode_text(name: str, data: bytes) -> str:
    """Decode bytes as UTF-8 text; refuse empty and binary content with a clear message."""
    if not data.strip():
        raise DataError(f"{name}: file is empty")
    if b"\x00" in data[:65536]:
        raise DataError(f"{name}: looks like a binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise DataError(
                f"{name}: not a text file (invalid UTF-8 at byte {exc.start})"
            ) from exc
        if _control_ratio(text) > 0.01:
            raise DataError(f"{name}: not a text file (invalid UTF-8 at byte {exc.start})") from exc
    if _control_ratio(text) > 0.01:
        raise DataError(f"{name}: looks like a binary file (control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
    return bad / len(sample)


# --------------------------------------------------------------------------- parsers -> blocks


def _clean_inline_md(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    for _ in range(2):
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def markdown_blocks(text: str) -> list[Block]:
    """Headings, paragraphs, list items, table rows and code blocks of a Markdown text."""
    blocks: list[Block] = []
    para: list[str] = []
    lines = text.split("\n")

    def flush() -> None:
        if para:
            joined = _clean_inline_md(" ".join(s.strip() for s in para))
            if joined:
                blocks.append(Block(joined))
            para.clear()

    i = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is not None:
            i = end + 1
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _MD_FENCE.match(line):
            flush()
            fence = _MD_FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            if any(c.strip() for c in code):
                blocks.append(Block("\n".join(code).strip("\n"), split_sentences=False))
        elif m := _MD_HEADING.match(stripped):
            flush()
            if title := _clean_inline_md(m.group(2)):
                blocks.append(Block(title, heading=True))
        elif para and len(para) == 1 and _MD_SETEXT.match(stripped):
            title = _clean_inline_md(para.pop())
            if title:
                blocks.append(Block(title, heading=True))
        elif not stripped or _MD_RULE.match(stripped):
            flush()
        elif m := _MD_LIST.match(line):
            flush()
            if item := _clean_inline_md(m.group(1)):
                blocks.append(Block(item))
        elif stripped.startswith("|"):
            flush()
            if not _MD_TABLE_RULE.match(stripped):
                cells = [_clean_inline_md(c) for c in stripped.strip("|").split("|")]
                row = "; ".join(c for c in cells if c)
                if row:
                    blocks.append(Block(row, split_sentences=False))
        elif stripped.startswith(">"):
            para.append(stripped.lstrip("> "))
        else:
            para.append(line)
        i += 1
    flush()
    return blocks


def text_blocks(text: str) -> list[Block]:
    """Paragraphs of a plain text file; underlined lines (=== or ---) become headings."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in chunk.split("\n") if ln.strip()]
        if len(lines) >= 2 and _MD_SETEXT.match(lines[1]) and len(lines[0]) <= 120:
            blocks.append(Block(lines[0], heading=True))
            lines = lines[2:]
        if lines:
            blocks.append(Block(" ".join(lines)))
    return blocks


class _HTMLBlocks(HTMLParser):
    """Collect headings and text blocks from HTML, skipping script, style and navigation."""

    BLOCK = {
        "p", "div", "li", "td", "th", "tr", "section", "article", "br", "dd", "dt",
        "blockquote", "pre", "table", "ul", "ol", "main", "header", "footer", "form",
    }
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._buf: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif tag in self.HEADINGS:
            self._flush()
            self._in_heading = True
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.HEADINGS:
            self._flush(heading=True)
            self._in_heading = False
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _flush(self, heading: bool = False) -> None:
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._buf.clear()
        if text:
            self.blocks.append(Block(text, heading=heading or self._in_heading))

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(text: str) -> tuple[str, list[Block]]:
    """The ``<title>`` and the blocks of an HTML page."""
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    return re.sub(r"\s+", " ", parser.title).strip(), parser.blocks


def pdf_blocks(name: str, data: bytes) -> tuple[str, list[Block]]:
    """The title (from metadata) and the paragraphs of a PDF's text layer."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:  # pragma: no cover - checked by _check_suffix
        raise DataError(f"{name}: PDF support needs the 'pypdf' package") from exc
    if not data.startswith(b"%PDF"):
        raise DataError(f"{name}: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DataError(f"{name}: the PDF is encrypted")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DataError(f"{name}: {len(reader.pages)} pages; at most {MAX_PDF_PAGES} allowed")
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
        pages = [page.extract_text() or "" for page in reader.pages]
    except DataError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DataError(f"{name}: cannot read the PDF ({exc})") from exc
    blocks: list[Block] = []
    for page in pages:
        page = re.sub(r"-\n(?=[a-z])", "", page)
        blocks.extend(text_blocks(page))
    return title, blocks


# --------------------------------------------------------------------------- blocks -> Document


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (a simple rule: end mark, space, capital or digit).

    >>> split_sentences("Fees are $5. Pay online! Or by mail.")
    ['Fees are $5.', 'Pay online!', 'Or by mail.']
    """
    text = text.strip()
    if not text:
        return []
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def document_from_blocks(
    doc_id: str, title: str, blocks: Sequence[Block], domain: str = "upload"
) -> Document:
    """Lay blocks out as one document text with doc2dial-like spans.

    A heading becomes a span ``"\\n\\n<heading>\\n"`` flagged ``is_heading``; every sentence of a
    paragraph becomes a span ``"<sentence> "``, the last one of a paragraph ending in a newline.
    Span ids are "1", "2", ... in reading order, as in doc2dial.
    """
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0

    def add(text: str, heading: bool) -> None:
        nonlocal pos
        spans.append(Span(str(len(spans) + 1), pos, pos + len(text), text, heading))
        parts.append(text)
        pos += len(text)

    for block in blocks:
        if block.heading:
            add(f"\n\n{block.text.strip()}\n", True)
            continue
        pieces = split_sentences(block.text) if block.split_sentences else [block.text.strip()]
        pieces = [p for p in pieces if p]
        for j, piece in enumerate(pieces):
            add(piece + ("\n" if j == len(pieces) - 1 else " "), False)
    if not any(not s.is_heading for s in spans):
        raise DataError(f"{doc_id}: no text found in the document")
    return Document(doc_id=doc_id, title=title or doc_id, text="".join(parts),
                    domain=domain, spans=spans)


def _title_from_blocks(blocks: list[Block], fallback: str) -> str:
    for block in blocks[:3]:
        if block.heading:
            return block.text
    return fallback


def parse_bytes(name: str, data: bytes, doc_id: str | None = None,
                domain: str = "upload") -> Document:
    """Parse one file's bytes into a Document; ``name`` (checked by :func:`safe_name`) picks
    the format by its suffix and names the file in errors."""
    name = safe_name(name)
    suffix = _check_suffix(name, DOCUMENT_SUFFIXES)
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{name}: {_mb(len(data))} is larger than the {_mb(MAX_FILE_BYTES)} limit")
    stem = PurePosixPath(name).stem
    doc_id = doc_id or make_doc_id(name)
    fallback = stem.replace("_", " ").replace("-", " ").strip() or stem
    if suffix in PDF_SUFFIXES:
        if not data.strip():
            raise DataError(f"{name}: file is empty")
        title, blocks = pdf_blocks(name, data)
        title = title or _title_from_blocks(blocks, fallback)
    else:
        text = decode_text(name, data)
        if suffix in HTML_SUFFIXES:
            title, blocks = html_blocks(text)
            title = title or _title_from_blocks(blocks, fallback)
        elif suffix in MARKDOWN_SUFFIXES:
            blocks = markdown_blocks(text)
            title = _title_from_blocks(blocks, fallback)
        else:
            blocks = text_blocks(text)
            title = _title_from_blocks(blocks, fallback)
    if not any(not b.heading for b in blocks):
        raise DataError(f"{name}: no text found in the file")
    try:
        return document_from_blocks(doc_id, title, blocks, domain=domain)
    except DataError as exc:
        raise DataError(f"{name}: {exc}") from exc


def make_doc_id(name: str) -> str:
    """A stable, filesystem- and URL-safe document id from a file name.

    >>> make_doc_id("My Notes/Bike share FAQ.md")
    'My_Notes__Bike_share_FAQ'
    """
    path = PurePosixPath(name)
    base = "__".join([*path.parts[:-1], path.stem])
    return _DOC_ID_CHARS.sub("_", base).strip("._") or "doc"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


# --------------------------------------------------------------------------- zip files


def read_zip(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The supported members of a zip archive as ``(member name, bytes)``, read in memory.

    Refuses: more than :data:`MAX_ZIP_MEMBERS` members, unsafe member names, nested archives,
    encrypted members, and any member or total whose declared or actual uncompressed size
    exceeds the limits or whose compression ratio exceeds :data:`MAX_ZIP_RATIO`.
    Members of other types (images, ...) and folders are skipped.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DataError(f"{name}: not a valid zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise DataError(f"{name}: {len(infos)} members; at most {MAX_ZIP_MEMBERS} allowed")
        declared = sum(i.file_size for i in infos)
        if declared > MAX_TOTAL_BYTES:
            raise DataError(
                f"{name}: unpacks to {_mb(declared)}, more than the {_mb(MAX_TOTAL_BYTES)} limit"
            )
        members: list[tuple[str, bytes]] = []
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            member = f"{name}:{info.filename}"
            inner = safe_name(info.filename)
            suffix = _suffix(inner)
            if suffix in ZIP_SUFFIXES:
                raise DataError(f"{member}: nested zip archives are not accepted")
            if suffix not in DOCUMENT_SUFFIXES or PurePosixPath(inner).name.startswith("."):
                continue
            if info.flag_bits & 0x1:
                raise DataError(f"{member}: encrypted zip members are not accepted")
            _check_zip_member(member, info)
            payload = _inflate(archive, info, member)
            total += len(payload)
            if total > MAX_TOTAL_BYTES:
                raise DataError(f"{name}: unpacks to more than the {_mb(MAX_TOTAL_BYTES)} limit")
            members.append((inner, payload))
    if not members:
        kinds = ", ".join(sorted(DOCUMENT_SUFFIXES))
        raise DataError(f"{name}: the archive holds no supported files ({kinds})")
    return members


def _check_zip_member(member: str, info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_FILE_BYTES:
        raise DataError(
            f"{member}: unpacks to {_mb(info.file_size)}, more than the "
            f"{_mb(MAX_FILE_BYTES)} limit per file"
        )
    if info.file_size > 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise DataError(
            f"{member}: compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
            f"is above {MAX_ZIP_RATIO:.0f}:1 (possible zip bomb)"
        )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes:
    """Read a member, stopping as soon as it inflates past its declared size or the limit."""
    limit = min(info.file_size, MAX_FILE_BYTES)
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(65536):
                out += chunk
                if len(out) > limit:
                    raise DataError(
                        f"{member}: inflates past its declared size (possible zip bomb)"
                    )
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise DataError(f"{member}: cannot unpack ({exc})") from exc
    return bytes(out)


# --------------------------------------------------------------------------- public entry points


def load_bytes(items: Iterable[tuple[str, bytes]], domain: str = "upload") -> list[Document]:
    """Documents from ``(file name, bytes)`` pairs; zip archives are opened in memory.

    Names are checked with :func:`safe_name`; document ids are unique within the call.
    """
    docs: list[Document] = []
    seen: dict[str, int] = {}
    total = 0
    for raw_name, data in items:
        name = safe_name(raw_name)
        suffix = _check_suffix(name, SUPPORTED_SUFFIXES)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise DataError(f"{name}: the files add up to more than {_mb(MAX_TOTAL_BYTES)}")
        if suffix in ZIP_SUFFIXES:
            if len(data) > MAX_TOTAL_BYTES:
                raise DataError(f"{name}: {_mb(len(data))} is larger than the limit")
            members = read_zip(name, data)
            total += sum(len(d) for _, d in members) - len(data)
            if total > MAX_TOTAL_BYTES:
                raise DataError(f"{name}: the files add up to more than {_mb(MAX_TOTAL_BYTES)}")
        else:
            members = [(name, data)]
        for member_name, payload in members:
            if len(docs) >= MAX_FILES:
                raise DataError(f"more than {MAX_FILES} documents in one upload")
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
        limit = MAX_TOTAL_BYTES if _suffix(label) in ZIP_SUFFIXES else MAX_FILE_BYTES
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(f"{label}: cannot read ({exc.strerror})") from exc
    if not p.is_file():
        raise DataError(f"{label}: not a regular file")
    if size > limit:
        raise DataError(f"{label}: {_mb(size)} is larger than the {_mb(limit)} limit")
    try:
        with p.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise DataError(f"{label}: cannot read ({exc.strerror})") from exc
    if len(data) > limit:
        raise DataError(f"{label}: larger than the {_mb(limit)} limit")
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
        _check_suffix(label, SUPPORTED_SUFFIXES)
        data = read_limited(path, label)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise DataError(f"{label}: the files add up to more than {_mb(MAX_TOTAL_BYTES)}")
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


def to_doc2dial(docs: Sequence[Document]) -> dict:
    """The official doc2dial ``doc_data`` shape of ``docs`` (readable by
    :func:`re3g.data.dialdoc.load_documents`, which gives back the same ids, texts and spans)."""
    doc_data: dict[str, dict[str, dict]] = {}
    for d in docs:
        doc_data.setdefault(d.domain or "upload", {})[d.doc_id] = {
            "doc_id": d.doc_id, "title": d.title, "domain": d.domain, "doc_text": d.text,
            "spans": {s.id: {"id_sp": s.id, "start_sp": s.start, "end_sp": s.end,
                             "text_sp": s.text} for s in d.spans},
        }
    return {"doc_data": doc_data}


def write_doc2dial(docs: Sequence[Document], path: str | Path) -> Path:
    """Write ``docs`` as a doc2dial JSON file (temp file, then ``os.replace``)."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(to_doc2dial(docs), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out)
    return out
